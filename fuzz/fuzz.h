/* Shared helpers of the fuzz harnesses (libFuzzer entry points; see
 * docs/reliability.md). Each harness writes the fuzzer's bytes to files in a
 * private temporary directory and calls the reader exactly as the CLI does;
 * a reader may fail (it must, cleanly, on bad input) but never crash, leak
 * or hang. */
#ifndef MRGAN_FUZZ_H
#define MRGAN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[256];

static void fuzz_cleanup(void)
{
    DIR *d = opendir(fuzz_dir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", fuzz_dir, e->d_name);
            unlink(p);
        }
    if (d) closedir(d);
    rmdir(fuzz_dir);
}

/* A per-process scratch directory, removed at exit; path of NAME inside it
 * (static buffer). */
static inline const char *fuzz_path(const char *name)
{
    static char buf[512];
    if (!fuzz_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/mrgan-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fuzz_dir)) abort();
        atexit(fuzz_cleanup);
    }
    snprintf(buf, sizeof buf, "%s/%s", fuzz_dir, name);
    return buf;
}

static inline void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
}

#endif

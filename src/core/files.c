/* Whole-file writes and copies, atomic (core.h). */
#include "core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int mg_write_text(const char *path, const char *text)
{
    char *tmp = mg_tmp_path(path);
    FILE *f = fopen(tmp, "w");
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0) ok = 0;
    return mg_finish_tmp(ok, tmp, path, ok ? NULL : strerror(errno));
}

int mg_copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb");
    if (!a) {
        mg_set_error("%s: cannot open: %s", from, strerror(errno));
        return -1;
    }
    char *tmp = mg_tmp_path(to);
    FILE *b = fopen(tmp, "wb");
    int ok = b != NULL;
    char buf[1 << 16];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    fclose(a);
    if (b && fclose(b) != 0) ok = 0;
    return mg_finish_tmp(ok, tmp, to, ok ? NULL : strerror(errno));
}

int mg_split_fields(char *line, char **fld, int max)
{
    int k = 0;
    for (char *q = line; q && k < max; k++) {
        fld[k] = q;
        q = strchr(q, ',');
        if (q) *q++ = 0;
    }
    return k;
}

/* the files a path may name: itself and, for BART's pair, BASE.cfl and BASE.hdr */
static int path_files(const char *p, char out[3][4096])
{
    snprintf(out[0], 4096, "%s", p);
    char base[4096];
    snprintf(base, sizeof base, "%s", p);
    size_t n = strlen(base);
    if (n > 4 && (!strcmp(base + n - 4, ".cfl") || !strcmp(base + n - 4, ".hdr"))) base[n - 4] = 0;
    snprintf(out[1], 4096, "%.4090s.cfl", base);
    snprintf(out[2], 4096, "%.4090s.hdr", base);
    return 3;
}

int mg_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int mg_check_output(const char *out, const char *const *inputs, int n)
{
    if (!out) return 0;
    if (!*out) {
        mg_set_error("output name is empty");
        return -1;
    }
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        mg_set_error("%s: is a directory (give a file name)", out);
        return -1;
    }
    char fo[3][4096], fi[3][4096];
    const int no = path_files(out, fo);
    for (int i = 0; i < n; i++) {
        if (!inputs[i]) continue;
        const int ni = path_files(inputs[i], fi);
        for (int a = 0; a < no; a++)
            for (int b = 0; b < ni; b++)
                if (mg_same_file(fo[a], fi[b])) {
                    mg_set_error("%s: is also an input (%s): it would be overwritten; write the result elsewhere", out,
                                 inputs[i]);
                    return -1;
                }
    }
    return 0;
}

int mg_lock_dir(const char *dir)
{
    char *p = mg_path_join(dir, ".lock");
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        mg_set_error("%s: cannot create a lock: %s", p, strerror(errno));
        free(p);
        return -1;
    }
    free(p);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            mg_set_error("%s: in use by another mrgan process (train, eval or report); wait for it or use another "
                         "directory", dir);
        else
            mg_set_error("%s: cannot lock: %s", dir, strerror(e));
        return -1;
    }
    return fd;
}

void mg_unlock_dir(int fd)
{
    if (fd >= 0) close(fd);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int mg_dir_files(const char *dir, const char *const *suffixes, int nsuf, char ***files, int *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        mg_set_error("%s: cannot open the directory: %s", dir, strerror(errno));
        return -1;
    }
    const int n0 = *n;
    struct dirent *e;
    while ((e = readdir(d))) {
        int want = 0;
        for (int i = 0; i < nsuf; i++) want |= mg_has_suffix(e->d_name, suffixes[i]);
        if (e->d_name[0] == '.' || !want) continue;
        *files = mg_realloc(*files, sizeof(char *) * (size_t)(*n + 1));
        (*files)[(*n)++] = mg_path_join(dir, e->d_name);
    }
    closedir(d);
    if (*n - n0 > 1) qsort(*files + n0, (size_t)(*n - n0), sizeof(char *), cmp_str);
    return 0;
}

int mg_dir_list(const char *dir, char *buf, size_t n)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int k = 0;
    size_t o = 0;
    buf[0] = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".lock")) continue;
        if (k < 4 && o < n) o += (size_t)snprintf(buf + o, n - o, "%s%s", k ? ", " : "", e->d_name);
        k++;
    }
    closedir(d);
    if (k > 4 && o < n) snprintf(buf + o, n - o, ", ... (%d entries)", k);
    return k;
}

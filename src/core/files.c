/* Whole-file writes and copies, atomic (core.h). */
#include "core.h"

#include <errno.h>
#include <string.h>

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

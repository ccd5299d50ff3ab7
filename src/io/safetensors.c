/* safetensors: u64 little-endian header length, a JSON header
 * {"name": {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}, ...,
 *  "__metadata__": {"key": "string", ...}}, then the raw tensor bytes.
 * Only F32 tensors are written and read. */
#include "io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ST_MAX_HEADER (64L << 20)

int mg_st_write(const char *path, const mg_st_tensor *t, int n, const char *const *meta, int nmeta)
{
    /* a file the reader would refuse is never written: NaN or Inf in a
     * tensor means training diverged; the old file stays as it was */
    for (int i = 0; i < n; i++) {
        long size = 1;
        for (int d = 0; d < t[i].ndim; d++) size *= t[i].shape[d];
        long bad = mg_first_nonfinite_f(t[i].data, (size_t)size);
        if (bad >= 0) {
            mg_set_error("%s: not written: tensor '%s' has a non-finite value at %ld (training diverged?)", path,
                         t[i].name, bad);
            return -1;
        }
    }
    cJSON *root = cJSON_CreateObject();
    if (nmeta > 0) {
        cJSON *md = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; i < nmeta; i++) cJSON_AddStringToObject(md, meta[2 * i], meta[2 * i + 1]);
    }
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
        cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *sh = cJSON_AddArrayToObject(e, "shape");
        long size = 1;
        for (int d = 0; d < t[i].ndim; d++) {
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t[i].shape[d]));
            size *= t[i].shape[d];
        }
        cJSON *of = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        off += (size_t)size * sizeof(float);
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
    }
    char *hdr = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    size_t hl = strlen(hdr), pad = (8 - hl % 8) % 8; /* align the data to 8 bytes */
    char *tmp = mg_tmp_path(path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        mg_set_error("%s: cannot create: %s", path, strerror(errno));
        free(hdr);
        free(tmp);
        return -1;
    }
    unsigned char len[8];
    uint64_t L = hl + pad;
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(L >> (8 * i));
    int ok = fwrite(len, 1, 8, f) == 8 && fwrite(hdr, 1, hl, f) == hl;
    for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    for (int i = 0; ok && i < n; i++) {
        long size = 1;
        for (int d = 0; d < t[i].ndim; d++) size *= t[i].shape[d];
        ok = fwrite(t[i].data, sizeof(float), (size_t)size, f) == (size_t)size;
    }
    if (fflush(f) != 0) ok = 0;
    if (fclose(f) != 0) ok = 0;
    free(hdr);
    return mg_finish_tmp(ok, tmp, path, "write failed (disk full?)");
}

void mg_st_free(mg_st_file *f)
{
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    for (int i = 0; i < f->nmeta; i++) {
        free(f->meta[2 * i]);
        free(f->meta[2 * i + 1]);
    }
    free(f->t);
    free(f->meta);
    free(f->blob);
    memset(f, 0, sizeof *f);
}

static int st_read_body(const char *path, mg_st_file *out)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        mg_set_error("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    char *hdr = NULL;
    cJSON *root = NULL;
    int rc = -1;
    mg_st_file f = {0};
    unsigned char len[8];
    if (fstat(fileno(fp), &st) != 0 || fread(len, 1, 8, fp) != 8) {
        mg_set_error("%s: truncated (no safetensors header)", path);
        goto out;
    }
    uint64_t L = 0;
    for (int i = 0; i < 8; i++) L |= (uint64_t)len[i] << (8 * i);
    if (L < 2 || L > (uint64_t)ST_MAX_HEADER || L > (uint64_t)st.st_size - 8) {
        mg_set_error("%s: not a safetensors file (header length %llu for a %lld-byte file)", path,
                     (unsigned long long)L, (long long)st.st_size);
        goto out;
    }
    hdr = mg_malloc((size_t)L + 1);
    if (fread(hdr, 1, (size_t)L, fp) != (size_t)L) {
        mg_set_error("%s: truncated header", path);
        goto out;
    }
    hdr[L] = 0;
    root = cJSON_Parse(hdr);
    if (!cJSON_IsObject(root)) {
        mg_set_error("%s: safetensors header is not valid JSON", path);
        goto out;
    }
    const uint64_t data_len = (uint64_t)st.st_size - 8 - L;
    int count = cJSON_GetArraySize(root);
    f.t = mg_calloc((size_t)count + 1, sizeof(mg_st_tensor));
    f.meta = mg_calloc(2 * ((size_t)count + 1), sizeof(char *));
    uint64_t covered = 0;
    for (cJSON *e = root->child; e; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            for (cJSON *m = e->child; m; m = m->next) {
                if (!cJSON_IsString(m)) {
                    mg_set_error("%s: metadata value '%s' is not a string", path, m->string);
                    goto out;
                }
                if (f.nmeta >= count + 1) break;
                f.meta[2 * f.nmeta] = mg_strdup(m->string);
                f.meta[2 * f.nmeta + 1] = mg_strdup(m->valuestring);
                f.nmeta++;
            }
            continue;
        }
        cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2) {
            mg_set_error("%s: tensor '%s' has a malformed entry", path, e->string);
            goto out;
        }
        if (strcmp(dt->valuestring, "F32")) {
            mg_set_error("%s: tensor '%s' has dtype %s (only F32 is supported)", path, e->string, dt->valuestring);
            goto out;
        }
        mg_st_tensor *t = &f.t[f.n];
        t->ndim = cJSON_GetArraySize(sh);
        if (t->ndim > 4) {
            mg_set_error("%s: tensor '%s' has %d dims (at most 4)", path, e->string, t->ndim);
            goto out;
        }
        double size = 1;
        for (int d = 0; d < t->ndim; d++) {
            cJSON *v = cJSON_GetArrayItem(sh, d);
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e12) {
                mg_set_error("%s: tensor '%s' has a bad shape", path, e->string);
                goto out;
            }
            t->shape[d] = (long)v->valuedouble;
            size *= v->valuedouble;
        }
        double b = cJSON_GetArrayItem(of, 0)->valuedouble, en = cJSON_GetArrayItem(of, 1)->valuedouble;
        if (!(b >= 0 && en >= b && en <= (double)data_len) || en - b != size * 4.0) {
            mg_set_error("%s: tensor '%s' has data offsets [%.0f, %.0f] that do not fit its shape or the "
                         "file (truncated?)",
                         path, e->string, b, en);
            goto out;
        }
        t->name = mg_strdup(e->string);
        t->data = (const float *)(uintptr_t)(uint64_t)b; /* offset until the blob is read */
        covered += (uint64_t)(en - b);
        f.n++;
    }
    if (covered != data_len) {
        mg_set_error("%s: tensors cover %llu of %llu data bytes (overlapping or corrupt)", path,
                     (unsigned long long)covered, (unsigned long long)data_len);
        goto out;
    }
    f.blob = mg_malloc((size_t)data_len);
    if (fread(f.blob, 1, (size_t)data_len, fp) != (size_t)data_len) {
        mg_set_error("%s: truncated data", path);
        goto out;
    }
    for (int i = 0; i < f.n; i++) {
        f.t[i].data = (const float *)((char *)f.blob + (uintptr_t)f.t[i].data);
        long size = 1;
        for (int d = 0; d < f.t[i].ndim; d++) size *= f.t[i].shape[d];
        long bad = mg_first_nonfinite_f(f.t[i].data, (size_t)size);
        if (bad >= 0) {
            mg_set_error("%s: tensor '%s' has a non-finite value at %ld", path, f.t[i].name, bad);
            goto out;
        }
    }
    *out = f;
    memset(&f, 0, sizeof f);
    rc = 0;
out:
    mg_st_free(&f);
    cJSON_Delete(root);
    free(hdr);
    fclose(fp);
    return rc;
}

const mg_st_tensor *mg_st_find(const mg_st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

const char *mg_st_meta(const mg_st_file *f, const char *key)
{
    for (int i = 0; i < f->nmeta; i++)
        if (!strcmp(f->meta[2 * i], key)) return f->meta[2 * i + 1];
    return NULL;
}

int mg_st_read(const char *path, mg_st_file *out)
{
    const char *ctx = mg_alloc_context(path);
    int rc = st_read_body(path, out);
    mg_alloc_context(ctx);
    return rc;
}

/* BART .cfl/.hdr: a text header "# Dimensions\n d0 d1 ...\n" and raw
 * little-endian complex float data, dim 0 fastest. */
#include "io.h"
#include "io_internal.h"

long mg_io_max_elements = MG_MAX_ELEMENTS;
#include "../mri/mri.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *cfl_base(const char *name)
{
    char *b = mg_strdup(name);
    size_t n = strlen(b);
    if (n > 4 && (!strcmp(b + n - 4, ".cfl") || !strcmp(b + n - 4, ".hdr"))) b[n - 4] = 0;
    return b;
}

static char *with_ext(const char *base, const char *ext)
{
    size_t n = strlen(base) + strlen(ext) + 1;
    char *p = mg_malloc(n);
    snprintf(p, n, "%s%s", base, ext);
    return p;
}

static int read_hdr(const char *hdr, int *ndim, long dims[MG_MAX_DIMS])
{
    FILE *f = fopen(hdr, "r");
    if (!f) {
        mg_set_error("%s: cannot open: %s", hdr, strerror(errno));
        return -1;
    }
    char line[4096];
    int found = 0, rc = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "# Dimensions", 12)) {
            found = 1;
            break;
        }
    }
    if (!found) {
        mg_set_error("%s: not a BART header (no '# Dimensions' line)", hdr);
        goto out;
    }
    if (!fgets(line, sizeof line, f)) {
        mg_set_error("%s: truncated header (no dimensions after '# Dimensions')", hdr);
        goto out;
    }
    int n = 0;
    char *p = line, *end;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\n' || *p == '\r' || *p == 0) break;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno) {
            mg_set_error("%s: malformed dimension '%.20s'", hdr, p);
            goto out;
        }
        if (v < 1) {
            mg_set_error("%s: dimension %d is %ld (must be >= 1)", hdr, n, v);
            goto out;
        }
        if (n == MG_MAX_DIMS) {
            mg_set_error("%s: more than %d dimensions", hdr, MG_MAX_DIMS);
            goto out;
        }
        dims[n++] = v;
        p = end;
    }
    if (n == 0) {
        mg_set_error("%s: no dimensions given", hdr);
        goto out;
    }
    long tot = 1;
    for (int i = 0; i < n; i++) {
        if (dims[i] > mg_io_max_elements / tot) {
            mg_set_error("%s: dimensions too large (more than %ld elements)", hdr, mg_io_max_elements);
            goto out;
        }
        tot *= dims[i];
    }
    for (int i = n; i < MG_MAX_DIMS; i++) dims[i] = 1;
    *ndim = n;
    rc = 0;
out:
    fclose(f);
    return rc;
}

int mg_cfl_read(const char *name, int *ndim, long dims[MG_MAX_DIMS], cfloat **data)
{
    char *base = cfl_base(name);
    char *hdr = with_ext(base, ".hdr"), *cfl = with_ext(base, ".cfl");
    int rc = -1;
    FILE *f = NULL;
    *data = NULL;
    if (read_hdr(hdr, ndim, dims)) goto out;
    long tot = 1;
    for (int i = 0; i < *ndim; i++) tot *= dims[i];
    f = fopen(cfl, "rb");
    if (!f) {
        mg_set_error("%s: cannot open: %s", cfl, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (unsigned long long)st.st_size != (unsigned long long)tot * 8ULL) {
        mg_set_error("%s: size %lld bytes does not match header (%ld complex values = %lld bytes)%s",
                     cfl, (long long)st.st_size, tot, (long long)tot * 8,
                     (long long)st.st_size < (long long)tot * 8 ? ": truncated" : "");
        goto out;
    }
    *data = mg_malloc_array((size_t)tot, sizeof(cfloat));
    if (fread(*data, sizeof(cfloat), (size_t)tot, f) != (size_t)tot) {
        mg_set_error("%s: truncated (expected %ld complex values)", cfl, tot);
        goto out;
    }
    rc = 0;
out:
    if (f) fclose(f);
    if (rc && *data) {
        free(*data);
        *data = NULL;
    }
    free(base);
    free(hdr);
    free(cfl);
    return rc;
}

int mg_cfl_write(const char *name, int ndim, const long *dims, const cfloat *data)
{
    char *base = cfl_base(name);
    char *hdr = with_ext(base, ".hdr"), *cfl = with_ext(base, ".cfl");
    char *thdr = mg_tmp_path(hdr), *tcfl = mg_tmp_path(cfl);
    int rc = -1;
    long tot = 1;
    for (int i = 0; i < ndim; i++) tot *= dims[i];
    FILE *f = fopen(tcfl, "wb");
    if (!f) {
        mg_set_error("%s: cannot create: %s", cfl, strerror(errno));
        goto out;
    }
    size_t wr = fwrite(data, sizeof(cfloat), (size_t)tot, f);
    if (fclose(f) != 0 || wr != (size_t)tot) {
        mg_set_error("%s: write failed: %s", cfl, strerror(errno));
        remove(tcfl);
        goto out;
    }
    f = fopen(thdr, "w");
    if (!f) {
        mg_set_error("%s: cannot create: %s", hdr, strerror(errno));
        remove(tcfl);
        goto out;
    }
    fprintf(f, "# Dimensions\n");
    for (int i = 0; i < ndim; i++) fprintf(f, "%ld ", dims[i]);
    fprintf(f, "\n");
    if (fclose(f) != 0) {
        mg_set_error("%s: write failed: %s", hdr, strerror(errno));
        remove(tcfl);
        remove(thdr);
        goto out;
    }
    /* data first, header last: a reader never sees a new header over old data */
    if (mg_commit_tmp(tcfl, cfl)) {
        remove(thdr);
        goto out;
    }
    if (mg_commit_tmp(thdr, hdr)) goto out;
    rc = 0;
out:
    free(base);
    free(hdr);
    free(cfl);
    free(thdr);
    free(tcfl);
    return rc;
}

int mg_sens_read_cfl(const char *path, long coils, long h, long w, cfloat **sens, long *sets)
{
    int nd;
    long d[MG_MAX_DIMS];
    if (mg_cfl_read(path, &nd, d, sens)) return -1;
    for (int i = nd; i < MG_MAX_DIMS; i++) d[i] = 1;
    /* the two spatial dims among 0..2 (W then H), coils in dim 3, map sets in
     * dim 4 (bart ecalib), nothing else */
    long sp[3], ns = 0, extra = 0;
    for (int i = 0; i < 3; i++)
        if (d[i] > 1) sp[ns++] = d[i];
    for (int i = 5; i < MG_MAX_DIMS; i++) extra |= d[i] != 1;
    const char *why = ns != 2 || extra ? "expected [W H 1 coils] or [W H 1 coils sets]"
                      : sp[0] != w || sp[1] != h ? "its image size differs from the k-space's"
                      : d[3] != coils ? "its coil count differs from the k-space's" : NULL;
    if (why) {
        mg_set_error("%s: coil maps have dims [%ld %ld %ld %ld %ld], the k-space is %ldx%ld (W x H) with %ld coils: %s",
                     path, d[0], d[1], d[2], d[3], d[4], w, h, coils, why);
        free(*sens);
        *sens = NULL;
        return -1;
    }
    if (sets) *sets = d[4];
    const long n = coils * h * w * (sets ? d[4] : 1); /* every set, or set 1 (the first block) */
    long bad = mg_first_nonfinite_c(*sens, (size_t)n);
    if (bad >= 0) {
        mg_set_error("%s: non-finite value (NaN or Inf) at element %ld", path, bad);
        free(*sens);
        *sens = NULL;
        return -1;
    }
    if (d[4] > 1 && !sets) *sens = mg_realloc(*sens, sizeof(cfloat) * (size_t)n);
    return 0;
}

void mg_kdata_cfl_layout(const mg_kdata *d, long C, long H, long W, long dims[4])
{
    dims[0] = dims[1] = dims[2] = 1;
    const int a = d->cfl_dims[0] != d->cfl_dims[1] ? d->cfl_dims[0] : 0;
    const int b = d->cfl_dims[0] != d->cfl_dims[1] ? d->cfl_dims[1] : 1;
    dims[a] = W;
    dims[b] = H;
    dims[3] = C;
}

int mg_mask_read_cfl(const char *path, long h, float **mask)
{
    int nd;
    long d[MG_MAX_DIMS];
    cfloat *m;
    if (mg_cfl_read(path, &nd, d, &m)) return -1;
    long tot = 1;
    for (int i = 0; i < nd; i++) tot *= d[i];
    if (d[1] != h || tot != d[0] * d[1]) {
        mg_set_error("%s: mask dims [%ld %ld ...] do not match %ld phase-encode lines (need [1 %ld] "
                     "or [W %ld])",
                     path, d[0], d[1], h, h, h);
        free(m);
        return -1;
    }
    float *out = mg_malloc_array((size_t)h, sizeof(float));
    for (long y = 0; y < h; y++) {
        cfloat v = m[y * d[0]];
        for (long x = 1; x < d[0]; x++)
            if (m[y * d[0] + x] != v) {
                mg_set_error("%s: mask varies along the readout at line %ld (only 1D masks over "
                             "phase-encode lines are supported)",
                             path, y);
                free(m);
                free(out);
                return -1;
            }
        if (cimagf(v) != 0.0f || (crealf(v) != 0.0f && crealf(v) != 1.0f)) {
            mg_set_error("%s: mask value (%g,%g) at line %ld is not 0 or 1", path, (double)crealf(v),
                         (double)cimagf(v), y);
            free(m);
            free(out);
            return -1;
        }
        out[y] = crealf(v);
    }
    free(m);
    if (mg_mask_check(out, h, path)) {
        free(out);
        return -1;
    }
    *mask = out;
    return 0;
}

int mg_mask_write_cfl(const char *path, const float *mask, long h)
{
    cfloat *m = mg_malloc_array((size_t)h, sizeof(cfloat));
    for (long y = 0; y < h; y++) m[y] = mask[y];
    long dims[2] = {1, h};
    int rc = mg_cfl_write(path, 2, dims, m);
    free(m);
    return rc;
}

/* ---- cfl k-space: two non-singleton dims among 0..2 (first = W, second = H),
 * coils in dim 3, everything else singleton ---- */
int mg_cfl_read_kspace(const char *path, mg_kdata *d)
{
    int nd;
    long dims[MG_MAX_DIMS];
    cfloat *data;
    if (mg_cfl_read(path, &nd, dims, &data)) return -1;
    long sp[3], ns = 0;
    int at[3] = {0, 1, 2};
    for (int i = 0; i < 3; i++)
        if (dims[i] > 1) at[ns] = i, sp[ns++] = dims[i];
    int extra = 0;
    for (int i = 4; i < MG_MAX_DIMS; i++) extra |= dims[i] != 1;
    if (ns != 2 || extra) {
        mg_set_error("%s: expected 2D multi-coil k-space [W H 1 coils] (two non-singleton dims among "
                     "0..2, coils in dim 3), got dims [%ld %ld %ld %ld%s]",
                     path, dims[0], dims[1], dims[2], dims[3], extra ? " ..." : "");
        free(data);
        return -1;
    }
    d->nslices = 1;
    d->coils = dims[3];
    d->w = sp[0];
    d->h = sp[1];
    d->cfl_dims[0] = at[0]; /* outputs keep this layout */
    d->cfl_dims[1] = at[1];
    d->kspace = data;
    long bad = mg_first_nonfinite_c(data, (size_t)(d->coils * d->h * d->w));
    if (bad >= 0) {
        mg_set_error("%s: non-finite value (NaN or Inf) at element %ld", path, bad);
        mg_kdata_free(d);
        return -1;
    }
    return 0;
}


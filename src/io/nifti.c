/* NIfTI-1 single-file (.nii, .nii.gz) reader and writer. zlib's gz* calls
 * read plain and gzip-compressed files alike. */
#include "io.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void swap_bytes(void *p, size_t n)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = t;
    }
}

static int16_t get16(const unsigned char *h, int off, int sw)
{
    int16_t v;
    memcpy(&v, h + off, 2);
    if (sw) swap_bytes(&v, 2);
    return v;
}

static int32_t get32(const unsigned char *h, int off, int sw)
{
    int32_t v;
    memcpy(&v, h + off, 4);
    if (sw) swap_bytes(&v, 4);
    return v;
}

static float getf(const unsigned char *h, int off, int sw)
{
    float v;
    memcpy(&v, h + off, 4);
    if (sw) swap_bytes(&v, 4);
    return v;
}

void mg_volume_free(mg_volume *v)
{
    free(v->data);
    v->data = NULL;
}

static int nifti_read_body(const char *path, mg_volume *v)
{
    memset(v, 0, sizeof *v);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        mg_set_error("%s: cannot open: %s", path, errno ? strerror(errno) : "zlib error");
        return -1;
    }
    unsigned char h[348];
    unsigned char *raw = NULL;
    int rc = -1;
    int got = gzread(f, h, sizeof h);
    if (got != (int)sizeof h) {
        mg_set_error("%s: truncated NIfTI header (%d of 348 bytes)", path, got < 0 ? 0 : got);
        goto out;
    }
    int sw = 0;
    int32_t sz = get32(h, 0, 0);
    if (sz != 348) {
        sw = 1;
        sz = get32(h, 0, 1);
        if (sz != 348) {
            if (sz == 540 || get32(h, 0, 0) == 540)
                mg_set_error("%s: NIfTI-2 files are not supported (convert to NIfTI-1)", path);
            else mg_set_error("%s: not a NIfTI-1 file (sizeof_hdr is not 348)", path);
            goto out;
        }
    }
    if (memcmp(h + 344, "n+1", 4) != 0) {
        if (memcmp(h + 344, "ni1", 4) == 0)
            mg_set_error("%s: two-file NIfTI (.hdr/.img) is not supported; use a single .nii", path);
        else mg_set_error("%s: bad NIfTI magic (expected 'n+1')", path);
        goto out;
    }
    int nd = get16(h, 40, sw);
    if (nd < 1 || nd > 7) {
        mg_set_error("%s: dim[0] = %d is out of range 1..7", path, nd);
        goto out;
    }
    long d[7] = {1, 1, 1, 1, 1, 1, 1};
    long tot = 1;
    for (int i = 0; i < nd; i++) {
        d[i] = get16(h, 42 + 2 * i, sw);
        if (d[i] < 1) {
            mg_set_error("%s: dim[%d] = %ld must be >= 1", path, i + 1, d[i]);
            goto out;
        }
        if (d[i] > mg_io_max_elements / tot) {
            mg_set_error("%s: dimensions too large", path);
            goto out;
        }
        tot *= d[i];
    }
    if (tot != d[0] * d[1] * d[2]) {
        mg_set_error("%s: 4D or higher volumes (dims %ld x %ld x %ld x %ld) are not supported", path,
                     d[0], d[1], d[2], d[3]);
        goto out;
    }
    int dt = get16(h, 70, sw), bitpix = get16(h, 72, sw);
    int bytes;
    switch (dt) {
    case 2: case 256: bytes = 1; break;            /* uint8, int8 */
    case 4: case 512: bytes = 2; break;            /* int16, uint16 */
    case 8: case 768: case 16: bytes = 4; break;   /* int32, uint32, float32 */
    case 64: bytes = 8; break;                     /* float64 */
    case 32: bytes = 8; break;                     /* complex64: magnitude is read */
    default:
        mg_set_error("%s: unsupported NIfTI datatype %d", path, dt);
        goto out;
    }
    if (bitpix != 8 * bytes) {
        mg_set_error("%s: bitpix %d does not match datatype %d", path, bitpix, dt);
        goto out;
    }
    float off = getf(h, 108, sw);
    if (!(off >= 348.0f) || off > 1e9f) {
        mg_set_error("%s: invalid vox_offset %g", path, (double)off);
        goto out;
    }
    float slope = getf(h, 112, sw), inter = getf(h, 116, sw);
    if (!isfinite(slope) || slope == 0.0f) slope = 1.0f, inter = 0.0f;
    if (!isfinite(inter)) inter = 0.0f;
    /* skip to the data */
    long skip = (long)off - 348;
    unsigned char tmp[4096];
    while (skip > 0) {
        int n = skip > (long)sizeof tmp ? (int)sizeof tmp : (int)skip;
        if (gzread(f, tmp, (unsigned)n) != n) {
            mg_set_error("%s: truncated before the image data (vox_offset %g)", path, (double)off);
            goto out;
        }
        skip -= n;
    }
    size_t nbytes = (size_t)tot * (size_t)bytes;
    /* grow the buffer as data arrive: a header cannot make us allocate
     * more than the (possibly compressed) file really holds */
    size_t have = 0, cap = 0;
    while (have < nbytes) {
        if (have == cap) {
            size_t grow = cap > ((size_t)64 << 20) ? cap : ((size_t)64 << 20); /* double, from 64 MB */
            cap = nbytes - cap > grow ? cap + grow : nbytes;
            raw = mg_realloc(raw, cap);
        }
        size_t chunk = cap - have > (1u << 30) ? (1u << 30) : cap - have;
        int n = gzread(f, raw + have, (unsigned)chunk);
        if (n <= 0) break;
        have += (size_t)n;
    }
    if (have != nbytes) {
        int errnum;
        const char *zmsg = gzerror(f, &errnum);
        mg_set_error("%s: truncated image data (%zu of %zu bytes)%s%s", path, have, nbytes,
                     errnum ? ": " : "", errnum ? zmsg : "");
        goto out;
    }
    v->data = mg_malloc_array((size_t)tot, sizeof(float));
    for (long i = 0; i < tot; i++) {
        unsigned char *p = raw + (size_t)i * (size_t)bytes;
        double x;
        if (sw && dt != 32) swap_bytes(p, (size_t)bytes);
        switch (dt) {
        case 2: x = *(uint8_t *)p; break;
        case 256: x = *(int8_t *)p; break;
        case 4: { int16_t t; memcpy(&t, p, 2); x = t; } break;
        case 512: { uint16_t t; memcpy(&t, p, 2); x = t; } break;
        case 8: { int32_t t; memcpy(&t, p, 4); x = t; } break;
        case 768: { uint32_t t; memcpy(&t, p, 4); x = t; } break;
        case 16: { float t; memcpy(&t, p, 4); x = t; } break;
        case 64: { double t; memcpy(&t, p, 8); x = t; } break;
        default: { /* complex64 */
            float re, im;
            memcpy(&re, p, 4);
            memcpy(&im, p + 4, 4);
            if (sw) { swap_bytes(&re, 4); swap_bytes(&im, 4); }
            x = hypot(re, im);
        }
        }
        x = x * slope + inter;
        if (!isfinite(x)) {
            mg_set_error("%s: non-finite voxel value (NaN or Inf) at index %ld", path, i);
            goto out;
        }
        v->data[i] = (float)x;
    }
    v->nx = d[0];
    v->ny = d[1];
    v->nz = d[2];
    v->dx = nd >= 1 ? fabsf(getf(h, 80, sw)) : 1.0f;
    v->dy = nd >= 2 ? fabsf(getf(h, 84, sw)) : 1.0f;
    v->dz = nd >= 3 ? fabsf(getf(h, 88, sw)) : 1.0f;
    rc = 0;
out:
    gzclose(f);
    free(raw);
    if (rc) mg_volume_free(v);
    return rc;
}

static void put16(unsigned char *h, int off, int16_t v) { memcpy(h + off, &v, 2); }
static void put32(unsigned char *h, int off, int32_t v) { memcpy(h + off, &v, 4); }
static void putf(unsigned char *h, int off, float v) { memcpy(h + off, &v, 4); }

int mg_nifti_write(const char *path, long nx, long ny, long nz, const float *data,
                   const cfloat *cdata)
{
    if (nx > 32767 || ny > 32767 || nz > 32767) {
        mg_set_error("%s: dimensions %ldx%ldx%ld too large for NIfTI-1", path, nx, ny, nz);
        return -1;
    }
    unsigned char h[352];
    memset(h, 0, sizeof h);
    int cplx = cdata != NULL;
    put32(h, 0, 348);
    put16(h, 40, 3);
    put16(h, 42, (int16_t)nx);
    put16(h, 44, (int16_t)ny);
    put16(h, 46, (int16_t)nz);
    for (int i = 4; i < 8; i++) put16(h, 40 + 2 * i, 1);
    put16(h, 70, cplx ? 32 : 16);
    put16(h, 72, cplx ? 64 : 32);
    for (int i = 0; i < 4; i++) putf(h, 76 + 4 * i, 1.0f);
    putf(h, 108, 352.0f);
    putf(h, 112, 1.0f);
    h[123] = 2; /* mm */
    snprintf((char *)h + 148, 80, "mrgan");
    put16(h, 252, 0);
    put16(h, 254, 0);
    memcpy(h + 344, "n+1", 4);
    int gz = mg_has_suffix(path, ".gz");
    char *tmp = mg_tmp_path(path);
    gzFile f = gzopen(tmp, gz ? "wb6" : "wbT");
    if (!f) {
        mg_set_error("%s: cannot create: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    size_t n = (size_t)(nx * ny * nz);
    size_t bytes = n * (cplx ? 8 : 4);
    const unsigned char *src = cplx ? (const unsigned char *)cdata : (const unsigned char *)data;
    int ok = gzwrite(f, h, sizeof h) == (int)sizeof h;
    size_t done = 0;
    while (ok && done < bytes) {
        size_t chunk = bytes - done > (1u << 30) ? (1u << 30) : bytes - done;
        ok = gzwrite(f, src + done, (unsigned)chunk) == (int)chunk;
        done += chunk;
    }
    if (gzclose(f) != Z_OK) ok = 0;
    return mg_finish_tmp(ok, tmp, path, "write failed (disk full?)");
}

int mg_nifti_read(const char *path, mg_volume *v)
{
    const char *ctx = mg_alloc_context(path);
    int rc = nifti_read_body(path, v);
    mg_alloc_context(ctx);
    return rc;
}

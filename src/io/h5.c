/* fastMRI-layout HDF5 data sets.
 *
 * On disk (as fastMRI): kspace [slices][coils][rows][cols] complex64 (an
 * h5py-style compound {r, i}), phase encodes along cols; sens_maps the same;
 * reconstruction_rss [slices][rows][cols] float32; mask [cols]; plus our
 * slice_info [slices][2] int32 and an ismrmrd_header that fastMRI's
 * SliceDataset can parse. In memory phase encodes run along H, so every
 * image is transposed on the way in and out (H = cols, W = rows). Reading
 * takes whole files, slices (hyperslabs) or the shapes only; an HDF5 file
 * holding ISMRMRD raw data instead goes to ismrmrd.c. All under one lock. */
#include "io.h"
#include "io_internal.h"
#include "../mri/mri.h"

#include <hdf5.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* Debian's serial HDF5 is not thread-safe: every call of this file runs
 * under one lock (the trainer reads slices on a helper thread) */
static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;
void mg_h5_lock(void) { pthread_mutex_lock(&h5_lock); }
void mg_h5_unlock(void) { pthread_mutex_unlock(&h5_lock); }

/* file [s][c][R][Cc]  <->  memory [s][c][Cc][R] */
static void transpose_planes(const void *in, void *out, long planes, long rows, long cols,
                             size_t elem)
{
    const char *a = in;
    char *b = out;
    for (long p = 0; p < planes; p++) {
        const char *src = a + (size_t)(p * rows * cols) * elem;
        char *dst = b + (size_t)(p * rows * cols) * elem;
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
                memcpy(dst + (size_t)(c * rows + r) * elem, src + (size_t)(r * cols + c) * elem, elem);
    }
}

static hid_t complex_type_like(hid_t ftype, const char *path, const char *name)
{
    if (H5Tget_class(ftype) != H5T_COMPOUND || H5Tget_nmembers(ftype) != 2) {
        mg_set_error("%s: dataset '%s' is not complex (expected a compound of two floats)", path, name);
        return -1;
    }
    /* by member name (h5py writes {r, i}; others {real, imag} or {re, im}),
     * in whichever order the file stores them */
    static const char *re_names[] = {"r", "real", "re"}, *im_names[] = {"i", "imag", "im"};
    const char *found[2] = {NULL, NULL};
    for (unsigned i = 0; i < 2; i++) {
        if (H5Tget_member_class(ftype, i) != H5T_FLOAT) {
            mg_set_error("%s: dataset '%s' has a non-float complex member", path, name);
            return -1;
        }
        char *mn = H5Tget_member_name(ftype, i);
        for (int k = 0; k < 3; k++) {
            if (!strcmp(mn, re_names[k])) found[0] = re_names[k];
            if (!strcmp(mn, im_names[k])) found[1] = im_names[k];
        }
        H5free_memory(mn);
    }
    if (!found[0] || !found[1]) {
        mg_set_error("%s: dataset '%s': complex members are not named r/i, real/imag or re/im", path, name);
        return -1;
    }
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(cfloat));
    H5Tinsert(mt, found[0], 0, H5T_NATIVE_FLOAT);
    H5Tinsert(mt, found[1], sizeof(float), H5T_NATIVE_FLOAT);
    return mt;
}

static hid_t complex_type_rw(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(cfloat));
    H5Tinsert(t, "r", 0, H5T_NATIVE_FLOAT);
    H5Tinsert(t, "i", sizeof(float), H5T_NATIVE_FLOAT);
    return t;
}

/* which slices (the first dimension) of a data set to read: [s0, s0 + cnt);
 * cnt 0: every slice; cnt < 0: none (the shape only) */
typedef struct {
    long s0, cnt;
} slices_sel;
static const slices_sel ALL = {0, 0};

/* Read dataset `name` of rank `rank` into a new buffer (the slices sel);
 * dims out. is_complex selects the compound read, otherwise float (any
 * numeric type, and enumerations such as h5py's bool, convert). */
static int read_ds(hid_t f, const char *path, const char *name, int rank_min, int rank_max,
                   int is_complex, slices_sel sel, int *rank, hsize_t dims[4], void **buf)
{
    *buf = NULL;
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) {
        mg_set_error("%s: no dataset '%s'", path, name);
        return -1;
    }
    int rc = -1;
    hid_t sp = H5Dget_space(ds), ft = H5Dget_type(ds), mt = -1;
    int r = H5Sget_simple_extent_ndims(sp);
    if (r < rank_min || r > rank_max) {
        mg_set_error("%s: dataset '%s' has rank %d, expected %d..%d", path, name, r, rank_min, rank_max);
        goto out;
    }
    H5Sget_simple_extent_dims(sp, dims, NULL);
    long tot = 1;
    for (int i = 0; i < r; i++) {
        if (dims[i] < 1 || (long)dims[i] > mg_io_max_elements / tot) {
            mg_set_error("%s: dataset '%s' has an empty or too large dimension", path, name);
            goto out;
        }
        tot *= (long)dims[i];
    }
    if (sel.cnt != 0 && (sel.s0 < 0 || (sel.cnt > 0 && sel.s0 + sel.cnt > (long)dims[0]))) {
        mg_set_error("%s: dataset '%s' has %ld slices; slices %ld..%ld do not exist", path, name, (long)dims[0],
                     sel.s0, sel.s0 + sel.cnt - 1);
        goto out;
    }
    if (sel.cnt < 0) { /* the shape only */
        *rank = r;
        rc = 0;
        goto out;
    }
    if (sel.cnt > 0) tot = tot / (long)dims[0] * sel.cnt;
    {
        /* what the file declares must be what it stores (no allocation for a
         * tiny file that declares gigabytes) and fit in this machine's memory */
        const double bytes = (double)tot * (is_complex ? 8.0 : 4.0), stored = (double)H5Dget_storage_size(ds);
        const double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
        if (bytes > 64e6 && stored < bytes / 1000) {
            mg_set_error("%s: dataset '%s' declares %.0f MB but stores %.0f bytes (truncated or crafted file)", path,
                         name, bytes / 1e6, stored);
            goto out;
        }
        if (phys > 0 && 2 * bytes > phys) {
            mg_set_error("%s: dataset '%s' needs %.1f GB, more than half of this machine's %.1f GB of memory", path,
                         name, bytes / 1e9, phys / 1e9);
            goto out;
        }
    }
    if (is_complex) {
        mt = complex_type_like(ft, path, name);
        if (mt < 0) goto out;
    } else {
        H5T_class_t cl = H5Tget_class(ft);
        if (cl == H5T_ENUM) { /* h5py's bool: an enum over int8 {FALSE 0, TRUE 1}; its values as integers */
            hid_t base = H5Tget_super(ft);
            const int ok = H5Tget_class(base) == H5T_INTEGER;
            H5Tclose(base);
            if (!ok) {
                mg_set_error("%s: dataset '%s' is an enumeration over a non-integer type", path, name);
                goto out;
            }
            mt = H5Tget_native_type(ft, H5T_DIR_ASCEND);
            const size_t es = H5Tget_size(mt);
            if (es != 1 && es != 2 && es != 4 && es != 8) {
                mg_set_error("%s: dataset '%s' is an enumeration of %zu-byte values", path, name, es);
                goto out;
            }
        } else if (cl != H5T_FLOAT && cl != H5T_INTEGER) {
            mg_set_error("%s: dataset '%s' is not numeric", path, name);
            goto out;
        } else {
            mt = H5Tcopy(H5T_NATIVE_FLOAT);
        }
    }
    const size_t msize = H5Tget_size(mt);
    *buf = mg_malloc_array((size_t)tot, msize > sizeof(float) ? msize : sizeof(float));
    hid_t msp = H5S_ALL, fsp = H5S_ALL;
    if (sel.cnt > 0) { /* a hyperslab of whole slices */
        hsize_t start[4] = {(hsize_t)sel.s0, 0, 0, 0}, count[4];
        for (int i = 0; i < r; i++) count[i] = dims[i];
        count[0] = (hsize_t)sel.cnt;
        fsp = sp;
        H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL);
        msp = H5Screate_simple(r, count, NULL);
    }
    const herr_t st = H5Dread(ds, mt, msp, fsp, H5P_DEFAULT, *buf);
    if (msp != H5S_ALL) H5Sclose(msp);
    if (st < 0) {
        mg_set_error("%s: cannot read dataset '%s' (file truncated or corrupt)", path, name);
        free(*buf);
        *buf = NULL;
        goto out;
    }
    if (H5Tget_class(mt) == H5T_ENUM) { /* enum values (signed, 1 to 8 bytes) to float, in place from the end */
        const size_t es = msize;
        const unsigned char *raw = *buf;
        float *f = *buf;
        /* narrower values convert from the end, wider ones from the start, so
         * that no value is overwritten before it is read */
        for (long j = 0; j < tot; j++) {
            const long i = es <= sizeof(float) ? tot - 1 - j : j;
            long long v;
            if (es == 1) v = ((const signed char *)raw)[i];
            else if (es == 2) { int16_t t; memcpy(&t, raw + 2 * i, 2); v = t; }
            else if (es == 4) { int32_t t; memcpy(&t, raw + 4 * i, 4); v = t; }
            else { int64_t t; memcpy(&t, raw + 8 * i, 8); v = t; }
            f[i] = (float)v;
        }
    }
    *rank = r;
    rc = 0;
out:
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

/* A scalar string data set (fixed or variable length, or a 1-D array of
 * bytes, as fastMRI's files hold their ismrmrd_header) as a new
 * NUL-terminated buffer; NULL when absent or of another kind. */
static char *read_string(hid_t f, const char *name, size_t *len)
{
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return NULL;
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) return NULL;
    hid_t ft = H5Dget_type(ds), sp = H5Dget_space(ds);
    char *out = NULL;
    const hssize_t npts = H5Sget_simple_extent_npoints(sp);
    if (H5Tget_class(ft) == H5T_STRING && npts == 1) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            char *v = NULL;
            if (H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0 && v) {
                out = mg_strdup(v);
                H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &v);
            }
            H5Tclose(mt);
        } else {
            const size_t n = H5Tget_size(ft);
            if (n > 0 && n < (1u << 24)) {
                hid_t mt = H5Tcopy(H5T_C_S1);
                H5Tset_size(mt, n + 1);
                out = calloc(n + 2, 1);
                if (out && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
                    free(out);
                    out = NULL;
                }
                H5Tclose(mt);
            }
        }
    } else if (H5Tget_class(ft) == H5T_INTEGER && H5Tget_size(ft) == 1 && npts > 0 && npts < (1 << 24)) {
        out = calloc((size_t)npts + 1, 1);
        if (out && H5Dread(ds, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
            free(out);
            out = NULL;
        }
    }
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(ds);
    if (out) *len = strlen(out);
    return out;
}

/* complex planes as read (file order) into memory order, checked finite;
 * frees *buf. NULL with an error naming the data set. */
static cfloat *take_planes(void **buf, long planes, long rows, long cols, const char *path, const char *name)
{
    const long n = planes * rows * cols;
    cfloat *out = mg_malloc_array((size_t)n, sizeof(cfloat));
    transpose_planes(*buf, out, planes, rows, cols, sizeof(cfloat));
    free(*buf);
    *buf = NULL;
    const long bad = mg_first_nonfinite_c(out, (size_t)n);
    if (bad >= 0) {
        mg_set_error("%s: %s has a non-finite value (NaN or Inf) at element %ld", path, name, bad);
        free(out);
        return NULL;
    }
    return out;
}

/* Slices sel of a fastMRI-layout file into d (sel.cnt < 0: the shapes,
 * geometry and mask only, no arrays). */
static int read_h5(const char *path, const mg_read_opts *o, slices_sel sel, mg_kdata *d)
{
    h5_quiet();
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        mg_set_error("%s: cannot open: no such file or not readable", path);
        return -1;
    }
    fclose(probe);
    if (H5Fis_hdf5(path) <= 0) {
        mg_set_error("%s: not an HDF5 file (or its superblock is corrupt)", path);
        return -1;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        mg_set_error("%s: cannot open HDF5 file (truncated or corrupt)", path);
        return -1;
    }
    const int shape_only = sel.cnt < 0;
    if (H5Lexists(f, "kspace", H5P_DEFAULT) <= 0 && H5Lexists(f, "dataset", H5P_DEFAULT) > 0 &&
        H5Lexists(f, "dataset/data", H5P_DEFAULT) > 0) { /* ISMRMRD raw data */
        H5Fclose(f);
        mg_ismrmrd_hdr hdr;
        if (mg_ismrmrd_read(path, sel.s0, sel.cnt, d, &hdr)) return -1;
        if (mg_first_nonfinite_c(d->kspace, shape_only ? 0 : (size_t)(d->nslices * d->coils * d->h * d->w)) >= 0) {
            mg_set_error("%s: ISMRMRD data hold a non-finite value (NaN or Inf)", path);
            mg_kdata_free(d);
            return -1;
        }
        mg_kdata_geometry(d, &hdr);
        mg_kdata_crop_header(d, &hdr, o, shape_only);
        d->first_slice = sel.cnt > 0 ? sel.s0 : 0;
        return 0;
    }
    int rc = -1, rank;
    hsize_t dims[4];
    void *buf = NULL;
    if (H5Lexists(f, "kspace", H5P_DEFAULT) <= 0) {
        mg_set_error("%s: no dataset 'kspace' (fastMRI layout) and no /dataset/data (ISMRMRD raw data)", path);
        goto out;
    }
    if (read_ds(f, path, "kspace", 3, 4, 1, sel, &rank, dims, &buf)) goto out;
    const long Sf = (long)dims[0], C = rank == 4 ? (long)dims[1] : 1;
    const long R = (long)dims[rank - 2], Cc = (long)dims[rank - 1];
    const long S = sel.cnt > 0 ? sel.cnt : Sf, s0 = sel.cnt > 0 ? sel.s0 : 0; /* the slices read */
    d->nslices = shape_only ? Sf : S;
    d->coils = C;
    d->h = Cc;
    d->w = R;
    if (!shape_only && !(d->kspace = take_planes(&buf, S * C, R, Cc, path, "kspace"))) goto out;
    if (H5Lexists(f, "sens_maps", H5P_DEFAULT) > 0) {
        int r2;
        hsize_t d2[4];
        if (read_ds(f, path, "sens_maps", 3, 4, 1, sel, &r2, d2, &buf)) goto out;
        long C2 = r2 == 4 ? (long)d2[1] : 1;
        if (r2 != rank || (long)d2[0] != Sf || C2 != C || (long)d2[r2 - 2] != R || (long)d2[r2 - 1] != Cc) {
            mg_set_error("%s: sens_maps shape does not match kspace (%ld slices, %ld coils, %ldx%ld)%s",
                         path, Sf, C, R, Cc, C2 != C ? ": coil count mismatch" : "");
            goto out;
        }
        d->has_sens = 1;
        if (!shape_only && !(d->sens = take_planes(&buf, S * C, R, Cc, path, "sens_maps"))) goto out;
    }
    mg_ismrmrd_hdr hdr;
    {
        size_t xl = 0;
        char *xml = read_string(f, "ismrmrd_header", &xl);
        mg_ismrmrd_header_parse(xml, xl, &hdr);
        free(xml);
    }
    mg_kdata_geometry(d, &hdr);
    if (H5Lexists(f, "reconstruction_rss", H5P_DEFAULT) > 0) {
        int r2;
        hsize_t d2[4];
        if (read_ds(f, path, "reconstruction_rss", 3, 3, 0, sel, &r2, d2, &buf)) goto out;
        /* full size (ours), or fastMRI's reference cropped to reconSpace (e.g. 320x320) */
        const long rr = (long)d2[1], rc2 = (long)d2[2];
        const int full = (long)d2[0] == Sf && rr == R && rc2 == Cc;
        const int crop = !full && (long)d2[0] == Sf && rr <= R && rc2 <= Cc;
        if (crop) {
            d->recon_w = rr;
            d->recon_h = rc2;
        }
        if (!shape_only && (full || crop)) {
            float *dst = mg_malloc_array((size_t)(S * rr * rc2), sizeof(float));
            transpose_planes(buf, dst, S, rr, rc2, sizeof(float));
            if (full) d->rss = dst;
            else d->rss_crop = dst;
            if (mg_first_nonfinite_f(dst, (size_t)(S * rr * rc2)) >= 0) {
                mg_set_error("%s: reconstruction_rss has a non-finite value", path);
                goto out;
            }
        }
        free(buf);
        buf = NULL;
    }
    if (H5Lexists(f, "mask", H5P_DEFAULT) > 0) {
        int r2;
        hsize_t d2[4];
        if (read_ds(f, path, "mask", 1, 1, 0, ALL, &r2, d2, &buf)) goto out;
        if ((long)d2[0] != Cc) {
            mg_set_error("%s: mask has %ld entries but kspace has %ld phase-encode lines", path,
                         (long)d2[0], Cc);
            goto out;
        }
        d->mask = buf;
        buf = NULL;
        for (long i = 0; i < Cc; i++) d->mask[i] = d->mask[i] != 0.0f ? 1.0f : 0.0f;
        if (mg_mask_check(d->mask, Cc, path)) goto out;
    }
    if (!shape_only && H5Lexists(f, "slice_info", H5P_DEFAULT) > 0) {
        int r2;
        hsize_t d2[4];
        if (read_ds(f, path, "slice_info", 2, 2, 0, sel, &r2, d2, &buf)) goto out;
        if ((long)d2[0] != Sf || d2[1] != 2) {
            mg_set_error("%s: slice_info must be %ld x 2", path, Sf);
            goto out;
        }
        d->slice_info = mg_malloc_array((size_t)(2 * S), sizeof(int32_t));
        for (long i = 0; i < 2 * S; i++) {
            float v = ((float *)buf)[i];
            if (!(v >= 0.0f && v <= 1e9f)) {
                mg_set_error("%s: slice_info holds %g (expected small non-negative integers)", path, (double)v);
                goto out;
            }
            d->slice_info[i] = (int32_t)v;
        }
        free(buf);
        buf = NULL;
    }
    d->first_slice = s0;
    mg_kdata_crop_header(d, &hdr, o, shape_only);
    rc = 0;
out:
    free(buf);
    H5Fclose(f);
    if (rc) mg_kdata_free(d);
    return rc;
}

int mg_h5_read_kdata(const char *path, const mg_read_opts *o, long s0, long cnt, mg_kdata *d)
{
    mg_h5_lock();
    const int rc = read_h5(path, o, (slices_sel){s0, cnt}, d);
    mg_h5_unlock();
    return rc;
}

/* ---- writing ---- */
static int write_ds(hid_t f, const char *name, hid_t ftype, hid_t mtype, int rank,
                    const hsize_t *dims, const void *data, int chunk_first)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk_first && dims[0] > 1) {
        hsize_t ch[4];
        for (int i = 0; i < rank; i++) ch[i] = dims[i];
        ch[0] = 1;
        H5Pset_chunk(pl, rank, ch);
    }
    hid_t ds = H5Dcreate2(f, name, ftype, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    int rc = ds < 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0;
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(pl);
    H5Sclose(sp);
    return rc;
}

static int write_attr_double(hid_t f, const char *name, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, H5T_NATIVE_DOUBLE, &v) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

/* a scalar fixed-length string data set (fastMRI's ismrmrd_header) */
static int write_string(hid_t f, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(s) > 0 ? strlen(s) : 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = ds < 0 || H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0 ? -1 : 0;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

/* a variable-length UTF-8 string attribute (h5py reads it as str, as
 * fastMRI writes `acquisition`) */
static int write_attr_utf8(hid_t f, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, t, &v) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

/* Open a new HDF5 file under a temporary name beside path; h5_finish
 * renames it over path once everything is written. */
static hid_t h5_create(const char *path, char **tmp)
{
    h5_quiet();
    *tmp = mg_tmp_path(path);
    hid_t f = H5Fcreate(*tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        mg_set_error("%s: cannot create HDF5 file", path);
        free(*tmp);
    }
    return f;
}

/* close a file written under `tmp`; on success rename it to `path` */
static int h5_finish(hid_t f, char *tmp, const char *path, int rc)
{
    if (H5Fclose(f) < 0) rc = -1;
    return mg_finish_tmp(rc == 0, tmp, path, "writing the HDF5 file failed (disk full?)");
}

static int write_kdata_locked(const char *path, const mg_kdata *d)
{
    char *tmp;
    hid_t f = h5_create(path, &tmp);
    if (f < 0)
        return -1;
    const long S = d->nslices, C = d->coils, H = d->h, W = d->w;
    const long n = S * C * H * W;
    int rc = 0;
    hid_t ct = complex_type_rw();
    void *buf = mg_malloc_array((size_t)n, sizeof(cfloat));
    hsize_t kd[4] = {(hsize_t)S, (hsize_t)C, (hsize_t)W, (hsize_t)H};
    transpose_planes(d->kspace, buf, S * C, H, W, sizeof(cfloat));
    rc |= write_ds(f, "kspace", ct, ct, 4, kd, buf, 1);
    if (d->sens) {
        transpose_planes(d->sens, buf, S * C, H, W, sizeof(cfloat));
        rc |= write_ds(f, "sens_maps", ct, ct, 4, kd, buf, 1);
    }
    if (d->rss) { /* as fastMRI: centre-cropped to reconSpace (when smaller) */
        const long ch = d->recon_h > 0 && d->recon_h < H ? d->recon_h : H;
        const long cw = d->recon_w > 0 && d->recon_w < W ? d->recon_w : W;
        float *crop = mg_malloc_array((size_t)(S * ch * cw), sizeof(float));
        for (long s = 0; s < S; s++) mg_center_crop(d->rss + s * H * W, H, W, crop + s * ch * cw, ch, cw, sizeof(float));
        hsize_t rd[3] = {(hsize_t)S, (hsize_t)cw, (hsize_t)ch};
        transpose_planes(crop, buf, S, ch, cw, sizeof(float));
        rc |= write_ds(f, "reconstruction_rss", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, rd, buf, 1);
        double mx = 0, nn = 0;
        for (long i = 0; i < S * ch * cw; i++) {
            if (crop[i] > mx) mx = crop[i];
            nn += (double)crop[i] * crop[i];
        }
        free(crop);
        rc |= write_attr_double(f, "max", mx);
        rc |= write_attr_double(f, "norm", sqrt(nn));
    }
    if (d->mask) {
        hsize_t md[1] = {(hsize_t)H};
        rc |= write_ds(f, "mask", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, md, d->mask, 0);
    }
    if (d->slice_info) {
        hsize_t sd[2] = {(hsize_t)S, 2};
        rc |= write_ds(f, "slice_info", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, sd, d->slice_info, 0);
    }
    char xml[2048];
    mg_ismrmrd_header_format(d, xml, sizeof xml);
    rc |= write_string(f, "ismrmrd_header", xml);
    rc |= write_attr_utf8(f, "acquisition", "mrgan");
    H5Tclose(ct);
    free(buf);
    return h5_finish(f, tmp, path, rc);
}

int mg_kdata_write_h5(const char *path, const mg_kdata *d)
{
    mg_h5_lock();
    int rc = write_kdata_locked(path, d);
    mg_h5_unlock();
    return rc;
}

static int write_recon_locked(const char *path, const float *mag, long S, long H, long W)
{
    char *tmp;
    hid_t f = h5_create(path, &tmp);
    if (f < 0)
        return -1;
    float *buf = mg_malloc_array((size_t)(S * H * W), sizeof(float));
    transpose_planes(mag, buf, S, H, W, sizeof(float));
    hsize_t rd[3] = {(hsize_t)S, (hsize_t)W, (hsize_t)H};
    int rc = write_ds(f, "reconstruction", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, rd, buf, 1);
    free(buf);
    return h5_finish(f, tmp, path, rc);
}

int mg_h5_write_recon(const char *path, const float *mag, long S, long H, long W)
{
    mg_h5_lock();
    int rc = write_recon_locked(path, mag, S, H, W);
    mg_h5_unlock();
    return rc;
}


/* Writes test inputs for the CLI tests (tests make their own data):
 *   mkfixture phantom OUT.nii.gz      a 48x56x40 head-like volume (ellipsoids)
 *   mkfixture nancfl BASE             2D 4-coil k-space [16 16 1 4] with one NaN
 *   mkfixture zeromask BASE           a cfl mask [1 16] with no sampled line
 *   mkfixture kspace BASE             2D 4-coil k-space [16 16 1 4] of a disc
 *   mkfixture maps BASE COILS         unit-norm birdcage maps [16 16 1 COILS]
 *   mkfixture h5other OUT.h5          HDF5 holding neither fastMRI's kspace nor ISMRMRD data */
#include "testutil.h"
#include "core/core.h"
#include "io/io.h"
#include "mri/mri.h"
#include "nn/nn.h"

#include <fnmatch.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int phantom(const char *out)
{
    const long nx = 48, ny = 56, nz = 40;
    float *v = calloc((size_t)(nx * ny * nz), sizeof(float));
    for (long z = 0; z < nz; z++)
        for (long y = 0; y < ny; y++)
            for (long x = 0; x < nx; x++) {
                double X = (x - nx / 2.0) / (0.42 * nx), Y = (y - ny / 2.0) / (0.45 * ny),
                       Z = (z - nz / 2.0) / (0.45 * nz);
                double r = X * X + Y * Y + Z * Z, val = 0;
                if (r < 1) val = 200;                            /* scalp */
                if (r < 0.8) val = 120;                          /* brain */
                if ((X - 0.2) * (X - 0.2) + Y * Y * 4 + Z * Z < 0.06) val = 40; /* ventricle */
                if ((X + 0.3) * (X + 0.3) + (Y - 0.3) * (Y - 0.3) + Z * Z < 0.02) val = 160;
                v[(z * ny + y) * nx + x] = (float)val;
            }
    int rc = mg_nifti_write(out, nx, ny, nz, v, NULL);
    free(v);
    return rc;
}

/* A 4x4x2 float NIfTI, then bytes patched: datatype 128 (RGB, unsupported)
 * or dims 32767^3 (a huge header over a tiny file). */
static int nifti_bad(const char *out, int huge)
{
    float v[32] = {0};
    if (mg_nifti_write(out, 4, 4, 2, v, NULL)) return -1;
    FILE *f = fopen(out, "r+b");
    if (!f) return -1;
    if (huge) {
        int16_t d[3] = {32767, 32767, 32767};
        fseek(f, 42, SEEK_SET);
        fwrite(d, 2, 3, f);
    } else {
        int16_t dt[2] = {128, 24};
        fseek(f, 70, SEEK_SET);
        fwrite(dt, 2, 2, f);
    }
    fclose(f);
    return 0;
}

/* fastMRI layout but kspace stored as real float32 (2 x 4 x 4) */
static int h5_real(const char *out)
{
    hid_t f = H5Fcreate(out, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    hsize_t dims[3] = {2, 4, 4};
    float buf[32] = {0};
    hid_t sp = H5Screate_simple(3, dims, NULL);
    hid_t ds = H5Dcreate2(f, "kspace", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ? -1 : 0;
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(f);
    return rc;
}

/* kspace as a compound with the imaginary member first ({i, r}, swap) or a
 * tiny file declaring 32768 x 65536 unstored k-space (huge) */
static void disc_kspace(cfloat *k, long C);
static int h5_special(const char *out, int huge)
{
    hid_t f = H5Fcreate(out, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    hid_t t = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(t, "i", 0, H5T_NATIVE_FLOAT);
    H5Tinsert(t, "r", 4, H5T_NATIVE_FLOAT);
    int rc = 0;
    if (huge) {
        hsize_t dims[4] = {1, 1, 32768, 65536};
        hid_t sp = H5Screate_simple(4, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_alloc_time(pl, H5D_ALLOC_TIME_LATE);
        hid_t ds = H5Dcreate2(f, "kspace", t, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
        rc = ds < 0 ? -1 : 0;
        H5Dclose(ds), H5Pclose(pl), H5Sclose(sp);
    } else { /* the disc phantom, 4 coils 16x16, stored {i, r} */
        cfloat k[4 * 256];
        float buf[2 * 4 * 256];
        disc_kspace(k, 4);
        for (int c = 0; c < 4; c++) /* file [c][R = W][Cc = H]: phase encodes along the last axis */
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++) {
                    cfloat v = k[(c * 16 + y) * 16 + x];
                    buf[2 * ((c * 16 + x) * 16 + y)] = cimagf(v), buf[2 * ((c * 16 + x) * 16 + y) + 1] = crealf(v);
                }
        hsize_t dims[4] = {1, 4, 16, 16};
        hid_t sp = H5Screate_simple(4, dims, NULL);
        hid_t ds = H5Dcreate2(f, "kspace", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc = H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ? -1 : 0;
        H5Dclose(ds), H5Sclose(sp);
    }
    H5Tclose(t);
    H5Fclose(f);
    return rc;
}

static void disc_kspace(cfloat *k, long C)
{
    const long H = 16, W = 16, n = H * W;
    cfloat *sens = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    cfloat img[256];
    for (long y = 0; y < H; y++)
        for (long x = 0; x < W; x++)
            img[y * W + x] = (x - 8) * (x - 8) + (y - 8) * (y - 8) < 36 ? 1.0f : 0.0f;
    mg_birdcage_maps(sens, C, H, W, 1.5, 0.0);
    mg_rng r;
    mg_rng_seed(&r, 1);
    mg_simulate_kspace(img, sens, C, H, W, 0.001, &r, k);
    free(sens);
}

/* NRMSE ||a - b|| / ||b|| over every weight tensor (not the Adam moments)
 * of two checkpoints whose name matches the glob pattern; prints it and the number
 * of tensors compared, fails on a mismatch. */
static int ckptdiff(const char *pa, const char *pb, const char *pattern)
{
    mg_st_file a, b;
    if (mg_st_read(pa, &a)) return -1;
    if (mg_st_read(pb, &b)) {
        mg_st_free(&a);
        return -1;
    }
    double num = 0, den = 0;
    int rc = 0, used = 0;
    for (int i = 0; i < b.n && !rc; i++) {
        if (!strncmp(b.t[i].name, "adam.", 5) || fnmatch(pattern, b.t[i].name, 0)) continue;
        const mg_st_tensor *ta = mg_st_find(&a, b.t[i].name);
        long n = 1;
        for (int d = 0; d < b.t[i].ndim; d++) n *= b.t[i].shape[d];
        long na = 1;
        for (int d = 0; ta && d < ta->ndim; d++) na *= ta->shape[d];
        if (!ta || na != n) {
            mg_set_error("%s: tensor %s missing or of another size", pa, b.t[i].name);
            rc = -1;
            break;
        }
        for (long j = 0; j < n; j++) {
            double e = (double)ta->data[j] - b.t[i].data[j];
            num += e * e;
            den += (double)b.t[i].data[j] * b.t[i].data[j];
        }
        used++;
    }
    if (!rc) printf("%.3e %d\n", den > 0 ? sqrt(num / den) : sqrt(num), used);
    mg_st_free(&a);
    mg_st_free(&b);
    return rc;
}

/* "W H nonwhite distinct": size, fraction of pixels darker than 250 and the
 * number of distinct grey levels of a PNG (screenshot checks) */
static int pngstats(const char *path)
{
    unsigned char *p;
    long h, w;
    if (mg_png_read_gray(path, &p, &h, &w)) return -1;
    long dark = 0;
    int seen[256] = {0}, distinct = 0;
    for (long i = 0; i < h * w; i++) {
        dark += p[i] < 250;
        if (!seen[p[i]]++) distinct++;
    }
    printf("%ld %ld %.4f %d\n", w, h, (double)dark / (double)(h * w), distinct);
    free(p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "incweights")) { /* random Inception-v3 FID weights */
        int rc = tu_inception_weights(argv[2], 0);
        if (rc) fprintf(stderr, "mkfixture: %s\n", mg_error());
        return rc ? 1 : 0;
    }
    if (argc == 2 && !strcmp(argv[1], "bf16")) /* exit 0 when the CPU runs bf16 convolutions */
        return mg_bf16_supported() ? 0 : 1;
    if (argc == 3 && !strcmp(argv[1], "pngstats")) {
        int rc = pngstats(argv[2]);
        if (rc) fprintf(stderr, "mkfixture: %s\n", mg_error());
        return rc ? 1 : 0;
    }
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "ckptdiff")) {
        int rc = ckptdiff(argv[2], argv[3], argc == 5 ? argv[4] : "*");
        if (rc) fprintf(stderr, "mkfixture: %s\n", mg_error());
        return rc ? 1 : 0;
    }
    if (argc == 5 && !strcmp(argv[1], "scale")) { /* a cfl times a factor: scale IN OUT FACTOR */
        int nd;
        long dims[MG_MAX_DIMS];
        cfloat *z;
        int rc = mg_cfl_read(argv[2], &nd, dims, &z);
        if (!rc) {
            long n = 1;
            for (int i = 0; i < nd; i++) n *= dims[i];
            const double f = atof(argv[4]);
            for (long i = 0; i < n; i++) z[i] = (cfloat)((double complex)z[i] * f);
            rc = mg_cfl_write(argv[3], nd, dims, z);
            free(z);
        }
        if (rc) fprintf(stderr, "mkfixture: %s\n", mg_error());
        return rc ? 1 : 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: mkfixture phantom|nancfl|zeromask|kspace|maps|niftidtype|niftihuge|h5real|h5other OUT [COILS] | ckptdiff A B [GLOB] | pngstats PNG | incweights OUT | scale IN OUT FACTOR | bf16\n");
        return 2;
    }
    int rc = 0;
    if (!strcmp(argv[1], "phantom")) rc = phantom(argv[2]);
    else if (!strcmp(argv[1], "kspace") || !strcmp(argv[1], "nancfl")) {
        cfloat k[4 * 256];
        disc_kspace(k, 4);
        if (!strcmp(argv[1], "nancfl")) k[100] = NAN;
        long dims[4] = {16, 16, 1, 4};
        rc = mg_cfl_write(argv[2], 4, dims, k);
    } else if (!strcmp(argv[1], "niftidtype") || !strcmp(argv[1], "niftihuge")) {
        rc = nifti_bad(argv[2], !strcmp(argv[1], "niftihuge"));
    } else if (!strcmp(argv[1], "h5swap") || !strcmp(argv[1], "h5huge")) {
        rc = h5_special(argv[2], !strcmp(argv[1], "h5huge"));
    } else if (!strcmp(argv[1], "h5real")) {
        rc = h5_real(argv[2]);
    } else if (!strcmp(argv[1], "h5other")) { /* HDF5, but neither fastMRI's nor ISMRMRD's */
        hid_t f = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hsize_t one = 1;
        float v = 1.0f;
        hid_t sp = H5Screate_simple(1, &one, NULL);
        hid_t ds = H5Dcreate2(f, "x", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc = f < 0 || ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0 ? -1 : 0;
        H5Dclose(ds), H5Sclose(sp), H5Fclose(f);
    } else if (!strcmp(argv[1], "zeromask")) {
        float m[16] = {0};
        rc = mg_mask_write_cfl(argv[2], m, 16);
    } else if (!strcmp(argv[1], "maps") && argc == 4) {
        long C = atol(argv[3]);
        cfloat *s = mg_malloc_array((size_t)(C * 256), sizeof(cfloat));
        mg_birdcage_maps(s, C, 16, 16, 1.5, 0.0);
        long dims[4] = {16, 16, 1, C};
        rc = mg_cfl_write(argv[2], 4, dims, s);
        free(s);
    } else {
        fprintf(stderr, "mkfixture: unknown fixture %s\n", argv[1]);
        return 2;
    }
    if (rc) fprintf(stderr, "mkfixture: %s\n", mg_error());
    return rc ? 1 : 0;
}

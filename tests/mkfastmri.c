/* Writes one file laid out exactly as fastMRI's multicoil brain release
 * (tests make their own data):
 *
 *   mkfastmri FILE KIND SLICES COILS ROWS COLS SEED
 *
 * kspace (SLICES, COILS, ROWS, COLS) complex64 as h5py writes it ({r, i}),
 * ROWS along the readout and COLS the phase-encode lines; an ismrmrd_header
 * (encodedSpace ROWS x COLS, reconSpace ROWS/2 square, encodingLimits);
 * attributes acquisition (a variable-length string), max and norm. KIND:
 *   os    fully sampled, 2x readout oversampling (fastMRI's 640 x 320)
 *   pad   the same with phase-encode lines outside the encoding limits left
 *         zero (fastMRI's 768 x 396 files), asymmetric padding
 *   plain no oversampling (reconSpace = encodedSpace)
 *   test  an 'os' file undersampled as fastMRI's test set: a boolean `mask`
 *         (h5py's enum over int8), no reconstruction_rss
 * Fully sampled kinds carry reconstruction_rss: the root-sum-of-squares of
 * the coil images, centre-cropped to reconSpace, (SLICES, rx, ry) float32. */
#include "core/core.h"
#include "fft/fft.h"
#include "mri/mri.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_attr_str(hid_t f, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &v);
    H5Aclose(a), H5Sclose(sp), H5Tclose(t);
}

static void put_attr_double(hid_t f, const char *name, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a), H5Sclose(sp);
}

static int put(hid_t f, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = ds < 0 || H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: mkfastmri FILE os|pad|plain|test SLICES COILS ROWS COLS SEED\n");
        return 2;
    }
    const char *out = argv[1], *kind = argv[2];
    const long S = atol(argv[3]), C = atol(argv[4]), R = atol(argv[5]), H = atol(argv[6]);
    const uint64_t seed = strtoull(argv[7], NULL, 10);
    const int os = strcmp(kind, "plain") != 0, pad = !strcmp(kind, "pad"), test = !strcmp(kind, "test");
    if (S < 1 || C < 1 || R < 8 || H < 8 || (R & 1) || (H & 1) ||
        (strcmp(kind, "os") && !pad && !test && strcmp(kind, "plain"))) {
        fprintf(stderr, "mkfastmri: bad arguments\n");
        return 2;
    }
    const long W = R, n = H * W;      /* memory: H phase-encode lines x W readout points */
    const long rx = os ? W / 2 : W;   /* reconSpace, square */
    const long ry = rx < H ? rx : H;
    /* encoded lines [lo, hi): fastMRI's limits, padding unequal on the two sides */
    const long np = pad ? H / 8 : 0, lo = np - np / 3, hi = H - np / 3;
    cfloat *k = mg_malloc_array((size_t)(S * C * n), sizeof(cfloat));
    cfloat *img = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *sens = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    float *rss = mg_calloc((size_t)(S * rx * ry), sizeof(float));
    mg_rng r;
    mg_rng_seed(&r, seed);
    for (long s = 0; s < S; s++) {
        /* a head: ellipses that change with the slice, inside the reconstructed
         * field of view along the readout, with a smooth phase */
        const double a = 0.38 + 0.05 * mg_rng_uniform(&r), b = 0.40 + 0.05 * mg_rng_uniform(&r);
        const double cx = 0.05 * (mg_rng_uniform(&r) - 0.5), cy = 0.05 * (mg_rng_uniform(&r) - 0.5);
        for (long y = 0; y < H; y++)
            for (long x = 0; x < W; x++) {
                const double X = ((double)x - W / 2.0) / (double)rx - cx, Y = ((double)y - H / 2.0) / (double)H - cy;
                double v = 0;
                const double e = X * X / (a * a) + Y * Y / (b * b);
                if (e < 1) v = 0.8;
                if (e < 0.8) v = 0.5 + 0.2 * cos(9.0 * X + 5.0 * Y + (double)s);
                if ((X - 0.1) * (X - 0.1) + 4 * Y * Y < 0.01) v = 0.15;
                img[y * W + x] = (float)v * cexpf(I * (float)(0.8 * X + 0.5 * Y * Y));
            }
        mg_birdcage_maps(sens, C, H, W, 1.6, 0.3 * (double)s);
        cfloat *ks = k + s * C * n;
        mg_simulate_kspace(img, sens, C, H, W, 0.002, &r, ks);
        for (long c = 0; c < C; c++) /* padding: never encoded */
            for (long y = 0; y < H; y++)
                if (y < lo || y >= hi)
                    for (long x = 0; x < W; x++) ks[(c * H + y) * W + x] = 0;
        /* the reference: RSS of the coil images, centre crop (fastMRI's) */
        cfloat *ci = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
        memcpy(ci, ks, sizeof(cfloat) * (size_t)(C * n));
        mg_fft2c(ci, C, H, W, MG_FFT_INVERSE);
        const long y0 = (H - ry) / 2, x0 = (W - rx) / 2;
        for (long y = 0; y < ry; y++)
            for (long x = 0; x < rx; x++) {
                double acc = 0;
                for (long c = 0; c < C; c++) {
                    const cfloat v = ci[(c * H + y + y0) * W + x + x0];
                    acc += (double)(crealf(v) * crealf(v) + cimagf(v) * cimagf(v));
                }
                rss[(s * rx + x) * ry + y] = (float)sqrt(acc); /* file [s][x][y] */
            }
        free(ci);
    }
    float *mask = NULL;
    if (test) { /* fastMRI's test set: equispaced lines + the centre, R = 4 over the encoded lines */
        mask = mg_calloc((size_t)H, sizeof(float));
        const long c0 = H / 2 - H / 25, c1 = H / 2 + H / 25;
        for (long y = lo; y < hi; y++) mask[y] = ((y - lo) % 4 == 1) || (y >= c0 && y < c1);
        for (long i = 0; i < S * C * H; i++)
            if (mask[i % H] == 0)
                for (long x = 0; x < W; x++) k[i * W + x] = 0;
    }
    /* on disk: [s][c][readout][phase encode] */
    float *buf = mg_malloc_array((size_t)(2 * S * C * n), sizeof(float));
    for (long p = 0; p < S * C; p++)
        for (long y = 0; y < H; y++)
            for (long x = 0; x < W; x++) {
                const cfloat v = k[(p * H + y) * W + x];
                buf[2 * ((p * W + x) * H + y)] = crealf(v);
                buf[2 * ((p * W + x) * H + y) + 1] = cimagf(v);
            }
    hid_t f = H5Fcreate(out, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "mkfastmri: %s: cannot create\n", out);
        return 1;
    }
    hid_t ct = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(ct, "r", 0, H5T_NATIVE_FLOAT);
    H5Tinsert(ct, "i", 4, H5T_NATIVE_FLOAT);
    hsize_t kd[4] = {(hsize_t)S, (hsize_t)C, (hsize_t)W, (hsize_t)H};
    int rc = put(f, "kspace", ct, ct, 4, kd, buf);
    if (!test) {
        hsize_t rd[3] = {(hsize_t)S, (hsize_t)rx, (hsize_t)ry};
        rc |= put(f, "reconstruction_rss", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, rd, rss);
        double mx = 0, nn = 0;
        for (long i = 0; i < S * rx * ry; i++) {
            mx = rss[i] > mx ? rss[i] : mx;
            nn += (double)rss[i] * rss[i];
        }
        put_attr_double(f, "max", mx);
        put_attr_double(f, "norm", sqrt(nn));
    } else {
        hid_t bt = H5Tenum_create(H5T_NATIVE_INT8);
        signed char fv = 0, tv = 1;
        H5Tenum_insert(bt, "FALSE", &fv);
        H5Tenum_insert(bt, "TRUE", &tv);
        signed char *mb = mg_malloc_array((size_t)H, 1);
        for (long y = 0; y < H; y++) mb[y] = mask[y] != 0;
        hsize_t md[1] = {(hsize_t)H};
        rc |= put(f, "mask", bt, bt, 1, md, mb);
        H5Tclose(bt);
        free(mb);
        put_attr_double(f, "acceleration", 4);
    }
    char xml[2048];
    snprintf(xml, sizeof xml,
             "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">\n"
             "  <encoding>\n    <encodedSpace>\n      <matrixSize><x>%ld</x><y>%ld</y><z>1</z></matrixSize>\n"
             "      <fieldOfView_mm><x>%.1f</x><y>%.1f</y><z>7.5</z></fieldOfView_mm>\n    </encodedSpace>\n"
             "    <reconSpace>\n      <matrixSize><x>%ld</x><y>%ld</y><z>1</z></matrixSize>\n"
             "      <fieldOfView_mm><x>%.1f</x><y>%.1f</y><z>7.5</z></fieldOfView_mm>\n    </reconSpace>\n"
             "    <encodingLimits>\n      <kspace_encoding_step_1>\n        <minimum>0</minimum>\n"
             "        <maximum>%ld</maximum>\n        <center>%ld</center>\n      </kspace_encoding_step_1>\n"
             "    </encodingLimits>\n    <trajectory>cartesian</trajectory>\n  </encoding>\n</ismrmrdHeader>\n",
             W, H, 0.7 * (double)W, 0.7 * (double)H, rx, ry, 0.7 * (double)rx, 0.7 * (double)ry, hi - lo - 1,
             H / 2 - lo);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, strlen(xml));
    hid_t sp = H5Screate(H5S_SCALAR), ds = H5Dcreate2(f, "ismrmrd_header", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    rc |= H5Dwrite(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, xml) < 0;
    H5Dclose(ds), H5Sclose(sp), H5Tclose(st);
    put_attr_str(f, "acquisition", test ? "AXT2" : "AXT1POST");
    put_attr_str(f, "patient_id", "synthetic");
    H5Tclose(ct);
    rc |= H5Fclose(f) < 0;
    free(k), free(img), free(sens), free(rss), free(buf), free(mask);
    if (rc) fprintf(stderr, "mkfastmri: %s: writing failed\n", out);
    return rc ? 1 : 0;
}

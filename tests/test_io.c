/* Readers and writers: round trips, the on-disk layouts checked with the raw
 * file APIs (HDF5, bytes), and one-line errors on bad files. */
#include "testutil.h"
#include "io/io.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;

static int setup(void **state) { (void)state; dir = tu_tmpdir(); return 0; }
static int teardown(void **state) { (void)state; tu_rmdir(dir); free(dir); return 0; }

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static int no_tmp_files(void)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q '\\.tmp\\.'", dir);
    return system(cmd) != 0;
}

static void test_cfl_roundtrip(void **state)
{
    (void)state;
    char *p = tu_path(dir, "a");
    long dims[4] = {5, 3, 1, 2};
    cfloat x[30];
    for (int i = 0; i < 30; i++) x[i] = (float)i + I * (float)(-i);
    assert_int_equal(mg_cfl_write(p, 4, dims, x), 0);
    /* raw layout: little-endian float pairs in order, header text as BART's */
    char *cfl = tu_path(dir, "a.cfl"), *hdr = tu_path(dir, "a.hdr");
    FILE *f = fopen(cfl, "rb");
    float raw[60];
    assert_int_equal(fread(raw, sizeof(float), 60, f), 60);
    fclose(f);
    assert_true(raw[14] == 7.0f && raw[15] == -7.0f);
    f = fopen(hdr, "r");
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "# Dimensions\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "5 3 1 2 \n");
    fclose(f);
    int nd;
    long d[MG_MAX_DIMS];
    cfloat *y;
    assert_int_equal(mg_cfl_read(cfl, &nd, d, &y), 0); /* name with extension */
    assert_int_equal(nd, 4);
    assert_int_equal(d[0], 5);
    assert_int_equal(d[3], 2);
    assert_memory_equal(x, y, sizeof x);
    free(y);
    assert_true(no_tmp_files());
    free(p); free(cfl); free(hdr);
}

static void test_cfl_errors(void **state)
{
    (void)state;
    char *hdr = tu_path(dir, "bad.hdr"), *cfl = tu_path(dir, "bad.cfl"), *base = tu_path(dir, "bad");
    int nd;
    long d[MG_MAX_DIMS];
    cfloat *y;
    /* truncated data */
    write_bytes(hdr, "# Dimensions\n4 4 \n", 18);
    write_bytes(cfl, "12345678", 8);
    assert_int_equal(mg_cfl_read(base, &nd, d, &y), -1);
    assert_non_null(strstr(mg_error(), "truncated"));
    assert_non_null(strstr(mg_error(), "bad.cfl"));
    /* zero / negative / junk / huge dims */
    write_bytes(hdr, "# Dimensions\n4 0 \n", 18);
    assert_int_equal(mg_cfl_read(base, &nd, d, &y), -1);
    write_bytes(hdr, "# Dimensions\n4 x \n", 18);
    assert_int_equal(mg_cfl_read(base, &nd, d, &y), -1);
    write_bytes(hdr, "# Dimensions\n99999999 99999999 \n", 32);
    assert_int_equal(mg_cfl_read(base, &nd, d, &y), -1);
    assert_non_null(strstr(mg_error(), "too large"));
    write_bytes(hdr, "garbage\n", 8);
    assert_int_equal(mg_cfl_read(base, &nd, d, &y), -1);
    /* missing file */
    char *none = tu_path(dir, "none");
    assert_int_equal(mg_cfl_read(none, &nd, d, &y), -1);
    assert_non_null(strstr(mg_error(), "none.hdr"));
    free(hdr); free(cfl); free(base); free(none);
}

static void test_nifti_roundtrip(void **state)
{
    (void)state;
    const long nx = 7, ny = 5, nz = 3, n = nx * ny * nz;
    float v[7 * 5 * 3];
    for (long i = 0; i < n; i++) v[i] = (float)i * 0.5f - 3.0f;
    const char *names[2] = {"v.nii", "v.nii.gz"};
    for (int t = 0; t < 2; t++) {
        char *p = tu_path(dir, names[t]);
        assert_int_equal(mg_nifti_write(p, nx, ny, nz, v, NULL), 0);
        mg_volume vol;
        assert_int_equal(mg_nifti_read(p, &vol), 0);
        assert_int_equal(vol.nx, nx);
        assert_int_equal(vol.ny, ny);
        assert_int_equal(vol.nz, nz);
        assert_memory_equal(vol.data, v, sizeof v);
        mg_volume_free(&vol);
        free(p);
    }
}

/* A hand-made uint8 NIfTI with scl_slope 2, scl_inter 1 (header bytes laid
 * out here from the NIfTI-1 standard, not by our writer). */
static void test_nifti_uint8_scaled_and_truncated(void **state)
{
    (void)state;
    unsigned char buf[352 + 24];
    memset(buf, 0, sizeof buf);
    int32_t i32 = 348;
    memcpy(buf, &i32, 4);
    int16_t dim[8] = {3, 4, 3, 2, 1, 1, 1, 1};
    memcpy(buf + 40, dim, 16);
    int16_t dt = 2, bp = 8;
    memcpy(buf + 70, &dt, 2);
    memcpy(buf + 72, &bp, 2);
    float pix[4] = {1, 1, 1, 1}, off = 352, slope = 2, inter = 1;
    memcpy(buf + 76, pix, 16);
    memcpy(buf + 108, &off, 4);
    memcpy(buf + 112, &slope, 4);
    memcpy(buf + 116, &inter, 4);
    memcpy(buf + 344, "n+1", 4);
    for (int i = 0; i < 24; i++) buf[352 + i] = (unsigned char)(i * 10);
    char *p = tu_path(dir, "u8.nii");
    write_bytes(p, buf, sizeof buf);
    mg_volume vol;
    assert_int_equal(mg_nifti_read(p, &vol), 0);
    assert_int_equal(vol.nx * vol.ny * vol.nz, 24);
    for (int i = 0; i < 24; i++) assert_true(vol.data[i] == 2.0f * (float)(i * 10) + 1.0f);
    mg_volume_free(&vol);
    /* truncated data */
    write_bytes(p, buf, sizeof buf - 5);
    assert_int_equal(mg_nifti_read(p, &vol), -1);
    assert_non_null(strstr(mg_error(), "truncated"));
    /* wrong magic, bad header size */
    memcpy(buf + 344, "xyz", 4);
    write_bytes(p, buf, sizeof buf);
    assert_int_equal(mg_nifti_read(p, &vol), -1);
    write_bytes(p, buf, 100);
    assert_int_equal(mg_nifti_read(p, &vol), -1);
    assert_non_null(strstr(mg_error(), "u8.nii"));
    free(p);
}

static void fill_kdata(mg_kdata *d, long S, long C, long H, long W)
{
    memset(d, 0, sizeof *d);
    d->nslices = S; d->coils = C; d->h = H; d->w = W;
    long n = S * C * H * W;
    d->kspace = mg_malloc_array((size_t)n, sizeof(cfloat));
    d->sens = mg_malloc_array((size_t)n, sizeof(cfloat));
    d->rss = mg_malloc_array((size_t)(S * H * W), sizeof(float));
    d->mask = mg_malloc_array((size_t)H, sizeof(float));
    d->slice_info = mg_malloc_array((size_t)(2 * S), sizeof(int32_t));
    for (long i = 0; i < n; i++) {
        d->kspace[i] = (float)i + I * 0.5f;
        d->sens[i] = -(float)i + I * 2.0f;
    }
    for (long i = 0; i < S * H * W; i++) d->rss[i] = (float)i;
    for (long i = 0; i < H; i++) d->mask[i] = (float)(i % 2);
    for (long i = 0; i < 2 * S; i++) d->slice_info[i] = (int32_t)i;
}

static void test_h5_roundtrip_and_layout(void **state)
{
    (void)state;
    const long S = 2, C = 3, H = 6, W = 4;
    mg_kdata d, e;
    fill_kdata(&d, S, C, H, W);
    char *p = tu_path(dir, "k.h5");
    assert_int_equal(mg_kdata_write_h5(p, &d), 0);
    assert_true(no_tmp_files());
    /* on disk: fastMRI layout [S][C][rows = W][cols = H], compound {r, i} */
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "kspace", H5P_DEFAULT), sp = H5Dget_space(ds);
    hsize_t dims[4];
    assert_int_equal(H5Sget_simple_extent_dims(sp, dims, NULL), 4);
    assert_true(dims[0] == (hsize_t)S && dims[1] == (hsize_t)C && dims[2] == (hsize_t)W && dims[3] == (hsize_t)H);
    hid_t ft = H5Dget_type(ds);
    char *m0 = H5Tget_member_name(ft, 0), *m1 = H5Tget_member_name(ft, 1);
    assert_string_equal(m0, "r");
    assert_string_equal(m1, "i");
    H5free_memory(m0); H5free_memory(m1);
    hid_t mt = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(mt, "r", 0, H5T_NATIVE_FLOAT);
    H5Tinsert(mt, "i", 4, H5T_NATIVE_FLOAT);
    float *raw = mg_malloc_array((size_t)(2 * S * C * H * W), sizeof(float));
    assert_true(H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0);
    for (long s = 0; s < S; s++)
        for (long c = 0; c < C; c++)
            for (long y = 0; y < H; y++)
                for (long x = 0; x < W; x++) {
                    long disk = ((s * C + c) * W + x) * H + y, mem = ((s * C + c) * H + y) * W + x;
                    assert_true(raw[2 * disk] == crealf(d.kspace[mem]));
                }
    free(raw);
    assert_true(H5Lexists(f, "ismrmrd_header", H5P_DEFAULT) > 0);
    assert_true(H5Aexists(f, "max") > 0);
    H5Tclose(mt); H5Tclose(ft); H5Sclose(sp); H5Dclose(ds); H5Fclose(f);

    assert_int_equal(mg_kdata_read(p, &e), 0);
    assert_int_equal(e.nslices, S);
    assert_int_equal(e.coils, C);
    assert_int_equal(e.h, H);
    assert_int_equal(e.w, W);
    assert_memory_equal(e.kspace, d.kspace, sizeof(cfloat) * (size_t)(S * C * H * W));
    assert_memory_equal(e.sens, d.sens, sizeof(cfloat) * (size_t)(S * C * H * W));
    assert_memory_equal(e.rss, d.rss, sizeof(float) * (size_t)(S * H * W));
    assert_memory_equal(e.mask, d.mask, sizeof(float) * (size_t)H);
    assert_memory_equal(e.slice_info, d.slice_info, sizeof(int32_t) * (size_t)(2 * S));
    mg_kdata_free(&e);
    mg_kdata_free(&d);
    free(p);
}

static void test_h5_errors(void **state)
{
    (void)state;
    mg_kdata d, e;
    char *p = tu_path(dir, "bad.h5");
    /* not HDF5 */
    write_bytes(p, "hello world, not hdf5", 21);
    assert_int_equal(mg_kdata_read(p, &e), -1);
    assert_non_null(strstr(mg_error(), "bad.h5"));
    /* truncated */
    fill_kdata(&d, 2, 2, 8, 8);
    assert_int_equal(mg_kdata_write_h5(p, &d), 0);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(truncate(p, st.st_size / 2), 0);
    assert_int_equal(mg_kdata_read(p, &e), -1);
    /* NaN in kspace */
    d.kspace[5] = NAN;
    assert_int_equal(mg_kdata_write_h5(p, &d), 0);
    assert_int_equal(mg_kdata_read(p, &e), -1);
    assert_non_null(strstr(mg_error(), "non-finite"));
    mg_kdata_free(&d);
    /* coil mismatch between kspace and sens_maps */
    fill_kdata(&d, 1, 2, 8, 8);
    assert_int_equal(mg_kdata_write_h5(p, &d), 0);
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "sens_maps", H5P_DEFAULT);
    hsize_t dims[4] = {1, 3, 8, 8};
    hid_t sp = H5Screate_simple(4, dims, NULL);
    hid_t t = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(t, "r", 0, H5T_NATIVE_FLOAT);
    H5Tinsert(t, "i", 4, H5T_NATIVE_FLOAT);
    hid_t ds = H5Dcreate2(f, "sens_maps", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds); H5Tclose(t); H5Sclose(sp); H5Fclose(f);
    assert_int_equal(mg_kdata_read(p, &e), -1);
    assert_non_null(strstr(mg_error(), "coil"));
    mg_kdata_free(&d);
    /* missing file */
    char *none = tu_path(dir, "none.h5");
    assert_int_equal(mg_kdata_read(none, &e), -1);
    assert_non_null(strstr(mg_error(), "none.h5"));
    free(none);
    free(p);
}

static void test_png(void **state)
{
    (void)state;
    const long h = 9, w = 11;
    cfloat img[9 * 11];
    for (long i = 0; i < h * w; i++) img[i] = (float)i * (cosf(0.3f * i) + I * sinf(0.3f * i));
    char *p = tu_path(dir, "a.png");
    assert_int_equal(mg_png_write_mag(p, img, h, w, 0.0f, 49.0f), 0);
    unsigned char *pix;
    long rh, rw;
    assert_int_equal(mg_png_read_gray(p, &pix, &rh, &rw), 0);
    assert_int_equal(rh, h);
    assert_int_equal(rw, w);
    for (long i = 0; i < h * w; i++) {
        double want = i >= 49 ? 255 : floor(i / 49.0 * 255.0 + 0.5);
        assert_true(fabs(pix[i] - want) <= 1.0);
    }
    free(pix);
    /* a corrupt PNG is refused */
    write_bytes(p, "\x89PNG\r\n\x1a\nxxxx", 12);
    assert_int_equal(mg_png_read_gray(p, &pix, &rh, &rw), -1);
    free(p);
}

/* A successful write replaces a file; a failed one leaves it untouched. */
static void test_atomic_replace(void **state)
{
    (void)state;
    char *p = tu_path(dir, "img.png");
    cfloat a[16] = {1, 2, 3};
    write_bytes(p, "old", 3);
    assert_int_equal(mg_images_write(p, a, 1, 4, 4), 0);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size > 3);
    /* target is a non-empty directory: rename must fail, nothing is lost */
    char *d2 = tu_path(dir, "sub.png");
    assert_int_equal(mkdir(d2, 0755), 0);
    char *inner = tu_path(d2, "keep");
    write_bytes(inner, "x", 1);
    assert_int_equal(mg_images_write(d2, a, 1, 4, 4), -1);
    assert_int_equal(stat(inner, &st), 0);
    assert_true(no_tmp_files());
    free(p); free(d2); free(inner);
}

/* the ISMRMRD header reader: namespaces, whitespace, comments; fastMRI's
 * acquired range */
static void test_ismrmrd_header(void **state)
{
    (void)state;
    const char *xml =
        "<?xml version=\"1.0\"?>\n<!-- a comment <encoding> -->\n"
        "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"><ns:encoding xmlns:ns=\"x\">\n"
        "<encodedSpace><matrixSize><x>768</x><y> 396 </y><z>1</z></matrixSize>\n"
        "<fieldOfView_mm><x>440.0</x><y>226.875</y><z>7.5</z></fieldOfView_mm></encodedSpace>\n"
        "<reconSpace><matrixSize><x>384</x><y>384</y><z>1</z></matrixSize></reconSpace>\n"
        "<encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>383</maximum>"
        "<center>190</center></kspace_encoding_step_1></encodingLimits></ns:encoding></ismrmrdHeader>";
    mg_ismrmrd_hdr h;
    mg_ismrmrd_header_parse(xml, strlen(xml), &h);
    assert_int_equal(h.matrix[0][0], 768);
    assert_int_equal(h.matrix[0][1], 396);
    assert_int_equal(h.matrix[1][0], 384);
    assert_true(fabs(h.fov_mm[0][1] - 226.875) < 1e-9);
    assert_true(h.fov_mm[1][0] == 0.0); /* absent */
    assert_int_equal(h.has_limits, 1);
    long lo, hi;
    assert_int_equal(mg_ismrmrd_acquired_range(&h, 396, &lo, &hi), 1);
    assert_int_equal(lo, 8); /* 396 / 2 - 190 */
    assert_int_equal(hi, 392);
    assert_int_equal(mg_ismrmrd_acquired_range(&h, 400, &lo, &hi), 0); /* another array: all lines */
    assert_int_equal(hi, 400);
    mg_ismrmrd_header_parse("<ismrmrdHeader><encoding><encodedSpace><matrixSize><x>abc</x>", 60, &h);
    assert_int_equal(h.matrix[0][0], 0);
    mg_ismrmrd_header_parse(NULL, 0, &h);
    assert_int_equal(h.has_limits, 0);
}

/* a progress line per 10 s without a terminal, and the final line once even
 * when the last update printed it */
static void test_progress_once(void **state)
{
    (void)state;
    char *p = tu_path(dir, "progress.txt");
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    dup2(fileno(f), 2);
    setenv("CI", "true", 1);
    mg_progress pr;
    mg_progress_start(&pr, "t", 5, 0);
    pr.last -= 100; /* as if 100 s had passed */
    mg_progress_update(&pr, 5);
    mg_progress_end(&pr);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);
    f = fopen(p, "r");
    char line[256];
    int lines = 0;
    while (fgets(line, sizeof line, f)) lines += strstr(line, "5/5 (100%)") != NULL;
    fclose(f);
    assert_int_equal(lines, 1);
    free(p);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cfl_roundtrip),
        cmocka_unit_test(test_cfl_errors),
        cmocka_unit_test(test_nifti_roundtrip),
        cmocka_unit_test(test_nifti_uint8_scaled_and_truncated),
        cmocka_unit_test(test_h5_roundtrip_and_layout),
        cmocka_unit_test(test_h5_errors),
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_atomic_replace),
        cmocka_unit_test(test_ismrmrd_header),
        cmocka_unit_test(test_progress_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

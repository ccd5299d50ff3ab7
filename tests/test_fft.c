/* The centred orthonormal FFT against a direct DFT written from the
 * definition (no shifts): K[k] = N^-1/2 sum_n x[n] exp(-+2 pi i (k-c)(n-c)/N),
 * c = floor(N/2), in double precision. */
#include "testutil.h"
#include "fft/fft.h"

#include <math.h>
#include <stdlib.h>

static void dft_ref(const cfloat *x, double complex *out, long h, long w, int dir)
{
    const long ch = h / 2, cw = w / 2;
    for (long ky = 0; ky < h; ky++)
        for (long kx = 0; kx < w; kx++) {
            double complex s = 0;
            for (long y = 0; y < h; y++)
                for (long xx = 0; xx < w; xx++) {
                    double ph = (double)dir * 2.0 * M_PI *
                                ((double)((ky - ch) * (y - ch)) / (double)h +
                                 (double)((kx - cw) * (xx - cw)) / (double)w);
                    s += (double complex)x[y * w + xx] * cexp(I * ph);
                }
            out[ky * w + kx] = s / sqrt((double)(h * w));
        }
}

static void check_size(long batch, long h, long w)
{
    mg_rng r;
    mg_rng_seed(&r, (uint64_t)(h * 1000 + w));
    const long n = h * w;
    cfloat *x = mg_malloc_array((size_t)(batch * n), sizeof(cfloat));
    cfloat *y = mg_malloc_array((size_t)(batch * n), sizeof(cfloat));
    double complex *ref = mg_malloc_array((size_t)n, sizeof(double complex));
    tu_randn_c(x, (size_t)(batch * n), &r);
    for (int dir = -1; dir <= 1; dir += 2) {
        for (long i = 0; i < batch * n; i++) y[i] = x[i];
        mg_fft2c(y, batch, h, w, dir);
        for (long b = 0; b < batch; b++) {
            dft_ref(x + b * n, ref, h, w, dir);
            double e = 0, nr = 0;
            for (long i = 0; i < n; i++) {
                e += pow(cabs((double complex)y[b * n + i] - ref[i]), 2);
                nr += pow(cabs(ref[i]), 2);
            }
            double rel = sqrt(e / nr);
            if (rel > 1e-5) fail_msg("size %ldx%ld dir %d batch %ld: rel err %g", h, w, dir, b, rel);
        }
    }
    free(x);
    free(y);
    free(ref);
}

static void test_against_dft(void **state)
{
    (void)state;
    check_size(3, 8, 8);   /* N/2 even */
    check_size(2, 6, 10);  /* N/2 odd */
    check_size(2, 5, 7);   /* odd sizes: explicit shifts */
    check_size(1, 9, 6);
    check_size(1, 12, 4);
}

/* F is unitary: <F x, y> = <x, F^H y> with F^H = inverse; round trip. */
static void test_adjoint_roundtrip(void **state)
{
    (void)state;
    const long sizes[][2] = {{16, 16}, {10, 14}, {7, 9}};
    for (int t = 0; t < 3; t++) {
        long h = sizes[t][0], w = sizes[t][1], n = 4 * h * w;
        mg_rng r;
        mg_rng_seed(&r, 7 + (uint64_t)t);
        cfloat *x = mg_malloc_array((size_t)n, sizeof(cfloat)), *y = mg_malloc_array((size_t)n, sizeof(cfloat));
        cfloat *fx = mg_malloc_array((size_t)n, sizeof(cfloat)), *fy = mg_malloc_array((size_t)n, sizeof(cfloat));
        tu_randn_c(x, (size_t)n, &r);
        tu_randn_c(y, (size_t)n, &r);
        for (long i = 0; i < n; i++) fx[i] = x[i], fy[i] = y[i];
        mg_fft2c(fx, 4, h, w, MG_FFT_FORWARD);
        mg_fft2c(fy, 4, h, w, MG_FFT_INVERSE);
        double rd = tu_reldiff(tu_dot(fx, y, (size_t)n), tu_dot(x, fy, (size_t)n));
        assert_true(rd < 1e-5);
        /* Parseval */
        assert_true(fabs(tu_norm(fx, (size_t)n) / tu_norm(x, (size_t)n) - 1.0) < 1e-5);
        mg_fft2c(fx, 4, h, w, MG_FFT_INVERSE);
        for (long i = 0; i < n; i++) fx[i] -= x[i];
        assert_true(tu_norm(fx, (size_t)n) / tu_norm(x, (size_t)n) < 1e-5);
        free(x); free(y); free(fx); free(fy);
    }
}

/* A point at the image centre has a flat spectrum (the centring convention). */
static void test_centre_convention(void **state)
{
    (void)state;
    const long h = 8, w = 6;
    cfloat x[48] = {0};
    x[(h / 2) * w + w / 2] = 1.0f;
    mg_fft2c(x, 1, h, w, MG_FFT_FORWARD);
    for (long i = 0; i < h * w; i++) {
        assert_true(fabsf(crealf(x[i]) - 1.0f / sqrtf(48.0f)) < 1e-6f);
        assert_true(fabsf(cimagf(x[i])) < 1e-6f);
    }
}

/* 1D along rows: each row against a direct centred DFT */
static void test_fft1c(void **state)
{
    (void)state;
    const long sizes[3] = {8, 10, 7};
    for (int t = 0; t < 3; t++) {
        const long w = sizes[t], rows = 3;
        cfloat x[30], y[30];
        mg_rng r;
        mg_rng_seed(&r, 40 + (uint64_t)t);
        tu_randn_c(x, (size_t)(rows * w), &r);
        for (int dir = -1; dir <= 1; dir += 2) {
            for (long i = 0; i < rows * w; i++) y[i] = x[i];
            mg_fft1c(y, rows, w, dir);
            for (long row = 0; row < rows; row++)
                for (long k = 0; k < w; k++) {
                    double complex s = 0;
                    for (long n = 0; n < w; n++)
                        s += (double complex)x[row * w + n] *
                             cexp(I * dir * 2 * M_PI * (double)((k - w / 2) * (n - w / 2)) / (double)w);
                    s /= sqrt((double)w);
                    if (cabs(s - (double complex)y[row * w + k]) > 1e-5 * (1 + cabs(s)))
                        fail_msg("w=%ld dir %d row %ld k %ld", w, dir, row, k);
                }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_dft),
        cmocka_unit_test(test_adjoint_roundtrip),
        cmocka_unit_test(test_centre_convention),
        cmocka_unit_test(test_fft1c),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mg_fft_cleanup();
    return rc;
}

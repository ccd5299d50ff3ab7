/* Metrics against independent values: the LoG kernel against MATLAB's
 * fspecial('log', 15, 1.5) entries (computed outside this code base, quoted
 * in docs/methods.md 4.2); SSIM and PSNR against closed forms. */
#include "testutil.h"
#include "metrics/metrics.h"

#include <math.h>
#include <stdlib.h>

static void test_log_kernel(void **state)
{
    (void)state;
    double k[225], s = 0, mx = -1;
    mg_log_kernel(k);
    for (int i = 0; i < 225; i++) {
        s += k[i];
        if (k[i] > mx) mx = k[i];
    }
    assert_true(fabs(k[7 * 15 + 7] - -6.287603e-02) < 1e-8);
    assert_true(fabs(k[7 * 15 + 8] - -3.915891e-02) < 1e-8);
    assert_true(fabs(k[0] - 3.999630e-08) < 1e-12);
    assert_true(fabs(mx - 8.509391e-03) < 1e-8);
    assert_true(fabs(s) < 1e-12);
}

static void test_hfen(void **state)
{
    (void)state;
    const long H = 24, W = 20;
    float a[480], b[480];
    mg_rng r;
    mg_rng_seed(&r, 1);
    for (int i = 0; i < 480; i++) a[i] = (float)mg_rng_uniform(&r), b[i] = a[i];
    mg_hfen_acc acc = {0, 0};
    mg_hfen_add(&acc, a, b, H, W);
    assert_true(mg_hfen_value(&acc) == 0.0);
    /* the LoG has zero sum: adding a constant changes only the zero-padded border */
    for (int i = 0; i < 480; i++) b[i] = 2.0f * a[i];
    mg_hfen_acc acc2 = {0, 0};
    mg_hfen_add(&acc2, a, b, H, W);
    assert_true(fabs(mg_hfen_value(&acc2) - 1.0) < 1e-6); /* LoG(2a) - LoG(a) = LoG(a) */
}

static void test_psnr(void **state)
{
    (void)state;
    float a[4] = {0, 1, 2, 4}, b[4] = {0, 1, 2, 3};
    /* mse = 1/4, max 4: 10 log10(16 / 0.25) */
    assert_true(fabs(mg_psnr(a, b, 4, 4.0) - 10 * log10(64.0)) < 1e-9);
}

/* SSIM: 1 for identical images; for y = x + c (c constant) every window has
 * sigma_xy = sigma_x^2 = sigma_y^2, so SSIM = mean of (2 mx my + C1) /
 * (mx^2 + my^2 + C1), here with constant x = v: (2v(v+c) + C1) / (v^2 + (v+c)^2 + C1). */
static void test_ssim(void **state)
{
    (void)state;
    const long H = 16, W = 12;
    float a[192], b[192];
    mg_rng r;
    mg_rng_seed(&r, 2);
    for (int i = 0; i < 192; i++) a[i] = (float)mg_rng_uniform(&r);
    assert_true(fabs(mg_ssim(a, a, H, W, 1.0) - 1.0) < 1e-12);
    const double v = 0.5, c = 0.2, C1 = 1e-4;
    for (int i = 0; i < 192; i++) a[i] = (float)v, b[i] = (float)(v + c);
    double want = (2 * v * (v + c) + C1) / (v * v + (v + c) * (v + c) + C1);
    assert_true(fabs(mg_ssim(a, b, H, W, 1.0) - want) < 1e-6);
    /* noise lowers it */
    for (int i = 0; i < 192; i++) a[i] = (float)mg_rng_uniform(&r), b[i] = a[i] + 0.3f * (float)mg_rng_normal(&r);
    double s = mg_ssim(a, b, H, W, 1.0);
    assert_true(s > 0.0 && s < 0.9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_log_kernel), cmocka_unit_test(test_hfen),
                                       cmocka_unit_test(test_psnr), cmocka_unit_test(test_ssim)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

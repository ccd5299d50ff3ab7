/* Sensitivity estimation on data with known maps: noise-free k-space of a
 * smooth phantom with birdcage coils; the estimated maps must span the same
 * per-pixel direction as the true ones inside the object. */
#include "testutil.h"
#include "fft/fft.h"
#include "mri/mri.h"

#include <math.h>
#include <stdlib.h>

#define H 64
#define W 64
#define C 8
#define N (H * W)

static void phantom(cfloat *m)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double X = (x - W / 2) / (0.4 * W), Y = (y - H / 2) / (0.45 * H);
            double r = X * X + Y * Y;
            double v = r < 1 ? 1.0 - 0.5 * r + 0.3 * sin(3 * X) * cos(2 * Y) : 0.0;
            m[y * W + x] = (cfloat)(v * cexp(I * 0.8 * X));
        }
}

static void run(int method, double max_nrmse)
{
    cfloat *truth = mg_malloc_array(C * N, sizeof(cfloat)), *est = mg_malloc_array(C * N, sizeof(cfloat));
    cfloat *k = mg_malloc_array(C * N, sizeof(cfloat));
    cfloat m[N];
    mg_rng r;
    mg_rng_seed(&r, 1);
    phantom(m);
    mg_birdcage_maps(truth, C, H, W, 1.5, 0.2);
    mg_simulate_kspace(m, truth, C, H, W, 0.0, &r, k);
    assert_int_equal(mg_sens_estimate(k, C, H, W, 12, method, est), 0);
    /* |<s_est, s_true>| per pixel: 1 when the directions agree */
    double worst_mean = 0;
    long cnt = 0;
    for (int i = 0; i < N; i++) {
        if (cabsf(m[i]) < 0.3f) continue;
        double complex ip = 0;
        double ne = 0;
        for (int c = 0; c < C; c++) {
            ip += conj((double complex)est[c * N + i]) * truth[c * N + i];
            ne += pow(cabsf(est[c * N + i]), 2);
        }
        assert_true(fabs(ne - 1.0) < 1e-3); /* unit norm */
        worst_mean += cabs(ip);
        cnt++;
    }
    worst_mean /= (double)cnt;
    double proj = mg_sens_projection_nrmse(k, est, C, H, W);
    double proj_true = mg_sens_projection_nrmse(k, truth, C, H, W);
    if (worst_mean < 0.998 || proj > max_nrmse || proj_true > 1e-5)
        fail_msg("method %d: mean |<s_est,s>| %g, projection NRMSE %g (true maps %g)", method,
                 worst_mean, proj, proj_true);
    free(truth);
    free(est);
    free(k);
}

static void test_direct(void **state) { (void)state; run(MG_SENS_DIRECT, 0.06); }
static void test_walsh(void **state) { (void)state; run(MG_SENS_WALSH, 0.06); }

static void test_errors(void **state)
{
    (void)state;
    cfloat k[C * N] = {0}, s[C * N];
    assert_int_equal(mg_sens_estimate(k, C, H, W, H + 1, MG_SENS_WALSH, s), -1);
    assert_int_equal(mg_sens_estimate(k, C, H, W, 12, 7, s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct), cmocka_unit_test(test_walsh), cmocka_unit_test(test_errors)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mg_fft_cleanup();
    return rc;
}

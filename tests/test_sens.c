/* Sensitivity estimation on data with known maps: noise-free k-space of a
 * smooth phantom with birdcage coils; the estimated maps must span the same
 * per-pixel direction as the true ones inside the object. */
#include "testutil.h"
#include "fft/fft.h"
#include "mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
/* ESPIRiT's maps are the true maps' directions (|<s_est, s>| >= 0.998 on
 * average; the projection residual counts the edge pixels its crop zeroes) */
static void test_espirit(void **state) { (void)state; run(MG_SENS_ESPIRIT, 0.03); }

/* Two ESPIRiT sets: inside an object that fits the field of view the first
 * eigenvalue is 1 and the second small, the sets are orthogonal; when the
 * object is twice the field of view along the phase encoding (every other
 * line of its k-space: the image wraps) the second set carries the folded
 * part: its eigenvalue rises above the crop where two pixels overlap. */
static double second_set_share(int wrap)
{
    const long H2 = 2 * H, n2 = H2 * W;
    cfloat *truth = mg_malloc_array((size_t)(C * n2), sizeof(cfloat)), *big = mg_malloc_array((size_t)(C * n2), sizeof(cfloat));
    cfloat *k = mg_malloc_array(C * N, sizeof(cfloat)), *maps = mg_malloc_array(2 * C * N, sizeof(cfloat));
    cfloat *m = mg_calloc((size_t)n2, sizeof(cfloat));
    float *ev = mg_malloc_array(2 * N, sizeof(float));
    const double ry = wrap ? 0.8 : 0.4; /* the object's half height in units of H (the field of view) */
    for (long y = 0; y < H2; y++)
        for (long x = 0; x < W; x++) {
            const double X = (x - W / 2) / (0.4 * W), Y = (y - H2 / 2) / (ry * H);
            if (X * X + Y * Y < 1) m[y * W + x] = (cfloat)(1.0 + 0.3 * sin(3 * X));
        }
    mg_rng r;
    mg_rng_seed(&r, 3);
    mg_birdcage_maps(truth, C, H2, W, 1.5, 0.2);
    mg_simulate_kspace(m, truth, C, H2, W, 0.0, &r, big);
    for (long c = 0; c < C; c++) /* every other line: half the field of view */
        for (long y = 0; y < H; y++)
            for (long x = 0; x < W; x++) k[(c * H + y) * W + x] = big[(c * H2 + 2 * y) * W + x] * (float)M_SQRT2;
    mg_espirit_opts o;
    mg_espirit_defaults(&o);
    o.maps = 2;
    o.crop = 0;
    assert_int_equal(mg_espirit(k, C, H, W, 24, &o, maps, ev), 0);
    long both = 0, inside = 0;
    for (long i = 0; i < N; i++) {
        if (ev[i] < 0.9f) continue;
        inside++;
        both += ev[N + i] > 0.8f; /* the crop */
        double complex ip = 0;
        for (long c = 0; c < C; c++) ip += conj((double complex)maps[c * N + i]) * maps[(C + c) * N + i];
        assert_true(cabs(ip) < 1e-3); /* orthogonal sets */
    }
    free(truth), free(big), free(k), free(maps), free(m), free(ev);
    return (double)both / (double)(inside ? inside : 1);
}

static void test_espirit_two_sets(void **state)
{
    (void)state;
    const double fit = second_set_share(0), wrapped = second_set_share(1);
    /* measured: 0 and 0.17 of the pixels (0.9 and above: 0 and 0.075) */
    if (!(fit < 0.01 && wrapped > 0.1)) fail_msg("pixels with a second eigenvalue > 0.8: %g (fits), %g (wraps)", fit, wrapped);
    cfloat k[C * N] = {0}, s[C * N];
    mg_espirit_opts o;
    mg_espirit_defaults(&o);
    o.kernel = 40; /* 2k > the image */
    assert_int_equal(mg_espirit(k, C, H, W, 48, &o, s, NULL), -1);
    mg_espirit_defaults(&o);
    assert_int_equal(mg_espirit(k, C, H, W, 24, &o, s, NULL), -1); /* all zero */
    o.maps = 3;
    assert_int_equal(mg_espirit(k, C, H, W, 24, &o, s, NULL), -1); /* 1 or 2 sets */
}

/* Maps do not depend on the data's scale: k-space from 1e-20 to 1e19 gives
 * the same direct, Walsh and ESPIRiT maps (float squares used to overflow at 1e10) */
static void test_scale_invariance(void **state)
{
    (void)state;
    cfloat *truth = mg_malloc_array(C * N, sizeof(cfloat)), *k = mg_malloc_array(C * N, sizeof(cfloat));
    cfloat *ks = mg_malloc_array(C * N, sizeof(cfloat)), *s0 = mg_malloc_array(C * N, sizeof(cfloat));
    cfloat *s1 = mg_malloc_array(C * N, sizeof(cfloat)), m[N];
    mg_rng r;
    mg_rng_seed(&r, 2);
    phantom(m);
    mg_birdcage_maps(truth, C, H, W, 1.5, 0.4);
    mg_simulate_kspace(m, truth, C, H, W, 0.001, &r, k);
    const double scales[4] = {1e-20, 1e10, 1e15, 1e19};
    for (int method = MG_SENS_DIRECT; method <= MG_SENS_ESPIRIT; method++) {
        assert_int_equal(mg_sens_estimate(k, C, H, W, 12, method, s0), 0);
        for (int j = 0; j < 4; j++) {
            for (long i = 0; i < C * N; i++) ks[i] = (cfloat)((double complex)k[i] * scales[j]);
            assert_int_equal(mg_sens_estimate(ks, C, H, W, 12, method, s1), 0);
            double worst = 0;
            for (long i = 0; i < C * N; i++) /* inside the object (outside, the noise sets the maps) */
                if (cabsf(m[i % N]) >= 0.3f) worst = fmax(worst, cabsf(s1[i] - s0[i]));
            if (worst > 1e-4) fail_msg("method %d, k-space x %g: maps differ by %g", method, scales[j], worst);
        }
    }
    free(truth), free(k), free(ks), free(s0), free(s1);
}

/* mg_sens_normalize: maps scaled by 1.5, or each coil to its own maximum,
 * come back unit-norm; unit-norm maps are left bit for bit */
static void test_normalize(void **state)
{
    (void)state;
    cfloat *s = mg_malloc_array(C * N, sizeof(cfloat)), *t = mg_malloc_array(C * N, sizeof(cfloat));
    mg_birdcage_maps(s, C, H, W, 1.5, 0.1);
    memcpy(t, s, sizeof(cfloat) * C * N);
    double dev = mg_sens_normalize(t, C, H, W, 1e-3);
    assert_true(dev <= 1e-3);
    assert_memory_equal(s, t, sizeof(cfloat) * C * N);
    for (long i = 0; i < C * N; i++) t[i] = 1.5f * s[i];
    assert_true(fabs(mg_sens_normalize(t, C, H, W, 1e-3) - 0.5) < 1e-3);
    for (long i = 0; i < C * N; i++) assert_true(cabsf(t[i] - s[i]) < 1e-5f);
    for (int c = 0; c < C; c++) { /* each coil scaled to a maximum of 1 */
        float mx = 0;
        for (long i = 0; i < N; i++) mx = fmaxf(mx, cabsf(s[c * N + i]));
        for (long i = 0; i < N; i++) t[c * N + i] = s[c * N + i] / mx;
    }
    assert_true(mg_sens_normalize(t, C, H, W, 1e-3) > 0.1);
    for (long i = 0; i < N; i++) {
        double e = 0;
        for (int c = 0; c < C; c++) e += pow(cabsf(t[c * N + i]), 2);
        assert_true(fabs(e - 1.0) < 1e-4);
    }
    free(s), free(t);
}

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
        cmocka_unit_test(test_direct), cmocka_unit_test(test_walsh), cmocka_unit_test(test_espirit),
        cmocka_unit_test(test_espirit_two_sets), cmocka_unit_test(test_scale_invariance),
        cmocka_unit_test(test_normalize), cmocka_unit_test(test_errors)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mg_fft_cleanup();
    return rc;
}

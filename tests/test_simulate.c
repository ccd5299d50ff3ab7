/* Simulation pieces: Fourier resampling against a direct band-limited
 * interpolation, the random phase breaks Hermitian symmetry, noise level. */
#include "testutil.h"
#include "fft/fft.h"
#include "mri/mri.h"

#include <math.h>
#include <stdlib.h>

/* A band-limited image (a few low-frequency cosines) resampled from 40x40 to
 * 24x24 is the same continuous function sampled on the coarser grid. */
static void test_resample_bandlimited(void **state)
{
    (void)state;
    const long h = 40, H = 24;
    float in[40 * 40], out[24 * 24];
    /* f(u,v) on [0,1)^2 relative to the centre pixel, frequencies <= 3 cycles */
#define F(u, v) (1.0 + 0.5 * cos(2 * M_PI * 2 * (u)) + 0.25 * cos(2 * M_PI * (3 * (v) + 1 * (u))))
    for (long y = 0; y < h; y++)
        for (long x = 0; x < h; x++) in[y * h + x] = (float)F((double)(x - h / 2) / h, (double)(y - h / 2) / h);
    mg_resample_fourier(in, h, h, out, H, H);
    for (long y = 0; y < H; y++)
        for (long x = 0; x < H; x++) {
            double ref = F((double)(x - H / 2) / H, (double)(y - H / 2) / H);
            if (fabs(out[y * H + x] - ref) > 1e-4) fail_msg("(%ld,%ld): %g vs %g", y, x, (double)out[y * H + x], ref);
        }
#undef F
}

static void test_phase_breaks_symmetry(void **state)
{
    (void)state;
    const long H = 32, W = 32, n = H * W;
    cfloat img[32 * 32], k[32 * 32];
    for (long i = 0; i < n; i++) img[i] = (float)((i * 7919) % 13) / 13.0f;
    cfloat sens[32 * 32];
    for (long i = 0; i < n; i++) sens[i] = 1.0f;
    mg_rng r;
    mg_rng_seed(&r, 3);
    /* real image: K(-k) = conj K(k) (the centred grid pairs index i with H - i) */
    mg_simulate_kspace(img, sens, 1, H, W, 0.0, &r, k);
    double asym_real = 0, asym_phase = 0, e = 0;
    for (long y = 1; y < H; y++)
        for (long x = 1; x < W; x++) {
            asym_real += pow(cabsf(k[y * W + x] - conjf(k[(H - y) * W + (W - x)])), 2);
            e += pow(cabsf(k[y * W + x]), 2);
        }
    mg_random_phase(img, H, W, 1.0, &r);
    mg_simulate_kspace(img, sens, 1, H, W, 0.0, &r, k);
    for (long y = 1; y < H; y++)
        for (long x = 1; x < W; x++) asym_phase += pow(cabsf(k[y * W + x] - conjf(k[(H - y) * W + (W - x)])), 2);
    assert_true(asym_real / e < 1e-10);
    assert_true(asym_phase / e > 0.01);
}

static void test_noise_level(void **state)
{
    (void)state;
    const long C = 2, H = 64, W = 64, n = C * H * W;
    cfloat *img = mg_calloc((size_t)(H * W), sizeof(cfloat)), *sens = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *k = mg_malloc_array((size_t)n, sizeof(cfloat));
    for (long i = 0; i < n; i++) sens[i] = 1.0f;
    mg_rng r;
    mg_rng_seed(&r, 4);
    mg_simulate_kspace(img, sens, C, H, W, 0.05, &r, k);
    double v = 0;
    for (long i = 0; i < n; i++) v += pow(crealf(k[i]), 2) + pow(cimagf(k[i]), 2);
    double sd = sqrt(v / (2.0 * n));
    assert_true(fabs(sd - 0.05) < 0.002);
    free(img);
    free(sens);
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resample_bandlimited),
        cmocka_unit_test(test_phase_breaks_symmetry),
        cmocka_unit_test(test_noise_level),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mg_fft_cleanup();
    return rc;
}

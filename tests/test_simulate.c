/* Simulation pieces: Fourier resampling against a direct band-limited
 * interpolation, the random phase breaks Hermitian symmetry, noise level;
 * the scanner-like pieces: a loop's field against the closed form, array
 * maps, random fields and smoothing, tone curves, correlated noise, the
 * head deformation. */
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

/* On its axis a circular loop's field is 2 pi a^2 / (a^2 + d^2)^(3/2) along
 * its normal (the closed form, without mu0 I / 4 pi); off the axis the
 * field far away falls as a dipole's, 1/r^3 */
static void test_loop_field_closed_form(void **state)
{
    (void)state;
    const double c[3] = {10, -5, 3}, n[3] = {0.6, 0.8, 0}, a = 40;
    for (double d = 0; d < 200; d += 25) {
        double r[3] = {c[0] + d * 0.6, c[1] + d * 0.8, c[2]}, B[3];
        mg_loop_field(c, n, a, r, B);
        double ref = 2 * M_PI * a * a / pow(a * a + d * d, 1.5);
        double along = B[0] * 0.6 + B[1] * 0.8;
        if (fabs(along - ref) > 1e-3 * ref) fail_msg("d = %g: %g vs %g", d, along, ref);
        if (fabs(B[2]) > 1e-9 * ref || fabs(B[0] * 0.8 - B[1] * 0.6) > 1e-6 * ref) fail_msg("d = %g: off-axis part", d);
    }
    /* dipole limit in the loop's plane: B = -m / r^3 with m = pi a^2 n */
    double r[3] = {c[0], c[1], c[2] + 4000}, B[3];
    mg_loop_field(c, n, a, r, B);
    double ref = -M_PI * a * a / pow(4000, 3);
    assert_true(fabs((B[0] * 0.6 + B[1] * 0.8) - ref) < 1e-3 * fabs(ref));
}

/* array maps: unit root-sum-of-squares, each coil strongest on its own side */
static void test_coil_array_maps(void **state)
{
    (void)state;
    const long H = 48, W = 64, C = 12, n = H * W;
    mg_rng r;
    mg_rng_seed(&r, 5);
    mg_coil_array arr;
    mg_coil_array_random(&arr, C, 80.0, &r);
    assert_int_equal(arr.C, C);
    cfloat *s = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    mg_coil_array_maps(&arr, s, H, W, 3.0, 3.0, 0.0);
    for (long i = 0; i < n; i++) {
        double a = 0;
        for (long k = 0; k < C; k++) a += pow(cabsf(s[k * n + i]), 2);
        if (fabs(a - 1) > 1e-5) fail_msg("pixel %ld: sum |s|^2 = %g", i, a);
    }
    for (long k = 0; k < C; k++) {
        /* the pixel nearest the coil (inside the field) has more of coil k
         * than the pixel on the far side */
        double ux = arr.loop[k].centre[0], uy = arr.loop[k].centre[1], u = hypot(ux, uy);
        long xn = W / 2 + lround(0.9 * (W / 2 - 1) * ux / u * fmin(1.0, (double)H / W)), yn = H / 2 + lround(0.9 * (H / 2 - 1) * uy / u);
        long xf = W - xn, yf = H - yn;
        if (!(cabsf(s[k * n + yn * W + xn]) > 2 * cabsf(s[k * n + yf * W + xf]))) fail_msg("coil %ld not near its side", k);
    }
    free(s);
}

/* random field: mean 0, std 1, its power beyond 4 kc cycles per field of
 * view negligible; Gaussian smoothing of a point equals the sampled
 * Gaussian (closed form) */
static void test_random_field_and_smoothing(void **state)
{
    (void)state;
    const long H = 64, W = 48, n = H * W;
    float *f = mg_malloc_array((size_t)n, sizeof(float));
    mg_rng r;
    mg_rng_seed(&r, 6);
    mg_random_field(f, H, W, 3.0, &r);
    double m = 0, v = 0;
    for (long i = 0; i < n; i++) m += f[i];
    for (long i = 0; i < n; i++) v += pow(f[i] - m / n, 2);
    assert_true(fabs(m / n) < 1e-5 && fabs(v / n - 1) < 1e-4);
    cfloat *k = mg_malloc_array((size_t)n, sizeof(cfloat));
    for (long i = 0; i < n; i++) k[i] = f[i];
    mg_fft2c(k, 1, H, W, MG_FFT_FORWARD);
    double hi = 0, all = 0;
    for (long y = 0; y < H; y++)
        for (long x = 0; x < W; x++) {
            double e = pow(cabsf(k[y * W + x]), 2), kk = hypot((double)(y - H / 2), (double)(x - W / 2));
            all += e;
            if (kk > 12.0) hi += e;
        }
    assert_true(hi / all < 1e-6);
    for (long i = 0; i < n; i++) f[i] = 0;
    f[20 * W + 30] = 1;
    const double sg = 2.0;
    mg_gaussian_smooth(f, H, W, sg);
    for (long y = 0; y < H; y++)
        for (long x = 0; x < W; x++) {
            double ref = exp(-((y - 20) * (y - 20) + (x - 30) * (x - 30)) / (2 * sg * sg)) / (2 * M_PI * sg * sg);
            if (fabs(f[y * W + x] - ref) > 1e-6) fail_msg("(%ld,%ld): %g vs %g", y, x, (double)f[y * W + x], ref);
        }
    free(f);
    free(k);
}

static void test_tone_curve(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 7);
    for (int t = 0; t < 100; t++) {
        float k[MG_TONE_KNOTS];
        mg_tone_curve_random(k, &r);
        assert_true(k[0] == 0.0f && k[MG_TONE_KNOTS - 1] == 1.0f);
        float prev = -1;
        for (int i = 0; i <= 200; i++) {
            float y = mg_tone_apply(k, (float)i / 200.0f);
            if (!(y > prev)) fail_msg("curve %d not increasing at %d", t, i);
            prev = y;
        }
        assert_true(mg_tone_apply(k, -1.0f) == 0.0f && mg_tone_apply(k, 2.0f) == 1.0f);
        /* linear between knots */
        float mid = mg_tone_apply(k, 0.5f / (MG_TONE_KNOTS - 1));
        assert_true(fabsf(mid - 0.5f * (k[0] + k[1])) < 1e-6f);
    }
}

/* correlated noise: the sample covariance of sigma A z is sigma^2 A A^H */
static void test_noise_covariance(void **state)
{
    (void)state;
    const long C = 4, n = 200000;
    cfloat A[16];
    mg_rng r;
    mg_rng_seed(&r, 8);
    mg_noise_mixing_random(A, C, 0.6, &r);
    double tr = 0;
    for (long i = 0; i < C * C; i++) tr += pow(cabsf(A[i]), 2);
    assert_true(fabs(tr - C) < 1e-4);
    cfloat *k = mg_calloc((size_t)(C * n), sizeof(cfloat));
    const double sg = 0.1;
    mg_kspace_add_noise(k, C, n, sg, A, &r);
    for (long a = 0; a < C; a++)
        for (long b = 0; b < C; b++) {
            double complex cov = 0, ref = 0;
            for (long i = 0; i < n; i++) cov += k[a * n + i] * conj(k[b * n + i]);
            cov /= (double)n;
            for (long d = 0; d < C; d++) ref += 2 * sg * sg * A[a * C + d] * conj(A[b * C + d]);
            /* sampling error of a covariance of n samples: about 2 sg^2 / sqrt(n) */
            if (cabs(cov - ref) > 6 * 2 * sg * sg / sqrt((double)n)) fail_msg("cov(%ld,%ld) off", a, b);
        }
    free(k);
}

/* The head deformation (warp.c): a pure rotation keeps distances and turns
 * every point by the same angle; random draws stay in their documented
 * ranges, displace by at most amp, never fold (positive Jacobian, by
 * finite differences), and mg_warp_extent holds every output point whose
 * source lies in the box. */
static void test_warp(void **state)
{
    (void)state;
    mg_warp w = {0};
    const double th = 0.3;
    w.c = cos(th), w.s = sin(th), w.sx = w.sy = 1.0, w.amp = 0.0;
    for (int i = 0; i < 20; i++) {
        const double x = 7.0 * i - 60.0, y = 50.0 - 3.0 * i;
        double u, v;
        mg_warp_point(&w, x, y, &u, &v);
        assert_true(fabs(hypot(u, v) - hypot(x, y)) < 1e-9);
        /* the source is the output turned by -th: the head turns by +th */
        double ang = atan2(x * v - y * u, x * u + y * v);
        assert_true(fabs(ang + th) < 1e-9);
    }
    /* scales: an output point (a sx, 0) samples the source at distance a */
    w.c = 1, w.s = 0, w.sx = 1.1, w.sy = 0.9;
    double u, v;
    mg_warp_point(&w, 11.0, 0.0, &u, &v);
    assert_true(fabs(u - 10.0) < 1e-9 && fabs(v) < 1e-12);
    mg_warp_point(&w, 0.0, 9.0, &u, &v);
    assert_true(fabs(v - 10.0) < 1e-9 && fabs(u) < 1e-12);
    for (uint64_t seed = 1; seed <= 200; seed++) {
        mg_rng r;
        mg_rng_seed(&r, seed);
        const double amp = 0.05 * (double)(seed % 200);
        mg_warp_random(&w, amp, &r);
        assert_true(fabs(atan2(w.s, w.c)) <= 12.0 * M_PI / 180.0 + 1e-12);
        assert_true(w.sx >= 0.9 && w.sx <= 1.1 && w.sy >= 0.9 && w.sy <= 1.1);
        mg_warp rigid = w;
        rigid.amp = 0;
        const double ex = 140.0 + (double)(seed % 7) * 10.0, ey = 180.0 - (double)(seed % 5) * 10.0;
        double ox, oy;
        mg_warp_extent(&w, ex, ey, &ox, &oy);
        const double step = 2.0, hd = 1e-3;
        for (double y = -160.0; y <= 160.0; y += step)
            for (double x = -160.0; x <= 160.0; x += step) {
                double a, b, a0, b0;
                mg_warp_point(&w, x, y, &a, &b);
                mg_warp_point(&rigid, x, y, &a0, &b0);
                assert_true(fabs(a - a0) <= amp + 1e-9 && fabs(b - b0) <= amp + 1e-9);
                if (fabs(a) <= 0.5 * ex && fabs(b) <= 0.5 * ey)
                    assert_true(fabs(x) <= 0.5 * ox + 1e-9 && fabs(y) <= 0.5 * oy + 1e-9);
                double ax, bx, ay, by;
                mg_warp_point(&w, x + hd, y, &ax, &bx);
                mg_warp_point(&w, x, y + hd, &ay, &by);
                const double det = ((ax - a) * (by - b) - (ay - a) * (bx - b)) / (hd * hd);
                assert_true(det > 0.0);
            }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resample_bandlimited),
        cmocka_unit_test(test_phase_breaks_symmetry),
        cmocka_unit_test(test_noise_level),
        cmocka_unit_test(test_loop_field_closed_form),
        cmocka_unit_test(test_coil_array_maps),
        cmocka_unit_test(test_random_field_and_smoothing),
        cmocka_unit_test(test_tone_curve),
        cmocka_unit_test(test_noise_covariance),
        cmocka_unit_test(test_warp),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mg_fft_cleanup();
    return rc;
}

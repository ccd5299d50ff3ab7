/* DCI-Net: the whole generator's gradient against finite differences, with
 * respect to parameters of every kind and to the k-space input; and the
 * forward with zeroed convolutions against N plain gradient steps. */
#include "testutil.h"
#include "fft/fft.h"
#include "models/models.h"
#include "mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS 2
#define C 3
#define H 8
#define W 10
#define HW (H * W)

typedef struct {
    mg_dcinet net;
    cfloat ku[NS * C * HW], sens[NS * C * HW];
    float mask[NS * H];
    float out[NS * 2 * HW], r[NS * 2 * HW];
} fixture;

static void make(fixture *f, int blocks, int growth, int K, float slope)
{
    mg_rng rng;
    mg_rng_seed(&rng, 99);
    mg_dcinet_cfg cfg = {blocks, growth, K, slope};
    mg_dcinet_init(&f->net, &cfg, 7);
    tu_randn_c(f->ku, NS * C * HW, &rng);
    tu_randn_c(f->sens, NS * C * HW, &rng);
    for (int i = 0; i < NS * C * HW; i++) f->sens[i] *= 0.5f;
    for (int s = 0; s < NS; s++)
        for (int y = 0; y < H; y++) f->mask[s * H + y] = (y + s) % 3 != 0;
    for (int i = 0; i < NS * 2 * HW; i++) f->r[i] = (float)(2 * mg_rng_uniform(&rng) - 1);
    for (int b = 0; b < blocks; b++) f->net.lambda[b]->w[0] = 0.7f + 0.1f * b;
}

static double loss(fixture *f)
{
    mg_dcinet_forward(&f->net, f->ku, f->sens, f->mask, f->out, NS, C, H, W);
    double l = 0;
    for (int i = 0; i < NS * 2 * HW; i++) l += (double)f->r[i] * f->out[i];
    return l;
}

static double fd(fixture *f, float *v, double eps)
{
    float s = *v;
    *v = (float)(s + eps);
    double lp = loss(f);
    *v = (float)(s - eps);
    double lm = loss(f);
    *v = s;
    return (lp - lm) / (2 * eps);
}

/* Central differences at two step sizes; where they disagree the step
 * crossed a LeakyReLU kink and the entry is skipped (returns 0). */
static double eps_big, eps_small, tol;
static int fd2(fixture *f, float *v, double *num)
{
    double a = fd(f, v, eps_big), b = fd(f, v, eps_small);
    *num = b;
    return fabs(a - b) <= 0.02 * fmax(fmax(fabs(a), fabs(b)), 1e-1);
}

/* collects the relative errors when `sink` is set */
typedef struct { double *e; int *n; } err_sink;
static err_sink *errs_sink(double *e, int *n)
{
    static err_sink s;
    s.e = e;
    s.n = n;
    return &s;
}
static void record(err_sink *s, double err)
{
    if (s && *s->n < 512) s->e[(*s->n)++] = err;
}

static void check_gradients(float slope, err_sink *sink)
{
    static fixture f;
    make(&f, 3, 2, 4, slope); /* block 2 sees two skips */
    loss(&f);
    /* without dku the DC units' A^H A runs through the phase-encode FFT alone
     * (mri/sense_pe.c), with it through the 2D FFTs: both against the differences */
    mg_params_zero_grad(&f.net.params);
    mg_dcinet_backward(&f.net, f.r, NULL);
    static float g_pe[4096];
    long ng = 0;
    for (int i = 0; i < f.net.params.n; i++)
        for (long j = 0; j < f.net.params.p[i]->size; j++) {
            assert_true(ng < 4096);
            g_pe[ng++] = f.net.params.p[i]->g[j];
        }
    mg_params_zero_grad(&f.net.params);
    static cfloat dku[NS * C * HW];
    memset(dku, 0, sizeof dku);
    mg_dcinet_backward(&f.net, f.r, dku);
    ng = 0;
    for (int i = 0; i < f.net.params.n; i++)
        for (long j = 0; j < f.net.params.p[i]->size; j++, ng++) {
            const float a = g_pe[ng], b = f.net.params.p[i]->g[j];
            if (fabsf(a - b) > 1e-4f * fmaxf(1.0f, fabsf(b)))
                fail_msg("%s[%ld]: %g (phase-encode FFT) vs %g (2D FFTs)", f.net.params.p[i]->name, j, a, b);
        }
    double worst = 0;
    int checked = 0, skipped = 0;
    for (int i = 0; i < f.net.params.n; i++) {
        mg_param *p = f.net.params.p[i];
        long step = p->size > 5 ? p->size / 5 : 1;
        for (long j = 0; j < p->size; j += step) {
            double num;
            if (!fd2(&f, &p->w[j], &num)) { skipped++; continue; }
            double err = fabs(num - p->g[j]) / fmax(fmax(fabs(num), fabs(p->g[j])), 1e-1);
            if (err > worst) worst = err;
            record(sink, err);
            if (err > tol) fail_msg("%s[%ld]: numeric %g analytic %g", p->name, j, num, (double)p->g[j]);
            checked++;
        }
    }
    /* input: real and imaginary parts of k-space samples (sampled and not) */
    for (int i = 0; i < NS * C * HW; i += 37) {
        float *re = (float *)&f.ku[i], *im = re + 1;
        double nr, ni;
        if (!fd2(&f, re, &nr) || !fd2(&f, im, &ni)) { skipped += 2; continue; }
        double er = fabs(nr - crealf(dku[i])) / fmax(fmax(fabs(nr), fabs(crealf(dku[i]))), 1e-1);
        double ei = fabs(ni - cimagf(dku[i])) / fmax(fmax(fabs(ni), fabs(cimagf(dku[i]))), 1e-1);
        record(sink, er);
        record(sink, ei);
        if (er > tol || ei > tol)
            fail_msg("dku[%d]: numeric (%g,%g) analytic (%g,%g)", i, nr, ni, (double)crealf(dku[i]), (double)cimagf(dku[i]));
        checked += 2;
    }
    print_message("checked %d gradient entries (%d skipped at kinks), worst relative error %.2e\n",
                  checked, skipped, worst);
    assert_true(checked >= 80 && skipped * 5 < checked);
    mg_dcinet_free(&f.net);
}

/* slope 1: the network is affine in every single parameter and in the input,
 * so central differences are exact at any step: large steps, a tight bound.
 * This checks the whole backward except the negative LeakyReLU branch. */
static void test_gradients_linear(void **state)
{
    (void)state;
    eps_big = 0.1, eps_small = 0.05, tol = 2e-3;
    check_gradients(1.0f, NULL);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* slope 0.2 (the default). Float central differences across LeakyReLU kinks
 * are noisy (a step moves some pre-activations across zero), so single
 * entries cannot be bounded tightly; the error distribution can: a wrong
 * branch would put most entries off by tens of percent. */
static void test_gradients_leaky(void **state)
{
    (void)state;
    static double errs[512];
    int n = 0;
    eps_big = 2e-3, eps_small = 1e-3, tol = 1.0;
    check_gradients(0.2f, errs_sink(errs, &n));
    qsort(errs, (size_t)n, sizeof(double), cmp_d);
    double med = errs[n / 2], p90 = errs[(9 * n) / 10];
    print_message("leaky: %d entries, median relative error %.2e, 90th percentile %.2e\n", n, med, p90);
    assert_true(med < 1e-2 && p90 < 5e-2);
}

/* Zero convolutions: every block is a gradient step x <- x - lam A^H (A x - Ku). */
static void test_zero_convs_are_dc_steps(void **state)
{
    (void)state;
    static fixture f;
    make(&f, 4, 2, 3, 0.2f);
    for (int i = 0; i < f.net.params.n; i++)
        if (!strstr(f.net.params.p[i]->name, "lambda")) memset(f.net.params.p[i]->w, 0, sizeof(float) * (size_t)f.net.params.p[i]->size);
    loss(&f);
    cfloat x[HW], k[C * HW], r[HW];
    for (int s = 0; s < NS; s++) {
        const cfloat *ku = f.ku + s * C * HW, *sens = f.sens + s * C * HW;
        const float *m = f.mask + s * H;
        mg_sense_adjoint(ku, sens, m, x, NULL, C, H, W);
        for (int b = 0; b < 4; b++) {
            mg_sense_forward(x, sens, m, k, C, H, W);
            for (int i = 0; i < C * HW; i++) k[i] -= ku[i];
            mg_sense_adjoint(k, sens, m, r, NULL, C, H, W);
            for (int i = 0; i < HW; i++) x[i] -= f.net.lambda[b]->w[0] * r[i];
        }
        for (int i = 0; i < HW; i++) {
            assert_true(fabsf(crealf(x[i]) - f.out[s * 2 * HW + i]) < 1e-4f * (1 + cabsf(x[i])));
            assert_true(fabsf(cimagf(x[i]) - f.out[s * 2 * HW + HW + i]) < 1e-4f * (1 + cabsf(x[i])));
        }
    }
    mg_dcinet_free(&f.net);
}

/* The forward against a reference written here from the definition in
 * models.h, with the plain-loop convolutions of conv_ref.c and plain layouts
 * throughout: catches layout and fusion mistakes (blocked activations, fused
 * LeakyReLU, direct kernels) that a gradient check of the same forward cannot
 * see. 20 kernels (padded to 32 when blocked) and 24 x 40 images, so the
 * direct kernels' interior register blocks run. */
static void test_forward_reference(void **state)
{
    (void)state;
    enum { N = 3, G = 2, K = 20, HH = 24, WW = 40, CC = 3, M = 2 };
    const long hw = (long)HH * WW;
    const mg_dcinet_cfg cfg = {N, G, K, 0.2f};
    mg_dcinet net;
    mg_dcinet_init(&net, &cfg, 3);
    mg_rng rng;
    mg_rng_seed(&rng, 4);
    for (int b = 0; b < N; b++) net.lambda[b]->w[0] = 0.6f + 0.2f * b;
    static cfloat ku[M * CC * HH * WW], sens[M * CC * HH * WW], x[HH * WW], k[CC * HH * WW];
    static float mask[M * HH], out[M * 2 * HH * WW];
    tu_randn_c(ku, (size_t)(M * CC * hw), &rng);
    for (int s = 0; s < M; s++) {
        mg_birdcage_maps(sens + s * CC * hw, CC, HH, WW, 1.5, 0.4 * s);
        mg_mask_vd(mask + s * HH, HH, 2.0, 4, 11 + (uint64_t)s);
        mg_mask_apply(ku + s * CC * hw, mask + s * HH, CC, HH, WW);
    }
    mg_dcinet_forward(&net, ku, sens, mask, out, M, CC, HH, WW);
    static float y[N + 1][2 * HH * WW], in[2 * (1 + G) * HH * WW], a1[K * HH * WW], a2[K * HH * WW], o3[2 * HH * WW];
    double err = 0, ref = 0;
    for (int s = 0; s < M; s++) {
        const cfloat *kus = ku + s * CC * hw, *ss = sens + s * CC * hw;
        const float *ms = mask + s * HH;
        mg_sense_adjoint(kus, ss, ms, x, NULL, CC, HH, WW);
        mg_c2planes(x, y[0], hw);
        for (int b = 0; b < N; b++) {
            const int ns = b < G ? b : G, cin = 2 * (1 + ns);
            mg_planes2c(y[b], x, hw); /* dc = x - lam A^H (A x - Ku) */
            mg_sense_forward(x, ss, ms, k, CC, HH, WW);
            for (long i = 0; i < CC * hw; i++) k[i] -= kus[i];
            cfloat r[HH * WW];
            mg_sense_adjoint(k, ss, ms, r, NULL, CC, HH, WW);
            for (long i = 0; i < hw; i++) x[i] -= net.lambda[b]->w[0] * r[i];
            mg_c2planes(x, in, hw);
            for (int q = 0; q < ns; q++) /* skips y_{b-2}, ..., y_{b-1-ns} */
                memcpy(in + 2 * (q + 1) * hw, y[b - 1 - q], sizeof(float) * 2 * hw);
            const mg_conv2d *c = &net.conv[3 * b];
            mg_conv2d_ref_forward(in, c[0].weight->w, c[0].bias->w, a1, 1, cin, K, HH, WW, 5, 1, 2);
            for (long i = 0; i < K * hw; i++) a1[i] = a1[i] > 0 ? a1[i] : 0.2f * a1[i];
            mg_conv2d_ref_forward(a1, c[1].weight->w, c[1].bias->w, a2, 1, K, K, HH, WW, 5, 1, 2);
            for (long i = 0; i < K * hw; i++) a2[i] = a2[i] > 0 ? a2[i] : 0.2f * a2[i];
            mg_conv2d_ref_forward(a2, c[2].weight->w, c[2].bias->w, o3, 1, K, 2, HH, WW, 5, 1, 2);
            for (long i = 0; i < 2 * hw; i++) y[b + 1][i] = in[i] + o3[i];
        }
        for (long i = 0; i < 2 * hw; i++) {
            const double d = (double)out[s * 2 * hw + i] - y[N][i];
            err += d * d;
            ref += (double)y[N][i] * y[N][i];
        }
    }
    print_message("forward vs reference: NMSE %.2e\n", err / ref);
    assert_true(err / ref < 1e-10);
    mg_dcinet_free(&net);
}

/* mg_dcinet_infer (one reused set of block buffers) gives exactly the
 * training forward's output, before and after a training forward, and a
 * backward after it still works (the workspace switches back) */
static void test_infer_equals_forward(void **state)
{
    (void)state;
    static fixture f;
    make(&f, 7, 3, 5, 0.2f);
    static float a[NS * 2 * HW], b[NS * 2 * HW];
    mg_dcinet_infer(&f.net, f.ku, f.sens, f.mask, a, NS, C, H, W);
    mg_dcinet_forward(&f.net, f.ku, f.sens, f.mask, b, NS, C, H, W);
    assert_memory_equal(a, b, sizeof a);
    mg_dcinet_infer(&f.net, f.ku, f.sens, f.mask, a, NS, C, H, W);
    assert_memory_equal(a, b, sizeof a);
    mg_dcinet_forward(&f.net, f.ku, f.sens, f.mask, b, NS, C, H, W);
    mg_params_zero_grad(&f.net.params);
    mg_dcinet_backward(&f.net, f.r, NULL);
    double g = 0;
    for (int i = 0; i < f.net.params.n; i++) g += fabsf(f.net.params.p[i]->g[0]);
    assert_true(g > 0);
    mg_dcinet_free(&f.net);
}

/* The mirror of fft.h's centred grid, i -> (2 floor(N/2) - i) mod N, is the
 * same permutation in both domains: encoding the mirrored image and maps
 * gives the mirrored k-space (x(-n) <-> X(-k)), for even and odd sizes,
 * checked against the FFT. */
static void test_flip_is_kspace_mirror(void **state)
{
    (void)state;
    static const int sizes[3][2] = {{8, 10}, {7, 9}, {6, 5}};
    mg_rng rng;
    mg_rng_seed(&rng, 5);
    for (int t = 0; t < 3; t++) {
        const int h = sizes[t][0], w = sizes[t][1], hw = h * w;
        cfloat x[2 * 90], xs[2 * 90], xf[2 * 90], k[2 * 90], kf[2 * 90];
        tu_randn_c(x, 2 * hw, &rng); /* coil images S x of 2 coils */
        for (int fh = 0; fh < 2; fh++)
            for (int fw = 0; fw < 2; fw++) {
                memcpy(k, x, sizeof(cfloat) * 2 * hw);
                mg_fft2c(k, 2, h, w, MG_FFT_FORWARD);
                mg_flip_images(k, kf, 2, h, w, fh, fw);      /* mirrored k-space */
                mg_flip_images(x, xf, 2, h, w, fh, fw);
                mg_fft2c(xf, 2, h, w, MG_FFT_FORWARD);       /* k-space of the mirrored images */
                for (int i = 0; i < 2 * hw; i++)
                    if (cabsf(kf[i] - xf[i]) > 1e-5f)
                        fail_msg("%dx%d, flips %d%d, sample %d: %g%+gi vs %g%+gi", h, w, fh, fw, i,
                                 (double)crealf(kf[i]), (double)cimagf(kf[i]), (double)crealf(xf[i]), (double)cimagf(xf[i]));
                mg_flip_images(kf, xs, 2, h, w, fh, fw);     /* an involution */
                assert_memory_equal(xs, k, sizeof(cfloat) * 2 * hw);
            }
    }
}

/* Averaged over the four mirrors the network is mirror-equivariant: the
 * reconstruction of a mirrored acquisition is the mirrored reconstruction.
 * The plain network is not (the check can tell them apart). */
static void test_flip_average_equivariant(void **state)
{
    (void)state;
    static fixture f;
    make(&f, 2, 2, 4, 0.2f);
    mg_engine e;
    mg_engine_cpu(&e, &f.net);
    static cfloat k2[C * HW], s2[C * HW], z[HW], zf[HW];
    static float m2[H], a[2 * HW], b[2 * HW];
    for (int y = 0; y < H; y++) m2[y] = f.mask[(2 * (H / 2) - y) % H];
    for (int fw = 0; fw < 2; fw++) {
        const int fh = !fw;
        mg_flip_images(f.ku, k2, C, H, W, fh, fw);
        mg_flip_images(f.sens, s2, C, H, W, fh, fw);
        for (int flips = 1; flips <= 4; flips *= 4) {
            mg_infer_flips(&e, f.ku, f.sens, f.mask, a, flips, C, H, W);
            mg_infer_flips(&e, k2, s2, fh ? m2 : f.mask, b, flips, C, H, W);
            mg_planes2c(b, z, HW);
            mg_flip_images(z, zf, 1, H, W, fh, fw);
            double d = 0, nrm = 0;
            for (int i = 0; i < HW; i++) {
                const cfloat ai = a[i] + I * a[HW + i];
                d += cabsf(ai - zf[i]) * cabsf(ai - zf[i]);
                nrm += cabsf(ai) * cabsf(ai);
            }
            const double rel = sqrt(d / nrm);
            print_message("flips %d, mirror %s: relative difference %.2e\n", flips, fh ? "phase encode" : "readout", rel);
            if (flips == 4) assert_true(rel < 1e-5);
            else assert_true(rel > 1e-3);
        }
    }
    mg_dcinet_free(&f.net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_reference),
        cmocka_unit_test(test_infer_equals_forward),
        cmocka_unit_test(test_gradients_linear),
        cmocka_unit_test(test_gradients_leaky),
        cmocka_unit_test(test_zero_convs_are_dc_steps),
        cmocka_unit_test(test_flip_is_kspace_mirror),
        cmocka_unit_test(test_flip_average_equivariant),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mg_fft_cleanup();
    return rc;
}

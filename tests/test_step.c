/* The training step's maths (train/gan.c, train/step_cpu.c) on a tiny
 * network against values worked out by hand: the signs and the 1/(beta Bg)
 * scaling of the critic and adversarial gradients, the MSE gradient, the
 * critic input's layout and the channel the GAN gradient comes back
 * through, the two gradients AGB measures (against finite differences of
 * the adversarial loss), and weight clipping. */
#include "testutil.h"
#include "metrics/metrics.h"
#include "models/models.h"
#include "train/step.h"
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_critic_grad(void **state)
{
    (void)state;
    const float d[3] = {0.5f, -1.0f, 2.0f};
    float g[3];
    /* L_D = (1/beta)(mean D(fake) - mean D(real)) over a global batch of 6 */
    double s = mg_gan_critic_grad(d, 3, 6, 10.0, 1, g);
    assert_true(fabs(s - 1.5) < 1e-12);
    for (int i = 0; i < 3; i++) assert_true(fabs(g[i] - (-1.0 / 60.0)) < 1e-8);
    s = mg_gan_critic_grad(d, 3, 6, 10.0, 0, g);
    assert_true(fabs(s - 1.5) < 1e-12);
    for (int i = 0; i < 3; i++) assert_true(fabs(g[i] - (1.0 / 60.0)) < 1e-8);
    /* L_adv = -(1/beta) mean D(G): beta 4, one rank's 2 of a batch of 2 */
    s = mg_gan_adv_grad(d, 2, 2, 4.0, g);
    assert_true(fabs(s - (-0.5)) < 1e-12);
    for (int i = 0; i < 2; i++) assert_true(fabs(g[i] - (-1.0 / 8.0)) < 1e-8);
}

static void test_mse_grad(void **state)
{
    (void)state;
    const float o[4] = {1, 2, 3, 4}, t[4] = {1, 0, 3, 2};
    float g[4] = {9, 9, 9, 9}; /* overwritten, not accumulated */
    /* L = 2 mean (o - t)^2 / P = 2 * (4 + 4) / 4 / 2 = 2; dL/do = 4 (o - t) / (n P) */
    double l = mg_gan_mse_grad(o, t, g, 4, 2);
    assert_true(fabs(l - 2.0) < 1e-12);
    const float want[4] = {0, 1, 0, 1};
    for (int i = 0; i < 4; i++) assert_true(fabs(g[i] - want[i]) < 1e-7);
}

typedef double (*loss_fn)(const float *, const float *, float *, int, long, int);

/* the worst |gradient - central difference| of a loss of NB images of HW
 * pixels over P = 2 ranks, at x (restored) against y; g: its gradient */
static double loss_fd_worst(loss_fn loss, float *x, const float *y, const float *g, int NB, int HW, const char *name)
{
    float *scratch = malloc(sizeof(float) * 2 * (size_t)(NB * HW));
    double worst = 0;
    for (int i = 0; i < 2 * NB * HW; i++) {
        const float x0 = x[i], h = 1e-2f;
        x[i] = x0 + h;
        const double lp = loss(x, y, scratch, NB, HW, 2);
        x[i] = x0 - h;
        const double lm = loss(x, y, scratch, NB, HW, 2);
        x[i] = x0;
        worst = fmax(worst, fabs((lp - lm) / (2.0 * h) - g[i]));
    }
    free(scratch);
    fprintf(stderr, "%s: worst |gradient - finite difference| %.3g\n", name, worst);
    return worst;
}

/* --loss magnitude: L = mean (|o| - |t|)^2 / P, worked out by hand, and its
 * gradient against central differences of L */
static void test_mag_mse_grad(void **state)
{
    (void)state;
    /* one image of 2 pixels: |o| = (5, 1), |t| = (5, 2); L = (0 + 1) / 2;
     * dL/d|o| = 2 (|o| - |t|) / 2 = (0, -1), times (re, im) / |o| */
    const float o[4] = {3, 0, 4, 1}, t[4] = {0, 2, 5, 0}, want[4] = {0, 0, 0, -1};
    float g[4] = {9, 9, 9, 9};
    assert_true(fabs(mg_mag_mse_grad(o, t, g, 1, 2, 1) - 0.5) < 1e-6);
    for (int i = 0; i < 4; i++) assert_true(fabs(g[i] - want[i]) < 1e-6);
    /* 2 images of 12 pixels over P = 2 ranks */
    enum { NB = 2, HW = 12, NV = NB * 2 * HW };
    float x[NV], y[NV], gx[NV];
    mg_rng r;
    mg_rng_seed(&r, 11);
    for (int i = 0; i < NV; i++) x[i] = (float)mg_rng_normal(&r), y[i] = (float)mg_rng_normal(&r);
    const double l0 = mg_mag_mse_grad(x, y, gx, NB, HW, 2);
    double direct = 0; /* the loss from its definition */
    for (int i = 0; i < NB; i++)
        for (int j = 0; j < HW; j++) {
            const float *a = x + 2 * i * HW, *b = y + 2 * i * HW;
            const double d = hypot(a[j], a[j + HW]) - hypot(b[j], b[j + HW]);
            direct += d * d / (NB * HW * 2);
        }
    assert_true(fabs(l0 - direct) < 1e-6 * direct);
    assert_true(loss_fd_worst(mg_mag_mse_grad, x, y, gx, NB, HW, "magnitude loss") < 2e-4);
}

/* --loss nmse: L = mean over samples of NMSE(|o|, |t|) / P, by hand, against
 * the metric's own NMSE (src/metrics/nmse.c), a floor for a target without
 * signal, and the gradient against central differences of L */
static void test_mag_nmse_grad(void **state)
{
    (void)state;
    /* the image of test_mag_mse_grad: |o| = (5, 1), |t| = (5, 2); the
     * magnitude loss 0.5 over the target's mean square (25 + 4) / 2 */
    const float o[4] = {3, 0, 4, 1}, t[4] = {0, 2, 5, 0}, want[4] = {0, 0, 0, -1};
    float g[4] = {9, 9, 9, 9};
    assert_true(fabs(mg_mag_nmse_grad(o, t, g, 1, 2, 1) - 0.5 / 14.5) < 1e-7);
    for (int i = 0; i < 4; i++) assert_true(fabs(g[i] - want[i] / 14.5) < 1e-7);
    /* a target of zeros: the floor, so the loss is the magnitude loss / floor */
    const float z[4] = {0, 0, 0, 0};
    assert_true(fabs(mg_mag_nmse_grad(o, z, g, 1, 2, 1) - 13.0 / MG_NMSE_LOSS_FLOOR) < 1e-3 * 13.0 / MG_NMSE_LOSS_FLOOR);
    /* 3 images of 12 pixels over P = 2 ranks, targets of different energies */
    enum { NB = 3, HW = 12, NV = NB * 2 * HW };
    float x[NV], y[NV], gx[NV];
    mg_rng r;
    mg_rng_seed(&r, 12);
    for (int i = 0; i < NV; i++) x[i] = (float)mg_rng_normal(&r), y[i] = (float)((1 + i / (2 * HW)) * mg_rng_normal(&r));
    const double l0 = mg_mag_nmse_grad(x, y, gx, NB, HW, 2);
    double metric = 0;
    for (int i = 0; i < NB; i++) {
        float mo[HW], mt[HW];
        for (int j = 0; j < HW; j++) {
            const float *a = x + 2 * i * HW, *b = y + 2 * i * HW;
            mo[j] = (float)hypot(a[j], a[j + HW]);
            mt[j] = (float)hypot(b[j], b[j + HW]);
        }
        mg_nmse_acc acc = {0, 0};
        mg_nmse_add_f(&acc, mt, mo, HW);
        metric += mg_nmse_value(&acc) / (NB * 2);
    }
    assert_true(fabs(l0 - metric) < 1e-5 * metric);
    assert_true(loss_fd_worst(mg_mag_nmse_grad, x, y, gx, NB, HW, "NMSE loss") < 2e-4);
}

static void test_critic_input_layout(void **state)
{
    (void)state;
    mg_batch b;
    mg_batch_alloc(&b, 2, 1, 2, 2, 2); /* 2 samples of 2x2, conditional critic */
    float mag[8];
    for (int i = 0; i < 8; i++) b.mzmag[i] = (float)(100 + i), mag[i] = (float)i;
    mg_gan_critic_input(&b, mag);
    /* sample i: [|mz_i|, mag_i] */
    const float want[16] = {100, 101, 102, 103, 0, 1, 2, 3, 104, 105, 106, 107, 4, 5, 6, 7};
    for (int i = 0; i < 16; i++) assert_true(b.cin_buf[i] == want[i]);
    for (int i = 0; i < 16; i++) b.dcin[i] = (float)(-i);
    mg_gan_image_grad(&b);
    /* the image channel is the last: dcin 4..7 and 12..15 */
    const float wg[8] = {-4, -5, -6, -7, -12, -13, -14, -15};
    for (int i = 0; i < 8; i++) assert_true(b.dmag[i] == wg[i]);
    mg_batch_free(&b);
}

/* A batch of a smaller shape than it was allocated for: the critic sees each
 * image zero-padded into the centre of its ch x cw, and the image gradient
 * is the adjoint (the centre): <pad x, y> = <x, crop y> */
static void test_critic_input_padded(void **state)
{
    (void)state;
    mg_batch b;
    mg_batch_alloc(&b, 1, 1, 4, 6, 2); /* critic 4 x 6 */
    mg_batch_shape(&b, 1, 2, 3);       /* this step: 2 x 3 images */
    float mag[6];
    for (int i = 0; i < 6; i++) b.mzmag[i] = (float)(10 + i), mag[i] = (float)(1 + i);
    mg_gan_critic_input(&b, mag);
    /* rows 1..2, columns 1..3 of each 4 x 6 plane */
    const float want[24] = {0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 24; i++) assert_true(b.cin_buf[24 + i] == want[i]);
    assert_true(b.cin_buf[7] == 10.0f && b.cin_buf[15] == 15.0f);
    mg_rng r;
    mg_rng_seed(&r, 3);
    double lhs = 0, rhs = 0;
    for (int i = 0; i < 48; i++) b.dcin[i] = (float)mg_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < 24; i++) lhs += (double)b.cin_buf[24 + i] * b.dcin[24 + i];
    mg_gan_image_grad(&b);
    for (int i = 0; i < 6; i++) rhs += (double)mag[i] * b.dmag[i];
    assert_true(fabs(lhs - rhs) < 1e-6 * (1 + fabs(lhs)));
    mg_batch_free(&b);
}

/* ---- a generator step on a tiny network and critic ---- */
enum { C = 2, H = 64, W = 64, B = 2 };
static mg_dcinet net;
static mg_critic critic;
static mg_batch bat;
static float out0[B * 2 * H * W];

static void setup_batch(void)
{
    mg_rng r;
    mg_rng_seed(&r, 5);
    mg_batch_alloc(&bat, B, C, H, W, 2);
    for (long i = 0; i < B * bat.n; i++) {
        bat.ku[i] = (float)mg_rng_normal(&r) + I * (float)mg_rng_normal(&r);
        bat.sens[i] = (float)(0.7 * mg_rng_uniform(&r)) + I * (float)(0.1 * mg_rng_normal(&r));
    }
    for (long i = 0; i < B * H; i++) bat.mask[i] = (i % 3) == 0;
    for (long i = 0; i < B * 2 * bat.hw; i++) bat.target[i] = (float)mg_rng_normal(&r);
    for (long i = 0; i < B * bat.hw; i++) bat.mzmag[i] = (float)mg_rng_uniform(&r);
}

/* L_adv of generator output g: -(1/beta) mean over the batch of D([|mz|, |g|]) */
static double adv_loss(const float *g, double beta)
{
    float mag[B * H * W], d[B];
    mg_cmag_forward(g, mag, B, bat.hw);
    mg_gan_critic_input(&bat, mag);
    mg_critic_forward(&critic, bat.cin_buf, d, B, 1);
    return -(d[0] + d[1]) / (beta * B);
}

static double stdev(const double *x, long n)
{
    double m = 0, s = 0;
    for (long i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    for (long i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (double)n);
}

static void test_generator_step_agb(void **state)
{
    (void)state;
    const mg_dcinet_cfg cfg = {2, 1, 4, 0.2f};
    mg_dcinet_init(&net, &cfg, 3);
    assert_int_equal(mg_critic_init(&critic, 2, 4, H, W, 7), 0);
    critic.slope = 1.0f; /* smooth: central differences are accurate */
    setup_batch();
    mg_adam adam, adam_d;
    mg_adam_init(&adam, 0.0f, 0.9f, 0.999f, 1e-8f); /* lr 0: the step leaves the weights */
    mg_adam_init(&adam_d, 0.0f, 0.9f, 0.999f, 1e-8f);
    mg_agb agb;
    mg_agb_init(&agb, 4.0, 0.99, 10, 0.1, 100);
    mg_step s = {.net = &net, .critic = &critic, .adam = &adam, .adam_d = &adam_d, .agb = &agb,
                 .agb_on = 1, .clip = 1.0f, .P = 1, .Bg = B};
    mg_step_cpu(&s);
    mg_dcinet_forward(&net, bat.ku, bat.sens, bat.mask, out0, B, C, H, W);
    const long n = B * 2 * bat.hw;
    double *gm = mg_malloc_array((size_t)n, sizeof(double)), *ga = mg_malloc_array((size_t)n, sizeof(double));
    double mse = 0;
    for (long i = 0; i < n; i++) {
        double e = (double)out0[i] - bat.target[i];
        mse += e * e;
        gm[i] = 2.0 * 2.0 * e / (double)n; /* d/dG of 2 mean (G - t)^2 */
    }
    mse = 2.0 * mse / (double)n;
    /* a random direction for a directional finite difference of L_adv */
    float *g = mg_malloc_array((size_t)n, sizeof(float)), *v = mg_malloc_array((size_t)n, sizeof(float));
    mg_rng r;
    mg_rng_seed(&r, 9);
    for (long i = 0; i < n; i++) v[i] = (float)mg_rng_normal(&r);
    const double beta = agb.beta, eps = 1e-3;
    for (long i = 0; i < n; i++) g[i] = out0[i] + (float)eps * v[i];
    const double lp = adv_loss(g, beta);
    for (long i = 0; i < n; i++) g[i] = out0[i] - (float)eps * v[i];
    const double lm = adv_loss(g, beta), dir = (lp - lm) / (2 * eps);
    const double adv = adv_loss(out0, beta);
    mg_step_log lg = {0, 0, 0, 0, 0, 0, 0};
    s.generator_step(&s, &bat, &lg);
    assert_true(fabs(lg.mse - mse) < 1e-5 * mse);
    assert_true(fabs(lg.gan - adv) < 1e-4 * fabs(adv) + 1e-7);
    assert_true(fabs(lg.loss - (mse + adv)) < 1e-4 * (mse + fabs(adv)));
    /* AGB measures the std of the MSE gradient and of the (1/beta-scaled)
     * adversarial gradient w.r.t. the generated image */
    double dot = 0;
    for (long i = 0; i < n; i++) ga[i] = bat.ggan[i], dot += (double)bat.ggan[i] * v[i];
    fprintf(stderr, "directional derivative: step %.6g, finite differences %.6g\n", dot, dir);
    assert_true(fabs(dot - dir) < 0.02 * fabs(dir));
    const double sm = stdev(gm, n), sa = stdev(ga, n);
    assert_true(fabs(lg.std_mse - sm) < 1e-4 * sm);
    assert_true(fabs(lg.std_gan - sa) < 1e-4 * sa);
    /* the generator's gradient is their sum */
    double worst = 0;
    for (long i = 0; i < n; i++) worst = fmax(worst, fabs(bat.dout[i] - (gm[i] + ga[i])));
    assert_true(worst < 1e-6 * sm + 1e-12);
    /* first update of the moving averages from 0 with factor 0.99 */
    assert_true(fabs(agb.gma - 0.01 * lg.std_gan) < 1e-12 + 1e-9 * lg.std_gan);
    assert_true(fabs(agb.pma - 0.01 * lg.std_mse) < 1e-12 + 1e-9 * lg.std_mse);
    /* the generator's gradient is the sum: a larger beta shrinks the GAN part */
    mg_agb_init(&agb, 400.0, 0.99, 10, 0.1, 100);
    mg_step_log lg2 = {0, 0, 0, 0, 0, 0, 0};
    s.generator_step(&s, &bat, &lg2);
    assert_true(fabs(lg2.std_gan - lg.std_gan / 100.0) < 1e-3 * lg.std_gan / 100.0 + 1e-12);

    /* the critic step clips every critic parameter to [-clip, clip] */
    mg_adam_init(&adam_d, 0.05f, 0.9f, 0.999f, 1e-8f);
    s.clip = 0.01f;
    s.critic_step(&s, &bat, &lg);
    int inside = 1;
    for (int i = 0; i < critic.params.n; i++)
        for (long j = 0; j < critic.params.p[i]->size; j++) inside &= fabsf(critic.params.p[i]->w[j]) <= 0.01f;
    assert_true(inside);
    assert_true(isfinite(lg.w_est));
    free(g);
    free(v);
    free(gm);
    free(ga);
    mg_batch_free(&bat);
    mg_critic_free(&critic);
    mg_dcinet_free(&net);
}

/* the step takes the loss it is given: mode mse with --loss magnitude and
 * with --loss nmse (lr 0, so the weights stay as they are) */
static void test_generator_step_magnitude(void **state)
{
    (void)state;
    const int losses[2] = {MG_LOSS_MAGNITUDE, MG_LOSS_NMSE};
    const loss_fn fns[2] = {mg_mag_mse_grad, mg_mag_nmse_grad};
    const mg_dcinet_cfg cfg = {2, 1, 4, 0.2f};
    mg_dcinet_init(&net, &cfg, 3);
    setup_batch();
    for (int k = 0; k < 2; k++) {
        mg_adam adam;
        mg_adam_init(&adam, 0.0f, 0.9f, 0.999f, 1e-8f);
        mg_agb agb;
        mg_agb_init(&agb, 100.0, 0.99, 10, 0.1, 100);
        mg_step s = {.net = &net, .adam = &adam, .agb = &agb, .P = 1, .Bg = B, .loss = losses[k]};
        mg_step_cpu(&s);
        mg_dcinet_forward(&net, bat.ku, bat.sens, bat.mask, out0, B, C, H, W);
        static float g[B * 2 * H * W];
        const double want = fns[k](out0, bat.target, g, B, bat.hw, 1);
        mg_step_log lg = {0, 0, 0, 0, 0, 0, 0};
        s.generator_step(&s, &bat, &lg);
        assert_true(fabs(lg.mse - want) < 1e-6 * want);
        assert_true(memcmp(bat.dout, g, sizeof g) == 0);
    }
    mg_batch_free(&bat);
    mg_dcinet_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_critic_grad),
        cmocka_unit_test(test_mse_grad),
        cmocka_unit_test(test_mag_mse_grad),
        cmocka_unit_test(test_critic_input_layout),
        cmocka_unit_test(test_critic_input_padded),
        cmocka_unit_test(test_generator_step_agb),
        cmocka_unit_test(test_generator_step_magnitude),
        cmocka_unit_test(test_mag_nmse_grad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

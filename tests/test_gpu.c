/* GPU backend against the CPU code, op by op and model by model: outputs and
 * gradients must agree within an NMSE bound per op (strict FP32 math: TF32
 * off), and the GPU SENSE operator passes its own adjoint test. The CPU side
 * of the convolutions is the plain-loop reference (conv_ref.c), independent
 * of both oneDNN and cuDNN. Without a CUDA device (or without the backend)
 * the test reports SKIP (exit 77): it has not run on a GPU in CI. */
#include "testutil.h"

#ifndef MRGAN_HAVE_CUDA
int main(void)
{
    fprintf(stderr, "test_gpu: built without the GPU backend (MRGAN_CUDA=OFF or no nvcc): skipped\n");
    return 77;
}
#else
#include "gpu/gpu.h"
#include "train/agb.h"
#include "mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- helpers ---------------- */
static float *randv(long n, mg_rng *r, float scale)
{
    float *v = mg_malloc_array((size_t)n, sizeof(float));
    for (long i = 0; i < n; i++) v[i] = (float)(scale * mg_rng_normal(r));
    return v;
}

static float *up(const float *h, long n)
{
    float *d = mg_gpu_alloc((size_t)n);
    mg_gpu_upload(d, h, (size_t)n);
    return d;
}

static float *down(const float *d, long n)
{
    float *h = mg_malloc_array((size_t)n, sizeof(float));
    mg_gpu_download(h, d, (size_t)n);
    return h;
}

/* ||a - b||^2 / ||b||^2 */
static double nmse(const float *a, const float *b, long n)
{
    double e = 0, s = 0;
    for (long i = 0; i < n; i++) {
        e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        s += (double)b[i] * b[i];
    }
    return s > 0 ? e / s : e;
}

/* GPU buffer d against host reference h */
static void expect_close(const char *what, const float *d, const float *h, long n, double tol)
{
    float *g = down(d, n);
    double e = nmse(g, h, n);
    if (!(e <= tol)) fail_msg("%s: NMSE %.3g > %.3g", what, e, tol);
    free(g);
}

#define TOL 1e-9 /* strict FP32 on both sides: rounding-order differences only */

/* ---------------- convolution vs the plain-loop reference ---------------- */
static void conv_case(int n, int cin, int cout, int k, int stride, int pad, int h, int w)
{
    mg_rng r;
    mg_rng_seed(&r, (uint64_t)(cin * 131 + cout * 7 + k));
    const int ho = mg_conv_out(h, k, stride, pad), wo = mg_conv_out(w, k, stride, pad);
    const long nx = (long)n * cin * h * w, ny = (long)n * cout * ho * wo, nw = (long)cout * cin * k * k;
    float *x = randv(nx, &r, 1), *wt = randv(nw, &r, 0.2f), *b = randv(cout, &r, 1), *dy = randv(ny, &r, 1);
    float *y = mg_calloc((size_t)ny, sizeof(float));
    float *dx = randv(nx, &r, 1), *dw = randv(nw, &r, 1), *db = randv(cout, &r, 1); /* accumulate onto these */
    float *gx = up(x, nx), *gwt = up(wt, nw), *gb = up(b, cout), *gdy = up(dy, ny), *gy = mg_gpu_alloc((size_t)ny);
    float *gdx = up(dx, nx), *gdw = up(dw, nw), *gdb = up(db, cout);
    mg_gpu_conv *c = mg_gpu_conv_create(cin, cout, k, stride, pad);
    mg_gpu_conv_forward(c, gwt, gb, gx, gy, n, h, w);
    mg_gpu_conv_backward(c, gwt, gx, gdy, gdx, gdw, gdb, n, h, w);
    mg_conv2d_ref_forward(x, wt, b, y, n, cin, cout, h, w, k, stride, pad);
    mg_conv2d_ref_backward(x, wt, dy, dx, dw, db, n, cin, cout, h, w, k, stride, pad);
    expect_close("conv forward", gy, y, ny, TOL);
    expect_close("conv dx", gdx, dx, nx, TOL);
    expect_close("conv dw", gdw, dw, nw, TOL);
    expect_close("conv db", gdb, db, cout, TOL);
    mg_gpu_conv_free(c);
    void *fr[] = {x, wt, b, dy, y, dx, dw, db};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) free(fr[i]);
    void *gf[] = {gx, gwt, gb, gdy, gy, gdx, gdw, gdb};
    for (size_t i = 0; i < sizeof gf / sizeof gf[0]; i++) mg_gpu_free(gf[i]);
}

static void test_conv(void **state)
{
    (void)state;
    conv_case(2, 6, 40, 5, 1, 2, 24, 20); /* DCI-Net conv1 */
    conv_case(2, 40, 40, 5, 1, 2, 17, 13); /* conv2, odd sizes */
    conv_case(2, 40, 2, 5, 1, 2, 24, 20);  /* conv3, the narrow one */
    conv_case(3, 2, 8, 4, 2, 1, 32, 32);   /* critic conv */
    conv_case(1, 8, 16, 4, 2, 1, 16, 16);
}

/* ---------------- elementwise ---------------- */
static void test_elementwise(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 2);
    const int n = 3;
    const long hw = 37 * 11, N = 2L * n * hw;
    float *x = randv(N, &r, 1), *dy = randv(N, &r, 1), *acc = randv(N, &r, 1);
    float *gx = up(x, N), *gdy = up(dy, N), *gacc = up(acc, N), *gy = mg_gpu_alloc((size_t)N);
    float *y = mg_malloc_array((size_t)N, sizeof(float));
    /* leaky */
    mg_leaky_forward(x, y, N, 0.2f);
    mg_gpu_leaky_forward(gx, gy, N, 0.2f);
    expect_close("leaky forward", gy, y, N, 0);
    mg_leaky_backward(y, dy, acc, N, 0.2f);
    mg_gpu_leaky_backward(gy, gdy, gacc, N, 0.2f);
    expect_close("leaky backward", gacc, acc, N, TOL); /* the GPU may fuse into an FMA */
    /* leaky_mul: g *= leaky'(y), CPU: the same loop as dcinet.c */
    float *g = mg_malloc_array((size_t)N, sizeof(float));
    memcpy(g, dy, sizeof(float) * (size_t)N);
    for (long i = 0; i < N; i++) g[i] *= y[i] > 0 ? 1.0f : 0.2f;
    mg_gpu_leaky_mul(gy, gdy, N, 0.2f);
    expect_close("leaky mul", gdy, g, N, 0);
    /* cmag */
    float *m = mg_malloc_array((size_t)(n * hw), sizeof(float)), *gm = mg_gpu_alloc((size_t)(n * hw));
    mg_cmag_forward(x, m, n, hw);
    mg_gpu_cmag_forward(gx, gm, n, hw);
    expect_close("cmag forward", gm, m, n * hw, TOL);
    float *dm = randv(n * hw, &r, 1), *gdm = up(dm, n * hw);
    mg_cmag_backward(x, dm, acc, n, hw);
    mg_gpu_cmag_backward(gx, gdm, gacc, n, hw);
    expect_close("cmag backward", gacc, acc, N, TOL);
    /* concat: 2 channels at offset 2 of 6 */
    const long nc = (long)n * 6 * hw;
    float *cat = mg_calloc((size_t)nc, sizeof(float)), *gcat = mg_gpu_alloc((size_t)nc);
    mg_concat_forward(x, cat, n, 2, 6, 2, hw);
    mg_gpu_concat_forward(gx, gcat, n, 2, 6, 2, hw);
    expect_close("concat forward", gcat, cat, nc, 0);
    float *dc = randv(nc, &r, 1), *gdc = up(dc, nc);
    mg_concat_backward(dc, acc, n, 2, 6, 2, hw);
    mg_gpu_concat_backward(gdc, gacc, n, 2, 6, 2, hw);
    expect_close("concat backward", gacc, acc, N, TOL);
    /* MSE, std, sum, dot */
    float *gdy2 = up(dy, N);
    double e = mg_mse_forward(x, dy, N), ge = mg_gpu_mse_forward(gx, gdy2, N);
    assert_true(fabs(e - ge) <= 1e-6 * e);
    mg_mse_backward(x, dy, acc, N, 0.7f);
    mg_gpu_mse_backward(gx, gdy2, gacc, N, 0.7f);
    expect_close("mse backward", gacc, acc, N, TOL);
    double s = 0;
    for (long i = 0; i < N; i++) s += x[i];
    assert_true(fabs(mg_gpu_sum(gx, N) - s) <= 1e-6 * (fabs(s) + 1));
    double sd = mg_std(x, N);
    assert_true(fabs(mg_gpu_std(gx, N) - sd) <= 1e-6 * sd);
    double ss = 0;
    for (long i = 0; i < N; i++) ss += (double)x[i] * x[i];
    assert_true(fabs(mg_gpu_sumsq(gx, N) - ss) <= 1e-6 * ss);
    double dot = 0;
    for (long i = 0; i < N; i++) dot += (double)x[i] * dy[i];
    float *gs = mg_gpu_alloc(1), hs;
    mg_gpu_dot_acc(gx, gdy2, N, -2.0f, gs);
    mg_gpu_download(&hs, gs, 1);
    assert_true(fabs(hs + 2 * dot) <= 1e-5 * (fabs(dot) + 1));
    free(x); free(dy); free(acc); free(y); free(g); free(m); free(dm); free(cat); free(dc);
    void *gf[] = {gx, gdy, gacc, gy, gm, gdm, gcat, gdc, gdy2, gs};
    for (size_t i = 0; i < sizeof gf / sizeof gf[0]; i++) mg_gpu_free(gf[i]);
}

/* ---------------- batch norm and linear ---------------- */
static void test_bn_linear(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 3);
    mg_params ps = {0};
    mg_batchnorm bn;
    const int n = 3, c = 5, h = 9, w = 7;
    const long N = (long)n * c * h * w;
    mg_batchnorm_init(&bn, &ps, "bn", c);
    for (int i = 0; i < c; i++) {
        bn.gamma->w[i] = (float)(1 + 0.3 * mg_rng_normal(&r));
        bn.beta->w[i] = (float)mg_rng_normal(&r);
    }
    mg_gpu_params gp;
    mg_gpu_params_init(&gp, &ps);
    mg_gpu_bn gbn;
    mg_gpu_bn_init(&gbn, &bn);
    float *x = randv(N, &r, 2), *dy = randv(N, &r, 1), *y = mg_malloc_array((size_t)N, sizeof(float));
    float *dx = randv(N, &r, 1), *gx = up(x, N), *gdy = up(dy, N), *gy = mg_gpu_alloc((size_t)N), *gdx = up(dx, N);
    for (int rep = 0; rep < 2; rep++) { /* twice: running statistics accumulate */
        mg_batchnorm_forward(&bn, x, y, n, h, w, 1);
        mg_gpu_bn_forward(&gbn, mg_gpu_param_w(&gp, bn.gamma), mg_gpu_param_w(&gp, bn.beta), gx, gy, n, h, w, 1);
    }
    expect_close("bn forward (train)", gy, y, N, TOL);
    mg_batchnorm_backward(&bn, x, dy, dx, n, h, w);
    mg_gpu_bn_backward(&gbn, mg_gpu_param_w(&gp, bn.gamma), gx, gdy, gdx, mg_gpu_param_g(&gp, bn.gamma),
                       mg_gpu_param_g(&gp, bn.beta), n, h, w);
    expect_close("bn dx", gdx, dx, N, TOL);
    expect_close("bn dgamma", mg_gpu_param_g(&gp, bn.gamma), bn.gamma->g, c, TOL);
    expect_close("bn dbeta", mg_gpu_param_g(&gp, bn.beta), bn.beta->g, c, TOL);
    expect_close("bn running mean", gbn.run_mean, bn.run_mean, c, TOL);
    expect_close("bn running var", gbn.run_var, bn.run_var, c, TOL);
    mg_batchnorm_forward(&bn, x, y, n, h, w, 0);
    mg_gpu_bn_forward(&gbn, mg_gpu_param_w(&gp, bn.gamma), mg_gpu_param_w(&gp, bn.beta), gx, gy, n, h, w, 0);
    expect_close("bn forward (eval)", gy, y, N, TOL);
    mg_gpu_bn_free(&gbn);
    mg_gpu_params_free(&gp);
    mg_batchnorm_free(&bn);
    mg_params_free(&ps);

    /* linear: 4 samples, 300 -> 3 */
    mg_linear l;
    mg_linear_init(&l, &ps, "fc", 300, 3, &r);
    mg_gpu_params_init(&gp, &ps);
    float *lx = randv(4 * 300, &r, 1), *ly = mg_malloc_array(12, sizeof(float)), *ldy = randv(12, &r, 1);
    float *ldx = randv(4 * 300, &r, 1), *glx = up(lx, 1200), *gly = mg_gpu_alloc(12), *gldy = up(ldy, 12);
    float *gldx = up(ldx, 1200);
    mg_linear_forward(&l, lx, ly, 4);
    mg_gpu_linear_forward(mg_gpu_param_w(&gp, l.weight), mg_gpu_param_w(&gp, l.bias), glx, gly, 4, 300, 3);
    expect_close("linear forward", gly, ly, 12, TOL);
    mg_linear_backward(&l, lx, ldy, ldx, 4);
    mg_gpu_linear_backward(mg_gpu_param_w(&gp, l.weight), glx, gldy, gldx, mg_gpu_param_g(&gp, l.weight),
                           mg_gpu_param_g(&gp, l.bias), 4, 300, 3);
    expect_close("linear dx", gldx, ldx, 1200, TOL);
    expect_close("linear dW", mg_gpu_param_g(&gp, l.weight), l.weight->g, 900, TOL);
    expect_close("linear db", mg_gpu_param_g(&gp, l.bias), l.bias->g, 3, TOL);
    /* Adam and clipping on these parameters (gradients as computed) */
    mg_adam a, ga;
    mg_adam_init(&a, 1e-2f, 0.5f, 0.9f, 1e-8f);
    ga = a;
    for (int s = 0; s < 3; s++) {
        mg_adam_step(&a, &ps);
        mg_gpu_adam_step(&ga, &gp);
    }
    mg_clip_weights(&ps, 0.03f);
    mg_gpu_clip_weights(&gp, 0.03f);
    expect_close("adam + clip weights", mg_gpu_param_w(&gp, l.weight), l.weight->w, 900, 1e-10);
    expect_close("adam moment v", gp.v + gp.off[0], l.weight->v, 900, 1e-10);
    assert_int_equal(a.t, ga.t);
    mg_gpu_params_free(&gp);
    mg_params_free(&ps);
    free(x); free(dy); free(y); free(dx); free(lx); free(ly); free(ldy); free(ldx);
    void *gf[] = {gx, gdy, gy, gdx, glx, gly, gldy, gldx};
    for (size_t i = 0; i < sizeof gf / sizeof gf[0]; i++) mg_gpu_free(gf[i]);
}

/* ---------------- the SENSE operator and the DC unit ---------------- */
static void sense_case(int n, int C, int H, int W)
{
    mg_rng r;
    mg_rng_seed(&r, (uint64_t)(H * 1000 + W));
    const long hw = (long)H * W, nk = (long)n * C * hw;
    cfloat *sens = mg_malloc_array((size_t)nk, sizeof(cfloat)), *ku = mg_malloc_array((size_t)nk, sizeof(cfloat));
    float *mask = mg_malloc_array((size_t)(n * H), sizeof(float));
    tu_randn_c(sens, (size_t)nk, &r);
    tu_randn_c(ku, (size_t)nk, &r);
    for (int s = 0; s < n; s++) {
        for (int i = 0; i < H; i++) mask[s * H + i] = mg_rng_uniform(&r) < 0.5 ? 1.0f : 0.0f;
        mg_mask_apply(ku + (long)s * C * hw, mask + s * H, C, H, W);
    }
    float *x = randv(2L * n * hw, &r, 1);
    float *gsens = up((float *)sens, 2 * nk), *gku = up((float *)ku, 2 * nk), *gmask = up(mask, n * H);
    float *gx = up(x, 2L * n * hw), *gk = mg_gpu_alloc((size_t)(2 * nk)), *gy = mg_gpu_alloc((size_t)(2 * n * hw));
    mg_gpu_sense *A = mg_gpu_sense_create(n, C, H, W);
    cfloat *img = mg_malloc_array((size_t)hw, sizeof(cfloat)), *k = mg_malloc_array((size_t)nk, sizeof(cfloat));
    float *planes = mg_malloc_array((size_t)(2 * n * hw), sizeof(float));
    /* A x against mg_sense_forward */
    mg_gpu_sense_forward(A, gx, gsens, gmask, gk);
    for (int s = 0; s < n; s++) {
        mg_planes2c(x + 2 * s * hw, img, hw);
        mg_sense_forward(img, sens + (long)s * C * hw, mask + s * H, k + (long)s * C * hw, C, H, W);
    }
    expect_close("A x", gk, (float *)k, 2 * nk, 1e-10);
    /* A^H ku against mg_sense_adjoint */
    mg_gpu_sense_adjoint(A, gku, gsens, gmask, gy);
    for (int s = 0; s < n; s++) {
        mg_sense_adjoint(ku + (long)s * C * hw, sens + (long)s * C * hw, mask + s * H, img, NULL, C, H, W);
        mg_c2planes(img, planes + 2 * s * hw, hw);
    }
    expect_close("A^H ku", gy, planes, 2 * n * hw, 1e-10);
    /* adjoint test on the GPU operator alone: <A x, ku> = <x, A^H ku> (real parts) */
    float *Ax = down(gk, 2 * nk), *AHk = down(gy, 2 * n * hw);
    double l = 0, rr = 0;
    for (long i = 0; i < 2 * nk; i++) l += (double)Ax[i] * ((float *)ku)[i];
    for (long i = 0; i < 2 * n * hw; i++) rr += (double)x[i] * AHk[i];
    assert_true(fabs(l - rr) <= 1e-5 * (fabs(l) + fabs(rr)));
    /* DC forward: r = A^H (A x - ku), y = x - lam r, against the CPU pieces */
    float lam = 0.37f, *glam = up(&lam, 1), *gr = mg_gpu_alloc((size_t)(2 * n * hw));
    float *ref_r = mg_malloc_array((size_t)(2 * n * hw), sizeof(float)), *ref_y = mg_malloc_array((size_t)(2 * n * hw), sizeof(float));
    for (int s = 0; s < n; s++) {
        cfloat *ks = k + (long)s * C * hw; /* A x from above */
        for (long i = 0; i < C * hw; i++) ks[i] -= ku[(long)s * C * hw + i];
        mg_sense_adjoint(ks, sens + (long)s * C * hw, mask + s * H, img, NULL, C, H, W);
        mg_c2planes(img, ref_r + 2 * s * hw, hw);
    }
    for (long i = 0; i < 2 * n * hw; i++) ref_y[i] = x[i] - lam * ref_r[i];
    mg_gpu_dc_forward(A, gx, gku, gsens, gmask, glam, gr, gy);
    expect_close("DC r", gr, ref_r, 2 * n * hw, 1e-10);
    expect_close("DC y", gy, ref_y, 2 * n * hw, 1e-10);
    mg_gpu_sense_free(A);
    free(sens); free(ku); free(mask); free(x); free(img); free(k); free(planes); free(Ax); free(AHk);
    free(ref_r); free(ref_y);
    void *gf[] = {gsens, gku, gmask, gx, gk, gy, glam, gr};
    for (size_t i = 0; i < sizeof gf / sizeof gf[0]; i++) mg_gpu_free(gf[i]);
}

static void test_sense(void **state)
{
    (void)state;
    sense_case(2, 3, 16, 12); /* even sizes */
    sense_case(1, 4, 15, 9);  /* odd sizes: explicit shifts */
    sense_case(2, 8, 64, 48);
}

/* ---------------- DCI-Net and critic, whole models ---------------- */
static void dcinet_case(int n, int C, int H, int W, int tf32, double tol)
{
    mg_gpu_set_tf32(tf32);
    const mg_dcinet_cfg cfg = {4, 2, 8, 0.2f};
    mg_dcinet net;
    mg_dcinet_init(&net, &cfg, 11);
    for (int b = 0; b < cfg.blocks; b++) net.lambda[b]->w[0] = 0.5f + 0.1f * (float)b;
    mg_rng r;
    mg_rng_seed(&r, 5);
    const long hw = (long)H * W, nk = (long)n * C * hw, nimg = 2L * n * hw;
    cfloat *sens = mg_malloc_array((size_t)nk, sizeof(cfloat)), *ku = mg_malloc_array((size_t)nk, sizeof(cfloat));
    cfloat *dku = mg_calloc((size_t)nk, sizeof(cfloat));
    float *mask = mg_malloc_array((size_t)(n * H), sizeof(float));
    for (int s = 0; s < n; s++) {
        mg_birdcage_maps(sens + (long)s * C * hw, C, H, W, 1.5, 0.3 * s);
        mg_mask_vd(mask + s * H, H, 2.0, 4, 7 + (uint64_t)s);
    }
    tu_randn_c(ku, (size_t)nk, &r);
    for (int s = 0; s < n; s++) mg_mask_apply(ku + (long)s * C * hw, mask + s * H, C, H, W);
    float *out = mg_malloc_array((size_t)nimg, sizeof(float)), *dout = randv(nimg, &r, 1);
    mg_gpu_dcinet *g = mg_gpu_dcinet_create(&net);
    float *gsens = up((float *)sens, 2 * nk), *gku = up((float *)ku, 2 * nk), *gmask = up(mask, n * H);
    float *gout = mg_gpu_alloc((size_t)nimg), *gdout = up(dout, nimg), *gdku = mg_gpu_alloc((size_t)(2 * nk));
    mg_dcinet_forward(&net, ku, sens, mask, out, n, C, H, W);
    mg_gpu_dcinet_forward(g, gku, gsens, gmask, gout, n, C, H, W);
    expect_close("DCI-Net forward", gout, out, nimg, tol);
    mg_params_zero_grad(&net.params);
    mg_dcinet_backward(&net, dout, dku);
    mg_gpu_params_zero_grad(mg_gpu_dcinet_params(g));
    mg_gpu_dcinet_backward(g, gdout, gdku);
    mg_gpu_params *gp = mg_gpu_dcinet_params(g);
    for (int i = 0; i < net.params.n; i++) {
        const mg_param *p = net.params.p[i];
        char what[160];
        snprintf(what, sizeof what, "DCI-Net gradient %s", p->name);
        expect_close(what, mg_gpu_param_g(gp, p), p->g, p->size, tol * 10);
    }
    expect_close("DCI-Net d ku", gdku, (float *)dku, 2 * nk, tol * 10);
    /* host-in host-out inference equals the device forward */
    float *out2 = mg_malloc_array((size_t)nimg, sizeof(float));
    mg_gpu_dcinet_infer(g, ku, sens, mask, out2, n, C, H, W);
    assert_true(nmse(out2, out, nimg) <= tol);
    mg_gpu_dcinet_free(g);
    mg_dcinet_free(&net);
    free(sens); free(ku); free(dku); free(mask); free(out); free(dout); free(out2);
    void *gf[] = {gsens, gku, gmask, gout, gdout, gdku};
    for (size_t i = 0; i < sizeof gf / sizeof gf[0]; i++) mg_gpu_free(gf[i]);
    mg_gpu_set_tf32(1);
}

static void test_dcinet(void **state)
{
    (void)state;
    dcinet_case(2, 4, 32, 24, 0, 1e-9);
    dcinet_case(1, 3, 21, 17, 0, 1e-9);
    dcinet_case(2, 4, 32, 24, 1, 1e-4); /* TF32 tensor cores: 10-bit mantissas */
}

static void test_critic(void **state)
{
    (void)state;
    mg_gpu_set_tf32(0);
    mg_critic d;
    const int n = 3, S = 32;
    assert_int_equal(mg_critic_init(&d, 2, 4, S, S, 9), 0);
    mg_rng r;
    mg_rng_seed(&r, 6);
    const long nx = (long)n * 2 * S * S;
    float *x = randv(nx, &r, 1), *out = mg_malloc_array(n, sizeof(float)), dout[3] = {0.3f, -1.1f, 0.6f};
    float *dx = mg_calloc((size_t)nx, sizeof(float));
    mg_gpu_critic *g = mg_gpu_critic_create(&d);
    float *gx = up(x, nx), *gout = mg_gpu_alloc(n), *gdout = up(dout, n), *gdx = mg_gpu_alloc((size_t)nx);
    for (int pass = 0; pass < 2; pass++) { /* the second pass sees updated running statistics */
        mg_critic_forward(&d, x, out, n, 1);
        mg_gpu_critic_forward(g, gx, gout, n, 1);
    }
    expect_close("critic forward", gout, out, n, TOL);
    mg_params_zero_grad(&d.params);
    mg_critic_backward(&d, dout, dx);
    mg_gpu_params_zero_grad(mg_gpu_critic_params(g));
    mg_gpu_critic_backward(g, gdout, gdx);
    expect_close("critic dx", gdx, dx, nx, 1e-9);
    mg_gpu_params *gp = mg_gpu_critic_params(g);
    for (int i = 0; i < d.params.n; i++) {
        const mg_param *p = d.params.p[i];
        char what[160];
        snprintf(what, sizeof what, "critic gradient %s", p->name);
        expect_close(what, mg_gpu_param_g(gp, p), p->g, p->size, 1e-9);
    }
    mg_critic_forward(&d, x, out, n, 0); /* eval mode: running statistics */
    mg_gpu_critic_forward(g, gx, gout, n, 0);
    expect_close("critic forward (eval)", gout, out, n, TOL);
    /* download brings the device state to the host copy */
    float rv = d.bn[2].run_var[1];
    d.bn[2].run_var[1] = -5;
    mg_gpu_critic_download(g);
    assert_true(fabsf(d.bn[2].run_var[1] - rv) <= 1e-6f * fabsf(rv));
    mg_gpu_critic_free(g);
    mg_critic_free(&d);
    free(x); free(out); free(dx);
    void *gf[] = {gx, gout, gdout, gdx};
    for (size_t i = 0; i < sizeof gf / sizeof gf[0]; i++) mg_gpu_free(gf[i]);
    mg_gpu_set_tf32(1);
}

static int setup(void **state)
{
    (void)state;
    mg_gpu_set_tf32(0);
    return 0;
}

int main(void)
{
    if (mg_gpu_init(-1)) {
        fprintf(stderr, "test_gpu: %s: skipped (not run on a GPU)\n", mg_error());
        return 77;
    }
    fprintf(stderr, "test_gpu: %s\n", mg_gpu_name());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_conv, setup),
        cmocka_unit_test_setup(test_elementwise, setup),
        cmocka_unit_test_setup(test_bn_linear, setup),
        cmocka_unit_test_setup(test_sense, setup),
        cmocka_unit_test(test_dcinet),
        cmocka_unit_test(test_critic),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mg_gpu_release();
    return rc;
}
#endif

/* Every layer's backward against central finite differences of its forward
 * (loss L = <r, f(x)> with a random r), and the oneDNN convolution against
 * the plain reference loops. */
#include "testutil.h"
#include "nn/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef void (*fwd_fn)(void *ctx, float *y); /* reads its inputs from ctx */

/* Checks d/dv L for `count` entries of v (spread over it) against the
 * analytic gradient g. */
static void fd_check(const char *what, fwd_fn f, void *ctx, float *v, const float *g, long nv,
                     const float *r, long ny, double eps, double tol)
{
    float *y = mg_malloc_array((size_t)ny, sizeof(float));
    long step = nv > 24 ? nv / 24 : 1;
    double worst = 0;
    for (long i = 0; i < nv; i += step) {
        float save = v[i];
        v[i] = (float)(save + eps);
        f(ctx, y);
        double lp = 0;
        for (long j = 0; j < ny; j++) lp += (double)r[j] * y[j];
        v[i] = (float)(save - eps);
        f(ctx, y);
        double lm = 0;
        for (long j = 0; j < ny; j++) lm += (double)r[j] * y[j];
        v[i] = save;
        double num = (lp - lm) / (2 * eps);
        double err = fabs(num - g[i]) / fmax(fmax(fabs(num), fabs(g[i])), 1e-2);
        if (err > worst) worst = err;
        if (err > tol) fail_msg("%s: entry %ld numeric %g analytic %g", what, i, num, (double)g[i]);
    }
    free(y);
}

static void randu(float *x, long n, mg_rng *r, float a)
{
    for (long i = 0; i < n; i++) x[i] = (float)(a * (2 * mg_rng_uniform(r) - 1));
}

/* ---------------- conv ---------------- */
typedef struct { mg_conv2d *c; float *x; int n, h, w; } conv_ctx;
static void conv_f(void *p, float *y)
{
    conv_ctx *c = p;
    mg_conv2d_forward(c->c, c->x, y, c->n, c->h, c->w);
}

static void check_conv(int cin, int cout, int k, int s, int pad, int bias, int n, int h, int w)
{
    mg_params ps = {0};
    mg_rng r;
    mg_rng_seed(&r, (uint64_t)(cin * 100 + cout * 10 + k));
    mg_conv2d c;
    mg_conv2d_init(&c, &ps, "c", cin, cout, k, s, pad, bias, &r);
    const int oh = mg_conv_out(h, k, s, pad), ow = mg_conv_out(w, k, s, pad);
    const long nx = (long)n * cin * h * w, ny = (long)n * cout * oh * ow;
    float *x = mg_malloc_array((size_t)nx, sizeof(float)), *y = mg_malloc_array((size_t)ny, sizeof(float));
    float *yr = mg_malloc_array((size_t)ny, sizeof(float)), *dy = mg_malloc_array((size_t)ny, sizeof(float));
    float *dx = mg_calloc((size_t)nx, sizeof(float)), *dxr = mg_calloc((size_t)nx, sizeof(float));
    float *dwr = mg_calloc((size_t)c.weight->size, sizeof(float)), *dbr = mg_calloc((size_t)cout, sizeof(float));
    randu(x, nx, &r, 1);
    randu(dy, ny, &r, 1);
    mg_conv2d_forward(&c, x, y, n, h, w);
    mg_conv2d_ref_forward(x, c.weight->w, bias ? c.bias->w : NULL, yr, n, cin, cout, h, w, k, s, pad);
    for (long i = 0; i < ny; i++)
        if (fabsf(y[i] - yr[i]) > 1e-4f * (1 + fabsf(yr[i]))) fail_msg("conv fwd %ld: %g vs %g", i, (double)y[i], (double)yr[i]);
    for (long i = 0; i < nx; i++) dx[i] = dxr[i] = 0.5f; /* backward accumulates */
    mg_conv2d_backward(&c, x, dy, dx, n, h, w);
    mg_conv2d_ref_backward(x, c.weight->w, dy, dxr, dwr, bias ? dbr : NULL, n, cin, cout, h, w, k, s, pad);
    for (long i = 0; i < nx; i++)
        if (fabsf(dx[i] - dxr[i]) > 1e-4f * (1 + fabsf(dxr[i]))) fail_msg("conv dx %ld: %g vs %g", i, (double)dx[i], (double)dxr[i]);
    for (long i = 0; i < c.weight->size; i++)
        if (fabsf(c.weight->g[i] - dwr[i]) > 1e-3f * (1 + fabsf(dwr[i]))) fail_msg("conv dw %ld: %g vs %g", i, (double)c.weight->g[i], (double)dwr[i]);
    if (bias)
        for (int i = 0; i < cout; i++) assert_true(fabsf(c.bias->g[i] - dbr[i]) < 1e-3f * (1 + fabsf(dbr[i])));
    /* finite differences of the forward for x, weights and bias */
    conv_ctx ctx = {&c, x, n, h, w};
    for (long i = 0; i < nx; i++) dx[i] -= 0.5f;
    fd_check("conv x", conv_f, &ctx, x, dx, nx, dy, ny, 1e-2, 2e-2);
    fd_check("conv w", conv_f, &ctx, c.weight->w, c.weight->g, c.weight->size, dy, ny, 1e-2, 2e-2);
    if (bias) fd_check("conv b", conv_f, &ctx, c.bias->w, c.bias->g, cout, dy, ny, 1e-2, 2e-2);
    mg_conv2d_free(&c);
    mg_params_free(&ps);
    free(x); free(y); free(yr); free(dy); free(dx); free(dxr); free(dwr); free(dbr);
}

/* plain n x c x hw -> nChw16c (channels padded to 16 with zeros) or nhwc,
 * written out from oneDNN's definitions: element (i, ch, p) at
 * ((i*CB + ch/16)*hw + p)*16 + ch%16, or at (i*hw + p)*c + ch */
static long lay_index(int lay, int c, long hw, int i, int ch, long p)
{
    if (lay == MG_LAYOUT_NHWC) return ((long)i * hw + p) * c + ch;
    const int cp = mg_blk_channels(c);
    return (((long)i * (cp / 16) + ch / 16) * hw + p) * 16 + ch % 16;
}

static float *to_lay(const float *x, int n, int c, long hw, int lay)
{
    float *b = mg_calloc((size_t)n * (size_t)mg_layout_channels(lay, c) * (size_t)hw, sizeof(float));
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (long p = 0; p < hw; p++) b[lay_index(lay, c, hw, i, ch, p)] = x[((long)i * c + ch) * hw + p];
    return b;
}

static float lay_at(const float *b, int lay, int c, long hw, int i, int ch, long p)
{
    return b[lay_index(lay, c, hw, i, ch, p)];
}

/* The same convolution with blocked activations (input, output or both) gives
 * the plain layout's results: forward, dx (accumulated) and dw. */
static void check_conv_blocked_at(int cin, int cout, int bs, int bd, int n, int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad);
    const long hw = (long)h * w, ohw = (long)oh * ow, nx = (long)n * cin * hw, ny = (long)n * cout * ohw;
    mg_params pa = {0}, pb = {0};
    mg_rng r;
    mg_rng_seed(&r, 21);
    mg_conv2d a, b;
    mg_conv2d_init(&a, &pa, "a", cin, cout, k, 1, pad, 1, &r);
    mg_rng_seed(&r, 21);
    mg_conv2d_init(&b, &pb, "a", cin, cout, k, 1, pad, 1, &r);
    b.lay_src = bs, b.lay_dst = bd;
    float *x = mg_malloc_array((size_t)nx, sizeof(float)), *dy = mg_malloc_array((size_t)ny, sizeof(float));
    float *y = mg_malloc_array((size_t)ny, sizeof(float)), *dx = mg_calloc((size_t)nx, sizeof(float));
    randu(x, nx, &r, 1);
    randu(dy, ny, &r, 1);
    mg_conv2d_forward(&a, x, y, n, h, w);
    mg_conv2d_backward(&a, x, dy, dx, n, h, w);
    const int cpi = mg_layout_channels(bs, cin), cpo = mg_layout_channels(bd, cout);
    float *xb = bs ? to_lay(x, n, cin, hw, bs) : x, *dyb = bd ? to_lay(dy, n, cout, ohw, bd) : dy;
    float *yb = mg_calloc((size_t)n * (size_t)cpo * (size_t)ohw, sizeof(float));
    float *dxb = mg_calloc((size_t)n * (size_t)cpi * (size_t)hw, sizeof(float));
    mg_conv2d_forward(&b, xb, yb, n, h, w);
    mg_conv2d_backward(&b, xb, dyb, dxb, n, h, w);
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < cpo; ch++)
            for (long p = 0; p < ohw; p++) {
                float got = bd ? lay_at(yb, bd, cout, ohw, i, ch, p) : yb[((long)i * cout + ch) * ohw + p];
                float want = ch < cout ? y[((long)i * cout + ch) * ohw + p] : 0.0f; /* padding stays zero */
                if (fabsf(got - want) > 1e-4f * (1 + fabsf(want))) fail_msg("blocked y (%d,%d,%ld): %g vs %g", i, ch, p, (double)got, (double)want);
            }
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < cpi; ch++)
            for (long p = 0; p < hw; p++) {
                float got = bs ? lay_at(dxb, bs, cin, hw, i, ch, p) : dxb[((long)i * cin + ch) * hw + p];
                float want = ch < cin ? dx[((long)i * cin + ch) * hw + p] : 0.0f;
                if (fabsf(got - want) > 1e-4f * (1 + fabsf(want))) fail_msg("blocked dx (%d,%d,%ld): %g vs %g", i, ch, p, (double)got, (double)want);
            }
    for (long i = 0; i < a.weight->size; i++)
        if (fabsf(a.weight->g[i] - b.weight->g[i]) > 1e-4f * (1 + fabsf(a.weight->g[i]))) fail_msg("blocked dw %ld", i);
    /* and both against the plain loops: dw, db */
    float *dxr = mg_calloc((size_t)nx, sizeof(float)), *dwr = mg_calloc((size_t)a.weight->size, sizeof(float));
    float *dbr = mg_calloc((size_t)cout, sizeof(float));
    mg_conv2d_ref_backward(x, a.weight->w, dy, dxr, dwr, dbr, n, cin, cout, h, w, k, 1, pad);
    for (long i = 0; i < a.weight->size; i++)
        if (fabsf(b.weight->g[i] - dwr[i]) > 1e-4f * (1 + fabsf(dwr[i])))
            fail_msg("blocked dw %ld: %g vs reference %g", i, (double)b.weight->g[i], (double)dwr[i]);
    for (int o = 0; o < cout; o++)
        if (fabsf(b.bias->g[o] - dbr[o]) > 1e-4f * (1 + fabsf(dbr[o])) ||
            fabsf(a.bias->g[o] - dbr[o]) > 1e-4f * (1 + fabsf(dbr[o])))
            fail_msg("db %d: %g (blocked), %g (plain) vs reference %g", o, (double)b.bias->g[o], (double)a.bias->g[o],
                     (double)dbr[o]);
    free(dxr); free(dwr); free(dbr);
    if (bs) free(xb);
    if (bd) free(dyb);
    free(x); free(dy); free(y); free(dx); free(yb); free(dxb);
    mg_conv2d_free(&a);
    mg_conv2d_free(&b);
    mg_params_free(&pa);
    mg_params_free(&pb);
}

static void check_conv_blocked(int cin, int cout, int bs, int bd)
{
    check_conv_blocked_at(cin, cout, bs, bd, 2, 9, 7, 5, 2);
}

/* mg_conv2d_backward_act: dx overwritten with leaky'(act) * (the data
 * gradient), against the plain loops; dx starts as garbage (overwritten,
 * not accumulated), blocked padding comes out zero; dw, db as usual. The
 * paths: the blocked direct kernel (few outputs), oneDNN blocked and plain,
 * and the plain direct kernel (few inputs). */
static void check_conv_act(int cin, int cout, int bs, int bd, int n, int h, int w)
{
    const int k = 5, pad = 2;
    const long hw = (long)h * w, nx = (long)n * cin * hw, ny = (long)n * cout * hw;
    const float slope = 0.2f;
    mg_params ps = {0};
    mg_rng r;
    mg_rng_seed(&r, 31);
    mg_conv2d c;
    mg_conv2d_init(&c, &ps, "c", cin, cout, k, 1, pad, 1, &r);
    c.lay_src = bs, c.lay_dst = bd;
    float *x = mg_malloc_array((size_t)nx, sizeof(float)), *act = mg_malloc_array((size_t)nx, sizeof(float));
    float *dy = mg_malloc_array((size_t)ny, sizeof(float));
    randu(x, nx, &r, 1);
    randu(act, nx, &r, 1);
    randu(dy, ny, &r, 1);
    float *dxr = mg_calloc((size_t)nx, sizeof(float)), *dwr = mg_calloc((size_t)c.weight->size, sizeof(float));
    float *dbr = mg_calloc((size_t)cout, sizeof(float));
    mg_conv2d_ref_backward(x, c.weight->w, dy, dxr, dwr, dbr, n, cin, cout, h, w, k, 1, pad);
    const int cpi = mg_layout_channels(bs, cin);
    float *xb = bs ? to_lay(x, n, cin, hw, bs) : x, *ab = bs ? to_lay(act, n, cin, hw, bs) : act;
    float *dyb = bd ? to_lay(dy, n, cout, hw, bd) : dy;
    const long nxb = (long)n * cpi * hw;
    float *dx = mg_malloc_array((size_t)nxb, sizeof(float));
    for (long i = 0; i < nxb; i++) dx[i] = 7.0f;
    mg_conv2d_backward_act(&c, xb, dyb, dx, ab, slope, n, h, w);
    long neg = 0;
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < cpi; ch++)
            for (long p = 0; p < hw; p++) {
                const float got = bs ? lay_at(dx, bs, cin, hw, i, ch, p) : dx[((long)i * cin + ch) * hw + p];
                float want = 0.0f;
                if (ch < cin) {
                    const long q = ((long)i * cin + ch) * hw + p;
                    want = act[q] > 0 ? dxr[q] : slope * dxr[q];
                    neg += act[q] < 0;
                }
                if (fabsf(got - want) > 1e-4f * (1 + fabsf(want)))
                    fail_msg("act dx %d->%d (%d,%d,%ld): %g vs %g", cin, cout, i, ch, p, (double)got, (double)want);
            }
    assert_true(neg > nx / 10 && neg < nx - nx / 10); /* both branches */
    for (long i = 0; i < c.weight->size; i++)
        if (fabsf(c.weight->g[i] - dwr[i]) > 1e-4f * (1 + fabsf(dwr[i]))) fail_msg("act dw %ld", i);
    for (int o = 0; o < cout; o++)
        if (fabsf(c.bias->g[o] - dbr[o]) > 1e-4f * (1 + fabsf(dbr[o]))) fail_msg("act db %d", o);
    if (bs) free(xb), free(ab);
    if (bd) free(dyb);
    free(x); free(act); free(dy); free(dxr); free(dwr); free(dbr); free(dx);
    mg_conv2d_free(&c);
    mg_params_free(&ps);
}

static void test_conv_backward_act(void **s)
{
    (void)s;
    check_conv_act(40, 2, 1, 0, 2, 13, 37); /* conv3: blocked direct kernel, interior blocks */
    check_conv_act(20, 20, 1, 1, 2, 9, 11); /* conv2: oneDNN, blocked */
    check_conv_act(12, 20, 0, 0, 1, 9, 11); /* oneDNN, plain */
    check_conv_act(6, 20, 0, 0, 2, 9, 11);  /* the plain direct data kernel */
    check_conv_act(6, 20, 0, 1, 1, 9, 11);  /* oneDNN, plain input, blocked output (conv1) */
    check_conv_act(40, 2, MG_LAYOUT_NHWC, MG_LAYOUT_NHWC, 2, 13, 37); /* nhwc: conv3, the direct data kernel */
    check_conv_act(8, 2, MG_LAYOUT_NHWC, MG_LAYOUT_NHWC, 1, 9, 11);   /* nhwc, few inputs: oneDNN's data pass */
    check_conv_act(20, 20, MG_LAYOUT_NHWC, MG_LAYOUT_NHWC, 2, 9, 11); /* nhwc: conv2 */
}

/* the DCI-Net chain: plain -> blocked (conv1), blocked -> blocked (conv2),
 * blocked -> plain (conv3), with channel counts that are and are not
 * multiples of 16 */
static void test_conv_blocked(void **s)
{
    (void)s;
    check_conv_blocked(6, 20, 0, 1);
    check_conv_blocked(20, 20, 1, 1);
    check_conv_blocked(20, 2, 1, 0);
    check_conv_blocked(16, 32, 1, 1);
    /* blocked input into the direct kernels (<= 4 outputs): images wide and
     * tall enough for their interior register blocks, k = 5 and 3, pad 0 */
    check_conv_blocked_at(40, 2, 1, 0, 2, 13, 37, 5, 2);
    check_conv_blocked_at(20, 1, 1, 0, 1, 11, 26, 5, 2);
    check_conv_blocked_at(17, 4, 1, 0, 1, 10, 21, 3, 1);
    check_conv_blocked_at(33, 3, 1, 0, 1, 12, 20, 3, 0);
    check_conv_blocked_at(8, 2, 1, 0, 1, 9, 14, 4, 1);
    /* plain input, blocked output: conv1's weight gradient in the direct
     * kernel (dy vectors over 16 output channels; a partial last block; k
     * = 5, 3 and the generic even k; pad 0; row bands over several threads
     * when the channel pairs are few) */
    check_conv_blocked_at(12, 40, 0, 1, 2, 13, 37, 5, 2);
    check_conv_blocked_at(3, 16, 0, 1, 1, 10, 21, 3, 1);
    check_conv_blocked_at(4, 18, 0, 1, 1, 9, 14, 4, 1);
    check_conv_blocked_at(2, 33, 0, 1, 1, 12, 20, 3, 0);
    check_conv_blocked_at(2, 16, 0, 1, 3, 37, 20, 5, 2);
}

/* channels-last (nhwc) on both sides, DCI-Net's layout since session 11:
 * oneDNN's nhwc kernels (conv2), the direct kernels of conv_direct_nhwc.c
 * for few outputs (conv3: forward and weight gradient, the row of k * cin
 * floats in 16-float chunks, the last overlapping by 8 (cin 40), 4 (12),
 * 15 (13), 13 (17) or none (8, k 4); interior register blocks and borders;
 * k = 5, 3 and 4, pad 0; the data gradient of 16 to 48 input channels in
 * 16-channel chunks) and the weight gradient for more outputs of
 * conv_direct_dw_wide.c (conv1 and conv2; the cases below) */
static void test_conv_nhwc(void **s)
{
    (void)s;
    const int L = MG_LAYOUT_NHWC;
    check_conv_blocked(20, 20, L, L);
    check_conv_blocked_at(40, 40, L, L, 1, 11, 12, 5, 2);
    check_conv_blocked_at(40, 2, L, L, 2, 13, 37, 5, 2);
    check_conv_blocked_at(12, 1, L, L, 1, 11, 26, 5, 2);
    check_conv_blocked_at(13, 4, L, L, 1, 10, 21, 5, 2);
    check_conv_blocked_at(17, 3, L, L, 1, 12, 20, 3, 0);
    check_conv_blocked_at(8, 2, L, L, 1, 9, 14, 4, 1);
    check_conv_blocked_at(3, 2, L, L, 1, 9, 14, 3, 1);   /* k * cin < 16: oneDNN */
    check_conv_blocked_at(16, 2, L, L, 1, 10, 23, 5, 2); /* the data gradient: one 16-channel chunk, */
    check_conv_blocked_at(48, 1, L, L, 1, 9, 20, 3, 1);  /* three, */
    check_conv_blocked_at(26, 3, L, L, 2, 11, 19, 5, 2); /* two overlapping by 6 */
    check_conv_blocked_at(12, 40, L, L, 2, 13, 37, 5, 2);
    check_conv_blocked_at(3, 16, L, L, 1, 10, 21, 3, 1);
    check_conv_blocked_at(4, 18, L, L, 1, 9, 14, 4, 1);
    check_conv_blocked_at(2, 33, L, L, 1, 12, 20, 3, 0);
    check_conv_blocked_at(2, 16, L, L, 3, 37, 20, 5, 2);
    /* the wide weight gradient (conv_direct_dw_wide.c; 40 -> 40 and 20 -> 20
     * above): row chunks in groups of 5 with the last overlapping (L = 51)
     * or not (L = 160), output tiles of 4 with 2 or 1 left over, cout 18 and
     * 33, k = 3, 4, 5, pad 0, row bands across samples */
    check_conv_blocked_at(17, 18, L, L, 3, 11, 13, 3, 1);
    check_conv_blocked_at(32, 21, L, L, 2, 10, 9, 5, 2);
    check_conv_blocked_at(24, 33, L, L, 1, 20, 17, 4, 1);
    check_conv_blocked_at(20, 16, L, L, 2, 9, 12, 3, 0);
    check_conv_blocked_at(20, 20, L, L, 20, 3, 7, 3, 1); /* bands of 4 rows over samples of 3 */
    check_conv_blocked_at(12, 8, L, L, 2, 9, 11, 5, 2);  /* fewer than 16 outputs */
    check_conv_blocked_at(6, 5, L, L, 1, 8, 10, 3, 1);
}

static void test_conv5x5(void **s) { (void)s; check_conv(6, 5, 5, 1, 2, 1, 2, 9, 8); }
static void test_conv5x5_narrow(void **s) { (void)s; check_conv(8, 2, 5, 1, 2, 1, 1, 12, 10); }
/* the direct kernels (conv_direct.c): few output channels (forward, dW, dx),
 * few input channels (dx); widths over one 64-column block with a partial
 * last block, k = 3 and 5 (register-blocked dW) and an even k (the generic
 * dW), pad 0; and stride-1 shapes that stay on oneDNN */
static void test_conv_direct(void **s)
{
    (void)s;
    check_conv(40, 2, 5, 1, 2, 1, 2, 13, 70);
    check_conv(3, 16, 5, 1, 2, 1, 1, 11, 67);
    check_conv(5, 3, 3, 1, 1, 0, 2, 9, 130);
    check_conv(4, 1, 4, 1, 1, 1, 1, 10, 9);
    check_conv(3, 2, 3, 1, 0, 1, 1, 8, 70);
    check_conv(10, 6, 5, 1, 2, 1, 1, 9, 8);
}
/* fuse_leaky: the forward equals the reference convolution followed by
 * LeakyReLU (oneDNN post-op, and the direct kernel's path) */
static void check_conv_fused(int cin, int cout)
{
    mg_params ps = {0};
    mg_rng r;
    mg_rng_seed(&r, 77);
    mg_conv2d c;
    mg_conv2d_init(&c, &ps, "c", cin, cout, 5, 1, 2, 1, &r);
    c.fuse_leaky = 1;
    c.slope = 0.2f;
    const int n = 2, h = 9, w = 11;
    const long nx = (long)n * cin * h * w, ny = (long)n * cout * h * w;
    float *x = mg_malloc_array((size_t)nx, sizeof(float)), *y = mg_malloc_array((size_t)ny, sizeof(float));
    float *yr = mg_malloc_array((size_t)ny, sizeof(float));
    randu(x, nx, &r, 1);
    mg_conv2d_forward(&c, x, y, n, h, w);
    mg_conv2d_ref_forward(x, c.weight->w, c.bias->w, yr, n, cin, cout, h, w, 5, 1, 2);
    long neg = 0;
    for (long i = 0; i < ny; i++) {
        const float want = yr[i] > 0 ? yr[i] : 0.2f * yr[i];
        neg += yr[i] < 0;
        if (fabsf(y[i] - want) > 1e-4f * (1 + fabsf(want))) fail_msg("fused conv %ld: %g vs %g", i, (double)y[i], (double)want);
    }
    assert_true(neg > ny / 10 && neg < ny - ny / 10); /* both branches exercised */
    mg_conv2d_free(&c);
    mg_params_free(&ps);
    free(x); free(y); free(yr);
}
static void test_conv_fused_leaky(void **s)
{
    (void)s;
    check_conv_fused(6, 40);
    check_conv_fused(12, 2);
}
static void test_conv4x4_s2(void **s) { (void)s; check_conv(3, 4, 4, 2, 1, 1, 2, 16, 12); check_conv(2, 3, 4, 2, 1, 0, 1, 8, 8); }

/* bf16 convolutions (oneDNN, fp32 accumulation) against the fp32 plain-loop
 * reference: forward, dx and dw within bf16's rounding (8 bits of mantissa
 * on each input: relative error ~2^-9 per product, averaging over the sum),
 * and clearly not bit-equal (the bf16 path really ran). Skipped without
 * AVX512-BF16 or AMX. */
static double rel_err(const float *a, const float *b, long n)
{
    double e = 0, r = 0;
    for (long i = 0; i < n; i++) e += pow((double)a[i] - b[i], 2), r += pow((double)b[i], 2);
    return sqrt(e / r);
}
static void check_conv_bf16(int cin, int cout, int bs, int bd)
{
    const int n = 2, h = 11, w = 13, k = 5, pad = 2;
    const long hw = (long)h * w, nx = (long)n * cin * hw, ny = (long)n * cout * hw;
    mg_params ps = {0};
    mg_rng r;
    mg_rng_seed(&r, 31);
    mg_conv2d c;
    mg_conv2d_init(&c, &ps, "c", cin, cout, k, 1, pad, 1, &r);
    c.lay_src = bs, c.lay_dst = bd;
    float *x = mg_malloc_array((size_t)nx, sizeof(float)), *dy = mg_malloc_array((size_t)ny, sizeof(float));
    float *y = mg_calloc((size_t)ny, sizeof(float)), *dx = mg_calloc((size_t)nx, sizeof(float));
    float *yr = mg_calloc((size_t)ny, sizeof(float)), *dxr = mg_calloc((size_t)nx, sizeof(float));
    float *dwr = mg_calloc((size_t)c.weight->size, sizeof(float)), *dbr = mg_calloc((size_t)cout, sizeof(float));
    randu(x, nx, &r, 1);
    randu(dy, ny, &r, 1);
    mg_conv2d_ref_forward(x, c.weight->w, c.bias->w, yr, n, cin, cout, h, w, k, 1, pad);
    mg_conv2d_ref_backward(x, c.weight->w, dy, dxr, dwr, dbr, n, cin, cout, h, w, k, 1, pad);
    const int cpi = mg_layout_channels(bs, cin), cpo = mg_layout_channels(bd, cout);
    float *xb = bs ? to_lay(x, n, cin, hw, bs) : x, *dyb = bd ? to_lay(dy, n, cout, hw, bd) : dy;
    float *yb = mg_calloc((size_t)n * (size_t)cpo * (size_t)hw, sizeof(float));
    float *dxb = mg_calloc((size_t)n * (size_t)cpi * (size_t)hw, sizeof(float));
    assert_int_equal(mg_conv_set_precision(MG_PRECISION_BF16), 0);
    mg_conv2d_forward(&c, xb, yb, n, h, w);
    mg_conv2d_backward(&c, xb, dyb, dxb, n, h, w);
    assert_int_equal(mg_conv_set_precision(MG_PRECISION_FP32), 0);
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < cout; ch++)
            for (long p = 0; p < hw; p++) y[((long)i * cout + ch) * hw + p] = bd ? lay_at(yb, bd, cout, hw, i, ch, p) : yb[((long)i * cout + ch) * hw + p];
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < cin; ch++)
            for (long p = 0; p < hw; p++) dx[((long)i * cin + ch) * hw + p] = bs ? lay_at(dxb, bs, cin, hw, i, ch, p) : dxb[((long)i * cin + ch) * hw + p];
    double ey = rel_err(y, yr, ny), ex = rel_err(dx, dxr, nx), ew = rel_err(c.weight->g, dwr, c.weight->size);
    print_message("bf16 conv %d->%d (blk %d/%d): relative errors y %.2e dx %.2e dw %.2e\n", cin, cout, bs, bd, ey, ex, ew);
    if (!(ey < 8e-3 && ex < 8e-3 && ew < 8e-3)) fail_msg("bf16 conv %d->%d off: %g %g %g", cin, cout, ey, ex, ew);
    /* the oneDNN passes ran in bf16 (the direct kernels of few channels stay fp32) */
    if (cout > 4 && !(ey > 1e-5)) fail_msg("bf16 conv %d->%d: forward equals fp32 (%g): bf16 not used", cin, cout, ey);
    if (bs) free(xb);
    if (bd) free(dyb);
    free(x); free(dy); free(y); free(dx); free(yr); free(dxr); free(dwr); free(dbr); free(yb); free(dxb);
    mg_conv2d_free(&c);
    mg_params_free(&ps);
}
static void test_conv_bf16(void **s)
{
    (void)s;
    if (!mg_bf16_supported()) {
        assert_int_equal(mg_conv_set_precision(MG_PRECISION_BF16), -1);
        assert_int_equal(mg_conv_precision(), MG_PRECISION_FP32);
        skip();
    }
    check_conv_bf16(12, 32, 0, 1); /* DCI-Net's conv1: plain in, blocked out */
    check_conv_bf16(32, 32, 1, 1); /* conv2 */
    check_conv_bf16(32, 2, 1, 0);  /* conv3 (direct kernels: fp32) */
    check_conv_bf16(6, 20, 0, 0);
    check_conv_bf16(12, 32, MG_LAYOUT_NHWC, MG_LAYOUT_NHWC); /* the same in nhwc (DCI-Net's layout) */
    check_conv_bf16(32, 32, MG_LAYOUT_NHWC, MG_LAYOUT_NHWC);
    check_conv_bf16(32, 2, MG_LAYOUT_NHWC, MG_LAYOUT_NHWC);
}

/* ---------------- leaky ---------------- */
typedef struct { float *x; long n; } vec_ctx;
static void leaky_f(void *p, float *y) { vec_ctx *c = p; mg_leaky_forward(c->x, y, c->n, 0.2f); }
static void test_leaky(void **s)
{
    (void)s;
    mg_rng r;
    mg_rng_seed(&r, 11);
    const long n = 50;
    float x[50], y[50], dy[50], dx[50] = {0};
    for (long i = 0; i < n; i++) {
        x[i] = (float)(2 * mg_rng_uniform(&r) - 1);
        if (fabsf(x[i]) < 0.05f) x[i] = 0.3f; /* stay off the kink */
    }
    randu(dy, n, &r, 1);
    mg_leaky_forward(x, y, n, 0.2f);
    mg_leaky_backward(y, dy, dx, n, 0.2f);
    vec_ctx c = {x, n};
    fd_check("leaky", leaky_f, &c, x, dx, n, dy, n, 1e-3, 1e-3);
}

/* ---------------- batch norm ---------------- */
typedef struct { mg_batchnorm *b; float *x; int n, h, w; } bn_ctx;
static void bn_f(void *p, float *y) { bn_ctx *c = p; mg_batchnorm_forward(c->b, c->x, y, c->n, c->h, c->w, 1); }
static void test_batchnorm(void **s)
{
    (void)s;
    mg_params ps = {0};
    mg_batchnorm b;
    mg_batchnorm_init(&b, &ps, "bn", 3);
    mg_rng r;
    mg_rng_seed(&r, 12);
    const int n = 2, h = 4, w = 5;
    const long nx = (long)n * 3 * h * w;
    float *x = mg_malloc_array((size_t)nx, sizeof(float)), *y = mg_malloc_array((size_t)nx, sizeof(float));
    float *dy = mg_malloc_array((size_t)nx, sizeof(float)), *dx = mg_calloc((size_t)nx, sizeof(float));
    randu(x, nx, &r, 2);
    randu(dy, nx, &r, 1);
    for (int c = 0; c < 3; c++) { b.gamma->w[c] = 0.5f + c; b.beta->w[c] = 0.1f * c; }
    mg_batchnorm_forward(&b, x, y, n, h, w, 1);
    /* normalised output per channel: mean beta, std gamma */
    for (int c = 0; c < 3; c++) {
        double m = 0, v = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < h * w; j++) m += y[(i * 3 + c) * h * w + j];
        m /= n * h * w;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < h * w; j++) v += pow(y[(i * 3 + c) * h * w + j] - m, 2);
        v /= n * h * w;
        assert_true(fabs(m - b.beta->w[c]) < 1e-5);
        assert_true(fabs(sqrt(v) - b.gamma->w[c]) < 1e-3);
    }
    mg_batchnorm_backward(&b, x, dy, dx, n, h, w);
    bn_ctx c = {&b, x, n, h, w};
    fd_check("bn x", bn_f, &c, x, dx, nx, dy, nx, 1e-2, 2e-2);
    fd_check("bn gamma", bn_f, &c, b.gamma->w, b.gamma->g, 3, dy, nx, 1e-2, 2e-2);
    fd_check("bn beta", bn_f, &c, b.beta->w, b.beta->g, 3, dy, nx, 1e-2, 2e-2);
    mg_batchnorm_free(&b);
    mg_params_free(&ps);
    free(x); free(y); free(dy); free(dx);
}

/* ---------------- linear ---------------- */
typedef struct { mg_linear *l; float *x; int n; } lin_ctx;
static void lin_f(void *p, float *y) { lin_ctx *c = p; mg_linear_forward(c->l, c->x, y, c->n); }
static void test_linear(void **s)
{
    (void)s;
    mg_params ps = {0};
    mg_rng r;
    mg_rng_seed(&r, 13);
    mg_linear l;
    mg_linear_init(&l, &ps, "fc", 7, 3, &r);
    const int n = 4;
    float x[28], y[12], dy[12], dx[28] = {0};
    randu(x, 28, &r, 1);
    randu(dy, 12, &r, 1);
    mg_linear_forward(&l, x, y, n);
    /* direct check of one output */
    double ref = l.bias->w[1];
    for (int i = 0; i < 7; i++) ref += (double)l.weight->w[7 + i] * x[2 * 7 + i];
    assert_true(fabs(ref - y[2 * 3 + 1]) < 1e-5);
    mg_linear_backward(&l, x, dy, dx, n);
    lin_ctx c = {&l, x, n};
    fd_check("linear x", lin_f, &c, x, dx, 28, dy, 12, 1e-2, 1e-2);
    fd_check("linear w", lin_f, &c, l.weight->w, l.weight->g, 21, dy, 12, 1e-2, 1e-2);
    fd_check("linear b", lin_f, &c, l.bias->w, l.bias->g, 3, dy, 12, 1e-2, 1e-2);
    mg_params_free(&ps);
}

/* ---------------- concat ---------------- */
static void test_concat(void **s)
{
    (void)s;
    const int n = 2, hw = 3;
    float a[2 * 2 * 3], b[2 * 1 * 3], out[2 * 3 * 3];
    for (int i = 0; i < 12; i++) a[i] = (float)i;
    for (int i = 0; i < 6; i++) b[i] = 100.0f + (float)i;
    mg_concat_forward(a, out, n, 2, 3, 0, hw);
    mg_concat_forward(b, out, n, 1, 3, 2, hw);
    /* sample 1, channel 2 is b's sample 1 */
    assert_true(out[(1 * 3 + 2) * 3 + 1] == 104.0f);
    assert_true(out[(1 * 3 + 1) * 3 + 0] == 9.0f);
    float da[12] = {0}, db[6] = {0};
    mg_concat_backward(out, da, n, 2, 3, 0, hw);
    mg_concat_backward(out, db, n, 1, 3, 2, hw);
    mg_concat_backward(out, db, n, 1, 3, 2, hw); /* accumulates */
    assert_memory_equal(da, a, sizeof a);
    for (int i = 0; i < 6; i++) assert_true(db[i] == 2 * b[i]);
}

/* ---------------- complex magnitude, MSE ---------------- */
typedef struct { float *x; int n; long hw; } mag_ctx;
static void mag_f(void *p, float *y) { mag_ctx *c = p; mg_cmag_forward(c->x, y, c->n, c->hw); }
static void test_cmag(void **s)
{
    (void)s;
    mg_rng r;
    mg_rng_seed(&r, 14);
    float x[2 * 2 * 6], y[2 * 6], dy[12], dx[24] = {0};
    randu(x, 24, &r, 1);
    randu(dy, 12, &r, 1);
    mg_cmag_forward(x, y, 2, 6);
    assert_true(fabsf(y[7] - hypotf(x[2 * 6 + 1], x[3 * 6 + 1])) < 1e-6f);
    mg_cmag_backward(x, dy, dx, 2, 6);
    mag_ctx c = {x, 2, 6};
    fd_check("cmag", mag_f, &c, x, dx, 24, dy, 12, 1e-3, 1e-2);
}

typedef struct { float *x, *t; long n; } mse_ctx;
static void mse_f(void *p, float *y) { mse_ctx *c = p; y[0] = (float)mg_mse_forward(c->x, c->t, c->n); }
static void test_mse(void **s)
{
    (void)s;
    mg_rng r;
    mg_rng_seed(&r, 15);
    float x[20], t[20], dx[20] = {0}, one = 1.0f;
    randu(x, 20, &r, 1);
    randu(t, 20, &r, 1);
    double ref = 0;
    for (int i = 0; i < 20; i++) ref += pow(x[i] - t[i], 2) / 20;
    assert_true(fabs(mg_mse_forward(x, t, 20) - ref) < 1e-7);
    mg_mse_backward(x, t, dx, 20, 1.0f);
    mse_ctx c = {x, t, 20};
    fd_check("mse", mse_f, &c, x, dx, 20, &one, 1, 1e-3, 1e-2);
}

/* ---------------- Adam: two steps of one scalar, written out by hand ---------------- */
static void test_adam_and_clip(void **s)
{
    (void)s;
    mg_params ps = {0};
    long sh[1] = {1};
    mg_param *p = mg_params_add(&ps, "p", 1, sh);
    p->w[0] = 1.0f;
    mg_adam a;
    mg_adam_init(&a, 0.1f, 0.9f, 0.999f, 1e-8f);
    p->g[0] = 0.5f;
    mg_adam_step(&a, &ps);
    /* step 1: mhat = g, vhat = g^2 -> w -= lr * sign(g) */
    assert_true(fabsf(p->w[0] - 0.9f) < 1e-6f);
    p->g[0] = -1.0f;
    mg_adam_step(&a, &ps);
    double m = 0.9 * 0.05 + 0.1 * -1.0, v = 0.999 * 0.00025 + 0.001 * 1.0;
    double mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999);
    assert_true(fabs(p->w[0] - (0.9 - 0.1 * mh / (sqrt(vh) + 1e-8))) < 1e-6);
    p->w[0] = 0.5f;
    mg_clip_weights(&ps, 0.01f);
    assert_true(p->w[0] == 0.01f);
    mg_params_free(&ps);
}

/* gradient-norm clipping over two tensors: a 3-4-12 right triangle, norm 13 */
static void test_clip_grad_norm(void **s)
{
    (void)s;
    mg_params ps = {0};
    long s2[1] = {2}, s1[1] = {1};
    mg_param *a = mg_params_add(&ps, "a", 1, s2), *b = mg_params_add(&ps, "b", 1, s1);
    a->g[0] = 3, a->g[1] = -4, b->g[0] = 12;
    /* below the bound: the norm, gradients untouched */
    assert_true(fabs(mg_clip_grad_norm(&ps, 20.0) - 13.0) < 1e-9);
    assert_true(a->g[0] == 3 && a->g[1] == -4 && b->g[0] == 12);
    /* 0: no clipping */
    assert_true(fabs(mg_clip_grad_norm(&ps, 0.0) - 13.0) < 1e-9);
    assert_true(b->g[0] == 12);
    /* above: scaled by 6.5 / 13 = 0.5 together, direction kept */
    assert_true(fabs(mg_clip_grad_norm(&ps, 6.5) - 13.0) < 1e-9);
    assert_true(fabsf(a->g[0] - 1.5f) < 1e-6f && fabsf(a->g[1] + 2.0f) < 1e-6f && fabsf(b->g[0] - 6.0f) < 1e-6f);
    assert_true(fabs(mg_clip_grad_norm(&ps, 0.0) - 6.5) < 1e-6);
    mg_params_free(&ps);
}

/* mg_sgemm (oneDNN) against the defining triple sum in double, all four
 * transpose cases, padded leading dimensions, alpha and beta; sizes that are
 * not multiples of any vector width */
static void test_sgemm(void **state)
{
    (void)state;
    const long M = 37, N = 53, K = 29, pad = 3;
    mg_rng rng;
    mg_rng_seed(&rng, 21);
    float *A = malloc(sizeof(float) * (size_t)((M + pad) * (K + pad))), *B = malloc(sizeof(float) * (size_t)((K + pad) * (N + pad)));
    float *C = malloc(sizeof(float) * (size_t)(M * (N + pad))), *C0 = malloc(sizeof(float) * (size_t)(M * (N + pad)));
    for (long i = 0; i < (M + pad) * (K + pad); i++) A[i] = (float)mg_rng_normal(&rng);
    for (long i = 0; i < (K + pad) * (N + pad); i++) B[i] = (float)mg_rng_normal(&rng);
    for (long i = 0; i < M * (N + pad); i++) C0[i] = (float)mg_rng_normal(&rng);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            const long lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
            memcpy(C, C0, sizeof(float) * (size_t)(M * ldc));
            mg_sgemm(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, -0.4f, C, ldc);
            double worst = 0;
            for (long m = 0; m < M; m++)
                for (long n = 0; n < N; n++) {
                    double s = 0;
                    for (long k = 0; k < K; k++)
                        s += (double)(ta ? A[k * lda + m] : A[m * lda + k]) * (tb ? B[n * ldb + k] : B[k * ldb + n]);
                    const double want = 0.7 * s - 0.4 * C0[m * ldc + n];
                    worst = fmax(worst, fabs(C[m * ldc + n] - want));
                }
            for (long m = 0; m < M; m++) /* the padding columns of C are not touched */
                for (long n = N; n < ldc; n++) assert_true(C[m * ldc + n] == C0[m * ldc + n]);
            print_message("sgemm ta=%d tb=%d: worst error %.2e\n", ta, tb, worst);
            assert_true(worst < 1e-4);
        }
    free(A); free(B); free(C); free(C0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv5x5),  cmocka_unit_test(test_conv5x5_narrow),
        cmocka_unit_test(test_conv_direct), cmocka_unit_test(test_conv_fused_leaky),
        cmocka_unit_test(test_conv4x4_s2), cmocka_unit_test(test_conv_blocked), cmocka_unit_test(test_conv_nhwc),
        cmocka_unit_test(test_conv_backward_act),
        cmocka_unit_test(test_conv_bf16), cmocka_unit_test(test_leaky),
        cmocka_unit_test(test_batchnorm), cmocka_unit_test(test_linear), cmocka_unit_test(test_sgemm),
        cmocka_unit_test(test_concat),    cmocka_unit_test(test_cmag),
        cmocka_unit_test(test_mse),       cmocka_unit_test(test_adam_and_clip), cmocka_unit_test(test_clip_grad_norm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

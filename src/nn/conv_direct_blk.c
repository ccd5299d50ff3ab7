/* Direct stride-1 convolution kernels with activations in oneDNN's blocked
 * nChw16c layout (conv_direct.c has the plain ones and the reasons): the
 * input blocked with few output channels (forward, data and weight
 * gradients; DCI-Net's conv3 until session 11), and the weight gradient of
 * an input of few channels into 16 or more outputs vectorised over 16 output
 * channels, with dy blocked and x plain (DCI-Net's conv1, 2..12 -> 40, in
 * the session-10 layouts that bench/conv_layers.c compares with). Tested
 * against conv_ref.c through mg_conv2d (tests/test_nn.c). */
#include "conv_direct_impl.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- blocked input: x in nChw16c, few output channels ----------------
 * x (and dx) n x CB x h x w x 16 with CB = ceil(cin / 16), channels >= cin
 * zero; y, dy plain n x cout x oh x ow. Vectorised over the 16 channels of a
 * block: an output pixel sums cb x k x k products of 16-channel vectors and
 * reduces the lanes at the end. Weights are repacked per call into
 * wp[o][cb][ky][kx][16] (zeros for the padding channels). */
#define JB 8 /* output pixels per register block */

static float *repack_blk(const float *wt, int cin, int cout, int k)
{
    const int CBn = mg_blk_channels(cin) / 16;
    const long kk = (long)k * k;
    float *wp = mg_calloc((size_t)cout * (size_t)CBn * (size_t)kk * 16, sizeof(float));
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (long q = 0; q < kk; q++)
                wp[(((long)o * CBn + c / 16) * kk + q) * 16 + c % 16] = wt[((long)o * cin + c) * kk + q];
    return wp;
}

static inline float hsum(v16 v)
{
    float s = 0;
    for (int l = 0; l < 16; l++) s += v[l];
    return s;
}

/* NO outputs at pixels j0 .. j0+JB-1 of row i, every tap inside the image */
static inline __attribute__((always_inline)) void
blk_fwd_block(const int NO, const float *x, const float *wp, const float *b, float *y, int CBn, int h, int w, int k,
              int pad, int oh, int ow, int i, int j0)
{
    v16 a[MAXO][JB];
#pragma GCC unroll 4
    for (int o = 0; o < NO; o++)
#pragma GCC unroll 8
        for (int q = 0; q < JB; q++) a[o][q] = bcast(0.0f);
    for (int cb = 0; cb < CBn; cb++)
        for (int ky = 0; ky < k; ky++) {
            const float *xr = x + (((long)cb * h + (i + ky - pad)) * w + (j0 - pad)) * 16;
            for (int kx = 0; kx < k; kx++) {
                v16 wv[MAXO];
#pragma GCC unroll 4
                for (int o = 0; o < NO; o++) wv[o] = ld(wp + ((((long)o * CBn + cb) * k + ky) * k + kx) * 16);
#pragma GCC unroll 8
                for (int q = 0; q < JB; q++) {
                    const v16 xv = ld(xr + (long)(q + kx) * 16);
#pragma GCC unroll 4
                    for (int o = 0; o < NO; o++) a[o][q] += wv[o] * xv;
                }
            }
        }
    for (int o = 0; o < NO; o++)
        for (int q = 0; q < JB; q++) y[((long)o * oh + i) * ow + j0 + q] = (b ? b[o] : 0.0f) + hsum(a[o][q]);
}

/* any pixel (border), one output */
static float blk_fwd_pixel(const float *x, const float *wp, int o, int CBn, int h, int w, int k, int pad, int i, int j)
{
    v16 a = bcast(0.0f);
    for (int cb = 0; cb < CBn; cb++)
        FOR_TAPS_INSIDE(i, j, k, pad, h, w)
        {
            a += ld(wp + ((((long)o * CBn + cb) * k + ky) * k + kx) * 16) * ld(x + (((long)cb * h + ii) * w + jj) * 16);
        }
    return hsum(a);
}

CLONES static void blk_fwd_row(const float *x, const float *wp, const float *b, float *y, int cout, int CBn, int h,
                               int w, int k, int pad, int oh, int ow, int i)
{
    const int rows_in = i - pad >= 0 && i - pad + k - 1 < h;
    int j = 0;
    for (; j < ow; j++) {
        const int interior = rows_in && j - pad >= 0 && j + JB - 1 - pad + k - 1 < w && j + JB <= ow;
        if (interior) {
            BY_NO(cout, blk_fwd_block, x, wp, b, y, CBn, h, w, k, pad, oh, ow, i, j);
            j += JB - 1;
            continue;
        }
        for (int o = 0; o < cout; o++)
            y[((long)o * oh + i) * ow + j] = (b ? b[o] : 0.0f) + blk_fwd_pixel(x, wp, o, CBn, h, w, k, pad, i, j);
    }
}

void mg_conv_direct_forward_blk(const float *x, const float *wt, const float *b, float *y, int n, int cin, int cout,
                                int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad), CBn = mg_blk_channels(cin) / 16;
    if (oh <= 0 || ow <= 0) return;
    float *wp = repack_blk(wt, cin, cout, k);
#pragma omp parallel for schedule(static)
    for (long t = 0; t < (long)n * oh; t++) {
        const int s = (int)(t / oh), i = (int)(t % oh);
        blk_fwd_row(x + (long)s * CBn * h * w * 16, wp, b, y + (long)s * cout * oh * ow, cout, CBn, h, w, k, pad, oh,
                    ow, i);
    }
    free(wp);
}

/* dx (blocked) += the transposed convolution of dy: for input pixel (ii, jj)
 * of channel block cb, sum over o, ky, kx of dy[o][ii-ky+pad][jj-kx+pad] w */
/* with act: dx = leaky'(act) * the sum (overwritten), else dx += the sum */
CLONES static void blk_bwd_data_row(const float *dy, const float *wp, float *dx, const float *act, float slope,
                                    int cout, int CBn, int h, int w, int k, int pad, int oh, int ow, int ii)
{
    for (int cb = 0; cb < CBn; cb++) {
        float *dr = dx + ((long)cb * h + ii) * w * 16;
        const float *ar = act ? act + ((long)cb * h + ii) * w * 16 : NULL;
        int jj = 0;
        for (; jj < w; jj++) {
            const int interior = ii + pad - (k - 1) >= 0 && ii + pad < oh && jj + pad - (k - 1) >= 0 &&
                                 jj + JB - 1 + pad < ow && jj + JB <= w;
            if (interior) {
                v16 a[JB];
#pragma GCC unroll 8
                for (int q = 0; q < JB; q++) a[q] = ar ? bcast(0.0f) : ld(dr + (long)(jj + q) * 16);
                for (int o = 0; o < cout; o++)
                    for (int ky = 0; ky < k; ky++) {
                        const float *gr = dy + ((long)o * oh + (ii - ky + pad)) * ow + jj + pad;
                        for (int kx = 0; kx < k; kx++) {
                            const v16 wv = ld(wp + ((((long)o * CBn + cb) * k + ky) * k + kx) * 16);
#pragma GCC unroll 8
                            for (int q = 0; q < JB; q++) a[q] += gr[q - kx] * wv;
                        }
                    }
#pragma GCC unroll 8
                for (int q = 0; q < JB; q++)
                    st(dr + (long)(jj + q) * 16, ar ? leaky_mask(a[q], ar + (long)(jj + q) * 16, slope) : a[q]);
                jj += JB - 1;
                continue;
            }
            v16 a = ar ? bcast(0.0f) : ld(dr + (long)jj * 16);
            for (int o = 0; o < cout; o++)
                for (int ky = 0; ky < k; ky++) {
                    const int i = ii - ky + pad;
                    if (i < 0 || i >= oh) continue;
                    for (int kx = 0; kx < k; kx++) {
                        const int j = jj - kx + pad;
                        if (j < 0 || j >= ow) continue;
                        a += dy[((long)o * oh + i) * ow + j] * ld(wp + ((((long)o * CBn + cb) * k + ky) * k + kx) * 16);
                    }
                }
            st(dr + (long)jj * 16, ar ? leaky_mask(a, ar + (long)jj * 16, slope) : a);
        }
    }
}

static void bwd_data_blk(const float *dy, const float *wt, float *dx, const float *act, float slope, int n, int cin,
                         int cout, int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad), CBn = mg_blk_channels(cin) / 16;
    const long img = (long)CBn * h * w * 16;
    if (oh <= 0 || ow <= 0) {
        if (act) memset(dx, 0, sizeof(float) * (size_t)(n * img));
        return;
    }
    float *wp = repack_blk(wt, cin, cout, k);
#pragma omp parallel for schedule(static)
    for (long t = 0; t < (long)n * h; t++) {
        const int s = (int)(t / h), ii = (int)(t % h);
        blk_bwd_data_row(dy + (long)s * cout * oh * ow, wp, dx + s * img, act ? act + s * img : NULL, slope, cout, CBn,
                         h, w, k, pad, oh, ow, ii);
    }
    free(wp);
}

void mg_conv_direct_backward_data_blk(const float *dy, const float *wt, float *dx, int n, int cin, int cout, int h,
                                      int w, int k, int pad)
{
    bwd_data_blk(dy, wt, dx, NULL, 0.0f, n, cin, cout, h, w, k, pad);
}

void mg_conv_direct_backward_data_blk_act(const float *dy, const float *wt, float *dx, const float *act, float slope,
                                          int n, int cin, int cout, int h, int w, int k, int pad)
{
    bwd_data_blk(dy, wt, dx, act, slope, n, cin, cout, h, w, k, pad);
}

/* dW of (o, cb) over one sample: acc[ky][kx][16] (double) += sum over the
 * output pixels of dy[o][i][j] x[cb][i+ky-pad][j+kx-pad]; per row in vector
 * registers (K constant), then into acc */
static inline __attribute__((always_inline)) void
blk_dw_k(const int K, const float *g, const float *x, double *acc, int h, int w, int pad, int oh, int ow)
{
    for (int i = 0; i < oh; i++) {
        v16 a[7 * 7];
#pragma GCC unroll 49
        for (int q = 0; q < K * K; q++) a[q] = bcast(0.0f);
        const int rows_in = i - pad >= 0 && i - pad + K - 1 < h;
        for (int j = 0; j < ow; j++) {
            const float gv = g[(long)i * ow + j];
            if (rows_in && j - pad >= 0 && j - pad + K - 1 < w) {
                const float *xr = x + ((long)(i - pad) * w + (j - pad)) * 16;
#pragma GCC unroll 7
                for (int ky = 0; ky < K; ky++)
#pragma GCC unroll 7
                    for (int kx = 0; kx < K; kx++) a[ky * K + kx] += gv * ld(xr + ((long)ky * w + kx) * 16);
                continue;
            }
            for (int ky = 0; ky < K; ky++) {
                const int ii = i + ky - pad;
                if (ii < 0 || ii >= h) continue;
                for (int kx = 0; kx < K; kx++) {
                    const int jj = j + kx - pad;
                    if (jj < 0 || jj >= w) continue;
                    a[ky * K + kx] += gv * ld(x + ((long)ii * w + jj) * 16);
                }
            }
        }
        for (int q = 0; q < K * K; q++)
            for (int l = 0; l < 16; l++) acc[q * 16 + l] += a[q][l];
    }
}

CLONES static void blk_dw_plane(const float *g, const float *x, double *acc, int h, int w, int k, int pad, int oh,
                                int ow)
{
    switch (k) {
    case 3: blk_dw_k(3, g, x, acc, h, w, pad, oh, ow); break;
    case 5: blk_dw_k(5, g, x, acc, h, w, pad, oh, ow); break;
    default: /* generic k: one tap at a time */
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (int ky = 0; ky < k; ky++) {
                    const int ii = i + ky - pad;
                    if (ii < 0 || ii >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        const int jj = j + kx - pad;
                        if (jj < 0 || jj >= w) continue;
                        const float gv = g[(long)i * ow + j], *xp = x + ((long)ii * w + jj) * 16;
                        for (int l = 0; l < 16; l++) acc[(ky * k + kx) * 16 + l] += gv * xp[l];
                    }
                }
    }
}

void mg_conv_direct_backward_weights_blk(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                         int cout, int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad), CBn = mg_blk_channels(cin) / 16;
    if (oh <= 0 || ow <= 0) return;
    const long kk = (long)k * k;
#pragma omp parallel
    {
        double *acc = mg_malloc_array((size_t)kk * 16, sizeof(double));
#pragma omp for schedule(dynamic, 1)
        for (long t = 0; t < (long)cout * CBn; t++) {
            const int o = (int)(t / CBn), cb = (int)(t % CBn);
            for (long q = 0; q < kk * 16; q++) acc[q] = 0;
            for (int s = 0; s < n; s++)
                blk_dw_plane(dy + ((long)s * cout + o) * oh * ow, x + ((long)s * CBn + cb) * h * w * 16, acc, h, w, k,
                             pad, oh, ow);
            for (int l = 0; l < 16 && cb * 16 + l < cin; l++)
                for (long q = 0; q < kk; q++) dw[((long)o * cin + cb * 16 + l) * kk + q] += (float)acc[q * 16 + l];
        }
        free(acc);
    }
    if (db) bias_grad(dy, db, n, cout, (long)oh * ow);
}

/* ---------------- blocked output gradient: dy in nChw16c, few input channels ----------------
 * The weight gradient of DCI-Net's conv1 in its session-10 layout (2..12
 * plain input channels -> K blocked outputs; bench/conv_layers.c), where
 * oneDNN took its AVX2 kernel with 8-channel blocks (15.4 ms fp32, gemm:jit
 * 19.1 ms bf16 for 12 -> 40 at 256 x 256; docs/results.md). Vectorised over the 16 output channels of a dy block:
 * for one input channel the k x k tap sums of the block (and the bias sum)
 * stay in registers over a band of RB output rows, x read as broadcast
 * scalars from a zero-padded copy of its plane (no border cases). */
#define RB 8

/* acc[ky][kx][16] += sum over rows i0..i1-1 of the output of
 * xp[i+ky][j+kx] g[i][j][16] (xp: the plane padded to wp columns); bacc[16]
 * += the sum of g when BIAS */
static inline __attribute__((always_inline)) void
dyblk_dw_k(const int K, const int BIAS, const float *g, const float *xp, double *acc, double *bacc, int wp, int ow,
           int i0, int i1)
{
    for (int r0 = i0; r0 < i1; r0 += RB) {
        v16 a[7 * 7], b = bcast(0.0f);
#pragma GCC unroll 49
        for (int q = 0; q < K * K; q++) a[q] = bcast(0.0f);
        for (int i = r0; i < r0 + RB && i < i1; i++)
            for (int j = 0; j < ow; j++) {
                const v16 gv = ld(g + ((long)i * ow + j) * 16);
                const float *xr = xp + (long)i * wp + j;
#pragma GCC unroll 7
                for (int ky = 0; ky < K; ky++)
#pragma GCC unroll 7
                    for (int kx = 0; kx < K; kx++) a[ky * K + kx] += xr[(long)ky * wp + kx] * gv;
                if (BIAS) b += gv;
            }
        for (int q = 0; q < K * K; q++)
            for (int l = 0; l < 16; l++) acc[q * 16 + l] += a[q][l];
        if (BIAS)
            for (int l = 0; l < 16; l++) bacc[l] += b[l];
    }
}

CLONES static void dyblk_dw_rows(const float *g, const float *xp, double *acc, double *bacc, int k, int wp, int ow,
                                 int i0, int i1)
{
    if (k == 5 && bacc) dyblk_dw_k(5, 1, g, xp, acc, bacc, wp, ow, i0, i1);
    else if (k == 5) dyblk_dw_k(5, 0, g, xp, acc, NULL, wp, ow, i0, i1);
    else if (k == 3 && bacc) dyblk_dw_k(3, 1, g, xp, acc, bacc, wp, ow, i0, i1);
    else if (k == 3) dyblk_dw_k(3, 0, g, xp, acc, NULL, wp, ow, i0, i1);
    else /* generic k: one tap at a time */
        for (int i = i0; i < i1; i++)
            for (int j = 0; j < ow; j++) {
                const float *gp = g + ((long)i * ow + j) * 16;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        const float xv = xp[(long)(i + ky) * wp + j + kx];
                        for (int l = 0; l < 16; l++) acc[(ky * k + kx) * 16 + l] += xv * gp[l];
                    }
                if (bacc)
                    for (int l = 0; l < 16; l++) bacc[l] += gp[l];
            }
}

/* dy in nChw16c, x plain: task (c, cb, band) sums input channel c against
 * dy block cb over a band of output rows */
static void dw_fewin(const float *x, const float *dy, float *dw, float *db, int n, int cin, int cout, int h, int w,
                     int k, int pad)
{
    const int threads = omp_get_max_threads();
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad), CBo = mg_blk_channels(cout) / 16;
    if (oh <= 0 || ow <= 0) return;
    const int hp = oh + k - 1, wp = ow + k - 1; /* the padded plane the output rows read */
    const long kk = (long)k * k, pairs = (long)cin * CBo, ohw = (long)oh * ow;
    /* row bands so that every thread has work when pairs are few (cin 2) */
    long bands = (4L * threads + pairs - 1) / pairs;
    if (bands > (oh + RB - 1) / RB) bands = (oh + RB - 1) / RB;
    const int band = (int)((oh + bands - 1) / bands);
    /* each task's sums in its own slot, added up in a fixed order after the
     * parallel loop: the result does not depend on which thread ran what */
    const long slot = kk * 16 + 16, tasks = pairs * bands;
    double *part = mg_calloc((size_t)(tasks * slot), sizeof(double));
#pragma omp parallel
    {
        float *xp = mg_malloc_array((size_t)hp * (size_t)wp, sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (long t = 0; t < tasks; t++) {
            const int c = (int)(t / (CBo * bands)), cb = (int)(t / bands % CBo), i0 = (int)(t % bands) * band;
            const int i1 = i0 + band < oh ? i0 + band : oh;
            if (i0 >= i1) continue;
            double *acc = part + t * slot;
            for (int s = 0; s < n; s++) {
                /* rows i0 - pad .. i1 - 1 + k - 1 - pad of the plane, zero outside */
                for (int r = i0; r < i1 + k - 1; r++) {
                    float *d = xp + (long)r * wp;
                    const int ii = r - pad;
                    if (ii < 0 || ii >= h) memset(d, 0, sizeof(float) * (size_t)wp);
                    else padded_copy(d, x + (((long)s * cin + c) * h + ii) * w, -pad, wp, w);
                }
                dyblk_dw_rows(dy + ((long)s * CBo + cb) * ohw * 16, xp, acc, db && c == 0 ? acc + kk * 16 : NULL,
                              k, wp, ow, i0, i1);
            }
        }
        free(xp);
    }
    for (long pr = 0; pr < pairs; pr++) {
        const int c = (int)(pr / CBo), cb = (int)(pr % CBo);
        for (long b = 1; b < bands; b++) /* the bands into the first, in order */
            for (long q = 0; q < slot; q++) part[pr * bands * slot + q] += part[(pr * bands + b) * slot + q];
        const double *acc = part + pr * bands * slot;
        for (int l = 0; l < 16 && 16 * cb + l < cout; l++) {
            for (long q = 0; q < kk; q++) dw[((long)(16 * cb + l) * cin + c) * kk + q] += (float)acc[q * 16 + l];
            if (db && c == 0) db[16 * cb + l] += (float)acc[kk * 16 + l];
        }
    }
    free(part);
}

void mg_conv_direct_backward_weights_dyblk(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                           int cout, int h, int w, int k, int pad)
{
    dw_fewin(x, dy, dw, db, n, cin, cout, h, w, k, pad);
}

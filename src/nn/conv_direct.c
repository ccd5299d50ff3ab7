/* Direct stride-1 convolution kernels for the narrow cases oneDNN handles
 * poorly (issue 9): few output channels (DCI-Net's 5x5 conv 40 -> 2 ran at
 * 19 GFLOP/s in oneDNN against 140 for 40 -> 40), the data gradient of
 * few input channels (plain layouts), and the weight gradient of DCI-Net's
 * conv1 (2..12 plain input channels -> 40 blocked, at the end of the file).
 *
 * One register-blocked kernel: up to 4 output channels x 64 output columns
 * (16 vectors of 16 floats) stay in registers while it runs over the input
 * channels and the k x k taps; interior column blocks read the input rows in
 * place, border blocks a zero-padded copy of the 64 + k - 1 columns they
 * need. The data gradient is the same kernel on dy with the kernel flipped
 * and in/out channels swapped (pad k - 1 - pad); the weight gradient keeps
 * the k taps of one kernel row in registers over a 64-column block of dy.
 * Kernels are compiled for AVX-512, AVX2 and baseline x86-64 and the loader
 * picks one (target_clones), so the portable build uses the machine's vector
 * width. Tested against conv_ref.c through mg_conv2d (tests/test_nn.c). */
#include "conv_direct.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));
#define CB 64 /* output columns per block: 4 vectors */
#define MAXO 4

static inline v16 ld(const float *p) { return *(const v16u *)p; }
static inline void st(float *p, v16 v) { *(v16u *)p = v; }
static inline v16 bcast(float f)
{
    v16 v;
    for (int q = 0; q < 16; q++) v[q] = f;
    return v;
}

/* dst[q] = row[j0 + q] for q < len, zero where j0 + q is outside [0, w) */
static inline void padded_copy(float *dst, const float *row, int j0, int len, int w)
{
    const int a = j0 < 0 ? -j0 : 0;                          /* leading zeros */
    const int e = j0 + len > w ? w - j0 : len;               /* end of the copied part */
    memset(dst, 0, sizeof(float) * (size_t)(a < len ? a : len));
    if (e > a) memcpy(dst + a, row + j0 + a, sizeof(float) * (size_t)(e - a));
    if (e < len) memset(dst + (e > a ? e : a), 0, sizeof(float) * (size_t)(len - (e > a ? e : a)));
}

/* NO output rows (channels o0..o0+NO-1 of `out`, row i, columns jc..jc+CB)
 * += or = sum over ci, taps of wt[o][ci][ky][kx] * in[ci][i+ky-pad][j+kx-pad].
 * wt: no x ni x k x k (this pass's layout); out rows: ow apart per channel
 * plane of size oh*ow; jn <= CB columns are stored. */
static inline __attribute__((always_inline)) void
block(const int NO, const float *in, const float *wt, float *out, const float *bias, int acc_init, int ni, int h,
      int w, int k, int pad, int oh, int ow, int i, int jc, int jn, float *pbuf)
{
    v16 a[MAXO][4];
#pragma GCC unroll 4
    for (int o = 0; o < NO; o++)
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
            float *r = out + (long)o * oh * ow + (long)i * ow + jc + 16 * v;
            if (acc_init) {
                if (jn == CB) a[o][v] = ld(r);
                else {
                    float t[16] = {0};
                    for (int q = 0; q < 16 && 16 * v + q < jn; q++) t[q] = r[q];
                    a[o][v] = ld(t);
                }
            } else {
                a[o][v] = bcast(bias ? bias[o] : 0.0f);
            }
        }
    const int interior = jc - pad >= 0 && jc + CB + k - 1 - pad <= w;
    for (int c = 0; c < ni; c++)
        for (int ky = 0; ky < k; ky++) {
            const int ii = i + ky - pad;
            if (ii < 0 || ii >= h) continue;
            const float *xr = in + ((long)c * h + ii) * w;
            const float *src;
            if (interior) {
                src = xr + jc - pad;
            } else { /* columns jc - pad .. jc - pad + CB + k - 2, zeros outside the row */
                padded_copy(pbuf, xr, jc - pad, CB + k - 1, w);
                src = pbuf;
            }
            for (int kx = 0; kx < k; kx++) {
                const v16 x0 = ld(src + kx), x1 = ld(src + kx + 16), x2 = ld(src + kx + 32), x3 = ld(src + kx + 48);
#pragma GCC unroll 4
                for (int o = 0; o < NO; o++) {
                    const float wv = wt[(((long)o * ni + c) * k + ky) * k + kx]; /* broadcast by the operators */
                    a[o][0] += wv * x0;
                    a[o][1] += wv * x1;
                    a[o][2] += wv * x2;
                    a[o][3] += wv * x3;
                }
            }
        }
#pragma GCC unroll 4
    for (int o = 0; o < NO; o++) {
        float *r = out + (long)o * oh * ow + (long)i * ow + jc;
        if (jn == CB) {
            for (int v = 0; v < 4; v++) st(r + 16 * v, a[o][v]);
        } else {
            float t[CB];
            for (int v = 0; v < 4; v++) st(t + 16 * v, a[o][v]);
            memcpy(r, t, sizeof(float) * (size_t)jn);
        }
    }
}

/* one output row of a group of no <= 4 channels, all column blocks */
CLONES static void conv_row(int no, const float *in, const float *wt, float *out, const float *bias, int acc_init,
                            int ni, int h, int w, int k, int pad, int oh, int ow, int i, float *pbuf)
{
    for (int jc = 0; jc < ow; jc += CB) {
        const int jn = ow - jc < CB ? ow - jc : CB;
        switch (no) {
        case 1: block(1, in, wt, out, bias, acc_init, ni, h, w, k, pad, oh, ow, i, jc, jn, pbuf); break;
        case 2: block(2, in, wt, out, bias, acc_init, ni, h, w, k, pad, oh, ow, i, jc, jn, pbuf); break;
        case 3: block(3, in, wt, out, bias, acc_init, ni, h, w, k, pad, oh, ow, i, jc, jn, pbuf); break;
        default: block(4, in, wt, out, bias, acc_init, ni, h, w, k, pad, oh, ow, i, jc, jn, pbuf); break;
        }
    }
}

/* out (n x no_all x oh x ow) = or += conv(in (n x ni x h x w), wt (no_all x ni x k x k)) [+ bias] */
static void conv_pass(const float *in, const float *wt, const float *bias, float *out, int acc_init, int n, int ni,
                      int no_all, int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad);
    if (oh <= 0 || ow <= 0) return;
    const int groups = (no_all + MAXO - 1) / MAXO;
#pragma omp parallel
    {
        float *pbuf = mg_malloc_array((size_t)(CB + k), sizeof(float));
#pragma omp for schedule(static)
        for (long t = 0; t < (long)n * groups * oh; t++) {
            const int s = (int)(t / ((long)groups * oh)), g = (int)(t / oh % groups), i = (int)(t % oh);
            const int o0 = g * MAXO, no = no_all - o0 < MAXO ? no_all - o0 : MAXO;
            conv_row(no, in + (long)s * ni * h * w, wt + (long)o0 * ni * k * k,
                     out + ((long)s * no_all + o0) * oh * ow, bias ? bias + o0 : NULL, acc_init, ni, h, w, k, pad,
                     oh, ow, i, pbuf);
        }
        free(pbuf);
    }
}

void mg_conv_direct_forward(const float *x, const float *wt, const float *b, float *y, int n, int cin,
                            int cout, int h, int w, int k, int pad)
{
    conv_pass(x, wt, b, y, 0, n, cin, cout, h, w, k, pad);
}

/* dx += conv(dy, flipped and transposed weights, pad k - 1 - pad) */
void mg_conv_direct_backward_data(const float *dy, const float *wt, float *dx, int n, int cin, int cout, int h,
                                  int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad);
    const long kk = (long)k * k;
    float *wf = mg_malloc_array((size_t)cin * (size_t)cout * (size_t)kk, sizeof(float));
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (long q = 0; q < kk; q++) wf[((long)c * cout + o) * kk + q] = wt[((long)o * cin + c) * kk + kk - 1 - q];
    conv_pass(dy, wf, NULL, dx, 1, n, cout, cin, oh, ow, k, k - 1 - pad);
    free(wf);
}

/* dw (one (o, c) pair, one sample) += sum over the output rows and columns of
 * dy[i][j] x[i+ky-pad][j+kx-pad]. Per 64-column block of an output row the
 * block of dy is loaded once and the K x K tap sums accumulate in vector
 * registers over all rows (K a constant: 3 or 5); they are reduced into acc
 * (double) at the end. */
static inline __attribute__((always_inline)) void
dw_plane_k(const int K, const float *g, const float *x, double *acc, int h, int w, int pad, int oh, int ow,
           float *pbuf)
{
    v16 va[7 * 7];
#pragma GCC unroll 49
    for (int q = 0; q < K * K; q++) va[q] = bcast(0.0f);
    for (int i = 0; i < oh; i++)
        for (int jc = 0; jc < ow; jc += CB) {
            const int jn = ow - jc < CB ? ow - jc : CB;
            v16 g0, g1, g2, g3;
            if (jn == CB) {
                const float *gr = g + (long)i * ow + jc;
                g0 = ld(gr), g1 = ld(gr + 16), g2 = ld(gr + 32), g3 = ld(gr + 48);
            } else {
                float t[CB] = {0};
                memcpy(t, g + (long)i * ow + jc, sizeof(float) * (size_t)jn);
                g0 = ld(t), g1 = ld(t + 16), g2 = ld(t + 32), g3 = ld(t + 48);
            }
            const int interior = jc - pad >= 0 && jc + CB + K - 1 - pad <= w;
#pragma GCC unroll 7
            for (int ky = 0; ky < K; ky++) {
                const int ii = i + ky - pad;
                if (ii < 0 || ii >= h) continue;
                const float *xr = x + (long)ii * w, *src;
                if (interior) {
                    src = xr + jc - pad;
                } else {
                    padded_copy(pbuf + ky * (CB + 8), xr, jc - pad, CB + K - 1, w);
                    src = pbuf + ky * (CB + 8);
                }
#pragma GCC unroll 7
                for (int kx = 0; kx < K; kx++)
                    va[ky * K + kx] += g0 * ld(src + kx) + g1 * ld(src + kx + 16) + g2 * ld(src + kx + 32) +
                                       g3 * ld(src + kx + 48);
            }
        }
    for (int q = 0; q < K * K; q++) {
        double t = 0;
        for (int l = 0; l < 16; l++) t += va[q][l];
        acc[q] += t;
    }
}

/* any k: the same sums, reduced per block */
static void dw_plane_any(const float *g, const float *x, double *acc, int h, int w, int k, int pad, int oh, int ow,
                         float *pbuf)
{
    for (int i = 0; i < oh; i++)
        for (int jc = 0; jc < ow; jc += CB) {
            const int jn = ow - jc < CB ? ow - jc : CB;
            float gt[CB] = {0};
            memcpy(gt, g + (long)i * ow + jc, sizeof(float) * (size_t)jn);
            for (int ky = 0; ky < k; ky++) {
                const int ii = i + ky - pad;
                if (ii < 0 || ii >= h) continue;
                padded_copy(pbuf, x + (long)ii * w, jc - pad, CB + k - 1, w);
                for (int kx = 0; kx < k; kx++) {
                    float t = 0;
                    for (int j = 0; j < CB; j++) t += gt[j] * pbuf[kx + j];
                    acc[ky * k + kx] += t;
                }
            }
        }
}

CLONES static void dw_plane(const float *g, const float *x, double *acc, int h, int w, int k, int pad, int oh,
                            int ow, float *pbuf)
{
    switch (k) {
    case 3: dw_plane_k(3, g, x, acc, h, w, pad, oh, ow, pbuf); break;
    case 5: dw_plane_k(5, g, x, acc, h, w, pad, oh, ow, pbuf); break;
    default: dw_plane_any(g, x, acc, h, w, k, pad, oh, ow, pbuf); break;
    }
}

/* db[o] += sum of dy over samples and pixels (double) */
static void bias_grad(const float *dy, float *db, int n, int cout, long ohw)
{
    for (int o = 0; o < cout; o++) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            const float *g = dy + ((long)i * cout + o) * ohw;
            for (long p = 0; p < ohw; p++) s += g[p];
        }
        db[o] += (float)s;
    }
}

void mg_conv_direct_backward_weights(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                     int cout, int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad);
    if (oh <= 0 || ow <= 0) return;
#pragma omp parallel
    {
        double *acc = mg_malloc_array((size_t)k * (size_t)k, sizeof(double));
        float *pbuf = mg_malloc_array((size_t)(k > 7 ? k : 7) * (CB + 8 + (size_t)k), sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (long t = 0; t < (long)cout * cin; t++) {
            const int o = (int)(t / cin), c = (int)(t % cin);
            for (int q = 0; q < k * k; q++) acc[q] = 0;
            for (int s = 0; s < n; s++)
                dw_plane(dy + ((long)s * cout + o) * oh * ow, x + ((long)s * cin + c) * h * w, acc, h, w, k, pad, oh,
                         ow, pbuf);
            float *d = dw + ((long)o * cin + c) * k * k;
            for (int q = 0; q < k * k; q++) d[q] += (float)acc[q];
        }
        free(acc);
        free(pbuf);
    }
    if (db) bias_grad(dy, db, n, cout, (long)oh * ow);
}

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
        for (int ky = 0; ky < k; ky++) {
            const int ii = i + ky - pad;
            if (ii < 0 || ii >= h) continue;
            for (int kx = 0; kx < k; kx++) {
                const int jj = j + kx - pad;
                if (jj < 0 || jj >= w) continue;
                a += ld(wp + ((((long)o * CBn + cb) * k + ky) * k + kx) * 16) * ld(x + (((long)cb * h + ii) * w + jj) * 16);
            }
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
            switch (cout) {
            case 1: blk_fwd_block(1, x, wp, b, y, CBn, h, w, k, pad, oh, ow, i, j); break;
            case 2: blk_fwd_block(2, x, wp, b, y, CBn, h, w, k, pad, oh, ow, i, j); break;
            case 3: blk_fwd_block(3, x, wp, b, y, CBn, h, w, k, pad, oh, ow, i, j); break;
            default: blk_fwd_block(4, x, wp, b, y, CBn, h, w, k, pad, oh, ow, i, j); break;
            }
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
CLONES static void blk_bwd_data_row(const float *dy, const float *wp, float *dx, int cout, int CBn, int h, int w,
                                    int k, int pad, int oh, int ow, int ii)
{
    for (int cb = 0; cb < CBn; cb++) {
        float *dr = dx + ((long)cb * h + ii) * w * 16;
        int jj = 0;
        for (; jj < w; jj++) {
            const int interior = ii + pad - (k - 1) >= 0 && ii + pad < oh && jj + pad - (k - 1) >= 0 &&
                                 jj + JB - 1 + pad < ow && jj + JB <= w;
            if (interior) {
                v16 a[JB];
#pragma GCC unroll 8
                for (int q = 0; q < JB; q++) a[q] = ld(dr + (long)(jj + q) * 16);
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
                for (int q = 0; q < JB; q++) st(dr + (long)(jj + q) * 16, a[q]);
                jj += JB - 1;
                continue;
            }
            v16 a = ld(dr + (long)jj * 16);
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
            st(dr + (long)jj * 16, a);
        }
    }
}

void mg_conv_direct_backward_data_blk(const float *dy, const float *wt, float *dx, int n, int cin, int cout, int h,
                                      int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad), CBn = mg_blk_channels(cin) / 16;
    if (oh <= 0 || ow <= 0) return;
    float *wp = repack_blk(wt, cin, cout, k);
#pragma omp parallel for schedule(static)
    for (long t = 0; t < (long)n * h; t++) {
        const int s = (int)(t / h), ii = (int)(t % h);
        blk_bwd_data_row(dy + (long)s * cout * oh * ow, wp, dx + (long)s * CBn * h * w * 16, cout, CBn, h, w, k, pad,
                         oh, ow, ii);
    }
    free(wp);
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
 * The weight gradient of DCI-Net's conv1 (2..12 plain input channels -> K
 * blocked outputs), where oneDNN took its AVX2 kernel with 8-channel blocks
 * (15.4 ms fp32, gemm:jit 19.1 ms bf16 for 12 -> 40 at 256 x 256;
 * docs/results.md). Vectorised over the 16 output channels of a dy block:
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

void mg_conv_direct_backward_weights_dyblk(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                           int cout, int h, int w, int k, int pad)
{
    const int threads = omp_get_max_threads();
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad), CBo = mg_blk_channels(cout) / 16;
    if (oh <= 0 || ow <= 0) return;
    const int hp = oh + k - 1, wp = ow + k - 1; /* the padded plane the output rows read */
    const long kk = (long)k * k, pairs = (long)cin * CBo;
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
                const float *xs = x + ((long)s * cin + c) * h * w;
                for (int r = i0; r < i1 + k - 1; r++) {
                    float *d = xp + (long)r * wp;
                    const int ii = r - pad;
                    if (ii < 0 || ii >= h) memset(d, 0, sizeof(float) * (size_t)wp);
                    else padded_copy(d, xs + (long)ii * w, -pad, wp, w);
                }
                dyblk_dw_rows(dy + ((long)s * CBo + cb) * oh * ow * 16, xp, acc, db && c == 0 ? acc + kk * 16 : NULL,
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
        for (int l = 0; l < 16 && cb * 16 + l < cout; l++) {
            for (long q = 0; q < kk; q++) dw[((long)(cb * 16 + l) * cin + c) * kk + q] += (float)acc[q * 16 + l];
            if (db && c == 0) db[cb * 16 + l] += (float)acc[kk * 16 + l];
        }
    }
    free(part);
}

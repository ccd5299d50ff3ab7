/* Direct stride-1 convolution kernels for the narrow cases oneDNN handles
 * poorly (issue 9): few output channels (DCI-Net's 5x5 conv 40 -> 2 ran at
 * 19 GFLOP/s in oneDNN against 140 for 40 -> 40) and the data gradient of
 * few input channels, in plain layouts here; conv_direct_blk.c has those
 * whose activations are in oneDNN's blocked layout.
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
#include "conv_direct_impl.h"

#include <stdlib.h>
#include <string.h>

#define CB 64 /* output columns per block: 4 vectors */

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
        BY_NO(no, block, in, wt, out, bias, acc_init, ni, h, w, k, pad, oh, ow, i, jc, jn, pbuf);
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

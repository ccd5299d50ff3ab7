/* Direct stride-1 convolution kernels with channels-last (nhwc) activations
 * where oneDNN's nhwc kernels are slow (docs/results.md, session 11): a
 * convolution to few outputs (DCI-Net's conv3, 40 -> 2): forward, weight
 * gradient and, for 16 to 48 input channels, data gradient (with the
 * previous LeakyReLU's backward fused in). The weight gradient of DCI-Net's
 * conv1 and conv2 is in conv_direct_dw_wide.c. Tested against conv_ref.c
 * through mg_conv2d (tests/test_nn.c).
 *
 * In nhwc the k taps of one kernel row are k * cin consecutive floats of a
 * row of x (pixels j - pad .. j - pad + k - 1, all their channels), so an
 * output of the narrow convolution is k dot products of length L = k * cin
 * (L >= 16), with weights repacked to wr[o][ky][kx * cin + c]. Those run as
 * 16-float chunks at 0, 16, ..., and, when 16 does not divide L, one more at
 * L - 16 overlapping the one before, its weights zero in the lanes already
 * counted (the weight gradient drops those lanes instead). */
#include "conv_direct_impl.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* the lanes of a summed as a tree (halves added as vectors, not 16
 * dependent scalar additions) */
static inline float hsum(v16 a)
{
    float t[16];
    memcpy(t, &a, sizeof t);
    for (int l = 0; l < 8; l++) t[l] += t[l + 8];
    for (int l = 0; l < 4; l++) t[l] += t[l + 4];
    return (t[0] + t[2]) + (t[1] + t[3]);
}

/* wr[o][ky][16 m + l] = the weight of row element chunk_at(m) + l (kx * cin + c)
 * of wt[o][c][ky][kx], zero where an earlier chunk holds that element;
 * rows of 16 * nchunks(L) floats */
static float *repack_rows(const float *wt, int cin, int cout, int k)
{
    const int L = k * cin, nc = nchunks(L), Lp = 16 * nc;
    float *wr = mg_calloc((size_t)cout * (size_t)k * (size_t)Lp, sizeof(float));
    for (int o = 0; o < cout; o++)
        for (int ky = 0; ky < k; ky++)
            for (int m = 0; m < nc; m++)
                for (int l = 16 * m - chunk_at(m, L); l < 16; l++) {
                    const int e = chunk_at(m, L) + l, kx = e / cin, c = e % cin;
                    wr[((long)o * k + ky) * Lp + 16 * m + l] = wt[(((long)o * cin + c) * k + ky) * k + kx];
                }
    return wr;
}

/* ---------------- forward, few outputs (cout <= MAXO) ---------------- */
#define JF 6 /* output pixels per register block */

/* NO outputs at pixels j0 .. j0 + JF - 1 of row i, every column tap inside */
static inline __attribute__((always_inline)) void
fwd_block(const int NO, const float *x, const float *wr, const float *b, float *y, int cin, int cout, int h, int w,
          int k, int pad, int ow, int i, int j0)
{
    const int L = k * cin, nc = nchunks(L), Lp = 16 * nc;
    const int ky0 = i - pad < 0 ? pad - i : 0, ky1 = i - pad + k > h ? h - i + pad : k; /* rows inside */
    v16 a[MAXO][JF];
    for (int o = 0; o < NO; o++)
        for (int q = 0; q < JF; q++) a[o][q] = bcast(0.0f);
    for (int ky = ky0; ky < ky1; ky++) {
        const float *xr = x + ((long)(i - pad + ky) * w + (j0 - pad)) * cin, *wk = wr + (long)ky * Lp;
        for (int m = 0; m < nc; m++) {
            const int at = chunk_at(m, L);
            v16 wv[MAXO];
            for (int o = 0; o < NO; o++) wv[o] = ld(wk + (long)o * k * Lp + 16 * m);
#pragma GCC unroll 6
            for (int q = 0; q < JF; q++) {
                const v16 xv = ld(xr + (long)q * cin + at);
                for (int o = 0; o < NO; o++) a[o][q] += wv[o] * xv;
            }
        }
    }
    for (int q = 0; q < JF; q++)
        for (int o = 0; o < NO; o++) y[((long)i * ow + j0 + q) * cout + o] = (b ? b[o] : 0.0f) + hsum(a[o][q]);
}

/* any pixel (the border columns): each kernel row's k * cin inputs copied
 * into seg with zeros for the columns outside, then the same chunks */
static void fwd_pixel(const float *x, const float *wr, const float *b, float *y, float *seg, int cin, int cout, int h,
                      int w, int k, int pad, int ow, int i, int j)
{
    const int L = k * cin, nc = nchunks(L), Lp = 16 * nc;
    v16 a[MAXO] = {0};
    for (int ky = 0; ky < k; ky++) {
        const int ii = i + ky - pad;
        if (ii < 0 || ii >= h) continue;
        for (int kx = 0; kx < k; kx++) {
            const int jj = j + kx - pad;
            if (jj < 0 || jj >= w) memset(seg + (long)kx * cin, 0, sizeof(float) * (size_t)cin);
            else memcpy(seg + (long)kx * cin, x + ((long)ii * w + jj) * cin, sizeof(float) * (size_t)cin);
        }
        for (int m = 0; m < nc; m++) {
            const v16 xv = ld(seg + chunk_at(m, L));
            for (int o = 0; o < cout; o++) a[o] += ld(wr + ((long)o * k + ky) * Lp + 16 * m) * xv;
        }
    }
    for (int o = 0; o < cout; o++) y[((long)i * ow + j) * cout + o] = (b ? b[o] : 0.0f) + hsum(a[o]);
}

CLONES static void fwd_row(const float *x, const float *wr, const float *b, float *y, float *seg, int cin, int cout,
                           int h, int w, int k, int pad, int ow, int i)
{
    for (int j = 0; j < ow; j++) {
        if (j - pad >= 0 && j + JF - 1 - pad + k - 1 < w && j + JF <= ow) {
            BY_NO(cout, fwd_block, x, wr, b, y, cin, cout, h, w, k, pad, ow, i, j);
            j += JF - 1;
            continue;
        }
        fwd_pixel(x, wr, b, y, seg, cin, cout, h, w, k, pad, ow, i, j);
    }
}

void mg_conv_direct_forward_nhwc(const float *x, const float *wt, const float *b, float *y, int n, int cin, int cout,
                                 int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad);
    if (oh <= 0 || ow <= 0) return;
    float *wr = repack_rows(wt, cin, cout, k);
#pragma omp parallel
    {
        float *seg = mg_malloc_array((size_t)k * (size_t)cin, sizeof(float));
#pragma omp for schedule(static)
        for (long t = 0; t < (long)n * oh; t++) {
            const int s = (int)(t / oh), i = (int)(t % oh);
            fwd_row(x + (long)s * h * w * cin, wr, b, y + (long)s * oh * ow * cout, seg, cin, cout, h, w, k, pad, ow, i);
        }
        free(seg);
    }
    free(wr);
}

/* ---------------- weight gradient, few outputs ----------------
 * dwr[o][ky][l] = sum over output pixels of dy[i][j][o] x[i + ky - pad][j - pad][l]
 * (l < L = k * cin along the row): per output row and kernel row, a group of
 * up to GC chunks stays in registers for NO outputs while the row's
 * interior pixels stream by (the overlapping last chunk's repeated lanes
 * dropped when they are added up); border pixels tap by tap. */
#define GC 6

static inline __attribute__((always_inline)) void
dw_row_k(const int NO, const float *g, const float *x, double *acc, int cin, int cout, int h, int w, int k, int pad,
         int ow, int i)
{
    const int L = k * cin, nc = nchunks(L);
    const int j0 = pad, j1 = w - k + pad; /* interior output columns j0 .. j1 (all column taps inside) */
    for (int ky = 0; ky < k; ky++) {
        const int ii = i + ky - pad;
        if (ii < 0 || ii >= h) continue;
        const float *xr = x + (long)ii * w * cin;
        double *ak = acc + (long)ky * L; /* acc[o][ky][l] at ak + o * k * L + l */
        for (int m0 = 0; m0 < nc; m0 += GC) {
            const int nm = nc - m0 < GC ? nc - m0 : GC;
            int at[GC];
            for (int m = 0; m < GC; m++) at[m] = chunk_at(m0 + (m < nm ? m : 0), L);
            v16 a[MAXO][GC];
            for (int o = 0; o < NO; o++)
                for (int m = 0; m < GC; m++) a[o][m] = bcast(0.0f);
            for (int j = j0; j <= j1 && j < ow; j++) {
                const float *xp = xr + (long)(j - pad) * cin;
                float gv[MAXO];
                for (int o = 0; o < NO; o++) gv[o] = g[((long)i * ow + j) * cout + o];
#pragma GCC unroll 6
                for (int m = 0; m < GC; m++)
                    if (m < nm) {
                        const v16 xv = ld(xp + at[m]);
                        for (int o = 0; o < NO; o++) a[o][m] += gv[o] * xv;
                    }
            }
            for (int o = 0; o < NO; o++)
                for (int m = 0; m < nm; m++)
                    for (int l = 16 * (m0 + m) - at[m]; l < 16; l++) ak[(long)o * k * L + at[m] + l] += a[o][m][l];
        }
    }
    /* border columns: tap by tap */
    for (int j = 0; j < ow; j++) {
        if (j >= j0 && j <= j1) continue;
        FOR_TAPS_INSIDE(i, j, k, pad, h, w)
        {
            const float *xp = x + ((long)ii * w + jj) * cin;
            for (int o = 0; o < NO; o++) {
                const float gs = g[((long)i * ow + j) * cout + o];
                double *ap = acc + (((long)o * k + ky) * k + kx) * cin;
                for (int c = 0; c < cin; c++) ap[c] += gs * xp[c];
            }
        }
    }
}

CLONES static void dw_row(const float *g, const float *x, double *acc, int cin, int cout, int h, int w, int k,
                          int pad, int ow, int i)
{
    BY_NO(cout, dw_row_k, g, x, acc, cin, cout, h, w, k, pad, ow, i);
}

void mg_conv_direct_backward_weights_nhwc(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                          int cout, int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad);
    if (oh <= 0 || ow <= 0) return;
    const long size = (long)cout * k * k * cin, rows = (long)n * oh;
    /* row bands, each band's sums in its own slot, added in a fixed order:
     * the result does not depend on which thread ran what */
    const long bands = rows < 64 ? rows : 64, band = (rows + bands - 1) / bands;
    double *part = mg_calloc((size_t)(bands * size), sizeof(double));
#pragma omp parallel for schedule(dynamic, 1)
    for (long t = 0; t < bands; t++)
        for (long r = t * band; r < (t + 1) * band && r < rows; r++) {
            const int s = (int)(r / oh), i = (int)(r % oh);
            dw_row(dy + (long)s * oh * ow * cout, x + (long)s * h * w * cin, part + t * size, cin, cout, h, w, k, pad,
                   ow, i);
        }
    for (long t = 1; t < bands; t++)
        for (long q = 0; q < size; q++) part[q] += part[t * size + q];
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                    dw[(((long)o * cin + c) * k + ky) * k + kx] += (float)part[(((long)o * k + ky) * k + kx) * cin + c];
    free(part);
    if (db)
        for (int o = 0; o < cout; o++) {
            double sb = 0;
            for (long p = 0; p < (long)n * oh * ow; p++) sb += dy[p * cout + o];
            db[o] += (float)sb;
        }
}

/* ---------------- data gradient, few outputs, 16 <= cin <= 48 ----------------
 * dx[i][j][c] = sum over o, ky, kx of wt[o][c][ky][kx] dy[i - ky + pad][j - kx + pad][o]:
 * vectorised over the channels of a dx pixel in 16-float chunks at 0, 16
 * and cin - 16 (the last overlapping the one before: both hold the same
 * sums), JD pixels of a row per register block. act: dx = leaky'(act) *
 * (the sum), else dx += it. */
#define JD 8
#define MAXCH 3

/* wc[ky][kx][o][c] = wt[o][c][ky][kx] */
static float *repack_taps(const float *wt, int cin, int cout, int k)
{
    float *wc = mg_malloc_array((size_t)cout * (size_t)k * (size_t)k * (size_t)cin, sizeof(float));
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int q = 0; q < k * k; q++) wc[((long)q * cout + o) * cin + c] = wt[((long)o * cin + c) * k * k + q];
    return wc;
}

/* what a chunk of dx becomes: leaky'(act) * a, or dx + a without act */
static inline v16 store_mask(v16 a, const float *dst, const float *act, float slope)
{
    return act ? leaky_mask(a, act, slope) : ld(dst) + a;
}

/* NP pixels from (i, j0) on (NP = JD: every column tap inside; NP = 1: any) */
static inline __attribute__((always_inline)) void
bwd_d_block(const int NP, const int NCH, const float *dy, const float *wc, float *dx, const float *act, float slope,
            int cin, int cout, int w, int k, int pad, int oh, int ow, int i, int j0)
{
    int off[MAXCH];
    for (int m = 0; m < MAXCH; m++) off[m] = chunk_at(m, cin);
    v16 a[JD][MAXCH];
    for (int q = 0; q < NP; q++)
        for (int m = 0; m < NCH; m++) a[q][m] = bcast(0.0f);
    for (int ky = 0; ky < k; ky++) {
        const int yi = i - ky + pad;
        if (yi < 0 || yi >= oh) continue;
        for (int kx = 0; kx < k; kx++) {
            const float *wq = wc + (long)(ky * k + kx) * cout * cin;
            for (int o = 0; o < cout; o++) {
                v16 wv[MAXCH];
                for (int m = 0; m < NCH; m++) wv[m] = ld(wq + (long)o * cin + off[m]);
#pragma GCC unroll 8
                for (int q = 0; q < NP; q++) {
                    const int yj = j0 + q - kx + pad;
                    if (NP == 1 && (yj < 0 || yj >= ow)) continue;
                    const float g = dy[((long)yi * ow + yj) * cout + o]; /* vector * scalar: a broadcast */
                    for (int m = 0; m < NCH; m++) a[q][m] += wv[m] * g;
                }
            }
        }
    }
    for (int q = 0; q < NP; q++) {
        const long p = ((long)i * w + j0 + q) * cin;
        v16 r[MAXCH]; /* every chunk from dx as it was, then the stores: overlapping lanes agree */
        for (int m = 0; m < NCH; m++) r[m] = store_mask(a[q][m], dx + p + off[m], act ? act + p + off[m] : NULL, slope);
        for (int m = 0; m < NCH; m++) st(dx + p + off[m], r[m]);
    }
}

#define BWD_D_NCH(NCH)                                                                                               \
    do {                                                                                                             \
        if (interior) bwd_d_block(JD, NCH, dy, wc, dx, act, slope, cin, cout, w, k, pad, oh, ow, i, j);              \
        else bwd_d_block(1, NCH, dy, wc, dx, act, slope, cin, cout, w, k, pad, oh, ow, i, j);                        \
    } while (0)

CLONES static void bwd_d_row(const float *dy, const float *wc, float *dx, const float *act, float slope, int cin,
                             int cout, int w, int k, int pad, int oh, int ow, int i)
{
    for (int j = 0; j < w; j++) {
        const int interior = j - (k - 1) + pad >= 0 && j + JD - 1 + pad < ow && j + JD <= w;
        switch (nchunks(cin)) {
        case 1: BWD_D_NCH(1); break;
        case 2: BWD_D_NCH(2); break;
        default: BWD_D_NCH(3); break;
        }
        if (interior) j += JD - 1;
    }
}

void mg_conv_direct_backward_data_nhwc(const float *dy, const float *wt, float *dx, const float *act, float slope,
                                       int n, int cin, int cout, int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad);
    float *wc = repack_taps(wt, cin, cout, k);
#pragma omp parallel for schedule(static)
    for (long t = 0; t < (long)n * h; t++) {
        const int s = (int)(t / h), i = (int)(t % h);
        const long xo = (long)s * h * w * cin;
        bwd_d_row(dy + (long)s * oh * ow * cout, wc, dx + xo, act ? act + xo : NULL, slope, cin, cout, w, k, pad, oh,
                  ow, i);
    }
    free(wc);
}

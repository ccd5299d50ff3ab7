/* Direct stride-1 convolution kernels with channels-last (nhwc) activations
 * where oneDNN's nhwc kernels are slow (docs/results.md, session 11): a
 * convolution to few outputs (DCI-Net's conv3, 40 -> 2: forward and weight
 * gradient; its data gradient stays on oneDNN) and the weight gradient of a
 * convolution from few inputs (DCI-Net's conv1, 2..12 -> 40). Tested against
 * conv_ref.c through mg_conv2d (tests/test_nn.c).
 *
 * In nhwc the k taps of one kernel row are k * cin consecutive floats of a
 * row of x (pixels j - pad .. j - pad + k - 1, all their channels), so an
 * output of the narrow convolution is k dot products of length L = k * cin,
 * with weights repacked to wr[o][ky][kx * cin + c]. Those run as 16-float
 * vectors, one 8-float vector for a remainder of 8 or more, and scalars for
 * the rest (none for cin a multiple of 8). */
#include "conv_direct_impl.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
static inline v8 ld8(const float *p) { return *(const v8u *)p; }
static inline v8 bcast8(float f)
{
    v8 v;
    for (int q = 0; q < 8; q++) v[q] = f;
    return v;
}
static inline float hsum16(v16 v)
{
    float s = 0;
    for (int l = 0; l < 16; l++) s += v[l];
    return s;
}
static inline float hsum8(v8 v)
{
    float s = 0;
    for (int l = 0; l < 8; l++) s += v[l];
    return s;
}

/* wr[o][ky][kx * cin + c] = wt[o][c][ky][kx] */
static float *repack_rows(const float *wt, int cin, int cout, int k)
{
    float *wr = mg_malloc_array((size_t)cout * (size_t)k * (size_t)k * (size_t)cin, sizeof(float));
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                    wr[(((long)o * k + ky) * k + kx) * cin + c] = wt[(((long)o * cin + c) * k + ky) * k + kx];
    return wr;
}

/* ---------------- forward, few outputs ---------------- */
#define JF 6 /* output pixels per register block */

/* NO outputs at pixels j0 .. j0 + JF - 1 of row i, every column tap inside */
static inline __attribute__((always_inline)) void
fwd_block(const int NO, const float *x, const float *wr, const float *b, float *y, int cin, int cout, int h, int w,
          int k, int pad, int ow, int i, int j0)
{
    const int L = k * cin, n16 = L / 16, has8 = L % 16 >= 8, r0 = n16 * 16 + 8 * has8;
    v16 a[MAXO][JF];
    v8 t[MAXO][JF];
    float sc[MAXO][JF];
    for (int o = 0; o < NO; o++)
        for (int q = 0; q < JF; q++) a[o][q] = bcast(0.0f), t[o][q] = bcast8(0.0f), sc[o][q] = 0.0f;
    for (int ky = 0; ky < k; ky++) {
        const int ii = i + ky - pad;
        if (ii < 0 || ii >= h) continue;
        const float *xr = x + ((long)ii * w + (j0 - pad)) * cin;
        const float *wk = wr + (long)ky * L;
        for (int m = 0; m < n16; m++) {
            v16 wv[MAXO];
            for (int o = 0; o < NO; o++) wv[o] = ld(wk + (long)o * k * L + 16 * m);
#pragma GCC unroll 6
            for (int q = 0; q < JF; q++) {
                const v16 xv = ld(xr + (long)q * cin + 16 * m);
                for (int o = 0; o < NO; o++) a[o][q] += wv[o] * xv;
            }
        }
        if (has8) {
            v8 wv[MAXO];
            for (int o = 0; o < NO; o++) wv[o] = ld8(wk + (long)o * k * L + 16 * n16);
#pragma GCC unroll 6
            for (int q = 0; q < JF; q++) {
                const v8 xv = ld8(xr + (long)q * cin + 16 * n16);
                for (int o = 0; o < NO; o++) t[o][q] += wv[o] * xv;
            }
        }
        for (int l = r0; l < L; l++)
            for (int q = 0; q < JF; q++)
                for (int o = 0; o < NO; o++) sc[o][q] += wk[(long)o * k * L + l] * xr[(long)q * cin + l];
    }
    for (int q = 0; q < JF; q++)
        for (int o = 0; o < NO; o++)
            y[((long)i * ow + j0 + q) * cout + o] = (b ? b[o] : 0.0f) + hsum16(a[o][q]) + hsum8(t[o][q]) + sc[o][q];
}

/* any pixel (borders): tap by tap */
static void fwd_pixel(const float *x, const float *wr, const float *b, float *y, int cin, int cout, int h, int w, int k,
                      int pad, int ow, int i, int j)
{
    for (int o = 0; o < cout; o++) {
        float s = b ? b[o] : 0.0f;
        for (int ky = 0; ky < k; ky++) {
            const int ii = i + ky - pad;
            if (ii < 0 || ii >= h) continue;
            for (int kx = 0; kx < k; kx++) {
                const int jj = j + kx - pad;
                if (jj < 0 || jj >= w) continue;
                const float *xp = x + ((long)ii * w + jj) * cin, *wp = wr + (((long)o * k + ky) * k + kx) * cin;
                for (int c = 0; c < cin; c++) s += wp[c] * xp[c];
            }
        }
        y[((long)i * ow + j) * cout + o] = s;
    }
}

CLONES static void fwd_row(const float *x, const float *wr, const float *b, float *y, int cin, int cout, int h, int w,
                           int k, int pad, int ow, int i)
{
    for (int j = 0; j < ow; j++) {
        if (j - pad >= 0 && j + JF - 1 - pad + k - 1 < w && j + JF <= ow) {
            switch (cout) {
            case 1: fwd_block(1, x, wr, b, y, cin, cout, h, w, k, pad, ow, i, j); break;
            case 2: fwd_block(2, x, wr, b, y, cin, cout, h, w, k, pad, ow, i, j); break;
            case 3: fwd_block(3, x, wr, b, y, cin, cout, h, w, k, pad, ow, i, j); break;
            default: fwd_block(4, x, wr, b, y, cin, cout, h, w, k, pad, ow, i, j); break;
            }
            j += JF - 1;
            continue;
        }
        fwd_pixel(x, wr, b, y, cin, cout, h, w, k, pad, ow, i, j);
    }
}

void mg_conv_direct_forward_nhwc(const float *x, const float *wt, const float *b, float *y, int n, int cin, int cout,
                                 int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad);
    if (oh <= 0 || ow <= 0) return;
    float *wr = repack_rows(wt, cin, cout, k);
#pragma omp parallel for schedule(static)
    for (long t = 0; t < (long)n * oh; t++) {
        const int s = (int)(t / oh), i = (int)(t % oh);
        fwd_row(x + (long)s * h * w * cin, wr, b, y + (long)s * oh * ow * cout, cin, cout, h, w, k, pad, ow, i);
    }
    free(wr);
}

/* ---------------- weight gradient, few outputs ----------------
 * dwr[o][ky][l] = sum over output pixels of dy[i][j][o] x[i + ky - pad][j - pad][l]
 * (l < L = k * cin along the row): per output row and kernel row, a group of
 * up to GC 16-float chunks of l stays in registers for NO outputs while the
 * row's interior pixels stream by; border pixels tap by tap. */
#define GC 6

static inline __attribute__((always_inline)) void
dw_row_k(const int NO, const float *g, const float *x, double *acc, int cin, int cout, int h, int w, int k, int pad,
         int ow, int i)
{
    const int L = k * cin, n16 = L / 16, has8 = L % 16 >= 8, r0 = n16 * 16 + 8 * has8;
    const int j0 = pad, j1 = w - k + pad; /* interior output columns j0 .. j1 (all column taps inside) */
    for (int ky = 0; ky < k; ky++) {
        const int ii = i + ky - pad;
        if (ii < 0 || ii >= h) continue;
        const float *xr = x + (long)ii * w * cin;
        double *ak = acc + (long)ky * L; /* acc[o][ky][l] at ak + o * k * L + l */
        for (int m0 = 0; m0 < n16; m0 += GC) {
            const int nm = n16 - m0 < GC ? n16 - m0 : GC;
            v16 a[MAXO][GC];
            for (int o = 0; o < NO; o++)
                for (int m = 0; m < GC; m++) a[o][m] = bcast(0.0f);
            for (int j = j0; j <= j1 && j < ow; j++) {
                const float *xp = xr + (long)(j - pad) * cin + 16 * m0;
                v16 gv[MAXO];
                for (int o = 0; o < NO; o++) gv[o] = bcast(g[((long)i * ow + j) * cout + o]);
#pragma GCC unroll 6
                for (int m = 0; m < GC; m++)
                    if (m < nm) {
                        const v16 xv = ld(xp + 16 * m);
                        for (int o = 0; o < NO; o++) a[o][m] += gv[o] * xv;
                    }
            }
            for (int o = 0; o < NO; o++)
                for (int m = 0; m < nm; m++)
                    for (int l = 0; l < 16; l++) ak[(long)o * k * L + 16 * (m0 + m) + l] += a[o][m][l];
        }
        if (has8 || r0 < L) {
            v8 a[MAXO];
            double sc[MAXO][8];
            for (int o = 0; o < NO; o++) {
                a[o] = bcast8(0.0f);
                for (int l = 0; l < 8; l++) sc[o][l] = 0;
            }
            for (int j = j0; j <= j1 && j < ow; j++) {
                const float *xp = xr + (long)(j - pad) * cin;
                for (int o = 0; o < NO; o++) {
                    const float gs = g[((long)i * ow + j) * cout + o];
                    if (has8) a[o] += bcast8(gs) * ld8(xp + 16 * n16);
                    for (int l = r0; l < L; l++) sc[o][l - r0] += gs * xp[l];
                }
            }
            for (int o = 0; o < NO; o++) {
                if (has8)
                    for (int l = 0; l < 8; l++) ak[(long)o * k * L + 16 * n16 + l] += a[o][l];
                for (int l = r0; l < L; l++) ak[(long)o * k * L + l] += sc[o][l - r0];
            }
        }
    }
    /* border columns: tap by tap */
    for (int j = 0; j < ow; j++) {
        if (j >= j0 && j <= j1) continue;
        for (int ky = 0; ky < k; ky++) {
            const int ii = i + ky - pad;
            if (ii < 0 || ii >= h) continue;
            for (int kx = 0; kx < k; kx++) {
                const int jj = j + kx - pad;
                if (jj < 0 || jj >= w) continue;
                const float *xp = x + ((long)ii * w + jj) * cin;
                for (int o = 0; o < NO; o++) {
                    const float gs = g[((long)i * ow + j) * cout + o];
                    double *ap = acc + (((long)o * k + ky) * k + kx) * cin;
                    for (int c = 0; c < cin; c++) ap[c] += gs * xp[c];
                }
            }
        }
    }
}

CLONES static void dw_row(const float *g, const float *x, double *acc, int cin, int cout, int h, int w, int k,
                          int pad, int ow, int i)
{
    switch (cout) {
    case 1: dw_row_k(1, g, x, acc, cin, cout, h, w, k, pad, ow, i); break;
    case 2: dw_row_k(2, g, x, acc, cin, cout, h, w, k, pad, ow, i); break;
    case 3: dw_row_k(3, g, x, acc, cin, cout, h, w, k, pad, ow, i); break;
    default: dw_row_k(4, g, x, acc, cin, cout, h, w, k, pad, ow, i); break;
    }
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

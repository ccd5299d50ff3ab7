/* The weight gradient of a stride-1 convolution with channels-last (nhwc)
 * x and dy, k * cin >= 16 (DCI-Net's conv1, 12 -> 40, and conv2, 40 -> 40,
 * 5 x 5), where oneDNN's nhwc kernel runs at about half of the CPU's fp32
 * peak (docs/results.md, session 12); conv.c takes it for more than 4
 * outputs (conv_direct_nhwc.c has fewer), in fp32 also in bf16 mode. Tested against conv_ref.c through
 * mg_conv2d (tests/test_nn.c).
 *
 * As in conv_direct_nhwc.c, the k taps of a kernel row are the L = k * cin
 * consecutive floats of a row of x that start at pixel j - pad, so
 *   dw[o][ky][kx * cin + c] = sum over output pixels (i, j) of
 *                             dy[i][j][o] * xrow(i - pad + ky)[(j - pad) * cin + kx * cin + c]:
 * per (ky, o) a dy-weighted sum of row segments of L floats. Those run as
 * 16-float chunks (chunk_at; conv2: L = 200, 13 chunks, 96 % of the lanes
 * useful where 40 channels padded to 48 use 83 %), TO outputs by up to
 * GMAX chunks at a time: 20 accumulators in registers and, per pixel,
 * 5 loads of x, 4 broadcasts of dy and 20 FMAs. Each row of x is copied
 * once, with pad zero pixels on both sides, so every output pixel takes
 * the same path. Sums per row band in doubles, the bands added in a fixed
 * order: the result does not depend on the number of threads. */
#include "conv_direct_impl.h"

#include <stdlib.h>
#include <string.h>

#define TO 4     /* outputs per register tile */
#define GMAX 5   /* 16-float chunks per register tile */
#define BANDS 16 /* row bands, each summed in its own slot */

/* outputs oo[0 .. TO - 1] (the first nt distinct) by the G chunks at xp +
 * off[g] of each pixel's segment, over the ow output pixels of one row,
 * added to slot rows sl[o][16 (m0 + g) ..] */
static inline __attribute__((always_inline)) void dw_tile(const int G, const float *xp, const float *dyr,
                                                          const int *off, const int *oo, int nt, int cin, int cout,
                                                          int ow, double *sl, int Lp, int m0)
{
    v16 a[TO][GMAX];
    for (int t = 0; t < TO; t++)
        for (int g = 0; g < G; g++) a[t][g] = bcast(0.0f);
    for (int j = 0; j < ow; j++) {
        const float *xj = xp + (long)j * cin, *dj = dyr + (long)j * cout;
        float d[TO];
        for (int t = 0; t < TO; t++) d[t] = dj[oo[t]];
        for (int g = 0; g < G; g++) {
            const v16 xv = ld(xj + off[g]);
            for (int t = 0; t < TO; t++) a[t][g] += xv * d[t];
        }
    }
    for (int t = 0; t < nt; t++)
        for (int g = 0; g < G; g++) {
            double *s = sl + (long)oo[t] * Lp + 16 * (m0 + g);
            for (int l = 0; l < 16; l++) s[l] += a[t][g][l];
        }
}

/* one output row: xr[ky] the padded x rows (NULL where outside the image),
 * dyr its dy row; slot[ky][o][Lp] += the row's sums, sb[o] += its dy sums */
CLONES static void dw_wide_row(const float *const *xr, const float *dyr, double *slot, double *sb, int cin, int cout,
                               int k, int ow)
{
    const int L = k * cin, nc = nchunks(L), Lp = 16 * nc;
    for (int ky = 0; ky < k; ky++) {
        if (!xr[ky]) continue;
        for (int o0 = 0; o0 < cout; o0 += TO) {
            const int nt = cout - o0 < TO ? cout - o0 : TO;
            int oo[TO];
            for (int t = 0; t < TO; t++) oo[t] = o0 + (t < nt ? t : nt - 1); /* repeats beyond cout: not stored */
            for (int m0 = 0; m0 < nc; m0 += GMAX) {
                const int G = nc - m0 < GMAX ? nc - m0 : GMAX;
                int off[GMAX];
                for (int g = 0; g < G; g++) off[g] = chunk_at(m0 + g, L);
                double *sl = slot + (long)ky * cout * Lp;
                switch (G) {
                case 1: dw_tile(1, xr[ky], dyr, off, oo, nt, cin, cout, ow, sl, Lp, m0); break;
                case 2: dw_tile(2, xr[ky], dyr, off, oo, nt, cin, cout, ow, sl, Lp, m0); break;
                case 3: dw_tile(3, xr[ky], dyr, off, oo, nt, cin, cout, ow, sl, Lp, m0); break;
                case 4: dw_tile(4, xr[ky], dyr, off, oo, nt, cin, cout, ow, sl, Lp, m0); break;
                default: dw_tile(GMAX, xr[ky], dyr, off, oo, nt, cin, cout, ow, sl, Lp, m0); break;
                }
            }
        }
    }
    /* the bias gradient: dy's row summed channel by channel */
    for (int j = 0; j < ow; j++)
        for (int o = 0; o < cout; o++) sb[o] += dyr[(long)j * cout + o];
}

void mg_conv_direct_backward_weights_wide_nhwc(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                               int cout, int h, int w, int k, int pad)
{
    const int oh = mg_conv_out(h, k, 1, pad), ow = mg_conv_out(w, k, 1, pad);
    if (oh <= 0 || ow <= 0) return;
    const int L = k * cin, nc = nchunks(L), Lp = 16 * nc, wp = w + 2 * pad;
    const long rows = (long)n * oh, bands = rows < BANDS ? rows : BANDS, band = (rows + bands - 1) / bands;
    const long ssize = (long)k * cout * Lp + cout; /* a band's slot: weights, then the bias */
    double *part = mg_calloc((size_t)(bands * ssize), sizeof(double));
#pragma omp parallel for schedule(dynamic, 1)
    for (long t = 0; t < bands; t++) {
        /* a ring of k padded rows of x: row ii of sample s in ring[ii % k] */
        float *ring = mg_calloc((size_t)k * (size_t)wp * (size_t)cin, sizeof(float));
        long tag[32];
        const float *xr[32];
        for (int q = 0; q < k; q++) tag[q] = -1;
        for (long r = t * band; r < (t + 1) * band && r < rows; r++) {
            const int s = (int)(r / oh), i = (int)(r % oh);
            for (int ky = 0; ky < k; ky++) {
                const int ii = i - pad + ky;
                xr[ky] = NULL;
                if (ii < 0 || ii >= h) continue;
                float *row = ring + (long)(ii % k) * wp * cin;
                if (tag[ii % k] != (long)s * h + ii) {
                    memcpy(row + (long)pad * cin, x + ((long)s * h + ii) * w * cin, sizeof(float) * (size_t)w * cin);
                    tag[ii % k] = (long)s * h + ii;
                }
                xr[ky] = row;
            }
            double *slot = part + t * ssize;
            dw_wide_row(xr, dy + ((long)s * oh + i) * ow * cout, slot, slot + (long)k * cout * Lp, cin, cout, k, ow);
        }
        free(ring);
    }
    for (long t = 1; t < bands; t++)
        for (long q = 0; q < ssize; q++) part[q] += part[t * ssize + q];
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    const int e = kx * cin + c, m = e / 16; /* the first chunk holding e */
                    dw[(((long)o * cin + c) * k + ky) * k + kx] +=
                        (float)part[((long)ky * cout + o) * Lp + 16 * m + e - chunk_at(m, L)];
                }
    if (db)
        for (int o = 0; o < cout; o++) db[o] += (float)part[(long)k * cout * Lp + o];
    free(part);
}

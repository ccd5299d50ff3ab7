/* A^H A and A^H (A x - y) of a slice with a line mask through the
 * phase-encode FFT alone (mri.h, docs/design.md "The DC unit's FFTs").
 *
 * The mask M selects phase-encode lines (rows) and is constant along the
 * readout, so it commutes with the readout FFT F_ro and, with F = F_ro F_pe,
 *     A^H A = S^H F_pe^H M F_pe S,
 *     A^H y = S^H F_pe^H (F_ro^H y):
 * the readout transform of the data is done once (mg_sense_pe_data) and every
 * application of the normal operator runs one 1D FFT pass along H each way
 * instead of two 2D FFTs (four passes and four transposes).
 *
 * The FFT along H runs on coil images stored transposed (C x W x H, rows of
 * length H contiguous): the maps' multiplication writes them transposed and
 * the adjoint reads them back, both in cache tiles, so no separate transpose
 * pass is left. The centring and the scale fold into those steps: for even H
 * the centred orthonormal DFT is F_c = P F D / sqrt(H) with F FFTW's
 * unnormalised DFT, D = diag((-1)^n) and P = diag((-1)^(k + H/2)) (fft.c), so
 *     F_c^H M (F_c u - z) = D F^-1 M (F D u / H - P z / sqrt(H))
 * (P is real, P^2 = 1 and commutes with M). The data term stores
 * hyb = M P z / sqrt(H), z = F_ro,c^H y, transposed. */
#include "mri.h"
#include "../fft/fft.h"

#include <math.h>
#include <string.h>

#define PE_PAR (1L << 16) /* on the OpenMP team from 64k values (DCI-Net at 256 x 256) */
enum { TILE = 32 };

int mg_sense_pe_fits(long H, const float *mask) { return mask != NULL && H >= 2 && H % 2 == 0; }

/* t[c][j][i] = (-1)^i s_c[i][j] x[i][j]: the coil images, transposed */
static void apply_transposed(const cfloat *sens, const cfloat *x, cfloat *t, long C, long H, long W)
{
    const long n = H * W, ti = (H + TILE - 1) / TILE, tj = (W + TILE - 1) / TILE;
#pragma omp parallel for collapse(2) schedule(static) if (C * n >= PE_PAR)
    for (long c = 0; c < C; c++)
        for (long tile = 0; tile < ti * tj; tile++) {
            const long i0 = (tile / tj) * TILE, j0 = (tile % tj) * TILE;
            const long i1 = i0 + TILE < H ? i0 + TILE : H, j1 = j0 + TILE < W ? j0 + TILE : W;
            const cfloat *s = sens + c * n;
            cfloat *tc = t + c * n;
            for (long j = j0; j < j1; j++)
                for (long i = i0; i < i1; i++) {
                    const cfloat v = s[i * W + j] * x[i * W + j];
                    tc[j * H + i] = (i & 1) ? -v : v;
                }
        }
}

/* r[i][j] = (-1)^i sum_c conj(s_c[i][j]) t[c][j][i] */
static void adjoint_transposed(const cfloat *sens, const cfloat *t, cfloat *r, long C, long H, long W)
{
    const long n = H * W, ti = (H + TILE - 1) / TILE, tj = (W + TILE - 1) / TILE;
#pragma omp parallel for schedule(static) if (C * n >= PE_PAR)
    for (long tile = 0; tile < ti * tj; tile++) {
        const long i0 = (tile / tj) * TILE, j0 = (tile % tj) * TILE;
        const long i1 = i0 + TILE < H ? i0 + TILE : H, j1 = j0 + TILE < W ? j0 + TILE : W;
        cfloat acc[TILE][TILE];
        for (long i = i0; i < i1; i++)
            for (long j = j0; j < j1; j++) acc[i - i0][j - j0] = 0;
        for (long c = 0; c < C; c++) {
            const cfloat *s = sens + c * n, *tc = t + c * n;
            for (long i = i0; i < i1; i++)
                for (long j = j0; j < j1; j++) acc[i - i0][j - j0] += conjf(s[i * W + j]) * tc[j * H + i];
        }
        for (long i = i0; i < i1; i++)
            for (long j = j0; j < j1; j++) r[i * W + j] = (i & 1) ? -acc[i - i0][j - j0] : acc[i - i0][j - j0];
    }
}

void mg_sense_pe_data(const cfloat *y, const float *mask, long C, long H, long W, cfloat *work, cfloat *hyb)
{
    const long n = H * W;
    memcpy(work, y, sizeof(cfloat) * (size_t)(C * n));
    mg_fft1c(work, C * H, W, MG_FFT_INVERSE); /* z = F_ro,c^H y */
    const float sc = (float)(1.0 / sqrt((double)H));
    for (long c = 0; c < C; c++)
        for (long i = 0; i < H; i++) {
            const float f = mask[i] != 0.0f ? (((i + H / 2) & 1) ? -sc : sc) : 0.0f; /* M P / sqrt(H) */
            const cfloat *zr = work + c * n + i * W;
            cfloat *hc = hyb + c * n;
            for (long j = 0; j < W; j++) hc[j * H + i] = f * zr[j];
        }
}

void mg_sense_pe_residual(const cfloat *sens, const float *mask, const cfloat *hyb, const cfloat *x, cfloat *r,
                          cfloat *t, long C, long H, long W)
{
    const long n = H * W;
    apply_transposed(sens, x, t, C, H, W);
    mg_dft_rows(t, C * W, H, MG_FFT_FORWARD);
    const float inv = 1.0f / (float)H;
#pragma omp parallel for schedule(static) if (C * n >= PE_PAR)
    for (long row = 0; row < C * W; row++) { /* M (t / H - hyb), one row of H lines */
        cfloat *tr = t + row * H;
        const cfloat *hr = hyb ? hyb + row * H : NULL;
        for (long k = 0; k < H; k++)
            tr[k] = mask[k] != 0.0f ? tr[k] * inv - (hr ? hr[k] : 0) : 0;
    }
    mg_dft_rows(t, C * W, H, MG_FFT_INVERSE);
    adjoint_transposed(sens, t, r, C, H, W);
}

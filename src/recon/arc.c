/* ARC / GRAPPA-style k-space interpolation for 1D (variable-density) masks:
 * one kernel per distinct pattern of acquired neighbours ("key"), each
 * calibrated by Tikhonov-regularised least squares on the centre lines and
 * applied in hybrid space (readout inverse-transformed), where the kernel's
 * readout taps become a per-x weight. docs/methods.md 2.3; docs/baselines.md. */
#include "recon.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_arc_defaults(mg_arc_opts *o)
{
    o->kx_half = 3;
    o->ky_window = 4;
    o->sources = 1;    /* tuned on the default validation split (docs/baselines.md) */
    o->lambda = 0.05f;
    o->acs = 12;
}

/* w layout: index ((c * nd + d) * taps + j) * C + t  (sources x targets) */
void mg_arc_apply_kspace(const cfloat *ksp, const cfloat *w, const int *dy, int nd, int h, long C,
                         long H, long W, long y, cfloat *out)
{
    const int taps = 2 * h + 1;
    for (long t = 0; t < C; t++)
        for (long x = 0; x < W; x++) {
            cfloat acc = 0;
            for (long c = 0; c < C; c++)
                for (int d = 0; d < nd; d++)
                    for (int j = 0; j < taps; j++) {
                        long xx = ((x + j - h) % W + W) % W;
                        acc += w[((c * nd + d) * taps + j) * C + t] * ksp[(c * H + y + dy[d]) * W + xx];
                    }
            out[t * W + x] = acc;
        }
}

/* Same result from hybrid data hyb = F_x^-1 ksp (per line): a readout shift
 * by j is a phase exp(-2 pi i j (x - W/2) / W) in x (pinned by a test). */
void mg_arc_apply_hybrid(const cfloat *hyb, const cfloat *w, const int *dy, int nd, int h, long C,
                         long H, long W, long y, cfloat *out)
{
    const int taps = 2 * h + 1;
    cfloat *ph = mg_malloc_array((size_t)(taps * W), sizeof(cfloat));
    for (int j = 0; j < taps; j++)
        for (long x = 0; x < W; x++)
            ph[j * W + x] = (cfloat)cexp(-2.0 * M_PI * I * (double)(j - h) * (double)(x - W / 2) / (double)W);
    cfloat *wx = mg_malloc_array((size_t)W, sizeof(cfloat));
    memset(out, 0, sizeof(cfloat) * (size_t)(C * W));
    for (long t = 0; t < C; t++)
        for (long c = 0; c < C; c++)
            for (int d = 0; d < nd; d++) {
                for (long x = 0; x < W; x++) wx[x] = 0;
                for (int j = 0; j < taps; j++) {
                    cfloat wt = w[((c * nd + d) * taps + j) * C + t];
                    for (long x = 0; x < W; x++) wx[x] += wt * ph[j * W + x];
                }
                const cfloat *src = hyb + (c * H + y + dy[d]) * W;
                for (long x = 0; x < W; x++) out[t * W + x] += wx[x] * src[x];
            }
    free(ph);
    free(wx);
}

/* LAPACK (OpenBLAS ships it): Cholesky solve of a Hermitian positive
 * definite system, column-major. */
extern void cposv_(const char *uplo, const int *n, const int *nrhs, cfloat *a, const int *lda,
                   cfloat *b, const int *ldb, int *info);

/* Kernel for source offsets dy[0..nd) from the calibration block [a0, a1). */
static int calibrate(const cfloat *ksp, long C, long H, long W, long a0, long a1, const int *dy,
                     int nd, int h, float lambda, cfloat *w)
{
    const int taps = 2 * h + 1;
    const int n = (int)C * nd * taps;
    long t0 = a0, t1 = a1;
    for (int d = 0; d < nd; d++) {
        if (a0 - dy[d] > t0) t0 = a0 - dy[d];
        if (a1 - dy[d] < t1) t1 = a1 - dy[d];
    }
    const long rows = (t1 - t0) * W;
    if (rows < 1) return -1;
    cfloat *A = mg_malloc_array((size_t)(rows * n), sizeof(cfloat)), *Bm = mg_malloc_array((size_t)(rows * C), sizeof(cfloat));
    long r = 0;
    for (long t = t0; t < t1; t++)
        for (long x = 0; x < W; x++, r++) {
            for (long c = 0; c < C; c++)
                for (int d = 0; d < nd; d++)
                    for (int j = 0; j < taps; j++) {
                        long xx = ((x + j - h) % W + W) % W;
                        A[r * n + (c * nd + d) * taps + j] = ksp[(c * H + t + dy[d]) * W + xx];
                    }
            for (long c = 0; c < C; c++) Bm[r * C + c] = ksp[(c * H + t) * W + x];
        }
    cfloat *G = mg_malloc_array((size_t)n * n, sizeof(cfloat)), *AB = mg_malloc_array((size_t)n * C, sizeof(cfloat));
    const cfloat one = 1, zero = 0;
    cblas_cgemm(CblasRowMajor, CblasConjTrans, CblasNoTrans, n, n, (int)rows, &one, A, n, A, n, &zero, G, n);
    cblas_cgemm(CblasRowMajor, CblasConjTrans, CblasNoTrans, n, (int)C, (int)rows, &one, A, n, Bm, (int)C, &zero, AB, (int)C);
    double tr = 0;
    for (int i = 0; i < n; i++) tr += crealf(G[i * n + i]);
    for (int i = 0; i < n; i++) G[i * n + i] += (float)(lambda * tr / n) + 1e-30f;
    /* G is Hermitian, so its row-major storage read column-major is conj(G);
     * solving conj(G) conj(X) = conj(B) gives X. AB (n x C, row-major) is
     * transposed into the column-major right-hand side. */
    cfloat *Bc = mg_malloc_array((size_t)n * C, sizeof(cfloat));
    for (int i = 0; i < n; i++)
        for (long c = 0; c < C; c++) Bc[c * n + i] = conjf(AB[i * C + c]);
    int info = 0, nrhs = (int)C;
    cposv_("L", &n, &nrhs, G, &n, Bc, &n, &info);
    for (int i = 0; i < n; i++)
        for (long c = 0; c < C; c++) w[i * C + c] = conjf(Bc[c * n + i]);
    int rc = info == 0 ? 0 : -1;
    free(Bc);
    free(A); free(Bm); free(G); free(AB);
    return rc;
}

typedef struct { int nd; int dy[8]; } arc_key;

long mg_arc(const cfloat *ksp, const float *mask, long C, long H, long W, const mg_arc_opts *o,
            cfloat *out)
{
    const long a0 = mg_mask_center_start(H, o->acs), a1 = a0 + o->acs;
    if (o->acs < 2 || a1 > H) {
        mg_set_error("ARC: %ld calibration lines do not fit in %ld lines", o->acs, H);
        return -1;
    }
    for (long y = a0; y < a1; y++)
        if (mask[y] == 0.0f) {
            mg_set_error("ARC: calibration line %ld (of the %ld centre lines) is not sampled", y, o->acs);
            return -1;
        }
    if (o->sources < 1 || o->sources > 4 || o->kx_half < 0 || o->ky_window < 1) {
        mg_set_error("ARC: kernel options out of range (sources 1..4, kx_half >= 0, window >= 1)");
        return -1;
    }
    const long n = C * H * W;
    memcpy(out, ksp, sizeof(cfloat) * (size_t)n);
    mg_mask_apply(out, mask, C, H, W);
    /* ARC is linear: work at unit maximum so the float normal equations
     * neither underflow (k-space around 1e-20) nor overflow, then scale back */
    double mx = 0;
    for (long i = 0; i < n; i++) mx = fmax(mx, cabsf(out[i]));
    const int rescale = mx > 0 && isfinite(mx);
    if (rescale)
        for (long i = 0; i < n; i++) out[i] = (cfloat)((double complex)out[i] / mx);
    cfloat *hyb = mg_malloc_array((size_t)n, sizeof(cfloat));
    memcpy(hyb, out, sizeof(cfloat) * (size_t)n);
    mg_fft1c(hyb, C * H, W, MG_FFT_INVERSE);
    const int taps = 2 * o->kx_half + 1;
    const int nmax = (int)C * 2 * o->sources * taps;
    arc_key *keys = mg_calloc((size_t)H, sizeof(arc_key));
    cfloat **kern = mg_calloc((size_t)H, sizeof(cfloat *));
    int nkeys = 0;
    long empty = 0;
    cfloat *line = mg_malloc_array((size_t)(C * W), sizeof(cfloat));
    for (long y = 0; y < H; y++) {
        if (mask[y] != 0.0f) continue;
        /* nearest acquired lines on each side within the window (widened up
         * to the ACS size when there are none); while the pattern spans more
         * lines than the ACS holds, the farthest source is dropped */
        arc_key k = {0, {0}};
        for (long win = o->ky_window; win < o->acs && k.nd == 0; win++) {
            int below = 0, above = 0;
            for (long d = 1; d <= win && below < o->sources; d++)
                if (y - d >= 0 && mask[y - d] != 0.0f) k.dy[k.nd++] = (int)-d, below++;
            for (long d = 1; d <= win && above < o->sources; d++)
                if (y + d < H && mask[y + d] != 0.0f) k.dy[k.nd++] = (int)d, above++;
            for (;;) {
                int lo = 0, hi = 0, far = -1;
                for (int i = 0; i < k.nd; i++) {
                    if (k.dy[i] < lo) lo = k.dy[i];
                    if (k.dy[i] > hi) hi = k.dy[i];
                    if (far < 0 || abs(k.dy[i]) > abs(k.dy[far])) far = i;
                }
                if (k.nd == 0 || hi - lo < o->acs - 1) break;
                memmove(k.dy + far, k.dy + far + 1, sizeof(int) * (size_t)(k.nd - far - 1));
                k.nd--;
            }
        }
        if (k.nd == 0) {
            empty++;
            continue;
        }
        int ki = -1;
        for (int i = 0; i < nkeys && ki < 0; i++)
            if (keys[i].nd == k.nd && !memcmp(keys[i].dy, k.dy, sizeof(int) * (size_t)k.nd)) ki = i;
        if (ki < 0) {
            ki = nkeys++;
            keys[ki] = k;
            kern[ki] = mg_malloc_array((size_t)nmax * C, sizeof(cfloat));
            if (calibrate(out, C, H, W, a0, a1, k.dy, k.nd, o->kx_half, o->lambda, kern[ki])) {
                mg_set_error("ARC: calibration failed for the source pattern of line %ld", y);
                empty = -1;
                break;
            }
        }
        mg_arc_apply_hybrid(hyb, kern[ki], keys[ki].dy, keys[ki].nd, o->kx_half, C, H, W, y, line);
        mg_fft1c(line, C, W, MG_FFT_FORWARD);
        for (long c = 0; c < C; c++) memcpy(out + (c * H + y) * W, line + c * W, sizeof(cfloat) * (size_t)W);
    }
    if (rescale) /* back to the data's scale; acquired lines exactly as measured */
        for (long c = 0; c < C; c++)
            for (long y = 0; y < H; y++) {
                cfloat *row = out + (c * H + y) * W;
                if (mask[y] != 0.0f) memcpy(row, ksp + (c * H + y) * W, sizeof(cfloat) * (size_t)W);
                else
                    for (long x = 0; x < W; x++) row[x] = (cfloat)((double complex)row[x] * mx);
            }
    for (int i = 0; i < nkeys; i++) free(kern[i]);
    free(kern);
    free(keys);
    free(line);
    free(hyb);
    return empty;
}

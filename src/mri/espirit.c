/* ESPIRiT coil sensitivities (Uecker et al., MRM 71:990, 2014; docs/methods.md
 * "ESPIRiT"): maps as the eigenvectors, eigenvalue 1, of the image-space
 * operator that projects multi-coil data onto the subspace the calibration
 * data span.
 *
 *  1. calibration matrix A: every k x k patch (all coils) of the fully
 *     sampled calibration region as a row; A^H A and its eigenvectors
 *     (LAPACK zheevd); the kernels are the right singular vectors whose
 *     singular value exceeds sqrt(threshold) times the largest;
 *  2. the operator in image space at pixel r is
 *       G(r) = (1/k^2) sum_v g_v(r) g_v(r)^H,   g_v(r) = sum_t conj(v[t]) e^{+2 pi i t.r}
 *     (the kernel's inverse DFT, conjugated: with v itself the eigenvectors
 *     are 0.91 correlated with known maps, with conj(v) 1.000; tests)
 *     (a C x C Hermitian matrix; the sum over patches that contain a sample,
 *     k^2 of them, is the 1/k^2). G has 2k-1 taps in k-space, so it is
 *     computed on a 2k x 2k grid and Fourier-interpolated to H x W exactly;
 *  3. per pixel the leading eigenvectors of G (orthogonal iteration, 30
 *     steps) are the maps, zeroed where their eigenvalue is below `crop`;
 *  4. the phase of every map is referenced to the calibration data's first
 *     principal component (a smooth phase, as BART's ecalib).
 * Maps have unit norm (sum_c |s_c|^2 = 1) where they are not cropped. */
#include "mri.h"
#include "../fft/fft.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK (OpenBLAS): Hermitian eigen-decomposition (divide and conquer), column-major. Fortran
 * passes the lengths of character arguments after the others: they must be
 * given (without them gfortran-built LAPACK may crash, as seen here). */
extern void zheevd_(const char *jobz, const char *uplo, const int *n, double complex *a, const int *lda, double *w,
                    double complex *work, const int *lwork, double *rwork, const int *lrwork, int *iwork,
                    const int *liwork, int *info, size_t jobz_len, size_t uplo_len);

void mg_espirit_defaults(mg_espirit_opts *o)
{
    o->kernel = 6;
    o->threshold = 0.001;
    o->crop = 0.8;
    o->maps = 1;
    o->calw = 0; /* min(W, 24): BART ecalib's default region (-r 24) along the readout */
}

/* The kernels: eigenvectors of A^H A (N = C k^2) with sigma_i / sigma_0 >
 * sqrt(threshold), as N-vectors (coil, ky, kx) in kern; returns their count. */
static long calib_kernels(const cfloat *cal, long C, long ch, long cw, long k, double threshold, double complex **kern)
{
    const long N = C * k * k, P = (ch - k + 1) * (cw - k + 1);
    double complex *A = mg_malloc_array((size_t)(P * N), sizeof(double complex)); /* P x N, column-major */
    long p = 0;
    for (long py = 0; py + k <= ch; py++)
        for (long px = 0; px + k <= cw; px++, p++)
            for (long c = 0; c < C; c++)
                for (long ty = 0; ty < k; ty++)
                    for (long tx = 0; tx < k; tx++)
                        A[((c * k + ty) * k + tx) * P + p] = cal[(c * ch + py + ty) * cw + px + tx];
    /* OpenBLAS 0.3.21's zgemv kernels read past the end of their arrays on
     * this CPU (valgrind: invalid reads in zgemv_n_HASWELL under zheev): pad */
    double complex *G = mg_calloc((size_t)(N * N + 4 * N), sizeof(double complex));
    cblas_zherk(CblasColMajor, CblasUpper, CblasConjTrans, (int)N, (int)P, 1.0, A, (int)P, 0.0, G, (int)N);
    free(A);
    double *w = mg_calloc((size_t)(2 * N), sizeof(double));
    int n = (int)N, info = 0, lwork = -1, lrwork = -1, liwork = -1, qi;
    double complex q;
    double qr;
    zheevd_("V", "U", &n, G, &n, w, &q, &lwork, &qr, &lrwork, &qi, &liwork, &info, 1, 1); /* sizes */
    lwork = (int)creal(q), lrwork = (int)qr, liwork = qi;
    double complex *work = mg_calloc((size_t)lwork + (size_t)(4 * N), sizeof(double complex));
    double *rwork = mg_calloc((size_t)lrwork + (size_t)(4 * N), sizeof(double));
    int *iwork = mg_calloc((size_t)liwork + 16, sizeof(int));
    zheevd_("V", "U", &n, G, &n, w, work, &lwork, rwork, &lrwork, iwork, &liwork, &info, 1, 1);
    free(work);
    free(rwork);
    free(iwork);
    long nk = 0;
    if (info == 0 && w[N - 1] > 0) {
        const double s0 = sqrt(w[N - 1]), lim = sqrt(threshold);
        while (nk < N && sqrt(fmax(w[N - 1 - nk], 0.0)) / s0 > lim) nk++;
    }
    *kern = mg_malloc_array((size_t)(nk > 0 ? nk * N : 1), sizeof(double complex));
    for (long v = 0; v < nk; v++) memcpy(*kern + v * N, G + (N - 1 - v) * N, sizeof(double complex) * (size_t)N);
    free(G);
    free(w);
    return info == 0 ? nk : -1;
}

/* the first principal component of the calibration data over coils: the
 * phase reference (power iteration on the C x C coil covariance) */
static void principal_coil(const cfloat *cal, long C, long n, double complex *u)
{
    double complex *R = mg_calloc((size_t)(C * C), sizeof(double complex)), *t = mg_malloc_array((size_t)C, sizeof(double complex));
    for (long i = 0; i < n; i++)
        for (long a = 0; a < C; a++)
            for (long b = 0; b < C; b++) R[a * C + b] += (double complex)cal[a * n + i] * conj(cal[b * n + i]);
    for (long a = 0; a < C; a++) u[a] = 1.0;
    for (int it = 0; it < 50; it++) {
        double nn = 0;
        for (long a = 0; a < C; a++) {
            t[a] = 0;
            for (long b = 0; b < C; b++) t[a] += R[a * C + b] * u[b];
            nn += creal(t[a] * conj(t[a]));
        }
        if (!(nn > 0)) break;
        for (long a = 0; a < C; a++) u[a] = t[a] / sqrt(nn);
    }
    /* its global phase is free: the last coil's entry real and positive, as
     * LAPACK returns eigenvectors (and so as BART's phase reference is: the
     * maps, and complex images, then agree with ecalib's, not only up to a
     * constant phase; measured on the real 8-coil scan) */
    const double au = cabs(u[C - 1]);
    const double complex ph = au > 0 ? conj(u[C - 1]) / au : 1.0;
    for (long a = 0; a < C; a++) u[a] *= ph;
    free(R);
    free(t);
}

/* per pixel: the leading M eigenvectors of the C x C Hermitian G (single
 * precision: the maps are stored so) by orthogonal iteration, eigenvalues
 * into val */
static void eig_top(const cfloat *G, long C, int M, cfloat *V, float *val, cfloat *T)
{
    /* start: the columns of G with the largest diagonals, in order (M <= 2) */
    long used[2] = {-1, -1};
    for (int m = 0; m < M; m++) {
        long best = -1;
        for (long a = 0; a < C; a++) {
            int taken = 0;
            for (int j = 0; j < m && j < 2; j++) taken |= used[j] == a;
            if (!taken && (best < 0 || crealf(G[a * C + a]) > crealf(G[best * C + best]))) best = a;
        }
        if (m < 2) used[m] = best;
        for (long a = 0; a < C; a++) V[m * C + a] = G[a * C + best];
    }
    for (int it = 0; it < 30; it++) { /* at most 30 steps (BART's), fewer once the vectors stop moving */
        float moved = 0;
        for (int m = 0; m < M; m++) /* T = G V */
            for (long a = 0; a < C; a++) {
                cfloat acc = 0;
                for (long b = 0; b < C; b++) acc += G[a * C + b] * V[m * C + b];
                T[m * C + a] = acc;
            }
        for (int m = 0; m < M; m++) { /* Gram-Schmidt against the vectors already orthonormalised */
            for (int j = 0; j < m; j++) {
                cfloat ip = 0;
                for (long a = 0; a < C; a++) ip += conjf(V[j * C + a]) * T[m * C + a];
                for (long a = 0; a < C; a++) T[m * C + a] -= ip * V[j * C + a];
            }
            float nn = 0;
            for (long a = 0; a < C; a++) nn += crealf(T[m * C + a]) * crealf(T[m * C + a]) + cimagf(T[m * C + a]) * cimagf(T[m * C + a]);
            const float inv = nn > 0 ? 1.0f / sqrtf(nn) : 0.0f;
            for (long a = 0; a < C; a++) {
                const cfloat v = T[m * C + a] * inv, dv = v - V[m * C + a];
                moved += crealf(dv) * crealf(dv) + cimagf(dv) * cimagf(dv);
                V[m * C + a] = v;
            }
        }
        if (moved < 1e-12f) break;
    }
    for (int m = 0; m < M; m++) { /* Rayleigh quotients */
        cfloat r = 0;
        for (long a = 0; a < C; a++) {
            cfloat acc = 0;
            for (long b = 0; b < C; b++) acc += G[a * C + b] * V[m * C + b];
            r += conjf(V[m * C + a]) * acc;
        }
        val[m] = crealf(r);
    }
}

int mg_espirit(const cfloat *ksp, long C, long H, long W, long acs, const mg_espirit_opts *o, cfloat *maps,
               float *evals)
{
    const long k = o->kernel, M = o->maps, n = H * W;
    const long cw = o->calw > 0 ? (o->calw < W ? o->calw : W) : (W < 24 ? W : 24);
    if (M < 1 || M > 2 || M > C) {
        mg_set_error("ESPIRiT: %ld map sets: 1 or 2 (and at most the %ld coils)", M, C);
        return -1;
    }
    if (k < 2 || acs < k || cw < k || 2 * k > H || 2 * k > W) {
        mg_set_error("ESPIRiT: a %ldx%ld kernel, %ld map set(s), needs at least %ld calibration lines and an image of "
                     "%ldx%ld (have %ld lines, %ldx%ld, %ld coils)", k, k, M, k, 2 * k, 2 * k, acs, H, W, C);
        return -1;
    }
    /* the calibration region, scaled to a maximum of 1 (maps are scale-free) */
    const long y0 = mg_mask_center_start(H, acs), x0 = mg_mask_center_start(W, cw), nc = acs * cw;
    cfloat *cal = mg_malloc_array((size_t)(C * nc), sizeof(cfloat));
    double mx = 0;
    for (long c = 0; c < C; c++)
        for (long y = 0; y < acs; y++)
            for (long x = 0; x < cw; x++) {
                cal[(c * acs + y) * cw + x] = ksp[(c * H + y0 + y) * W + x0 + x];
                mx = fmax(mx, cabsf(ksp[(c * H + y0 + y) * W + x0 + x]));
            }
    if (!(mx > 0) || !isfinite(mx)) {
        free(cal);
        mg_set_error("ESPIRiT: the calibration region is %s", mx > 0 ? "not finite" : "all zero");
        return -1;
    }
    for (long i = 0; i < C * nc; i++) cal[i] = (cfloat)((double complex)cal[i] / mx);
    double complex *kern;
    const long nk = calib_kernels(cal, C, acs, cw, k, o->threshold, &kern);
    if (nk <= 0) {
        free(cal);
        free(kern);
        mg_set_error("ESPIRiT: no kernels above the threshold (eigen-decomposition failed or no signal)");
        return -1;
    }
    double complex *u = mg_malloc_array((size_t)C, sizeof(double complex));
    principal_coil(cal, C, nc, u);
    free(cal);

    /* kernel images on the 2k x 2k grid: g_v = the unnormalised inverse DFT
     * of the conjugated kernel (sqrt(Ng) times the unitary one) */
    const long gh = 2 * k, gw = 2 * k, ng = gh * gw, np = C * (C + 1) / 2;
    cfloat *g = mg_calloc((size_t)(nk * C * ng), sizeof(cfloat));
    for (long v = 0; v < nk; v++)
        for (long c = 0; c < C; c++)
            for (long ty = 0; ty < k; ty++)
                for (long tx = 0; tx < k; tx++)
                    g[((v * C + c) * gh + ty + (gh - k) / 2) * gw + tx + (gw - k) / 2] =
                        (cfloat)conj(kern[v * C * k * k + (c * k + ty) * k + tx]);
    free(kern);
    mg_fft2c(g, nk * C, gh, gw, MG_FFT_INVERSE);
    /* G on the small grid (packed upper triangle, one plane per entry) */
    cfloat *gs = mg_malloc_array((size_t)(np * n), sizeof(cfloat));
    cfloat *small = mg_calloc((size_t)(np * ng), sizeof(cfloat));
    const double scale = (double)ng / (double)(k * k);
    for (long p = 0; p < ng; p++)
        for (long a = 0, e = 0; a < C; a++)
            for (long b = a; b < C; b++, e++) {
                double complex s = 0;
                for (long v = 0; v < nk; v++) s += (double complex)g[(v * C + a) * ng + p] * conj(g[(v * C + b) * ng + p]);
                small[e * ng + p] = (cfloat)(s * scale);
            }
    free(g);
    /* exact Fourier interpolation of each entry to H x W */
    mg_fft2c(small, np, gh, gw, MG_FFT_FORWARD);
    memset(gs, 0, sizeof(cfloat) * (size_t)(np * n));
    const long oy = (H - gh + 1) / 2, ox = (W - gw + 1) / 2; /* centred: grid centre gh/2 on H/2 */
    const float up = (float)sqrt((double)n / (double)ng);
    for (long e = 0; e < np; e++)
        for (long y = 0; y < gh; y++)
            for (long x = 0; x < gw; x++) gs[(e * H + y + oy) * W + x + ox] = small[(e * gh + y) * gw + x] * up;
    free(small);
    mg_fft2c(gs, np, H, W, MG_FFT_INVERSE);

    /* per pixel: eigenvectors, crop, phase */
#pragma omp parallel
    {
        cfloat *Gp = mg_malloc_array((size_t)(C * C), sizeof(cfloat));
        cfloat *V = mg_malloc_array((size_t)(M * C), sizeof(cfloat));
        cfloat *T = mg_malloc_array((size_t)(M * C), sizeof(cfloat));
        float *val = mg_malloc_array((size_t)M, sizeof(float));
#pragma omp for schedule(static)
        for (long i = 0; i < n; i++) {
            for (long a = 0, e = 0; a < C; a++)
                for (long b = a; b < C; b++, e++) {
                    const cfloat z = gs[e * n + i];
                    Gp[a * C + b] = z;
                    Gp[b * C + a] = conjf(z);
                }
            eig_top(Gp, C, (int)M, V, val, T);
            for (long m = 0; m < M; m++) {
                double complex ip = 0;
                for (long a = 0; a < C; a++) ip += conj(u[a]) * (double complex)V[m * C + a];
                const double aip = cabs(ip);
                const double complex rot = aip > 0 ? conj(ip) / aip : 1.0;
                const int keep = val[m] >= o->crop;
                for (long a = 0; a < C; a++) maps[(m * C + a) * n + i] = keep ? (cfloat)((double complex)V[m * C + a] * rot) : 0.0f;
                if (evals) evals[m * n + i] = val[m];
            }
        }
        free(Gp);
        free(V);
        free(T);
        free(val);
    }
    free(gs);
    free(u);
    return 0;
}

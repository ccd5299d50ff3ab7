/* Coil sensitivity estimation from the fully sampled centre lines. */
#include "mri.h"
#include "../fft/fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* modified Bessel function of the first kind, order 0 (power series) */
static double bessel_i0(double x)
{
    double sum = 1, term = 1, q = 0.25 * x * x;
    for (int k = 1; k < 60; k++) {
        term *= q / ((double)k * (double)k);
        sum += term;
        if (term < 1e-17 * sum) break;
    }
    return sum;
}

/* Kaiser-Bessel window of length L, beta = 4 (as BART's caldir). */
static double kb_window(long i, long L, double beta)
{
    if (L <= 1) return 1.0;
    double t = 2.0 * (double)i / (double)(L - 1) - 1.0;
    double a = 1.0 - t * t;
    return bessel_i0(beta * sqrt(a > 0 ? a : 0)) / bessel_i0(beta);
}

/* Low-resolution coil images from a windowed calibration block of `acs`
 * lines x `calw` readout samples around the k-space centre. */
static void lowres_images(const cfloat *ksp, long C, long H, long W, long acs, long calw,
                          cfloat *lr)
{
    const long y0 = mg_mask_center_start(H, acs);
    const long x0 = mg_mask_center_start(W, calw);
    memset(lr, 0, sizeof(cfloat) * (size_t)(C * H * W));
    for (long c = 0; c < C; c++)
        for (long y = y0; y < y0 + acs; y++) {
            double wy = kb_window(y - y0, acs, 4.0);
            for (long x = x0; x < x0 + calw; x++) {
                double wx = kb_window(x - x0, calw, 4.0);
                long i = (c * H + y) * W + x;
                lr[i] = ksp[i] * (float)(wy * wx);
            }
        }
    mg_fft2c(lr, C, H, W, MG_FFT_INVERSE);
}

static void normalise_rss(cfloat *s, long C, long n)
{
    double maxr = 0;
    float *rss = mg_malloc_array((size_t)n, sizeof(float));
    for (long i = 0; i < n; i++) {
        double a = 0;
        for (long c = 0; c < C; c++) {
            cfloat v = s[c * n + i];
            a += ((double)crealf(v) * crealf(v) + (double)cimagf(v) * cimagf(v));
        }
        rss[i] = (float)sqrt(a);
        if (rss[i] > maxr) maxr = rss[i];
    }
    const double eps = 1e-6 * maxr + 1e-30;
    for (long i = 0; i < n; i++) {
        float inv = (float)(1.0 / ((double)rss[i] + eps));
        for (long c = 0; c < C; c++) s[c * n + i] *= inv;
    }
    free(rss);
}

/* Dominant eigenvector of the local coil covariance (Walsh), by power iteration. */
static void walsh(const cfloat *lr, const cfloat *ref, long C, long H, long W, long k, cfloat *s)
{
    const long n = H * W;
#pragma omp parallel
    {
        cfloat *R = mg_malloc_array((size_t)(C * C), sizeof(cfloat));
        cfloat *v = mg_malloc_array((size_t)C, sizeof(cfloat));
        cfloat *t = mg_malloc_array((size_t)C, sizeof(cfloat));
#pragma omp for schedule(static)
        for (long p = 0; p < n; p++) {
            long py = p / W, px = p % W;
            memset(R, 0, sizeof(cfloat) * (size_t)(C * C));
            for (long dy = -k; dy <= k; dy++) {
                long y = py + dy;
                if (y < 0 || y >= H) continue;
                for (long dx = -k; dx <= k; dx++) {
                    long x = px + dx;
                    if (x < 0 || x >= W) continue;
                    long q = y * W + x;
                    for (long a = 0; a < C; a++) {
                        cfloat la = lr[a * n + q];
                        for (long b = 0; b < C; b++) R[a * C + b] += la * conjf(lr[b * n + q]);
                    }
                }
            }
            double nv = 0;
            for (long c = 0; c < C; c++) {
                v[c] = ref[c * n + p];
                nv += ((double)crealf(v[c]) * crealf(v[c]) + (double)cimagf(v[c]) * cimagf(v[c]));
            }
            if (nv == 0) {
                for (long c = 0; c < C; c++) v[c] = 1.0f;
            }
            for (int it = 0; it < 12; it++) {
                double nn = 0;
                for (long a = 0; a < C; a++) {
                    cfloat acc = 0;
                    for (long b = 0; b < C; b++) acc += R[a * C + b] * v[b];
                    t[a] = acc;
                    nn += ((double)crealf(acc) * crealf(acc) + (double)cimagf(acc) * cimagf(acc));
                }
                if (nn == 0) break;
                float inv = (float)(1.0 / sqrt(nn));
                for (long a = 0; a < C; a++) v[a] = t[a] * inv;
            }
            /* phase: make <ref, v> real and positive (smooth, like the direct maps) */
            cfloat ip = 0;
            for (long c = 0; c < C; c++) ip += conjf(ref[c * n + p]) * v[c];
            float m = cabsf(ip);
            cfloat rot = m > 0 ? conjf(ip) / m : 1.0f;
            double nn = 0;
            for (long c = 0; c < C; c++) {
                v[c] *= rot;
                nn += ((double)crealf(v[c]) * crealf(v[c]) + (double)cimagf(v[c]) * cimagf(v[c]));
            }
            float inv = nn > 0 ? (float)(1.0 / sqrt(nn)) : 0.0f;
            for (long c = 0; c < C; c++) s[c * n + p] = v[c] * inv;
        }
        free(R);
        free(v);
        free(t);
    }
}

int mg_sens_estimate(const cfloat *ksp, long C, long H, long W, long acs, int method, cfloat *sens)
{
    return mg_sens_estimate_opts(ksp, C, H, W, acs, method, NULL, sens);
}

int mg_sens_estimate_opts(const cfloat *ksp, long C, long H, long W, long acs, int method, const mg_espirit_opts *eo,
                          cfloat *sens)
{
    if (acs < 2 || acs > H) {
        mg_set_error("sensitivity estimation: %ld calibration lines do not fit in %ld lines", acs, H);
        return -1;
    }
    if (method != MG_SENS_DIRECT && method != MG_SENS_WALSH && method != MG_SENS_ESPIRIT) {
        mg_set_error("sensitivity estimation: unknown method %d", method);
        return -1;
    }
    if (method == MG_SENS_ESPIRIT) { /* its options, or one set with the defaults */
        mg_espirit_opts o;
        mg_espirit_defaults(&o);
        return mg_espirit(ksp, C, H, W, acs, eo ? eo : &o, sens, NULL);
    }
    const long calw = W < 32 ? W : 32;
    const long n = H * W;
    cfloat *lr = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    lowres_images(ksp, C, H, W, acs, calw, lr);
    /* maps do not depend on the data's scale: bring the low-resolution images
     * to a maximum magnitude of 1 first, so the float covariances neither
     * overflow (k-space around 1e10 and up) nor underflow */
    double mx = 0;
    for (long i = 0; i < C * n; i++) mx = fmax(mx, cabsf(lr[i]));
    if (!(mx > 0) || !isfinite(mx)) {
        free(lr);
        mg_set_error("sensitivity estimation: the %ld calibration lines are %s", acs, mx > 0 ? "not finite" : "all zero");
        return -1;
    }
    for (long i = 0; i < C * n; i++) lr[i] = (cfloat)((double complex)lr[i] / mx);
    if (method == MG_SENS_DIRECT) {
        memcpy(sens, lr, sizeof(cfloat) * (size_t)(C * n));
        normalise_rss(sens, C, n);
    } else {
        cfloat *ref = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
        memcpy(ref, lr, sizeof(cfloat) * (size_t)(C * n));
        normalise_rss(ref, C, n);
        walsh(lr, ref, C, H, W, 3, sens);
        free(ref);
    }
    free(lr);
    return 0;
}

double mg_sens_projection_nrmse(const cfloat *ksp, const cfloat *sens, long C, long H, long W)
{
    const long n = H * W;
    cfloat *x = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    cfloat *m = mg_malloc_array((size_t)n, sizeof(cfloat));
    memcpy(x, ksp, sizeof(cfloat) * (size_t)(C * n));
    mg_fft2c(x, C, H, W, MG_FFT_INVERSE);
    mg_sens_adjoint(x, sens, m, C, H, W);
    double num = 0, den = 0;
    for (long c = 0; c < C; c++)
        for (long i = 0; i < n; i++) {
            cfloat xi = x[c * n + i];
            cfloat d = xi - sens[c * n + i] * m[i];
            num += ((double)crealf(d) * crealf(d) + (double)cimagf(d) * cimagf(d));
            den += ((double)crealf(xi) * crealf(xi) + (double)cimagf(xi) * cimagf(xi));
        }
    free(x);
    free(m);
    return den > 0 ? sqrt(num / den) : 0.0;
}

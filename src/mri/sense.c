/* The SENSE operator A = M F S and its pieces. */
#include "mri.h"
#include "../fft/fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* elementwise loops: on the OpenMP team for images of 64k pixels and more
 * (DCI-Net's DC unit at 256x256); serial inside other parallel regions */
#define SENSE_PAR (1L << 16)

void mg_sens_apply(const cfloat *img, const cfloat *sens, cfloat *coils, long C, long H, long W)
{
    const long n = H * W;
#pragma omp parallel for schedule(static) if (n >= SENSE_PAR)
    for (long c = 0; c < C; c++) {
        const cfloat *s = sens + c * n;
        cfloat *x = coils + c * n;
        for (long i = 0; i < n; i++) x[i] = s[i] * img[i];
    }
}

void mg_sens_adjoint(const cfloat *coils, const cfloat *sens, cfloat *img, long C, long H, long W)
{
    const long n = H * W;
#pragma omp parallel for schedule(static) if (n >= SENSE_PAR)
    for (long i = 0; i < n; i++) {
        cfloat a = 0;
        for (long c = 0; c < C; c++) a += conjf(sens[c * n + i]) * coils[c * n + i];
        img[i] = a;
    }
}

void mg_mask_apply(cfloat *ksp, const float *mask, long C, long H, long W)
{
    if (!mask) return;
    for (long c = 0; c < C; c++)
        for (long y = 0; y < H; y++) {
            if (mask[y] != 0.0f) continue;
            memset(ksp + (c * H + y) * W, 0, sizeof(cfloat) * (size_t)W);
        }
}

void mg_sense_forward(const cfloat *img, const cfloat *sens, const float *mask, cfloat *ksp, long C,
                      long H, long W)
{
    mg_sens_apply(img, sens, ksp, C, H, W);
    mg_fft2c(ksp, C, H, W, MG_FFT_FORWARD);
    mg_mask_apply(ksp, mask, C, H, W);
}

void mg_sense_adjoint(const cfloat *ksp, const cfloat *sens, const float *mask, cfloat *img,
                      cfloat *work, long C, long H, long W)
{
    cfloat *tmp = work ? work : mg_malloc_array((size_t)(C * H * W), sizeof(cfloat));
    memcpy(tmp, ksp, sizeof(cfloat) * (size_t)(C * H * W));
    mg_mask_apply(tmp, mask, C, H, W);
    mg_fft2c(tmp, C, H, W, MG_FFT_INVERSE);
    mg_sens_adjoint(tmp, sens, img, C, H, W);
    if (!work) free(tmp);
}

void mg_zerofill(const cfloat *ksp, const cfloat *sens, const float *mask, cfloat *img, long C,
                 long H, long W)
{
    mg_sense_adjoint(ksp, sens, mask, img, NULL, C, H, W);
}

void mg_rss(const cfloat *ksp, long C, long H, long W, cfloat *work, float *rss)
{
    const long n = H * W;
    memcpy(work, ksp, sizeof(cfloat) * (size_t)(C * n));
    mg_fft2c(work, C, H, W, MG_FFT_INVERSE);
    for (long i = 0; i < n; i++) {
        double a = 0;
        for (long c = 0; c < C; c++) {
            const cfloat v = work[c * n + i];
            a += (double)crealf(v) * crealf(v) + (double)cimagf(v) * cimagf(v);
        }
        rss[i] = (float)sqrt(a);
    }
}

double mg_sens_normalize(cfloat *sens, long C, long H, long W, double tol)
{
    const long n = H * W;
    double worst = 0, mx = 0;
    double *e = mg_malloc_array((size_t)n, sizeof(double));
    for (long i = 0; i < n; i++) {
        double a = 0;
        for (long c = 0; c < C; c++) a += (double)crealf(sens[c * n + i]) * crealf(sens[c * n + i]) +
                                          (double)cimagf(sens[c * n + i]) * cimagf(sens[c * n + i]);
        e[i] = a;
        mx = fmax(mx, a);
    }
    for (long i = 0; i < n; i++)
        if (e[i] > 1e-12 * mx) worst = fmax(worst, fabs(sqrt(e[i]) - 1.0));
    for (long i = 0; i < n && worst > tol; i++) {
        if (!(e[i] > 1e-12 * mx)) continue; /* outside the maps' support: stays (near) zero */
        const double inv = 1.0 / sqrt(e[i]);
        for (long c = 0; c < C; c++) sens[c * n + i] = (cfloat)((double complex)sens[c * n + i] * inv);
    }
    free(e);
    return worst;
}

/* Smooth random fields and Gaussian smoothing on the image grid, through
 * the centred FFT (periodic boundaries; docs/data.md "Phase" and
 * "Contrast"). */
#include "mri.h"
#include "../fft/fft.h"

#include <math.h>
#include <stdlib.h>

/* multiply the centred spectrum of x (H x W) by g(fy, fx, p), f in cycles
 * per pixel */
static void spectral_filter(cfloat *x, long H, long W, double (*g)(double, double, double), double p)
{
    mg_fft2c(x, 1, H, W, MG_FFT_FORWARD);
    for (long y = 0; y < H; y++) {
        double fy = (double)(y - H / 2);
        for (long xx = 0; xx < W; xx++) {
            double fx = (double)(xx - W / 2);
            x[y * W + xx] *= (float)g(fy / (double)H, fx / (double)W, p);
        }
    }
    mg_fft2c(x, 1, H, W, MG_FFT_INVERSE);
}

/* exp(-2 pi^2 sigma^2 |f|^2), f in cycles per pixel: the transfer function
 * of a Gaussian of std sigma pixels */
static double gauss_px(double fy, double fx, double sigma)
{
    return exp(-2.0 * M_PI * M_PI * sigma * sigma * (fy * fy + fx * fx));
}

void mg_gaussian_smooth(float *img, long H, long W, double sigma_px)
{
    cfloat *x = mg_malloc_array((size_t)(H * W), sizeof(cfloat));
    for (long i = 0; i < H * W; i++) x[i] = img[i];
    spectral_filter(x, H, W, gauss_px, sigma_px);
    for (long i = 0; i < H * W; i++) img[i] = crealf(x[i]);
    free(x);
}

void mg_random_field(float *out, long H, long W, double kc, mg_rng *rng)
{
    const long n = H * W;
    cfloat *x = mg_malloc_array((size_t)n, sizeof(cfloat));
    /* white noise through a Gaussian envelope exp(-|k|^2 / (2 kc^2)), k in
     * cycles per field of view along each axis */
    for (long i = 0; i < n; i++) x[i] = (float)mg_rng_normal(rng) + I * (float)mg_rng_normal(rng);
    for (long y = 0; y < H; y++) {
        double ky = (double)(y - H / 2);
        for (long xx = 0; xx < W; xx++) {
            double kx = (double)(xx - W / 2);
            x[y * W + xx] *= (float)exp(-(ky * ky + kx * kx) / (2.0 * kc * kc));
        }
    }
    mg_fft2c(x, 1, H, W, MG_FFT_INVERSE);
    double m = 0, v = 0;
    for (long i = 0; i < n; i++) m += crealf(x[i]);
    m /= (double)n;
    for (long i = 0; i < n; i++) v += pow(crealf(x[i]) - m, 2);
    double sd = sqrt(v / (double)n);
    for (long i = 0; i < n; i++) out[i] = sd > 0 ? (float)((crealf(x[i]) - m) / sd) : 0.0f;
    free(x);
}

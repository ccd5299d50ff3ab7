/* Multi-coil simulation: coil maps, smooth phase, k-space with noise, and
 * Fourier resampling of real images. */
#include "mri.h"
#include "../fft/fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_birdcage_maps(cfloat *sens, long C, long H, long W, double radius, double rotation)
{
    const long n = H * W;
    for (long c = 0; c < C; c++) {
        double ang = 2.0 * M_PI * (double)c / (double)C;
        double cx = radius * cos(ang + rotation), cy = radius * sin(ang + rotation);
        for (long y = 0; y < H; y++) {
            double Y = ((double)y - 0.5 * (double)H) / (0.5 * (double)H) - cy;
            for (long x = 0; x < W; x++) {
                double X = ((double)x - 0.5 * (double)W) / (0.5 * (double)W) - cx;
                double rr = sqrt(X * X + Y * Y);
                double phi = atan2(X, -Y) - ang;
                sens[c * n + y * W + x] = (cfloat)((1.0 / rr) * cexp(I * phi));
            }
        }
    }
    for (long i = 0; i < n; i++) {
        double a = 0;
        for (long c = 0; c < C; c++) {
            cfloat v = sens[c * n + i];
            a += (double)(crealf(v) * crealf(v) + cimagf(v) * cimagf(v));
        }
        float inv = (float)(1.0 / sqrt(a));
        for (long c = 0; c < C; c++) sens[c * n + i] *= inv;
    }
}

void mg_random_phase(cfloat *img, long H, long W, double amp, mg_rng *rng)
{
    double a[6];
    a[0] = M_PI * (2.0 * mg_rng_uniform(rng) - 1.0);
    for (int i = 1; i < 6; i++) a[i] = amp * (2.0 * mg_rng_uniform(rng) - 1.0);
    for (long y = 0; y < H; y++) {
        double Y = ((double)y - 0.5 * (double)H) / (0.5 * (double)H);
        for (long x = 0; x < W; x++) {
            double X = ((double)x - 0.5 * (double)W) / (0.5 * (double)W);
            double phi = a[0] + a[1] * X + a[2] * Y + a[3] * X * X + a[4] * X * Y + a[5] * Y * Y;
            img[y * W + x] *= (cfloat)cexp(I * phi);
        }
    }
}

void mg_simulate_kspace(const cfloat *img, const cfloat *sens, long C, long H, long W,
                        double sigma, mg_rng *rng, cfloat *ksp)
{
    mg_simulate_kspace_mixed(img, sens, C, H, W, sigma, NULL, rng, ksp);
}

void mg_simulate_kspace_mixed(const cfloat *img, const cfloat *sens, long C, long H, long W, double sigma,
                              const cfloat *A, mg_rng *rng, cfloat *ksp)
{
    mg_sens_apply(img, sens, ksp, C, H, W);
    mg_fft2c(ksp, C, H, W, MG_FFT_FORWARD);
    mg_kspace_add_noise(ksp, C, H * W, sigma, A, rng);
}

void mg_kspace_add_noise(cfloat *ksp, long C, long n, double sigma, const cfloat *A, mg_rng *rng)
{
    if (!(sigma > 0)) return;
    if (!A) {
        for (long i = 0; i < C * n; i++) {
            double re = sigma * mg_rng_normal(rng), im = sigma * mg_rng_normal(rng);
            ksp[i] += (float)re + I * (float)im;
        }
        return;
    }
    cfloat z[MG_MAX_ARRAY_COILS];
    for (long i = 0; i < n; i++) {
        for (long c = 0; c < C; c++) z[c] = (float)mg_rng_normal(rng) + I * (float)mg_rng_normal(rng);
        for (long c = 0; c < C; c++) {
            cfloat acc = 0;
            for (long d = 0; d < C; d++) acc += A[c * C + d] * z[d];
            ksp[c * n + i] += (float)sigma * acc;
        }
    }
}

void mg_noise_mixing_random(cfloat *A, long C, double corr, mg_rng *rng)
{
    const double g = corr / sqrt((double)C);
    for (long c = 0; c < C; c++)
        for (long d = 0; d < C; d++)
            A[c * C + d] = (float)(g * mg_rng_normal(rng)) + I * (float)(g * mg_rng_normal(rng)) + (c == d ? 1.0f : 0.0f);
    double tr = 0;
    for (long c = 0; c < C; c++) {
        double gain = exp(log(0.8) + (log(1.25) - log(0.8)) * mg_rng_uniform(rng));
        for (long d = 0; d < C; d++) {
            A[c * C + d] *= (float)gain;
            tr += pow(cabsf(A[c * C + d]), 2);
        }
    }
    const float s = (float)sqrt((double)C / tr);
    for (long i = 0; i < C * C; i++) A[i] *= s;
}

void mg_resample_fourier(const float *in, long h, long w, float *out, long H, long W)
{
    cfloat *a = mg_malloc_array((size_t)(h * w), sizeof(cfloat));
    cfloat *b = mg_calloc((size_t)(H * W), sizeof(cfloat));
    for (long i = 0; i < h * w; i++) a[i] = in[i];
    mg_fft2c(a, 1, h, w, MG_FFT_FORWARD);
    /* the centred spectrum has its DC sample at index floor(N/2) */
    for (long Y = 0; Y < H; Y++) {
        long y = Y - H / 2 + h / 2;
        if (y < 0 || y >= h) continue;
        for (long X = 0; X < W; X++) {
            long x = X - W / 2 + w / 2;
            if (x < 0 || x >= w) continue;
            b[Y * W + X] = a[y * w + x];
        }
    }
    mg_fft2c(b, 1, H, W, MG_FFT_INVERSE);
    const float scale = (float)sqrt(((double)H * (double)W) / ((double)h * (double)w));
    for (long i = 0; i < H * W; i++) out[i] = crealf(b[i]) * scale;
    free(a);
    free(b);
}

/* Image quality metrics on magnitude images (fastMRI definitions; HFEN after
 * Ravishankar & Bresler 2011). docs/metrics.md. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double mg_psnr(const float *gt, const float *x, long n, double maxval)
{
    double e = 0;
    for (long i = 0; i < n; i++) e += ((double)gt[i] - x[i]) * ((double)gt[i] - x[i]);
    e /= (double)n;
    return e > 0 ? 10.0 * log10(maxval * maxval / e) : INFINITY;
}

/* skimage structural_similarity with fastMRI's arguments: 7x7 uniform window,
 * K1 0.01, K2 0.03, sample covariance (N/(N-1)), data_range = maxval, mean
 * over the pixels whose window fits (a 3-pixel border cropped). */
double mg_ssim(const float *gt, const float *x, long H, long W, double maxval)
{
    const int r = 3, win = 7;
    const double np = win * win, cov = np / (np - 1);
    const double C1 = pow(0.01 * maxval, 2), C2 = pow(0.03 * maxval, 2);
    double sum = 0;
    long cnt = 0;
    for (long y = r; y < H - r; y++)
        for (long c = r; c < W - r; c++) {
            double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            for (int dy = -r; dy <= r; dy++)
                for (int dx = -r; dx <= r; dx++) {
                    double a = gt[(y + dy) * W + c + dx], b = x[(y + dy) * W + c + dx];
                    sx += a;
                    sy += b;
                    sxx += a * a;
                    syy += b * b;
                    sxy += a * b;
                }
            double mx = sx / np, my = sy / np;
            double vx = cov * (sxx / np - mx * mx), vy = cov * (syy / np - my * my);
            double vxy = cov * (sxy / np - mx * my);
            sum += ((2 * mx * my + C1) * (2 * vxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
            cnt++;
        }
    return cnt ? sum / (double)cnt : 0.0;
}

void mg_log_kernel(double *k)
{
    /* MATLAB fspecial('log', 15, 1.5) */
    const int n = 15, h = 7;
    const double s = 1.5;
    double hg[225], sum = 0, mx = 0;
    for (int y = -h; y <= h; y++)
        for (int x = -h; x <= h; x++) {
            double v = exp(-(x * x + y * y) / (2 * s * s));
            hg[(y + h) * n + x + h] = v;
            if (v > mx) mx = v;
        }
    for (int i = 0; i < 225; i++) {
        if (hg[i] < 2.220446049250313e-16 * mx) hg[i] = 0;
        sum += hg[i];
    }
    double s1 = 0;
    for (int y = -h; y <= h; y++)
        for (int x = -h; x <= h; x++) {
            int i = (y + h) * n + x + h;
            k[i] = hg[i] / sum * (x * x + y * y - 2 * s * s) / pow(s, 4);
            s1 += k[i];
        }
    for (int i = 0; i < 225; i++) k[i] -= s1 / 225.0;
}

/* correlation with zero padding, 'same' size (MATLAB imfilter default) */
static void log_filter(const float *in, double *out, long H, long W, const double *k)
{
    for (long y = 0; y < H; y++)
        for (long x = 0; x < W; x++) {
            double s = 0;
            for (int dy = -7; dy <= 7; dy++) {
                long yy = y + dy;
                if (yy < 0 || yy >= H) continue;
                for (int dx = -7; dx <= 7; dx++) {
                    long xx = x + dx;
                    if (xx < 0 || xx >= W) continue;
                    s += k[(dy + 7) * 15 + dx + 7] * in[yy * W + xx];
                }
            }
            out[y * W + x] = s;
        }
}

void mg_hfen_add(mg_hfen_acc *acc, const float *gt, const float *x, long H, long W)
{
    double k[225];
    mg_log_kernel(k);
    double *a = mg_malloc_array((size_t)(H * W), sizeof(double)), *b = mg_malloc_array((size_t)(H * W), sizeof(double));
    log_filter(gt, a, H, W, k);
    log_filter(x, b, H, W, k);
    for (long i = 0; i < H * W; i++) {
        acc->err += (a[i] - b[i]) * (a[i] - b[i]);
        acc->ref += a[i] * a[i];
    }
    free(a);
    free(b);
}

double mg_hfen_value(const mg_hfen_acc *acc) { return acc->ref > 0 ? sqrt(acc->err / acc->ref) : NAN; }

/* mrgan metrics (this layer grows with the evaluation issue). */
#ifndef MRGAN_METRICS_H
#define MRGAN_METRICS_H

#include "../core/core.h"

/* Running sums for a volume-level NMSE on magnitudes, as fastMRI defines it:
 * NMSE = ||gt - pred||^2 / ||gt||^2 over the whole volume. */
typedef struct { double err, ref; } mg_nmse_acc;
void mg_nmse_add_mag(mg_nmse_acc *acc, const cfloat *gt, const cfloat *pred, size_t n);
double mg_nmse_value(const mg_nmse_acc *acc);

/* PSNR = 10 log10(maxval^2 / mean (gt - x)^2), maxval the volume's gt max. */
double mg_psnr(const float *gt, const float *x, long n, double maxval);
/* SSIM of one H x W slice as skimage / fastMRI compute it (7x7 uniform window,
 * K1 0.01, K2 0.03, sample covariance, data_range maxval = the volume's gt
 * max, mean over the interior 3 pixels from the border). */
double mg_ssim(const float *gt, const float *x, long H, long W, double maxval);
/* HFEN, normalised: ||LoG * x - LoG * gt||_F / ||LoG * gt||_F over a volume,
 * LoG = MATLAB fspecial('log', 15, 1.5), zero-padded correlation. */
typedef struct { double err, ref; } mg_hfen_acc;
void mg_hfen_add(mg_hfen_acc *acc, const float *gt, const float *x, long H, long W);
double mg_hfen_value(const mg_hfen_acc *acc);
void mg_log_kernel(double *k); /* 15 x 15 */

#endif

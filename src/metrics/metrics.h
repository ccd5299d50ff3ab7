/* mrgan metrics: NMSE, PSNR, SSIM, HFEN as fastMRI / the paper define them,
 * and FID / KID on Inception-v3 features (docs/metrics.md). */
#ifndef MRGAN_METRICS_H
#define MRGAN_METRICS_H

#include "../core/core.h"

/* Running sums for a volume-level NMSE on magnitudes, as fastMRI defines it:
 * NMSE = ||gt - pred||^2 / ||gt||^2 over the whole volume. */
typedef struct { double err, ref; } mg_nmse_acc;
void mg_nmse_add_mag(mg_nmse_acc *acc, const cfloat *gt, const cfloat *pred, size_t n);
/* the same on magnitudes already taken */
void mg_nmse_add_f(mg_nmse_acc *acc, const float *gt, const float *pred, size_t n);
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

/* ---- FID / KID (inception.c, fid.c) ---- */
#define MG_FID_DIM 2048
typedef struct mg_inc_layer_s mg_inc_layer;
typedef struct {
    mg_inc_layer *conv; /* the 94 BasicConv2d layers, batch norm folded in */
    int nconv;
    char sha256[65];   /* of the weight file */
} mg_fid_model;
/* Weights converted from pytorch-fid's pt_inception-2015-12-05-6726825d.pth
 * by scripts/convert_inception_weights.py (safetensors, format
 * "mrgan-fid-inception-v3"); every tensor's shape is checked. */
int mg_fid_load(const char *path, mg_fid_model *m);
void mg_fid_free(mg_fid_model *m);
/* 2048 pool features of n magnitude images (H x W): /vmax, clipped to [0,1],
 * bilinear 299 x 299, 2x-1, grey to 3 channels. *feat: n x 2048 (free). */
int mg_fid_features(const mg_fid_model *m, const float *imgs, long n, long H, long W, double vmax, float **feat);
/* Frechet distance of Gaussians fitted to two feature sets (rows of d) */
double mg_fid_distance(const float *fa, long na, const float *fb, long nb, int d);
double mg_frechet(const double *mu1, const double *c1, const double *mu2, const double *c2, int d);
double mg_trace_sqrt_product(const double *A, const double *B, int d); /* Tr sqrt(A B) */
/* kernel inception distance: unbiased MMD^2, kernel (x.y/d + 1)^3 */
double mg_kid(const float *fa, long na, const float *fb, long nb, int d);
/* the BasicConv2d layers (torchvision names: NAME.conv.weight, NAME.bn.*) */
int mg_fid_layer_count(void);
void mg_fid_layer_info(int i, const char **name, int *cin, int *cout, int *kh, int *kw);
/* the network's pieces, exposed for the tests */
void mg_inc_forward(const mg_fid_model *m, const float *rgb299, float *feat);
void mg_inc_resize_bilinear(const float *in, int ih, int iw, float *out, int oh, int ow);
void mg_inc_pool(const float *in, int c, int h, int w, int k, int s, int p, int is_max, float *out, int *oh, int *ow);
void mg_inc_conv(const float *in, int cin, int h, int w, const float *wt, const float *b, int cout, int kh, int kw,
                 int sh, int sw, int ph, int pw, int relu, float *out, int *oh, int *ow);

#endif

/* mrgan gpu kernels: what src/gpu/gpu_kernels.cu implements, in plain C types only so
 * that both gcc (C11) and nvcc (C++) read this header. Device pointers
 * throughout; complex arrays are interleaved (re, im) floats. See gpu.h. */
#ifndef MRGAN_GPU_KERNELS_H
#define MRGAN_GPU_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------- device ----------------
 * mg_gpu_init selects device `dev` (0 when < 0): 0, or -1 with an error
 * (mg_error) when there is no driver, no device, or no such device. */
int mg_gpu_init(int dev);
const char *mg_gpu_name(void); /* e.g. "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" */
/* TF32 tensor cores for convolutions and GEMMs: on by default; off with
 * MRGAN_GPU_FP32=1 in the environment or mg_gpu_set_tf32(0) (strict FP32). */
void mg_gpu_set_tf32(int on);
int mg_gpu_tf32(void);
void mg_gpu_sync(void);
size_t mg_gpu_peak_bytes(void); /* most device memory held at once by mrgan's buffers and cuDNN workspace */
void mg_gpu_peak_reset(void);   /* the peak becomes what is held now */
void mg_gpu_release(void);      /* library handles and scratch (before exit) */

/* ---------------- memory (counts are floats) ---------------- */
float *mg_gpu_alloc(size_t n); /* zeroed; fatal when the device is full */
void mg_gpu_free(void *p);
void mg_gpu_upload(float *dst, const float *src, size_t n);
void mg_gpu_download(float *dst, const float *src, size_t n);
void mg_gpu_copy(float *dst, const float *src, size_t n);
void mg_gpu_zero(float *p, size_t n);

/* ---------------- convolution (cuDNN), square kernel k, zero padding ---------------- */
typedef struct mg_gpu_conv mg_gpu_conv;
mg_gpu_conv *mg_gpu_conv_create(int cin, int cout, int k, int stride, int pad);
void mg_gpu_conv_free(mg_gpu_conv *g);
/* y = conv(x) + b (b may be NULL) */
void mg_gpu_conv_forward(mg_gpu_conv *g, const float *wt, const float *b, const float *x, float *y,
                         int n, int h, int w);
/* dw += ..., db += ... (db may be NULL), dx += ... (dx may be NULL) */
void mg_gpu_conv_backward(mg_gpu_conv *g, const float *wt, const float *x, const float *dy, float *dx,
                          float *dw, float *db, int n, int h, int w);

/* ---------------- elementwise, as src/nn ---------------- */
void mg_gpu_leaky_forward(const float *x, float *y, long n, float slope);
void mg_gpu_leaky_backward(const float *y, const float *dy, float *dx, long n, float slope); /* dx += */
void mg_gpu_leaky_mul(const float *y, float *g, long n, float slope); /* g *= leaky'(y) */
void mg_gpu_concat_forward(const float *src, float *dst, int n, int c, int ctot, int off, long hw);
void mg_gpu_concat_backward(const float *ddst, float *dsrc, int n, int c, int ctot, int off, long hw);
void mg_gpu_cmag_forward(const float *x, float *y, int n, long hw);
void mg_gpu_cmag_backward(const float *x, const float *dy, float *dx, int n, long hw);
void mg_gpu_add(float *y, const float *x, long n); /* y += x */
double mg_gpu_mse_forward(const float *x, const float *t, long n); /* mean (x - t)^2 */
void mg_gpu_mse_backward(const float *x, const float *t, float *dx, long n, float scale);
double mg_gpu_sum(const float *x, long n);
double mg_gpu_std(const float *x, long n); /* population standard deviation */
double mg_gpu_sumsq(const float *x, long n); /* sum x^2 (double accumulation) */
/* out[0] += coef * sum a*b (device scalar; one block, deterministic) */
void mg_gpu_dot_acc(const float *a, const float *b, long n, float coef, float *out);

/* ---------------- batch norm over N, H, W per channel (as mg_batchnorm) ---------------- */
void mg_gpu_bn_fwd(const float *x, float *y, const float *gamma, const float *beta, float *mean,
                   float *invstd, float *run_mean, float *run_var, int n, int c, long hw, int train,
                   float momentum, float eps);
void mg_gpu_bn_bwd(const float *x, const float *dy, float *dx, const float *gamma, const float *mean,
                   const float *invstd, float *dgamma, float *dbeta, int n, int c, long hw);

/* ---------------- linear (cuBLAS): y[n][out] = W[out][in] x[n][in] + b ---------------- */
void mg_gpu_linear_forward(const float *wt, const float *b, const float *x, float *y, int n, int in,
                           int out);
void mg_gpu_linear_backward(const float *wt, const float *x, const float *dy, float *dx, float *dw,
                            float *db, int n, int in, int out);

/* ---------------- optimiser, flat arrays (bias corrections c1, c2 from the host) ---- */
void mg_gpu_adam_flat(float *w, const float *g, float *m, float *v, long n, float lr, float b1,
                      float b2, float c1, float c2, float eps);
void mg_gpu_clip_flat(float *w, long n, float c);

/* ---------------- the SENSE operator A = M F S (cuFFT), batched over samples and coils --
 * ku, sens: n x C x H x W complex; mask: n x H; images: n x 2 x H x W planes.
 * F is the centred orthonormal FFT of src/fft, shifts folded into the kernels. */
typedef struct mg_gpu_sense mg_gpu_sense;
mg_gpu_sense *mg_gpu_sense_create(int n, int C, int H, int W);
void mg_gpu_sense_free(mg_gpu_sense *s);
int mg_gpu_sense_shape_is(const mg_gpu_sense *s, int n, int C, int H, int W); /* 1 when made for that shape */
/* y = A^H ku */
void mg_gpu_sense_adjoint(mg_gpu_sense *s, const float *ku, const float *sens, const float *mask,
                          float *y);
/* ksp = A x (the forward operator alone; tests) */
void mg_gpu_sense_forward(mg_gpu_sense *s, const float *x, const float *sens, const float *mask,
                          float *ksp);
/* DC unit forward: r = A^H (A x - ku), y = x - lam r (lam: device scalar) */
void mg_gpu_dc_forward(mg_gpu_sense *s, const float *x, const float *ku, const float *sens,
                       const float *mask, const float *lam, float *r, float *y);
/* DC unit backward for the gradient g of y: dx += g - lam A^H A g (dx may be
 * NULL), and dku += lam A g when dku is not NULL (lam NULL means 1). */
void mg_gpu_dc_backward(mg_gpu_sense *s, const float *g, const float *sens, const float *mask,
                        const float *lam, float *dx, float *dku);

#ifdef __cplusplus
}
#endif
#endif

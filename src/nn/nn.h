/* mrgan nn: layers with an explicit forward and backward (llm.c style).
 *
 * Tensors are NCHW float32 (convolutions also nChw16c or nhwc). Every backward ACCUMULATES: dx += ..., and
 * parameter gradients g += ..., so a tensor consumed twice (dense skips)
 * simply receives both contributions; callers zero gradients before a step.
 * Forward functions save nothing: backward takes the tensors it needs.
 * Convolutions run on oneDNN (primitives created once per shape and cached),
 * the narrow ones on the direct kernels of conv_direct.c, conv_direct_blk.c
 * and conv_direct_nhwc.c (conv.c decides);
 * src/nn/conv_ref.c holds the plain loops both are tested against. */
#ifndef MRGAN_NN_H
#define MRGAN_NN_H

#include "../core/core.h"

/* ---------------- parameters ---------------- */
typedef struct {
    char name[96];
    int ndim;
    long shape[4];
    long size;
    float *w, *g;    /* value, gradient */
    float *m, *v;    /* Adam moments */
} mg_param;

typedef struct {
    mg_param **p;
    int n, cap;
} mg_params;

mg_param *mg_params_add(mg_params *ps, const char *name, int ndim, const long *shape);
mg_param *mg_params_find(const mg_params *ps, const char *name);
void mg_params_zero_grad(mg_params *ps);
long mg_params_count(const mg_params *ps);
void mg_params_free(mg_params *ps);

/* ---------------- Adam and weight clipping ---------------- */
typedef struct {
    float lr, beta1, beta2, eps;
    long t; /* steps taken */
} mg_adam;
void mg_adam_init(mg_adam *a, float lr, float beta1, float beta2, float eps);
void mg_adam_step(mg_adam *a, mg_params *ps);
void mg_clip_weights(mg_params *ps, float c);
/* Global gradient-norm clipping: the L2 norm of all of ps's gradients taken
 * together; when it exceeds max_norm > 0 every gradient is scaled by
 * max_norm / norm. Returns the norm before clipping. */
double mg_clip_grad_norm(mg_params *ps, double max_norm);

/* ---------------- conv2d (square kernel k, stride s, zero padding p) ---- */
typedef struct mg_conv_impl mg_conv_impl;
typedef struct {
    int cin, cout, k, stride, pad;
    mg_param *weight; /* cout x cin x k x k */
    mg_param *bias;   /* cout, or NULL */
    /* Layout of the caller's activations (mg_layout): plain n x c x h x w,
     * oneDNN's blocked nChw16c (channels padded to a multiple of 16, padding
     * zero; mg_blk_channels) or channels-last n x h x w x c. oneDNN's
     * primitives take nChw16c and nhwc as they are, so consecutive layers that
     * keep their activations in one of them skip the reorders; a layer with
     * one side nhwc must have the other side nhwc too. */
    int lay_src, lay_dst;
    /* fuse_leaky: the forward applies LeakyReLU(slope) to its output (inside
     * oneDNN's kernel as a post-op); the backward still takes the gradient
     * w.r.t. the convolution's output, so callers multiply by the LeakyReLU
     * derivative first (mg_leaky_backward, from the activated output) */
    int fuse_leaky;
    float slope;
    mg_conv_impl *impl;
} mg_conv2d;
enum mg_layout { MG_LAYOUT_NCHW = 0, MG_LAYOUT_NCHW16C = 1, MG_LAYOUT_NHWC = 2 };
/* channels of a blocked activation buffer: c rounded up to 16 */
int mg_blk_channels(int c);
/* channels a buffer of layout lay holds per pixel and sample: c, or
 * mg_blk_channels(c) for nChw16c */
int mg_layout_channels(int lay, int c);
/* Xavier/He-style uniform init from rng. */
void mg_conv2d_init(mg_conv2d *c, mg_params *ps, const char *name, int cin, int cout, int k,
                    int stride, int pad, int with_bias, mg_rng *rng);
void mg_conv2d_free(mg_conv2d *c);
/* Convolutions share scratch for oneDNN's blocked layouts (they must not run
 * concurrently); this frees it (e.g. before exit, for leak checkers). */
void mg_conv_release_scratch(void);
/* Precision of the oneDNN convolutions (all threads, from the next call on):
 * MG_PRECISION_BF16 reads bf16 copies of inputs, weights and output
 * gradients and writes fp32 (outputs and gradients: fp32 accumulation);
 * weights, activations and optimiser state stay fp32 in memory. -1 with an
 * error when the CPU has neither AVX512-BF16 nor AMX (precision unchanged).
 * The direct kernels (conv_direct.c, conv_direct_blk.c, conv_direct_nhwc.c,
 * conv_direct_dw_wide.c: with bf16 also DCI-Net's weight gradients) stay fp32. */
enum { MG_PRECISION_FP32 = 0, MG_PRECISION_BF16 = 1 };
int mg_conv_set_precision(int p);
int mg_conv_precision(void);
int mg_bf16_supported(void);
int mg_conv_out(int in, int k, int stride, int pad);
void mg_conv2d_forward(mg_conv2d *c, const float *x, float *y, int n, int h, int w);
/* dx may be NULL (input needs no gradient). */
void mg_conv2d_backward(mg_conv2d *c, const float *x, const float *dy, float *dx, int n, int h,
                        int w);
/* The same with the backward of the LeakyReLU(slope) that produced x fused
 * in: dx (required) is overwritten with leaky'(act) * (the data gradient),
 * act = that LeakyReLU's output in dx's layout (usually x itself); dw, db
 * accumulate as above. Saves zeroing dx and two passes over it. */
void mg_conv2d_backward_act(mg_conv2d *c, const float *x, const float *dy, float *dx, const float *act, float slope,
                            int n, int h, int w);
/* Plain-loop reference (tests): y = conv(x) (+ bias); dx += ..., dw += ..., db += ... */
void mg_conv2d_ref_forward(const float *x, const float *wt, const float *b, float *y, int n,
                           int cin, int cout, int h, int w, int k, int stride, int pad);
void mg_conv2d_ref_backward(const float *x, const float *wt, const float *dy, float *dx, float *dw,
                            float *db, int n, int cin, int cout, int h, int w, int k, int stride,
                            int pad);

/* ---------------- elementwise ---------------- */
void mg_leaky_forward(const float *x, float *y, long n, float slope); /* in place allowed */
/* y from the forward (same sign as x since slope > 0) */
void mg_leaky_backward(const float *y, const float *dy, float *dx, long n, float slope);

/* ---------------- batch norm over N, H, W per channel ---------------- */
typedef struct {
    int c;
    float momentum, eps;
    mg_param *gamma, *beta;
    float *run_mean, *run_var;
    float *mean, *invstd; /* saved by the training forward */
    int sync;             /* data-parallel: statistics over all ranks' batches (mg_dist_*) */
    double *acc;          /* 2c sums */
} mg_batchnorm;
void mg_batchnorm_init(mg_batchnorm *b, mg_params *ps, const char *name, int c);
void mg_batchnorm_free(mg_batchnorm *b);
/* train != 0: batch statistics (saved, running stats updated); else running stats */
void mg_batchnorm_forward(mg_batchnorm *b, const float *x, float *y, int n, int h, int w, int train);
void mg_batchnorm_backward(mg_batchnorm *b, const float *x, const float *dy, float *dx, int n, int h,
                           int w);

/* ---------------- matrix product (gemm.c) ----------------
 * C = alpha op(A) op(B) + beta C, row-major; op transposes when ta / tb:
 * oneDNN's SGEMM (this CPU's kernel), OpenBLAS if oneDNN refuses. */
void mg_sgemm(int ta, int tb, long M, long N, long K, float alpha, const float *A, long lda, const float *B, long ldb,
              float beta, float *C, long ldc);

/* ---------------- linear: y[n][out] = W[out][in] x[n][in] + b ---------------- */
typedef struct {
    int in, out;
    mg_param *weight, *bias;
} mg_linear;
void mg_linear_init(mg_linear *l, mg_params *ps, const char *name, int in, int out, mg_rng *rng);
void mg_linear_forward(const mg_linear *l, const float *x, float *y, int n);
void mg_linear_backward(const mg_linear *l, const float *x, const float *dy, float *dx, int n);

/* ---------------- channel concat / split (NCHW) ----------------
 * Copies `c` channels of each of n samples of src (plane size hw) into dst
 * at channel offset `off` of a tensor with `ctot` channels; the backward adds
 * the slice back. */
void mg_concat_forward(const float *src, float *dst, int n, int c, int ctot, int off, long hw);
void mg_concat_backward(const float *ddst, float *dsrc, int n, int c, int ctot, int off, long hw);

/* ---------------- complex magnitude: x has 2 channels (re, im) per sample ---
 * |x| = sqrt(re^2 + im^2 + MG_CMAG_EPS): smooth at 0 (also the magnitude of
 * train's --loss magnitude, src/train/loss_magnitude.c) */
#define MG_CMAG_EPS 1e-12f
void mg_cmag_forward(const float *x, float *y, int n, long hw);
void mg_cmag_backward(const float *x, const float *dy, float *dx, int n, long hw);

/* ---------------- MSE: mean over all elements ---------------- */
double mg_mse_forward(const float *x, const float *t, long n);
/* dx += scale * 2 (x - t) / n */
void mg_mse_backward(const float *x, const float *t, float *dx, long n, float scale);

#endif

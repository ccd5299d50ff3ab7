/* mrgan gpu: the CUDA backend (cuDNN convolutions, cuFFT, cuBLAS, own
 * kernels), built with -DMRGAN_CUDA=ON (default: on when nvcc is found);
 * MRGAN_HAVE_CUDA is defined then. docs/gpu.md describes it.
 *
 * The same layers as src/nn, the DC unit of src/models/dcinet.c, the DCI-Net
 * and the PatchGAN critic, one forward and one backward each, on device
 * pointers. Semantics follow the CPU functions exactly (backwards ACCUMULATE
 * into dx and parameter gradients), so tests/test_gpu.c compares them op by
 * op. Complex device arrays are interleaved float pairs (re, im), the memory
 * layout of cfloat. Everything runs on the default stream of one device;
 * functions returning host values synchronise.
 *
 * Failures of the CUDA runtime or its libraries inside an op (a lost device,
 * an out-of-memory during a step) end the process with a one-line message
 * (`mrgan: GPU: ...`); nothing is left half-written because every output file
 * is written under a temporary name first. */
#ifndef MRGAN_GPU_H
#define MRGAN_GPU_H

#include "../core/core.h"
#include "../models/models.h"
#include "../nn/nn.h"

#include "gpu_kernels.h"

/* ---------------- parameters: a device mirror of an mg_params ----------------
 * w, g, m, v of every parameter in one block each, in the host's order. */
typedef struct {
    mg_params *host;
    long total;
    long *off;            /* per parameter */
    float *w, *g, *m, *v; /* device */
} mg_gpu_params;
void mg_gpu_params_init(mg_gpu_params *gp, mg_params *host); /* allocates and uploads */
void mg_gpu_params_free(mg_gpu_params *gp);
void mg_gpu_params_upload(mg_gpu_params *gp);           /* host w, m, v -> device */
void mg_gpu_params_download(mg_gpu_params *gp);         /* device w, g, m, v -> host */
void mg_gpu_params_zero_grad(mg_gpu_params *gp);
float *mg_gpu_param_w(const mg_gpu_params *gp, const mg_param *p);
float *mg_gpu_param_g(const mg_gpu_params *gp, const mg_param *p);
/* Adam and weight clipping exactly as mg_adam_step / mg_clip_weights
 * (a->t is advanced here, on the host). */
void mg_gpu_adam_step(mg_adam *a, mg_gpu_params *gp);
void mg_gpu_clip_weights(mg_gpu_params *gp, float c);

/* ---------------- batch norm with its host layer ---------------- */
/* batch norm: running statistics and the saved batch statistics on the device;
 * momentum and eps from the host layer */
typedef struct {
    mg_batchnorm *host;
    float *run_mean, *run_var, *mean, *invstd; /* device, c each */
} mg_gpu_bn;
void mg_gpu_bn_init(mg_gpu_bn *g, mg_batchnorm *host); /* uploads the running statistics */
void mg_gpu_bn_free(mg_gpu_bn *g);
void mg_gpu_bn_download(const mg_gpu_bn *g);           /* running statistics -> host */
void mg_gpu_bn_forward(mg_gpu_bn *g, const float *gamma, const float *beta, const float *x, float *y,
                       int n, int h, int w, int train);
void mg_gpu_bn_backward(mg_gpu_bn *g, const float *gamma, const float *x, const float *dy, float *dx,
                        float *dgamma, float *dbeta, int n, int h, int w);

/* ---------------- the DC unit (gpu_dc.c, the twin of models/dc.c) ----------------
 * dc = x - lambda A^H (A x - Ku) for the batch; r = A^H (A x - Ku). The
 * backward: *dlam -= <gd, r>, dx += gd - lambda A^H A gd, dku += lambda A gd
 * (dku may be NULL); lam and dlam are device scalars. */
void mg_gpu_dc_unit_forward(mg_gpu_sense *A, const float *x, const float *ku, const float *sens, const float *mask,
                            const float *lam, float *r, float *dc);
void mg_gpu_dc_unit_backward(mg_gpu_sense *A, const float *gd, const float *r, const float *sens, const float *mask,
                             const float *lam, float *dlam, float *dx, float *dku, long nimg);

/* ---------------- models ---------------- */
typedef struct mg_gpu_dcinet mg_gpu_dcinet;
/* Mirrors net's parameters on the device (net stays the host copy; sync with
 * mg_gpu_params_upload / _download on mg_gpu_dcinet_params). */
mg_gpu_dcinet *mg_gpu_dcinet_create(mg_dcinet *net);
void mg_gpu_dcinet_free(mg_gpu_dcinet *g);
mg_gpu_params *mg_gpu_dcinet_params(mg_gpu_dcinet *g);
/* device pointers, shapes as mg_dcinet_forward */
void mg_gpu_dcinet_forward(mg_gpu_dcinet *g, const float *ku, const float *sens, const float *mask,
                           float *out, int n, int C, int H, int W);
void mg_gpu_dcinet_backward(mg_gpu_dcinet *g, const float *dout, float *dku);
/* host in, host out: upload, forward, download (inference) */
void mg_gpu_dcinet_infer(mg_gpu_dcinet *g, const cfloat *ku, const cfloat *sens, const float *mask,
                         float *out, int n, int C, int H, int W);

typedef struct mg_gpu_critic mg_gpu_critic;
mg_gpu_critic *mg_gpu_critic_create(mg_critic *d);
void mg_gpu_critic_free(mg_gpu_critic *g);
mg_gpu_params *mg_gpu_critic_params(mg_gpu_critic *g);
void mg_gpu_critic_download(mg_gpu_critic *g); /* weights, moments and BN running stats -> host */
void mg_gpu_critic_forward(mg_gpu_critic *g, const float *x, float *out, int n, int train);
void mg_gpu_critic_backward(mg_gpu_critic *g, const float *dout, float *dx);

#endif

/* mrgan models: the DCI-Net generator (and, later, the PatchGAN critic).
 *
 * DCI-Net (paper Sec. 3, Appendix A; docs/dcinet.md). With y_{-1} = mz the
 * zero-filled image and A_i = M_i F S_i per sample:
 *   block b = 0..N-1:  x   = y_{b-1}
 *                      dc  = x - lambda_b A^H (A x - Ku)            (DC unit)
 *                      in  = [dc, y_{b-2}, ..., y_{b-1-G}]  (indices >= -1 only:
 *                            block b sees min(b, G) skips, 2 (1 + min(b, G)) channels)
 *                      y_b = dc + conv3(lrelu(conv2(lrelu(conv1(in)))))
 *   output y_{N-1}.
 * Complex images are 2 real channels (re, im), NCHW float. */
#ifndef MRGAN_MODELS_H
#define MRGAN_MODELS_H

#include "../core/core.h"
#include "../io/io.h"
#include "../mri/mri.h"
#include "../nn/nn.h"

typedef struct {
    int blocks;  /* N (paper: 20) */
    int growth;  /* G, dense skips (paper: 5) */
    int kernels; /* K, channels of the hidden convs (paper: 40) */
    float slope; /* LeakyReLU slope (0.2, TensorFlow's default) */
} mg_dcinet_cfg;

typedef struct mg_dcinet_ws mg_dcinet_ws;
typedef struct {
    mg_dcinet_cfg cfg;
    mg_params params;
    mg_param **lambda; /* [blocks], 1 value each */
    mg_conv2d *conv;   /* [blocks * 3] */
    mg_dcinet_ws *ws;
} mg_dcinet;

void mg_dcinet_init(mg_dcinet *net, const mg_dcinet_cfg *cfg, uint64_t seed);
/* dense skips block b sees: min(b, G) (its conv1 takes 2 (1 + that) channels) */
int mg_dcinet_skips(const mg_dcinet_cfg *c, int b);
void mg_dcinet_free(mg_dcinet *net);

/* Forward for a batch of n samples: ku n x C x H x W (undersampled k-space),
 * sens n x C x H x W, mask n x H, out n x 2 x H x W. Keeps the activations
 * needed by the backward. */
void mg_dcinet_forward(mg_dcinet *net, const cfloat *ku, const cfloat *sens, const float *mask,
                       float *out, int n, int C, int H, int W);
/* The same output as mg_dcinet_forward without keeping every block's
 * activations for a backward (one set of block buffers is reused: about 60 MB
 * instead of 600 MB at the paper config); for inference. */
void mg_dcinet_infer(mg_dcinet *net, const cfloat *ku, const cfloat *sens, const float *mask,
                     float *out, int n, int C, int H, int W);
/* Backward of the last mg_dcinet_forward: parameter gradients += ..., and when dku is
 * not NULL the gradient w.r.t. ku (complex, d/dRe + i d/dIm) += ... */
void mg_dcinet_backward(mg_dcinet *net, const float *dout, cfloat *dku);
/* Multiply-adds of one forward per sample (convolutions and FFTs), for FLOP rates. */
double mg_dcinet_flops(const mg_dcinet_cfg *cfg, int C, int H, int W);

/* ---------------- PatchGAN critic (paper A.3) ----------------
 * in: `cin` channels (2 = [|mz|, |x|] for the conditional critic, 1 = [|x|]
 * for the unconditional WGAN), H x W; four 4x4 stride-2 convolutions (pad 1,
 * with bias) each followed by batch norm and LeakyReLU 0.2, channels
 * c, 2c, 4c, 8c (pix2pix: c = 64); flatten; linear to one value per sample.
 * H and W must be divisible by 16. */
typedef struct mg_critic_ws mg_critic_ws;
typedef struct {
    int cin, ch, H, W;
    float slope;
    mg_params params;
    mg_conv2d conv[4];
    mg_batchnorm bn[4];
    mg_linear fc;
    mg_critic_ws *ws;
} mg_critic;
int mg_critic_init(mg_critic *d, int cin, int ch, int H, int W, uint64_t seed);
void mg_critic_free(mg_critic *d);
/* x: n x cin x H x W -> out: n values. train: batch-norm batch statistics. */
void mg_critic_forward(mg_critic *d, const float *x, float *out, int n, int train);
/* gradients of the last (training) forward: params += ..., dx += ... (dx may be NULL) */
void mg_critic_backward(mg_critic *d, const float *dout, float *dx);

/* ---------------- the DC unit (dc.c) ----------------
 * dc = x - lambda A^H (A x - Ku) on the slice's SENSE operator op (mri.h;
 * its scratch is used); images as 2 planes; cx, cr: H*W complex scratch.
 * mg_dc_residual: r = A^H (A x - Ku); with hyb (mg_sense_pe_data of Ku,
 * where mg_sense_pe_fits) through the phase-encode FFT alone, ku unused;
 * hyb NULL: the 2D FFTs. mg_dc_backward, given the gradient gd
 * w.r.t. dc and the forward's r: dx += gd - lambda A^H A gd,
 * *dlam -= <gd, r>, and dku += lambda A gd when dku is not NULL. */
void mg_dc_residual(mg_sense_op *op, const cfloat *ku, const cfloat *hyb, const float *x, float *r, cfloat *cx,
                    cfloat *cr);
void mg_dc_backward(mg_sense_op *op, float lam, const float *gd, const float *r, float *dx, cfloat *dku,
                    double *dlam, cfloat *cx, cfloat *cr);

/* ---------------- weights (weights.c) ----------------
 * The generator's tensors of an mrgan checkpoint (train/checkpoint.c writes
 * them; format MG_CKPT_FORMAT). If net has no parameters yet it is created
 * from the file's architecture; otherwise the architectures and the
 * LeakyReLU slopes must agree.
 * state: also the Adam moments. */
#define MG_CKPT_FORMAT "mrgan-dcinet-1"
int mg_dcinet_load(const char *path, mg_dcinet *net);
int mg_dcinet_load_from(const mg_st_file *f, const char *path, mg_dcinet *net, int state);
/* An initial checkpoint for training: the file's growth and LeakyReLU slope
 * must be net's, its blocks and kernels at most net's. Blocks the file has
 * are loaded; blocks beyond them keep conv1 and conv2 as initialised and
 * start with conv3 and lambda zero. With fewer kernels each tensor fills the
 * leading corner of net's: the weights from the new channels to the old ones
 * (conv2's, conv3's) are zero and the new channels' own weights keep their
 * initialisation. The grown network computes what the file's does.
 * *from_blocks, *from_kernels: the file's. */
int mg_dcinet_load_grown(const char *path, mg_dcinet *net, int *from_blocks, int *from_kernels);
/* every parameter of ps (with state: also "adam.m."/"adam.v." moments) */
int mg_params_load(const mg_st_file *f, const char *path, mg_params *ps, int state);
/* tensor `name` of exactly `size` floats into dst; -1 naming it otherwise */
int mg_st_load_into(const mg_st_file *f, const char *path, const char *name, float *dst, long size);

/* ---------------- the network's input (scale.c) ----------------
 * ku = M k / s, target = planes(S^H F^-1 k) / s (if not NULL), mz = the
 * zero-filled image A^H ku of the scaled data (H x W, if not NULL);
 * s = 99th percentile of |A^H M k| (1 if zero). work: C*H*W complex.
 * Returns s. Training and inference scale alike (docs/training.md). */
float mg_sample_prepare(const cfloat *k, const cfloat *sens, const float *mask, cfloat *ku,
                        float *target, cfloat *mz, cfloat *work, int C, int H, int W);

/* ---------------- an inference engine (engine.c) ----------------
 * DCI-Net inference on the CPU, or on a GPU backend's device
 * (mg_engine_gpu in gpu/backend.h): the same call for recon, eval and
 * validation. */
typedef struct mg_engine mg_engine;
struct mg_engine {
    mg_dcinet *net;
    const char *name; /* "CPU", "GPU" */
    /* n samples, shapes as mg_dcinet_forward; host arrays */
    void (*infer)(mg_engine *e, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int n, int C,
                  int H, int W);
    void (*release)(mg_engine *e);
    void *dev;
};
void mg_engine_cpu(mg_engine *e, mg_dcinet *net);

/* ---- flip averaging (flip_average.c) ----
 * dst = src mirrored about the centre (i -> (2 floor(N/2) - i) mod N) along
 * H (fh) and/or W (fw), for batch images of H x W; in k-space the same map
 * mirrors the image (fft.h's centred FFT). */
void mg_flip_images(const cfloat *src, cfloat *dst, long batch, long H, long W, int fh, int fw);
/* one sample's inference averaged over `flips` mirror images of the input
 * (1: none, plain e->infer; 2: and the readout mirror; 4: and the
 * phase-encode mirror and both); out: 2 planes of H x W */
void mg_infer_flips(mg_engine *e, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int flips,
                    int C, int H, int W);

/* complex image (H x W) <-> 2 planes (re, im) */
void mg_c2planes(const cfloat *z, float *p, long hw);
void mg_planes2c(const float *p, cfloat *z, long hw);

/* ---- a model's domain (domain.c): the training data's matrix sizes
 * (phase-encode lines and readout, min and max), coil counts, acceleration
 * and contrasts, kept in the checkpoint's config as "domain" ---- */
typedef struct {
    long lines[2], readout[2], coils[2];
    double accel;
    char contrasts[96]; /* comma list, or "" when unknown */
    int valid;
} mg_domain;
char *mg_domain_json(const mg_domain *d); /* caller frees (free) */
/* from a checkpoint's config JSON; -1 (d->valid 0) when it has none */
int mg_domain_parse(const char *config_json, mg_domain *d);
/* 1 and a reason in msg when an input (C coils, H x W, acceleration accel;
 * 0: unknown) falls far outside the domain; 0 otherwise */
int mg_domain_check(const mg_domain *d, long C, long H, long W, double accel, char *msg, size_t len);

/* ---- shipped models by name (shipped.c) ---- */
/* the directory of the shipped models: $MRGAN_MODELS, else the source
 * tree's models/ */
const char *mg_models_dir(void);
/* arg when it exists as a path; else DIR/arg.safetensors for a plain name
 * that is shipped; else NULL with an error. Caller frees. */
char *mg_model_resolve(const char *arg);

#endif

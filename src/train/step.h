/* mrgan train: one training step, the boundary between the trainer and a
 * backend (docs/training.md, "The step").
 *
 * The trainer prepares batches on the CPU (batch.c) and hands each one to a
 * step: a critic step (GAN modes) or a generator step. A step has a CPU
 * implementation (step_cpu.c) and a GPU one (step_gpu.c, in the GPU build
 * mrgan-gpu only; step_nogpu.c in the plain build says there is none). Both
 * use the GAN maths of gan.c, so the signs and scalings are written once. */
#ifndef MRGAN_STEP_H
#define MRGAN_STEP_H

#include "../core/core.h"
#include "../models/models.h"
#include "agb.h"

/* ---------------- a batch of prepared samples ----------------
 * B samples of C coils, H x W: scaled undersampled k-space ku, maps, masks,
 * targets (2 planes), the critic's condition |mz|; and the step's scratch. */
typedef struct {
    int C, H, W, B, cin; /* cin: critic input channels (0 without a critic) */
    long hw, n;          /* H*W, C*H*W */
    int ch, cw;          /* the critic's image size: every image is zero-padded (centred) to it; set at
                          * allocation (the largest shape), unchanged by mg_batch_shape */
    cfloat *k, *sens, *ku, *work, *cz;
    float *mask, *target, *out, *dout, *ggan, *acq; /* acq: a slice's acquired lines (H) */
    float *mzmag, *mag, *dmag, *cin_buf, *dcin, *dval, *dgrad;
} mg_batch;
void mg_batch_alloc(mg_batch *b, int B, int C, int H, int W, int cin);
/* Set the batch's shape (within what it was allocated for; the critic's size stays). */
void mg_batch_shape(mg_batch *b, int C, int H, int W);
void mg_batch_free(mg_batch *b);

/* ---------------- the GAN maths (gan.c) ----------------
 * beta divides every GAN term (paper Alg. 1: L = MSE + L_adv / beta);
 * Bg is the global batch (all MPI ranks), so that gradients summed over the
 * ranks are means over the global batch. */
/* Critic loss L_D = (1/beta) (mean D(fake) - mean D(real)), descended.
 * Gradient of L_D w.r.t. each of the B outputs d of a real (real = 1) or a
 * fake batch into g: -1/(beta Bg) for real, +1/(beta Bg) for fake. Returns
 * the sum of d. */
double mg_gan_critic_grad(const float *d, int B, int Bg, double beta, int real, float *g);
/* Adversarial generator loss L_adv = -(1/beta) mean D(G): gradient
 * -1/(beta Bg) per output into g; returns the sum of d. */
double mg_gan_adv_grad(const float *d, int B, int Bg, double beta, float *g);
/* L_adv = -(1/beta) sum_d / Bg from the sum of D over the global batch */
double mg_gan_adv_loss(double sum_d, int Bg, double beta);
/* MSE loss of out vs target, n values of a local batch of the global one
 * split over P ranks: L = 2 mean((out - target)^2) / P (the sum over both
 * planes, mean over pixels and samples); its gradient into dout (overwritten).
 * Returns L. */
double mg_gan_mse_grad(const float *out, const float *target, float *dout, long n, int P);
/* The magnitude MSE of B images of hw pixels (out and target: 2 planes each,
 * re then im): L = mean over pixels and samples of (|out| - |target|)^2 / P,
 * the loss evaluated on (fastMRI's magnitudes; docs/training.md "Loss");
 * its gradient into dout (overwritten), |out| as mg_cmag_forward takes it.
 * Returns L. */
double mg_mag_mse_grad(const float *out, const float *target, float *dout, int B, long hw, int P);
/* `--loss nmse`: the same with each image's squared errors divided by its
 * target's mean-square magnitude (at least MG_NMSE_LOSS_FLOOR, for targets
 * without signal): L = mean over samples of NMSE(|out|, |target|) / P, the
 * metric `eval` reports per image; its gradient into dout. Returns L. */
#define MG_NMSE_LOSS_FLOOR 1e-4
double mg_mag_nmse_grad(const float *out, const float *target, float *dout, int B, long hw, int P);
/* The critic input from magnitudes: [|mz|, mag] (conditional, cin 2) or
 * [mag] (cin 1), per sample, each zero-padded (centred) from H x W to the
 * critic's ch x cw, into b->cin_buf. */
void mg_gan_critic_input(mg_batch *b, const float *mag);
/* The gradient w.r.t. the image channel of the critic input (the last one;
 * the condition gets none) from b->dcin into b->dmag (the padding's adjoint:
 * the H x W centre). This is the channel
 * through which the GAN gradient reaches the generator, and so the one AGB
 * measures after the magnitude's backward. */
void mg_gan_image_grad(mg_batch *b);

/* ---------------- the step ---------------- */
typedef struct {
    double loss, mse, gan, w_est, std_gan, std_mse;
    double gnorm; /* the generator's gradient norm before clipping */
} mg_step_log;

typedef struct mg_step mg_step;
struct mg_step {
    /* the state the step updates, owned by the trainer */
    mg_dcinet *net;
    mg_critic *critic; /* NULL in mse mode */
    mg_adam *adam, *adam_d;
    mg_agb *agb;
    int agb_on;        /* cwgan-agb: AGB adapts beta; otherwise beta is the fixed lambda */
    int loss;          /* MG_LOSS_COMPLEX, MG_LOSS_MAGNITUDE or MG_LOSS_NMSE (train.h) */
    float clip;        /* critic weight clipping */
    float grad_clip;   /* generator gradient-norm clipping (0: none) */
    int P, Bg;         /* MPI ranks, global batch */
    float *gbuf;       /* packed gradients for the all-reduce (P > 1) */
    /* the backend */
    const char *name;
    /* one critic step on the batch: generator forward, critic on real and
     * fake, Adam, clipping; lg->w_est */
    void (*critic_step)(mg_step *s, mg_batch *b, mg_step_log *lg);
    /* one generator step: MSE (+ adversarial term, AGB measurement), Adam;
     * lg->loss, mse, gan, std_gan, std_mse */
    void (*generator_step)(mg_step *s, mg_batch *b, mg_step_log *lg);
    /* generator inference of one sample (host arrays) */
    void (*infer)(mg_step *s, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int C, int H,
                  int W);
    void (*sync)(mg_step *s);   /* the host copies of the models current (before checkpoints) */
    void (*finish)(mg_step *s); /* wait for queued work (timing) */
    void (*release)(mg_step *s);
    void *dev;                  /* the backend's own state */
};
/* The CPU step (s's state fields set by the caller). */
void mg_step_cpu(mg_step *s);
/* The GPU step for batches of B samples of C coils, H x W and a critic of cin
 * input channels: device mirrors of the models. -1 with an error in a build
 * without the GPU backend, or when no device was opened (mg_backend_open,
 * gpu/backend.h). */
int mg_step_gpu(mg_step *s, int B, int C, int H, int W, int cin);
#endif

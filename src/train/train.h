/* mrgan train: samples (masking, scaling, augmentation), checkpoints and the
 * training loop. See docs/training.md. */
#ifndef MRGAN_TRAIN_H
#define MRGAN_TRAIN_H

#include "../core/core.h"
#include "../io/io.h"
#include "../models/models.h"
#include "agb.h"

typedef struct {
    char mode[16];      /* mse | wgan | cwgan | cwgan-agb */
    int loss;           /* the pixel loss: MG_LOSS_COMPLEX (0, the paper), MG_LOSS_MAGNITUDE or MG_LOSS_NMSE */
    mg_dcinet_cfg net;
    int epochs, batch;
    float lr, beta1, beta2;
    int lr_decay;       /* MG_LR_CONSTANT (0, the paper) or MG_LR_COSINE over the run's steps */
    float grad_clip;    /* generator gradient-norm clipping (0: none) */
    double accel;
    long center;
    int mask_type;
    int augment;        /* random flips and rotations */
    double max_rot_deg; /* 20 */
    uint64_t seed;      /* weights, shuffling, augmentation, training masks */
    uint64_t eval_seed; /* fixed validation masks (as zerofill --seed) */
    long max_steps;     /* stop after this many steps in total (0: none) */
    int save_every;     /* also keep epoch_NNN.safetensors every N epochs (0: never) */
    int quiet;
    /* GAN modes (docs/gan.md) */
    int critic_ch;      /* channels of the critic's first conv (64, pix2pix) */
    int critic_steps;   /* critic steps per generator step (1) */
    float critic_lr;    /* Adam learning rate of the critic (5e-4) */
    float clip;         /* weight clipping of all critic parameters (0.01) */
    double gan_lambda;  /* wgan / cwgan: the fixed beta, i.e. L = MSE + GAN / lambda (100) */
    double agb_beta0, agb_ma, agb_ratio, agb_rate; /* 10, 0.99, 10 (0: calibrated), 0.1 */
    long agb_warmup;                              /* calibration steps (100) */
    int select_start;   /* first epoch for model selection (B.3); -1: epochs / 3 */
    int grid;           /* validation slices in the per-epoch image grid (4; 0: none) */
    const char *init;   /* generator weights to start from (NULL: random) */
    char init_rec[1024]; /* the init of a resumed run, kept in its config.json for the record */
    char fid_weights[512]; /* Inception-v3 weights: validation FID per epoch ("" none) */
    int gpu;            /* CUDA device for the steps and validation (-1: the CPU); not saved */
    int crop_readout;   /* remove readout oversampling (1, io.h's mg_read_opts) */
    int sens_method;    /* maps for files that have none: MG_SENS_* (walsh) */
    int precision;      /* MG_PRECISION_FP32 (0) or MG_PRECISION_BF16: oneDNN convolutions in bf16 (nn.h) */
    long cache_mb;      /* training slices kept in memory after their first read (512); not saved */
    char data[1024];    /* the data directory's real path: recorded, and --resume must match it */
    float resume_lr;    /* --lr given with --resume: the learning rate from the resumed step on (0: keep) */
    char resume_note[512]; /* options given with --resume that it ignores (said once the run resumes) */
} mg_train_cfg;

enum { MG_LR_CONSTANT = 0, MG_LR_COSINE = 1 };
enum { MG_LOSS_COMPLEX = 0, MG_LOSS_MAGNITUDE = 1, MG_LOSS_NMSE = 2 };
/* The learning rate of step `step` (0-based) of a run of `total` steps:
 * lr, or with MG_LR_COSINE lr/100 + (lr - lr/100) (1 + cos(pi step/total)) / 2. */
float mg_lr_at(float lr, int decay, long step, long total);

void mg_train_defaults(mg_train_cfg *c);
/* config.json text of a configuration (caller frees) */
char *mg_train_config_json(const mg_train_cfg *c);
/* Reads config.json into c; max_steps, quiet, gpu and cache_mb keep c's values; options a
 * run's file predates keep their defaults. */
int mg_train_config_read(const char *path, mg_train_cfg *c);

/* Train on the data set DATA's train split with validation on its val
 * split (data.h's mg_dataset_find: DATA/train.h5 and val.h5, fastMRI's
 * multicoil_train/ and multicoil_val/, lists, ...) into RUN (created),
 * or continue RUN/last.safetensors when resume != 0. Returns 0 when done,
 * 2 when interrupted by SIGINT/SIGTERM (a checkpoint was written), -1 on
 * error (mg_error()). */
int mg_train_run(const mg_train_cfg *cfg, const char *data_dir, const char *run_dir, int resume);


/* Speed (mrgan bench): training steps of cfg (mode, network, batch, gpu) on
 * cfg->batch synthetic slices of C coils, H x W; after one warm-up step,
 * the fastest of `reps` steps in *step_s, and the part of it spent preparing
 * the samples on the CPU (augmentation, masks, scaling) in *prep_s. */
int mg_train_bench(const mg_train_cfg *cfg, int C, int H, int W, int reps, double *step_s, double *prep_s);
/* mrgan bench: configurations `which` (small, paper, all), printed on stdout;
 * gpu >= 0: on that CUDA device. -1 with an error. */
int mg_bench_run(const char *which, int reps, int batch, int train, int gpu);

/* ---- augmentation (sample.c; the network input is mg_sample_prepare, models.h) ---- */
/* Flip (left-right) and rotate (degrees, about the centre; bilinear, zero
 * outside) the coil images of k and the maps, then return to k-space. */
void mg_augment(cfloat *k, cfloat *sens, int flip, double deg, cfloat *work, int C, int H, int W);
void mg_rotate_image(const cfloat *in, cfloat *out, int H, int W, int flip, double deg);

/* Model selection (paper B.3): over epochs >= start, z-normalise each series
 * (mean, population std; a constant series contributes 0) and return the
 * epoch index minimising their sum. fid may be NULL (NMSE alone). */
int mg_select_epoch(const double *nmse, const double *fid, int n, int start);

/* ---- checkpoints ---- */
typedef struct {
    long epoch, step_in_epoch, global_step, adam_t, adam_t_critic;
    /* AGB state (beta is the fixed lambda in wgan/cwgan): a checkpoint holds
     * beta gma pma events steps ratio calibrate; loading sets those and keeps
     * the rest (the configured ma, rate, warmup) */
    mg_agb agb;
} mg_train_pos;
/* Generator weights; with `state` also the position, the Adam moments and,
 * when critic != NULL, the critic (weights, Adam moments, batch-norm running
 * statistics). */
int mg_checkpoint_save(const char *path, const mg_dcinet *net, const mg_critic *critic,
                       const mg_train_pos *pos, const char *config_json, int state);
/* Loads generator weights; with pos != NULL also Adam moments and position,
 * with critic != NULL (initialised to the run's shape) also the critic. If
 * net has no parameters yet it is created from the file's architecture. */
int mg_checkpoint_load(const char *path, mg_dcinet *net, mg_critic *critic, mg_train_pos *pos);
/* The uniform average of the generator weights of n >= 2 checkpoints of one
 * architecture and training domain, written to out (average.c): the first
 * file's config with "averaged": [{file, sha256}, ...]; no training state. */
int mg_checkpoint_average(const char *const *paths, int n, const char *out);

#endif

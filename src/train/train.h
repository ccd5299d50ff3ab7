/* mrgan train: samples (masking, scaling, augmentation), checkpoints and the
 * training loop. See docs/training.md. */
#ifndef MRGAN_TRAIN_H
#define MRGAN_TRAIN_H

#include "../core/core.h"
#include "../io/io.h"
#include "../models/models.h"

typedef struct {
    char mode[16];      /* "mse" */
    mg_dcinet_cfg net;
    int epochs, batch;
    float lr, beta1, beta2;
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
} mg_train_cfg;

void mg_train_defaults(mg_train_cfg *c);

/* Train on DATA/train.h5 with validation on DATA/val.h5 into RUN (created),
 * or continue RUN/last.safetensors when resume != 0. Returns 0 when done,
 * 2 when interrupted by SIGINT/SIGTERM (a checkpoint was written), -1 on
 * error (mg_error()). */
int mg_train_run(const mg_train_cfg *cfg, const char *data_dir, const char *run_dir, int resume);

/* ---- a sample: from fully sampled k-space and maps to the network's
 * scaled input and target ---- */
/* ku = M k / s, target = planes(S^H F^-1 k) / s; s = 99th percentile of |mz|.
 * work: C*H*W complex. Returns s. */
float mg_sample_prepare(const cfloat *k, const cfloat *sens, const float *mask, cfloat *ku,
                        float *target, cfloat *work, int C, int H, int W);
/* Scale of undersampled k-space: 99th percentile of |A^H ku| (1 if zero). */
float mg_sample_scale(const cfloat *ku, const cfloat *sens, const float *mask, cfloat *work, int C,
                      int H, int W);
/* Flip (left-right) and rotate (degrees, about the centre; bilinear, zero
 * outside) the coil images of k and the maps, then return to k-space. */
void mg_augment(cfloat *k, cfloat *sens, int flip, double deg, cfloat *work, int C, int H, int W);
void mg_rotate_image(const cfloat *in, cfloat *out, int H, int W, int flip, double deg);

/* ---- checkpoints ---- */
typedef struct {
    long epoch, step_in_epoch, global_step, adam_t;
    double best_val;
    long best_epoch;
} mg_train_pos;
int mg_checkpoint_save(const char *path, const mg_dcinet *net, const mg_train_pos *pos,
                       const char *config_json, int with_adam);
/* Loads weights (and Adam moments and position when pos != NULL). If net has
 * no parameters yet it is created from the file's architecture. */
int mg_checkpoint_load(const char *path, mg_dcinet *net, mg_train_pos *pos);

#endif

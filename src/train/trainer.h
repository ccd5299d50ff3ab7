/* The trainer's state, shared by its files (trainer.c: set-up, resume and
 * the epoch loop; validate.c; select.c; bench.c). Private to train/. */
#ifndef MRGAN_TRAINER_H
#define MRGAN_TRAINER_H

#include "agb.h"
#include "batch.h"
#include "runlog.h"
#include "step.h"
#include "train.h"
#include "../metrics/metrics.h"
#include "../recon/recon.h"

typedef struct {
    mg_train_cfg cfg;
    char *p_cfg, *p_last, *p_best, *p_csv, *p_epochs, *p_grid;
    char *cfg_json;
    mg_dataset tr;      /* the training slices, read on demand */
    mg_dataset vd;      /* the validation files (indexed) */
    mg_kdata va;        /* the validation file now loaded (validate.c) */
    mg_dcinet net;
    mg_critic critic;
    int gan, agb_on;
    mg_adam adam, adam_d;
    mg_agb agb;
    mg_train_pos pos;
    mg_step step;       /* the backend's step (CPU or GPU) */
    mg_batch b;         /* batches filled on this thread (no prefetch), and validation */
    mg_batch_src src;
    mg_prefetch *pre;   /* batches prepared ahead on a helper thread, or NULL */
    double *val_series, *fid_series; /* per epoch; fid_series only with FID weights */
    long nval;
    mg_fid_model fid;   /* validation FID (rank 0) */
    int has_fid;
    long saved_step;    /* global step of the newest last.safetensors */
    /* data parallelism (docs/mpi.md): P ranks, this one is R; the global
     * batch Bg is split in P parts of b.B samples, this rank's starting at r0 */
    int P, R, Bg, r0;
    float *gbuf;        /* packed gradients for the all-reduce */
    double step_s, comm_s; /* seconds in steps after the first, and in their collectives */
    long nsteps;
    double prep_s;      /* seconds preparing samples on the CPU */
    /* validation (validate.c): the evaluation protocol, opened at first use */
    mg_eval ev;
    mg_method vnet;      /* the network, on the step's backend */
    cfloat *vimg, *zimg; /* its images; zero filling's */
    double *zf_nmse;     /* zero filling's NMSE per validation file (computed once; NAN before) */
    float *vmask;
    int ev_open, ev_file; /* the file open in ev (one file stays open between validations) */
} trainer;

/* mode, models, optimisers, AGB and the step's shared state (trainer.c) */
int mg_trainer_mode(trainer *t);
int mg_trainer_models(trainer *t, int H, int W, int *cin);
/* the backend's step: the CPU, or cfg.gpu's device (after mg_backend_open) */
int mg_trainer_step_open(trainer *t, int cin);
/* one training step at the trainer's position: its batches (plan: the
 * epoch's, batch.h), critic steps, the generator step; -1 with an error when
 * a slice could not be read */
int mg_trainer_step(trainer *t, const long *plan, long steps_per_epoch, mg_step_log *lg);
void mg_trainer_free(trainer *t);
/* domain_record.c: the train split's shapes, the acceleration and the
 * contrasts of DATA/simulate.json's training volumes into the config JSON
 * *json as "domain" (*json replaced) */
void mg_trainer_add_domain(char **json, const mg_dataset *tr, double accel, const char *data_dir);

/* Validation (validate.c): NMSE (fastMRI's volume NMSE on magnitudes, data
 * units, averaged over the validation files as fastMRI averages volumes) with
 * the fixed masks; zf: the same for zero filling; grid: PNG of the first
 * file's first slices (rows: zero-filled, reconstruction, reference); fid:
 * the validation FID with weights and one validation file (NAN otherwise). */
int mg_trainer_validate(trainer *t, double *nmse, double *zf, const char *grid, double *fid);
void mg_trainer_validate_free(trainer *t);

/* Model selection (select.c, paper B.3) */
int mg_trainer_select_start(const trainer *t);
char *mg_trainer_epoch_file(const trainer *t, long epoch);
/* over the epochs so far: best.safetensors from the selected epoch's file */
int mg_trainer_update_best(trainer *t, long *best_epoch);
/* the per-epoch validation series already in metrics.csv (after --resume) */
void mg_trainer_read_series(trainer *t);

#endif

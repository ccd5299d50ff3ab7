/* mrgan train: the samples of a step (batch.c) and their preparation ahead
 * of the step on a helper thread (prefetch.c). docs/training.md. */
#ifndef MRGAN_BATCH_H
#define MRGAN_BATCH_H

#include "step.h"
#include "train.h"
#include "../data/data.h"

/* where a step's samples come from: the training slices, the configuration
 * (seed, masks, augmentation), the global batch Bg and this rank's first
 * sample r0 in it */
typedef struct {
    const mg_train_cfg *cfg;
    mg_dataset *data;
    int Bg, r0;
} mg_batch_src;

/* The epoch's order of the n training slices. Caller frees. */
long *mg_batch_permutation(uint64_t seed, long epoch, long n);
/* The epoch's plan: *nsteps global batches of Bg slices of one shape each,
 * step s's being plan[s*Bg .. s*Bg + Bg - 1]. The epoch's permutation is
 * walked and each slice joins the open batch of its shape; a batch is
 * issued when full, and partial batches at the end are dropped. With one
 * shape this is the permutation cut into consecutive batches. Caller frees. */
long *mg_batch_plan(const mg_dataset *ds, uint64_t seed, long epoch, int Bg, long *nsteps);
/* The critic's k-th minibatch of a step (random slices of the step's shape)
 * and the generator's (the plan's), into b. Pure functions of the seeds and
 * the position. 0, or -1 with an error (a slice could not be read); *seconds:
 * the time they took. */
int mg_batch_fill_critic(const mg_batch_src *src, mg_batch *b, long epoch, long step, int k, const long *plan,
                         double *seconds);
int mg_batch_fill_generator(const mg_batch_src *src, mg_batch *b, long epoch, long step, const long *plan,
                            double *seconds);

/* ---------------- prefetch ----------------
 * Two sets of the step's batches (critic_steps critic batches, then the
 * generator batch); while a step runs on one, a helper thread fills the
 * other with the next step of the epoch. The samples depend on the seeds and
 * positions only, so the run is the same with or without it. */
typedef struct mg_prefetch mg_prefetch;
mg_prefetch *mg_prefetch_create(const mg_batch_src *src, int critic_batches, int B, int C, int H, int W, int cin);
/* The batches of step `step` of `epoch` (prefetched, or filled now); then
 * starts the next step of the epoch on the other set. *seconds: the time
 * spent preparing this step's batches. NULL with an error when a slice could
 * not be read. */
mg_batch *mg_prefetch_step(mg_prefetch *p, long epoch, long step, long steps_per_epoch, const long *plan,
                           double *seconds);
void mg_prefetch_free(mg_prefetch *p); /* joins its thread */

#endif

/* Batches: buffers, and the samples of a step as pure functions of the seeds
 * and the position (so that a helper thread may prepare them ahead, and a
 * resumed run draws the same ones). */
#include "batch.h"
#include "../mri/mri.h"

#include <stdlib.h>
#include <string.h>

void mg_batch_alloc(mg_batch *b, int B, int C, int H, int W, int cin)
{
    memset(b, 0, sizeof *b);
    b->B = B; b->C = C; b->H = H; b->W = W; b->cin = cin;
    b->ch = H; b->cw = W;
    b->hw = (long)H * W;
    b->n = C * b->hw;
    const size_t img = (size_t)(B * 2 * b->hw), mag = (size_t)(B * b->hw);
    b->k = mg_malloc_array((size_t)b->n, sizeof(cfloat));
    b->work = mg_malloc_array((size_t)b->n, sizeof(cfloat));
    b->cz = mg_malloc_array((size_t)b->hw, sizeof(cfloat));
    b->sens = mg_malloc_array((size_t)(B * b->n), sizeof(cfloat));
    b->ku = mg_malloc_array((size_t)(B * b->n), sizeof(cfloat));
    b->mask = mg_malloc_array((size_t)(B * H), sizeof(float));
    b->acq = mg_malloc_array((size_t)H, sizeof(float));
    b->target = mg_malloc_array(img, sizeof(float));
    b->out = mg_malloc_array(img, sizeof(float));
    b->dout = mg_malloc_array(img, sizeof(float));
    b->ggan = mg_malloc_array(img, sizeof(float));
    b->mzmag = mg_malloc_array(mag, sizeof(float));
    b->mag = mg_malloc_array(mag, sizeof(float));
    b->dmag = mg_malloc_array(mag, sizeof(float));
    b->cin_buf = mg_malloc_array((size_t)(B * (cin ? cin : 1)) * (size_t)b->hw, sizeof(float));
    b->dcin = mg_malloc_array((size_t)(B * (cin ? cin : 1)) * (size_t)b->hw, sizeof(float));
    b->dval = mg_malloc_array((size_t)B, sizeof(float));
    b->dgrad = mg_malloc_array((size_t)B, sizeof(float));
}

void mg_batch_free(mg_batch *b)
{
    void *p[] = {b->k, b->work, b->cz, b->sens, b->ku, b->mask, b->target, b->out, b->dout, b->ggan,
                 b->mzmag, b->mag, b->dmag, b->cin_buf, b->dcin, b->dval, b->dgrad, b->acq};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
    memset(b, 0, sizeof *b);
}

void mg_batch_shape(mg_batch *b, int C, int H, int W)
{
    b->C = C;
    b->H = H;
    b->W = W;
    b->hw = (long)H * W;
    b->n = C * b->hw;
}

/* sample i of the batch from slice idx: augmentation, fresh mask over the
 * acquired lines, scaling, and |mz| for the critic's condition */
static int fill_sample(const mg_batch_src *src, long idx, uint64_t sseed, int i, mg_batch *b)
{
    const mg_train_cfg *cfg = src->cfg;
    mg_rng r;
    mg_rng_seed(&r, sseed);
    cfloat *sens = b->sens + i * b->n, *ku = b->ku + i * b->n;
    if (mg_dataset_read(src->data, idx, b->k, sens)) return -1;
    /* lines that were acquired (padding, empty lines), before augmentation
     * fills them; the mask samples those only */
    float *mask = b->mask + i * b->H;
    const long nacq = mg_acquired_lines(b->k, b->C, b->H, b->W, 0, b->H, b->acq);
    if (cfg->augment) {
        int flip = mg_rng_uniform(&r) < 0.5;
        double deg = cfg->max_rot_deg * (2.0 * mg_rng_uniform(&r) - 1.0);
        mg_augment(b->k, sens, flip, deg, b->work, b->C, b->H, b->W);
    }
    if (mg_mask_make_acquired(cfg->mask_type, mask, nacq < b->H ? b->acq : NULL, b->H, cfg->accel, cfg->center, -1,
                              mg_rng_u64(&r))) {
        mg_set_error("%s, slice %ld: %s", src->data->nfiles ? src->data->files[src->data->file_of[idx]] : "data",
                     src->data->slice_of[idx], mg_error());
        return -1;
    }
    mg_sample_prepare(b->k, sens, mask, ku, b->target + i * 2 * b->hw, b->cin ? b->cz : NULL, b->work,
                      b->C, b->H, b->W);
    if (b->cin)
        for (long j = 0; j < b->hw; j++) b->mzmag[i * b->hw + j] = cabsf(b->cz[j]);
    return 0;
}

static uint64_t sample_seed(uint64_t seed, long epoch, long pos, uint64_t stream)
{
    return mg_seed_mix(mg_seed_mix(seed, (uint64_t)epoch, 1 + stream), (uint64_t)pos, 2);
}

long *mg_batch_permutation(uint64_t seed, long epoch, long n)
{
    long *p = mg_malloc_array((size_t)n, sizeof(long));
    for (long i = 0; i < n; i++) p[i] = i;
    mg_rng r;
    mg_rng_seed(&r, mg_seed_mix(seed, (uint64_t)epoch, 0x7065726dULL));
    for (long i = n - 1; i > 0; i--) {
        long j = (long)(mg_rng_uniform(&r) * (double)(i + 1));
        long t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

long *mg_batch_plan(const mg_dataset *ds, uint64_t seed, long epoch, int Bg, long *nsteps)
{
    long *perm = mg_batch_permutation(seed, epoch, ds->n);
    long *plan = mg_malloc_array((size_t)ds->n, sizeof(long));
    long *open = mg_malloc_array((size_t)ds->ngroups * (size_t)Bg, sizeof(long)); /* each shape's open batch */
    int *fill = mg_calloc((size_t)ds->ngroups, sizeof(int));
    long k = 0;
    for (long i = 0; i < ds->n; i++) {
        const int g = ds->group_of[perm[i]];
        open[g * Bg + fill[g]++] = perm[i];
        if (fill[g] == Bg) {
            memcpy(plan + k, open + g * Bg, sizeof(long) * (size_t)Bg);
            k += Bg;
            fill[g] = 0;
        }
    }
    free(perm);
    free(open);
    free(fill);
    *nsteps = k / Bg;
    return plan;
}

/* the step's shape: its generator batch's */
static const mg_shape_group *step_group(const mg_batch_src *src, long step, const long *plan)
{
    const mg_dataset *ds = src->data;
    return &ds->groups[ds->group_of[plan[step * src->Bg]]];
}

int mg_batch_fill_critic(const mg_batch_src *src, mg_batch *b, long epoch, long step, int k, const long *plan,
                         double *seconds)
{
    const double t0 = mg_now();
    const mg_shape_group *G = step_group(src, step, plan);
    mg_batch_shape(b, (int)G->C, (int)G->H, (int)G->W);
    int rc = 0;
    for (int i = 0; i < b->B && !rc; i++) {
        uint64_t s = sample_seed(src->cfg->seed, epoch, step * src->Bg + src->r0 + i, 16 + (uint64_t)k);
        mg_rng r;
        mg_rng_seed(&r, s);
        long idx = G->members[(long)(mg_rng_uniform(&r) * (double)G->n)];
        rc = fill_sample(src, idx, mg_rng_u64(&r), i, b);
    }
    *seconds = mg_now() - t0;
    return rc;
}

int mg_batch_fill_generator(const mg_batch_src *src, mg_batch *b, long epoch, long step, const long *plan,
                            double *seconds)
{
    const double t0 = mg_now();
    const mg_shape_group *G = step_group(src, step, plan);
    mg_batch_shape(b, (int)G->C, (int)G->H, (int)G->W);
    int rc = 0;
    for (int i = 0; i < b->B && !rc; i++) {
        long p = step * src->Bg + src->r0 + i;
        rc = fill_sample(src, plan[p], sample_seed(src->cfg->seed, epoch, p, 0), i, b);
    }
    *seconds = mg_now() - t0;
    return rc;
}

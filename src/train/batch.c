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
    b->hw = (long)H * W;
    b->n = C * b->hw;
    const size_t img = (size_t)(B * 2 * b->hw), mag = (size_t)(B * b->hw);
    b->k = mg_malloc_array((size_t)b->n, sizeof(cfloat));
    b->work = mg_malloc_array((size_t)b->n, sizeof(cfloat));
    b->cz = mg_malloc_array((size_t)b->hw, sizeof(cfloat));
    b->sens = mg_malloc_array((size_t)(B * b->n), sizeof(cfloat));
    b->ku = mg_malloc_array((size_t)(B * b->n), sizeof(cfloat));
    b->mask = mg_malloc_array((size_t)(B * H), sizeof(float));
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
                 b->mzmag, b->mag, b->dmag, b->cin_buf, b->dcin, b->dval, b->dgrad};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
    memset(b, 0, sizeof *b);
}

/* sample i of the batch from slice idx: augmentation, fresh mask, scaling,
 * and |mz| for the critic's condition */
static void fill_sample(const mg_batch_src *src, long idx, uint64_t sseed, int i, mg_batch *b)
{
    const mg_train_cfg *cfg = src->cfg;
    const mg_kdata *d = src->data;
    mg_rng r;
    mg_rng_seed(&r, sseed);
    cfloat *sens = b->sens + i * b->n, *ku = b->ku + i * b->n;
    memcpy(b->k, d->kspace + idx * b->n, sizeof(cfloat) * (size_t)b->n);
    memcpy(sens, d->sens + idx * b->n, sizeof(cfloat) * (size_t)b->n);
    if (cfg->augment) {
        int flip = mg_rng_uniform(&r) < 0.5;
        double deg = cfg->max_rot_deg * (2.0 * mg_rng_uniform(&r) - 1.0);
        mg_augment(b->k, sens, flip, deg, b->work, b->C, b->H, b->W);
    }
    float *mask = b->mask + i * b->H;
    if (mg_mask_make(cfg->mask_type, mask, b->H, cfg->accel, cfg->center, -1, mg_rng_u64(&r)))
        abort(); /* validated before training */
    mg_sample_prepare(b->k, sens, mask, ku, b->target + i * 2 * b->hw, b->cin ? b->cz : NULL, b->work,
                      b->C, b->H, b->W);
    if (b->cin)
        for (long j = 0; j < b->hw; j++) b->mzmag[i * b->hw + j] = cabsf(b->cz[j]);
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

double mg_batch_fill_critic(const mg_batch_src *src, mg_batch *b, long epoch, long step, int k)
{
    const double t0 = mg_now();
    for (int i = 0; i < b->B; i++) {
        uint64_t s = sample_seed(src->cfg->seed, epoch, step * src->Bg + src->r0 + i, 16 + (uint64_t)k);
        mg_rng r;
        mg_rng_seed(&r, s);
        long idx = (long)(mg_rng_uniform(&r) * (double)src->data->nslices);
        fill_sample(src, idx, mg_rng_u64(&r), i, b);
    }
    return mg_now() - t0;
}

double mg_batch_fill_generator(const mg_batch_src *src, mg_batch *b, long epoch, long step, const long *perm)
{
    const double t0 = mg_now();
    for (int i = 0; i < b->B; i++) {
        long p = step * src->Bg + src->r0 + i;
        fill_sample(src, perm[p], sample_seed(src->cfg->seed, epoch, p, 0), i, b);
    }
    return mg_now() - t0;
}

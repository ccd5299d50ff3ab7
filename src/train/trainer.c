/* The training loop: mode mse, and the GAN modes wgan, cwgan, cwgan-agb
 * (docs/training.md, docs/gan.md). */
#include "train.h"
#include "agb.h"
#include "../fft/fft.h"
#include "../metrics/metrics.h"
#include "../mri/mri.h"
#ifdef MRGAN_HAVE_CUDA
#include "../gpu/gpu.h"
#endif

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static volatile sig_atomic_t stop_flag;
static void on_signal(int s)
{
    (void)s;
    stop_flag = 1;
}

static int write_text(const char *path, const char *text)
{
    char *tmp = mg_tmp_path(path);
    FILE *f = fopen(tmp, "w");
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0) ok = 0;
    return mg_finish_tmp(ok, tmp, path, ok ? NULL : strerror(errno));
}

/* copy a file atomically (best.safetensors from an epoch's checkpoint) */
static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb");
    if (!a) {
        mg_set_error("%s: cannot open: %s", from, strerror(errno));
        return -1;
    }
    char *tmp = mg_tmp_path(to);
    FILE *b = fopen(tmp, "wb");
    int ok = b != NULL;
    char buf[1 << 16];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    fclose(a);
    if (b && fclose(b) != 0) ok = 0;
    return mg_finish_tmp(ok, tmp, to, ok ? NULL : strerror(errno));
}

static int append_line(const char *path, const char *line)
{
    FILE *f = fopen(path, "a");
    if (!f || fputs(line, f) < 0 || fclose(f) != 0) {
        mg_set_error("%s: cannot append: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int load_split(const char *dir, const char *name, mg_kdata *d)
{
    char *p = mg_path_join(dir, name);
    int rc = mg_kdata_read(p, d);
    if (!rc && !d->sens) { /* estimate maps from the centre lines once */
        const long n = d->coils * d->h * d->w;
        d->sens = mg_malloc_array((size_t)(d->nslices * n), sizeof(cfloat));
        for (long s = 0; s < d->nslices && !rc; s++)
            rc = mg_sens_estimate(d->kspace + s * n, d->coils, d->h, d->w, 12, MG_SENS_WALSH, d->sens + s * n);
    }
    free(p);
    return rc;
}

/* ---------------- batches ---------------- */
typedef struct {
    int C, H, W, B, cin; /* cin: critic input channels (0 without a critic) */
    long hw, n;
    cfloat *k, *sens, *ku, *work, *cz;
    float *mask, *target, *out, *dout, *ggan;
    float *mzmag, *mag, *dmag, *cin_buf, *dcin, *dval, *dgrad;
} batch_buf;

static void batch_alloc(batch_buf *b, int B, int C, int H, int W, int cin)
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

static void batch_free(batch_buf *b)
{
    void *p[] = {b->k, b->work, b->cz, b->sens, b->ku, b->mask, b->target, b->out, b->dout, b->ggan,
                 b->mzmag, b->mag, b->dmag, b->cin_buf, b->dcin, b->dval, b->dgrad};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
}

/* sample i of the batch from slice idx: augmentation, fresh mask, scaling,
 * and |mz| for the critic's condition */
static void fill_sample(const mg_train_cfg *cfg, const mg_kdata *d, long idx, uint64_t sseed, int i,
                        batch_buf *b)
{
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

static long *permutation(uint64_t seed, long epoch, long n)
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

/* MSE loss of b->out vs b->target, gradient into b->dout:
 * L = sum over pixels and both channels of (G - mf/s)^2 / (B H W). */
static double mse_loss(batch_buf *b, int P)
{
    /* with P ranks each holds 1/P of the batch: its share of the mean */
    const long n = (long)b->B * 2 * b->hw;
    memset(b->dout, 0, sizeof(float) * (size_t)n);
    mg_mse_backward(b->out, b->target, b->dout, n, 2.0f / (float)P);
    return 2.0 * mg_mse_forward(b->out, b->target, n) / P;
}

/* critic input from magnitudes: [|mz|, img] (conditional) or [img] */
static void critic_input(batch_buf *b, const float *img_mag)
{
    for (int i = 0; i < b->B; i++) {
        float *dst = b->cin_buf + (long)i * b->cin * b->hw;
        if (b->cin == 2) {
            memcpy(dst, b->mzmag + i * b->hw, sizeof(float) * (size_t)b->hw);
            dst += b->hw;
        }
        memcpy(dst, img_mag + i * b->hw, sizeof(float) * (size_t)b->hw);
    }
}

/* ---------------- the trainer ---------------- */
typedef struct prep_job prep_job;
typedef struct {
    mg_train_cfg cfg;
    const char *run;
    char *p_cfg, *p_last, *p_best, *p_csv, *p_epochs, *p_grid;
    char *cfg_json;
    mg_kdata tr, va;
    mg_dcinet net;
    mg_critic critic;
    int gan, agb_on;
    mg_adam adam, adam_d;
    mg_agb agb;
    mg_train_pos pos;
    batch_buf b;
    double *val_series, *fid_series; /* per epoch; fid_series only with FID weights */
    long nval;
    mg_fid_model fid;       /* validation FID (rank 0) */
    int has_fid;
    float *fid_ref;         /* the validation references' features, computed once */
    long saved_step; /* global step of the newest last.safetensors */
    /* data parallelism (docs/mpi.md): P ranks, this one is R; the global
     * batch Bg is split in P parts of b.B samples, this rank's starting at r0 */
    int P, R, Bg, r0;
    float *gbuf; /* packed gradients for the all-reduce */
    double step_s, comm_s; /* seconds in steps after the first, and in their collectives */
    long nsteps;
    double prep_s; /* seconds preparing samples on the CPU */
    prep_job *job;  /* two batch sets with their prefetch threads, or NULL */
    int cur;        /* the set of the next step */
#ifdef MRGAN_HAVE_CUDA
    /* --gpu: device mirrors of the models and the batch (docs/gpu.md) */
    mg_gpu_dcinet *gnet;
    mg_gpu_critic *gcrit;
    float *d_ku, *d_sens, *d_mask, *d_target, *d_mzmag, *d_out, *d_dout, *d_ggan, *d_mag, *d_dmag;
    float *d_cin, *d_dcin, *d_dval, *d_dgrad;
#endif
} trainer;

typedef struct {
    double loss, mse, gan, w_est, std_gan, std_mse;
} step_log;

/* Sum every rank's gradients (each already carries its 1/Bg share), in one
 * all-reduce over the packed buffer. */
static void allreduce_grads(trainer *t, mg_params *ps)
{
    if (t->P < 2) return;
    long o = 0;
    for (int i = 0; i < ps->n; i++) {
        memcpy(t->gbuf + o, ps->p[i]->g, sizeof(float) * (size_t)ps->p[i]->size);
        o += ps->p[i]->size;
    }
    mg_dist_sum_f(t->gbuf, o);
    o = 0;
    for (int i = 0; i < ps->n; i++) {
        memcpy(ps->p[i]->g, t->gbuf + o, sizeof(float) * (size_t)ps->p[i]->size);
        o += ps->p[i]->size;
    }
}

/* population std over the whole global batch (mg_std with one process) */
static double dist_std(const trainer *t, const float *x, long n)
{
    if (t->P < 2) return mg_std(x, n);
    double a[2] = {0, (double)n};
    for (long i = 0; i < n; i++) a[0] += x[i];
    mg_dist_sum_d(a, 2);
    const double m = a[0] / a[1];
    double ss = 0;
    for (long i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    mg_dist_sum_d(&ss, 1);
    return sqrt(ss / a[1]);
}

/* The critic's own minibatch (random slices) and the generator's (the
 * epoch's permutation) of global step `step` of `epoch`, into b. Pure
 * functions of the seeds and the position, so they may run on a helper
 * thread ahead of the step (prefetch). Return the seconds they took. */
static double fill_critic_batch(const trainer *t, batch_buf *b, long epoch, long step, int k)
{
    const double t0 = mg_now();
    for (int i = 0; i < b->B; i++) {
        uint64_t s = sample_seed(t->cfg.seed, epoch, step * t->Bg + t->r0 + i, 16 + (uint64_t)k);
        mg_rng r;
        mg_rng_seed(&r, s);
        long idx = (long)(mg_rng_uniform(&r) * (double)t->tr.nslices);
        fill_sample(&t->cfg, &t->tr, idx, mg_rng_u64(&r), i, b);
    }
    return mg_now() - t0;
}

static double fill_generator_batch(const trainer *t, batch_buf *b, long epoch, long step, const long *perm)
{
    const double t0 = mg_now();
    for (int i = 0; i < b->B; i++) {
        long p = step * t->Bg + t->r0 + i;
        fill_sample(&t->cfg, &t->tr, perm[p], sample_seed(t->cfg.seed, epoch, p, 0), i, b);
    }
    return mg_now() - t0;
}

static void critic_step(trainer *t, batch_buf *b, step_log *lg)
{
    const mg_train_cfg *cfg = &t->cfg;
    mg_dcinet_forward(&t->net, b->ku, b->sens, b->mask, b->out, b->B, b->C, b->H, b->W);
    const float inv = (float)(1.0 / t->agb.beta);
    mg_params_zero_grad(&t->critic.params);
    double dr = 0, df = 0;
    /* L_D = (1/beta) (mean D(fake) - mean D(real)), descended; real and fake
     * batches pass separately (batch norm statistics per batch) */
    mg_cmag_forward(b->target, b->mag, b->B, b->hw);
    critic_input(b, b->mag);
    mg_critic_forward(&t->critic, b->cin_buf, b->dval, b->B, 1);
    for (int i = 0; i < b->B; i++) {
        dr += b->dval[i];
        b->dgrad[i] = -inv / (float)t->Bg;
    }
    mg_critic_backward(&t->critic, b->dgrad, NULL);
    mg_cmag_forward(b->out, b->mag, b->B, b->hw);
    critic_input(b, b->mag);
    mg_critic_forward(&t->critic, b->cin_buf, b->dval, b->B, 1);
    for (int i = 0; i < b->B; i++) {
        df += b->dval[i];
        b->dgrad[i] = inv / (float)t->Bg;
    }
    mg_critic_backward(&t->critic, b->dgrad, NULL);
    allreduce_grads(t, &t->critic.params);
    mg_adam_step(&t->adam_d, &t->critic.params);
    mg_clip_weights(&t->critic.params, cfg->clip);
    double w = dr - df;
    mg_dist_sum_d(&w, 1);
    lg->w_est = w / t->Bg;
}

/* the generator step: MSE (+ GAN term through the critic), AGB measurement */
static double generator_step(trainer *t, batch_buf *b, step_log *lg)
{
    mg_dcinet_forward(&t->net, b->ku, b->sens, b->mask, b->out, b->B, b->C, b->H, b->W);
    const long nimg = (long)b->B * 2 * b->hw;
    double mse = mse_loss(b, t->P); /* b->dout = g_mse */
    mg_dist_sum_d(&mse, 1);
    lg->mse = mse;
    lg->gan = 0;
    if (t->gan) {
        const float inv = (float)(1.0 / t->agb.beta);
        mg_cmag_forward(b->out, b->mag, b->B, b->hw);
        critic_input(b, b->mag);
        mg_critic_forward(&t->critic, b->cin_buf, b->dval, b->B, 1);
        double df = 0;
        for (int i = 0; i < b->B; i++) {
            df += b->dval[i];
            b->dgrad[i] = -inv / (float)t->Bg; /* L_adv = -(1/beta) mean D(fake) */
        }
        mg_dist_sum_d(&df, 1);
        lg->gan = -inv * df / t->Bg;
        memset(b->dcin, 0, sizeof(float) * (size_t)(b->B * b->cin) * (size_t)b->hw);
        mg_critic_backward(&t->critic, b->dgrad, b->dcin);
        for (int i = 0; i < b->B; i++) /* the image channel of the critic input */
            memcpy(b->dmag + i * b->hw, b->dcin + ((long)i * b->cin + b->cin - 1) * b->hw,
                   sizeof(float) * (size_t)b->hw);
        memset(b->ggan, 0, sizeof(float) * (size_t)nimg);
        mg_cmag_backward(b->out, b->dmag, b->ggan, b->B, b->hw);
        lg->std_gan = dist_std(t, b->ggan, nimg);
        lg->std_mse = dist_std(t, b->dout, nimg);
        for (long i = 0; i < nimg; i++) b->dout[i] += b->ggan[i];
        if (t->agb_on) mg_agb_update(&t->agb, lg->std_gan, lg->std_mse);
    }
    mg_params_zero_grad(&t->net.params);
    mg_dcinet_backward(&t->net, b->dout, NULL);
    allreduce_grads(t, &t->net.params);
    mg_adam_step(&t->adam, &t->net.params);
    lg->loss = lg->mse + lg->gan;
    return lg->loss;
}

#ifdef MRGAN_HAVE_CUDA
/* ---------------- the same two steps on the GPU (--gpu) ----------------
 * Samples are prepared on the host (augmentation, masks, scaling), uploaded,
 * and everything else runs on the device; only the critic's B outputs and the
 * loss scalars come back. One process (no MPI ranks). */
static void gpu_alloc(trainer *t)
{
    const batch_buf *b = &t->b;
    const size_t img = (size_t)b->B * 2 * (size_t)b->hw, mag = (size_t)b->B * (size_t)b->hw;
    const size_t cin = (size_t)b->B * (size_t)(b->cin ? b->cin : 1) * (size_t)b->hw;
    t->gnet = mg_gpu_dcinet_create(&t->net);
    if (t->gan) t->gcrit = mg_gpu_critic_create(&t->critic);
    t->d_ku = mg_gpu_alloc((size_t)b->B * (size_t)b->n * 2);
    t->d_sens = mg_gpu_alloc((size_t)b->B * (size_t)b->n * 2);
    t->d_mask = mg_gpu_alloc((size_t)b->B * (size_t)b->H);
    t->d_target = mg_gpu_alloc(img);
    t->d_out = mg_gpu_alloc(img);
    t->d_dout = mg_gpu_alloc(img);
    t->d_ggan = mg_gpu_alloc(img);
    t->d_mzmag = mg_gpu_alloc(mag);
    t->d_mag = mg_gpu_alloc(mag);
    t->d_dmag = mg_gpu_alloc(mag);
    t->d_cin = mg_gpu_alloc(cin);
    t->d_dcin = mg_gpu_alloc(cin);
    t->d_dval = mg_gpu_alloc((size_t)b->B);
    t->d_dgrad = mg_gpu_alloc((size_t)b->B);
}

static void gpu_free(trainer *t)
{
    if (!t->gnet) return;
    mg_gpu_dcinet_free(t->gnet);
    mg_gpu_critic_free(t->gcrit);
    float *p[] = {t->d_ku, t->d_sens, t->d_mask, t->d_target, t->d_out, t->d_dout, t->d_ggan, t->d_mzmag,
                  t->d_mag, t->d_dmag, t->d_cin, t->d_dcin, t->d_dval, t->d_dgrad};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) mg_gpu_free(p[i]);
    t->gnet = NULL;
}

static void gpu_upload_batch(trainer *t, const batch_buf *b)
{
    mg_gpu_upload(t->d_ku, (const float *)b->ku, (size_t)b->B * (size_t)b->n * 2);
    mg_gpu_upload(t->d_sens, (const float *)b->sens, (size_t)b->B * (size_t)b->n * 2);
    mg_gpu_upload(t->d_mask, b->mask, (size_t)b->B * (size_t)b->H);
    mg_gpu_upload(t->d_target, b->target, (size_t)b->B * 2 * (size_t)b->hw);
    if (b->cin) mg_gpu_upload(t->d_mzmag, b->mzmag, (size_t)b->B * (size_t)b->hw);
}

/* critic input [|mz|, mag] or [mag] (critic_input on the device) */
static void gpu_critic_input(trainer *t, const batch_buf *b, const float *mag)
{
    if (b->cin == 2) mg_gpu_concat_forward(t->d_mzmag, t->d_cin, b->B, 1, 2, 0, b->hw);
    mg_gpu_concat_forward(mag, t->d_cin, b->B, 1, b->cin, b->cin - 1, b->hw);
}

/* D on the device input, gradient coef per output, backward; returns sum D */
static double gpu_critic_pass(trainer *t, batch_buf *b, float coef, float *dx)
{
    mg_gpu_critic_forward(t->gcrit, t->d_cin, t->d_dval, b->B, 1);
    mg_gpu_download(b->dval, t->d_dval, (size_t)b->B);
    double s = 0;
    for (int i = 0; i < b->B; i++) {
        s += b->dval[i];
        b->dgrad[i] = coef;
    }
    mg_gpu_upload(t->d_dgrad, b->dgrad, (size_t)b->B);
    mg_gpu_critic_backward(t->gcrit, t->d_dgrad, dx);
    return s;
}

static void gpu_critic_step(trainer *t, batch_buf *b, step_log *lg)
{
    gpu_upload_batch(t, b);
    mg_gpu_dcinet_forward(t->gnet, t->d_ku, t->d_sens, t->d_mask, t->d_out, b->B, b->C, b->H, b->W);
    const float inv = (float)(1.0 / t->agb.beta);
    mg_gpu_params *cp = mg_gpu_critic_params(t->gcrit);
    mg_gpu_params_zero_grad(cp);
    mg_gpu_cmag_forward(t->d_target, t->d_mag, b->B, b->hw);
    gpu_critic_input(t, b, t->d_mag);
    const double dr = gpu_critic_pass(t, b, -inv / (float)t->Bg, NULL);
    mg_gpu_cmag_forward(t->d_out, t->d_mag, b->B, b->hw);
    gpu_critic_input(t, b, t->d_mag);
    const double df = gpu_critic_pass(t, b, inv / (float)t->Bg, NULL);
    mg_gpu_adam_step(&t->adam_d, cp);
    mg_gpu_clip_weights(cp, t->cfg.clip);
    lg->w_est = (dr - df) / t->Bg;
}

static double gpu_generator_step(trainer *t, batch_buf *b, step_log *lg)
{
    gpu_upload_batch(t, b);
    mg_gpu_dcinet_forward(t->gnet, t->d_ku, t->d_sens, t->d_mask, t->d_out, b->B, b->C, b->H, b->W);
    const long nimg = (long)b->B * 2 * b->hw;
    mg_gpu_zero(t->d_dout, (size_t)nimg); /* as mse_loss: one process */
    mg_gpu_mse_backward(t->d_out, t->d_target, t->d_dout, nimg, 2.0f);
    lg->mse = 2.0 * mg_gpu_mse_forward(t->d_out, t->d_target, nimg);
    lg->gan = 0;
    if (t->gan) {
        const float inv = (float)(1.0 / t->agb.beta);
        mg_gpu_cmag_forward(t->d_out, t->d_mag, b->B, b->hw);
        gpu_critic_input(t, b, t->d_mag);
        mg_gpu_zero(t->d_dcin, (size_t)b->B * (size_t)b->cin * (size_t)b->hw);
        const double df = gpu_critic_pass(t, b, -inv / (float)t->Bg, t->d_dcin);
        lg->gan = -inv * df / t->Bg;
        mg_gpu_zero(t->d_dmag, (size_t)b->B * (size_t)b->hw); /* the image channel of the critic input */
        mg_gpu_concat_backward(t->d_dcin, t->d_dmag, b->B, 1, b->cin, b->cin - 1, b->hw);
        mg_gpu_zero(t->d_ggan, (size_t)nimg);
        mg_gpu_cmag_backward(t->d_out, t->d_dmag, t->d_ggan, b->B, b->hw);
        lg->std_gan = mg_gpu_std(t->d_ggan, nimg);
        lg->std_mse = mg_gpu_std(t->d_dout, nimg);
        mg_gpu_add(t->d_dout, t->d_ggan, nimg);
        if (t->agb_on) mg_agb_update(&t->agb, lg->std_gan, lg->std_mse);
    }
    mg_gpu_params *gp = mg_gpu_dcinet_params(t->gnet);
    mg_gpu_params_zero_grad(gp);
    mg_gpu_dcinet_backward(t->gnet, t->d_dout, NULL);
    mg_gpu_adam_step(&t->adam, gp);
    lg->loss = lg->mse + lg->gan;
    return lg->loss;
}
#endif

/* one validation slice through the network, on the device with --gpu */
static void net_forward1(trainer *t, const cfloat *ku, const cfloat *sens, const float *mask, float *out)
{
    const batch_buf *b = &t->b;
#ifdef MRGAN_HAVE_CUDA
    if (t->gnet) {
        mg_gpu_dcinet_infer(t->gnet, ku, sens, mask, out, 1, b->C, b->H, b->W);
        return;
    }
#endif
    mg_dcinet_forward(&t->net, ku, sens, mask, out, 1, b->C, b->H, b->W);
}

/* the host copies of the models are current before checkpoints */
static void sync_host(trainer *t)
{
#ifdef MRGAN_HAVE_CUDA
    if (!t->gnet) return;
    mg_gpu_params_download(mg_gpu_dcinet_params(t->gnet));
    if (t->gcrit) mg_gpu_critic_download(t->gcrit);
#else
    (void)t;
#endif
}

/* ---------------- the batches of a step, prepared ahead (prefetch) ----------------
 * With prefetch on (default with --gpu, where preparing samples on the CPU
 * would otherwise stall the device; MRGAN_PREFETCH=0/1 overrides) a helper
 * thread fills the critic_steps critic batches and the generator batch of the
 * next step of the epoch into the other of two sets while this step runs. The
 * samples are functions of the seeds and positions only, so the run is the
 * same with or without it. */
struct prep_job {
    trainer *t;
    batch_buf *bufs; /* critic_steps critic batches, then the generator batch */
    long epoch, step;
    const long *perm;
    double seconds;
    pthread_t th;
    int running;
};

static void prepare(prep_job *j)
{
    trainer *t = j->t;
    const int cs = t->gan ? t->cfg.critic_steps : 0;
    j->seconds = 0;
    for (int k = 0; k < cs; k++) j->seconds += fill_critic_batch(t, &j->bufs[k], j->epoch, j->step, k);
    j->seconds += fill_generator_batch(t, &j->bufs[cs], j->epoch, j->step, j->perm);
}

static void *prepare_thread(void *p)
{
    prepare(p);
    mg_fft_release_thread(); /* this thread's FFT scratch */
    return NULL;
}

static void prefetch_wait(prep_job *j)
{
    if (!j->running) return;
    pthread_join(j->th, NULL);
    j->running = 0;
}

static void prefetch_free(trainer *t)
{
    if (!t->job) return;
    for (int s = 0; s < 2; s++) {
        if (!t->job[s].bufs) continue;
        prefetch_wait(&t->job[s]);
        for (int k = 0; k <= t->cfg.critic_steps; k++) batch_free(&t->job[s].bufs[k]);
        free(t->job[s].bufs);
    }
    free(t->job);
    t->job = NULL;
}

static void prefetch_init(trainer *t, int B, int C, int H, int W, int cin)
{
    t->job = mg_calloc(2, sizeof(prep_job));
    for (int s = 0; s < 2; s++) {
        t->job[s].t = t;
        t->job[s].bufs = mg_calloc((size_t)t->cfg.critic_steps + 1, sizeof(batch_buf));
        for (int k = 0; k <= t->cfg.critic_steps; k++) batch_alloc(&t->job[s].bufs[k], B, C, H, W, cin);
        t->job[s].epoch = -1;
    }
}

/* the batches of the current step: the prefetched set, or filled now; then
 * the next step of the epoch starts on the other set */
static batch_buf *step_batches(trainer *t, const long *perm, long steps_per_epoch)
{
    prep_job *cur = &t->job[t->cur];
    prefetch_wait(cur);
    if (cur->epoch != t->pos.epoch || cur->step != t->pos.step_in_epoch || cur->perm != perm) {
        cur->epoch = t->pos.epoch;
        cur->step = t->pos.step_in_epoch;
        cur->perm = perm;
        prepare(cur);
    }
    t->prep_s += cur->seconds;
    prep_job *next = &t->job[1 - t->cur];
    prefetch_wait(next);
    if (t->pos.step_in_epoch + 1 < steps_per_epoch) {
        next->epoch = t->pos.epoch;
        next->step = t->pos.step_in_epoch + 1;
        next->perm = perm;
        next->running = pthread_create(&next->th, NULL, prepare_thread, next) == 0;
        if (!next->running) next->epoch = -1; /* no thread: filled when needed */
    }
    t->cur = 1 - t->cur;
    return cur->bufs;
}

static void train_step(trainer *t, const long *perm, long steps_per_epoch, step_log *lg, double *loss)
{
    const int cs = t->gan ? t->cfg.critic_steps : 0;
    batch_buf *set = NULL;
    if (t->job) set = step_batches(t, perm, steps_per_epoch);
    for (int k = 0; k <= cs; k++) {
        batch_buf *b = set ? &set[k] : &t->b;
        if (!set)
            t->prep_s += k < cs ? fill_critic_batch(t, b, t->pos.epoch, t->pos.step_in_epoch, k)
                                : fill_generator_batch(t, b, t->pos.epoch, t->pos.step_in_epoch, perm);
#ifdef MRGAN_HAVE_CUDA
        if (t->gnet) {
            if (k < cs) gpu_critic_step(t, b, lg);
            else *loss = gpu_generator_step(t, b, lg);
            continue;
        }
#endif
        if (k < cs) critic_step(t, b, lg);
        else *loss = generator_step(t, b, lg);
    }
}

/* Validation NMSE (fastMRI volume NMSE on magnitudes, data units) with the
 * fixed masks; zf: the same for zero filling; grid: PNG of the first slices
 * (rows: zero-filled, reconstruction, reference). */
static int validate(trainer *t, double *nmse, double *zf, const char *grid, double *fid)
{
    batch_buf *b = &t->b;
    const mg_kdata *v = &t->va;
    mg_nmse_acc acc = {0, 0}, acc_zf = {0, 0};
    const long hw = b->hw;
    cfloat *pred = mg_malloc_array((size_t)hw, sizeof(cfloat)), *ref = mg_malloc_array((size_t)hw, sizeof(cfloat));
    cfloat *zfi = mg_malloc_array((size_t)hw, sizeof(cfloat));
    const int G = grid ? (int)(t->cfg.grid < v->nslices ? t->cfg.grid : v->nslices) : 0;
    cfloat *tiles = G ? mg_calloc((size_t)(3 * G) * (size_t)hw, sizeof(cfloat)) : NULL;
    const int want_fid = fid && t->has_fid;
    float *pm = want_fid ? mg_malloc_array((size_t)(v->nslices * hw), sizeof(float)) : NULL;
    float *rm = want_fid ? mg_malloc_array((size_t)(v->nslices * hw), sizeof(float)) : NULL;
    int rc = 0;
    for (long s = 0; s < v->nslices && !rc; s++) {
        rc = mg_mask_make(t->cfg.mask_type, b->mask, b->H, t->cfg.accel, t->cfg.center, -1,
                          mg_mask_slice_seed(t->cfg.eval_seed, s));
        if (rc) break;
        const cfloat *k = v->kspace + s * b->n, *sens = v->sens + s * b->n;
        float sc = mg_sample_prepare(k, sens, b->mask, b->ku, b->target, zfi, b->work, b->C, b->H, b->W);
        net_forward1(t, b->ku, sens, b->mask, b->out);
        mg_planes2c(b->out, pred, hw);
        mg_planes2c(b->target, ref, hw);
        for (long i = 0; i < hw; i++) {
            pred[i] *= sc;
            ref[i] *= sc;
            zfi[i] *= sc;
        }
        mg_nmse_add_mag(&acc, ref, pred, (size_t)hw);
        mg_nmse_add_mag(&acc_zf, ref, zfi, (size_t)hw);
        if (want_fid)
            for (long i = 0; i < hw; i++) pm[s * hw + i] = cabsf(pred[i]), rm[s * hw + i] = cabsf(ref[i]);
        if (s < G) {
            /* tile layout: G rows of [zf | recon | reference] */
            for (long y = 0; y < b->H; y++)
                for (long x = 0; x < b->W; x++) {
                    long row = (s * b->H + y) * 3 * b->W;
                    tiles[row + x] = zfi[y * b->W + x];
                    tiles[row + b->W + x] = pred[y * b->W + x];
                    tiles[row + 2 * b->W + x] = ref[y * b->W + x];
                }
        }
    }
    if (!rc && G) rc = mg_png_write_mag(grid, tiles, G * b->H, 3 * b->W, 0.0f, 0.0f);
    if (!rc && want_fid) { /* reconstructions vs references of the validation split */
        const long n = v->nslices * hw;
        double vmax = 0;
        for (long i = 0; i < n; i++) vmax = rm[i] > vmax ? rm[i] : vmax;
        float *fp = NULL;
        rc = t->fid_ref ? 0 : mg_fid_features(&t->fid, rm, v->nslices, b->H, b->W, vmax, &t->fid_ref);
        if (!rc) rc = mg_fid_features(&t->fid, pm, v->nslices, b->H, b->W, vmax, &fp);
        if (!rc) *fid = mg_fid_distance(fp, v->nslices, t->fid_ref, v->nslices, MG_FID_DIM);
        free(fp);
    }
    free(pm);
    free(rm);
    free(pred);
    free(ref);
    free(zfi);
    free(tiles);
    *nmse = mg_nmse_value(&acc);
    if (zf) *zf = mg_nmse_value(&acc_zf);
    if (fid && !want_fid) *fid = NAN;
    return rc;
}

/* After a hard stop (SIGKILL, power loss) metrics.csv may hold rows past the
 * checkpoint, or half a row: keep the header and the rows up to the
 * checkpoint's position, so the resumed run's rows follow without duplicates. */
static int trim_metrics(trainer *t)
{
    FILE *f = fopen(t->p_csv, "r");
    if (!f) return 0;
    size_t cap = 1 << 16, len = 0;
    char *keep = mg_malloc(cap), line[1024];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n == 0 || line[n - 1] != '\n') break; /* a torn last line */
        long ep, step;
        int ok = !strncmp(line, "kind,", 5);
        if (!ok && sscanf(line, "step,%ld,%ld,", &ep, &step) == 2) ok = step <= t->pos.global_step;
        else if (!ok && sscanf(line, "epoch,%ld,", &ep) == 1) ok = ep <= t->pos.epoch;
        if (!ok) continue;
        if (len + n + 1 > cap) {
            cap = 2 * (len + n + 1);
            keep = realloc(keep, cap);
            if (!keep) abort();
        }
        memcpy(keep + len, line, n);
        len += n;
    }
    fclose(f);
    keep[len] = 0;
    int rc = write_text(t->p_csv, keep);
    free(keep);
    return rc;
}

/* per-epoch validation NMSE already logged (for model selection after --resume) */
static void read_val_series(trainer *t)
{
    FILE *f = fopen(t->p_csv, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        long ep;
        double loss, v;
        if (strncmp(line, "epoch,", 6) || sscanf(line + 6, "%ld,%*[^,],%lf,%lf", &ep, &loss, &v) != 3) continue;
        if (ep >= 1 && ep <= t->cfg.epochs) {
            t->val_series[ep - 1] = v;
            if (ep > t->nval) t->nval = ep;
            /* val_fid: the 15th field */
            const char *q = line;
            for (int k = 0; k < 14 && q; k++) q = strchr(q, ',') ? strchr(q, ',') + 1 : NULL;
            t->fid_series[ep - 1] = q && *q && *q != '\n' ? atof(q) : NAN;
        }
    }
    fclose(f);
}

static int select_start(const trainer *t)
{
    return t->cfg.select_start >= 0 ? t->cfg.select_start : t->cfg.epochs / 3;
}

static char *epoch_file(const trainer *t, long epoch)
{
    char nm[64];
    snprintf(nm, sizeof nm, "epoch_%03ld.safetensors", epoch);
    return mg_path_join(t->p_epochs, nm);
}

/* paper B.3 over the epochs so far (NMSE only until FID is available) */
static int update_best(trainer *t, long *best_epoch)
{
    int start = select_start(t);
    if (t->nval <= start) return 0;
    /* NMSE and FID z-scores together when every epoch in the window has an FID */
    int all_fid = t->has_fid;
    for (long i = start; all_fid && i < t->nval; i++) all_fid = isfinite(t->fid_series[i]);
    int e = mg_select_epoch(t->val_series, all_fid ? t->fid_series : NULL, (int)t->nval, start);
    *best_epoch = e + 1;
    char *src = epoch_file(t, e + 1);
    int rc = copy_file(src, t->p_best);
    free(src);
    return rc;
}

/* Every rank must hold the same model: compare with rank 0's weights. */
static int check_replicas(trainer *t)
{
    if (t->P < 2) return 0;
    mg_params *sets[2] = {&t->net.params, t->gan ? &t->critic.params : NULL};
    int differ = 0;
    for (int k = 0; k < 2 && sets[k]; k++) {
        mg_params *ps = sets[k];
        long o = 0;
        for (int i = 0; i < ps->n; i++) {
            memcpy(t->gbuf + o, ps->p[i]->w, sizeof(float) * (size_t)ps->p[i]->size);
            o += ps->p[i]->size;
        }
        mg_dist_bcast_f(t->gbuf, o, 0);
        o = 0;
        for (int i = 0; i < ps->n; i++) {
            differ |= memcmp(t->gbuf + o, ps->p[i]->w, sizeof(float) * (size_t)ps->p[i]->size) != 0;
            o += ps->p[i]->size;
        }
    }
    if (mg_dist_max_i(differ)) {
        mg_set_error("MPI ranks hold different weights (non-deterministic all-reduce?)");
        return -1;
    }
    return 0;
}

static void trainer_free(trainer *t)
{
    prefetch_free(t);
#ifdef MRGAN_HAVE_CUDA
    gpu_free(t);
#endif
    free(t->gbuf);
    batch_free(&t->b);
    if (t->net.params.n) mg_dcinet_free(&t->net);
    if (t->critic.params.n) mg_critic_free(&t->critic);
    mg_kdata_free(&t->tr);
    mg_kdata_free(&t->va);
    free(t->cfg_json);
    free(t->val_series);
    free(t->fid_series);
    free(t->fid_ref);
    if (t->has_fid) mg_fid_free(&t->fid);
    free(t->p_cfg); free(t->p_last); free(t->p_best); free(t->p_csv); free(t->p_epochs); free(t->p_grid);
}

/* the optimiser and AGB state goes into the position only when it is saved */
static int save_ckpt(trainer *t, const char *path, int state)
{
    sync_host(t);
    t->pos.adam_t = t->adam.t;
    t->pos.adam_t_critic = t->adam_d.t;
    t->pos.beta = t->agb.beta;
    t->pos.gma = t->agb.gma;
    t->pos.pma = t->agb.pma;
    t->pos.agb_events = t->agb.events;
    if (state) t->saved_step = t->pos.global_step;
    return mg_checkpoint_save(path, &t->net, state && t->gan ? &t->critic : NULL, &t->pos, t->cfg_json, state);
}

static const char *CSV_HEADER =
    "kind,epoch,step,loss,val_nmse,seconds,mse,gan,w_est,std_gan,std_mse,gma,pma,beta,val_fid\n";

int mg_train_gpu_open(int dev)
{
#ifdef MRGAN_HAVE_CUDA
    if (mg_gpu_init(dev)) {
        mg_set_error("--gpu: %s", mg_error());
        return -1;
    }
    return 0;
#else
    (void)dev;
    mg_set_error("--gpu: this mrgan was built without the GPU backend (needs nvcc and cuDNN; cmake -DMRGAN_CUDA=ON)");
    return -1;
#endif
}

/* gan / agb_on from cfg->mode; -1 with an error for an unknown mode */
static int trainer_mode(trainer *t)
{
    const char *m = t->cfg.mode;
    t->gan = strcmp(m, "mse") != 0;
    t->agb_on = !strcmp(m, "cwgan-agb");
    if (t->gan && strcmp(m, "wgan") && strcmp(m, "cwgan") && !t->agb_on) {
        mg_set_error("unknown training mode '%s'", m);
        return -1;
    }
    return 0;
}

/* the generator, the critic of the GAN modes (H x W images), their Adam
 * optimisers and AGB, from the configuration and its seed; *cin: the
 * critic's input channels (0 without one). -1 with an error when the critic
 * cannot take the image size. */
static int trainer_models(trainer *t, int H, int W, int *cin)
{
    const mg_train_cfg *cfg = &t->cfg;
    mg_dcinet_init(&t->net, &cfg->net, mg_seed_mix(cfg->seed, 0, 0x6e6574ULL));
    mg_adam_init(&t->adam, cfg->lr, cfg->beta1, cfg->beta2, 1e-8f);
    *cin = !t->gan ? 0 : !strcmp(cfg->mode, "wgan") ? 1 : 2;
    if (t->gan) {
        if (mg_critic_init(&t->critic, *cin, cfg->critic_ch, H, W, mg_seed_mix(cfg->seed, 0, 0x637269ULL))) return -1;
        mg_adam_init(&t->adam_d, cfg->critic_lr, cfg->beta1, cfg->beta2, 1e-8f);
    }
    mg_agb_init(&t->agb, t->agb_on ? cfg->agb_beta0 : cfg->gan_lambda, cfg->agb_ma, cfg->agb_ratio, cfg->agb_rate);
    return 0;
}

int mg_train_run(const mg_train_cfg *cfg_in, const char *data_dir, const char *run_dir, int resume)
{
    trainer T, *t = &T;
    memset(t, 0, sizeof T);
    t->cfg = *cfg_in;
    t->run = run_dir;
    t->p_cfg = mg_path_join(run_dir, "config.json");
    t->p_last = mg_path_join(run_dir, "last.safetensors");
    t->p_best = mg_path_join(run_dir, "best.safetensors");
    t->p_csv = mg_path_join(run_dir, "metrics.csv");
    t->p_epochs = mg_path_join(run_dir, "epochs");
    t->p_grid = mg_path_join(run_dir, "val_grid");
    long *perm = NULL;
    int rc = -1;
    struct stat st;
    mg_train_cfg *cfg = &t->cfg;
    t->P = mg_dist_size();
    t->R = mg_dist_rank();
    const int lead = t->R == 0; /* rank 0 writes files and prints */
    if (!lead) cfg->quiet = 1;
    if (cfg->gpu >= 0) { /* before anything is written */
        if (mg_train_gpu_open(cfg->gpu)) goto out;
        if (t->P > 1) {
            mg_set_error("--gpu trains in one process: run it without mpirun");
            goto out;
        }
    }

    if (resume) {
        if (mg_train_config_read(t->p_cfg, cfg)) goto out;
        if (cfg_in->epochs > cfg->epochs) cfg->epochs = cfg_in->epochs; /* allow extending a run */
    } else {
        if (stat(t->p_last, &st) == 0) {
            mg_set_error("%s: run directory already holds a checkpoint (use --resume, or a new directory)", run_dir);
            goto out;
        }
        mg_dist_barrier(); /* every rank has looked before rank 0 writes */
        if (lead && mkdir(run_dir, 0755) && errno != EEXIST) {
            mg_set_error("%s: cannot create run directory: %s", run_dir, strerror(errno));
            goto out;
        }
    }
    if (trainer_mode(t)) goto out;
    if (lead && ((mkdir(t->p_epochs, 0755) && errno != EEXIST) ||
                 (cfg->grid > 0 && mkdir(t->p_grid, 0755) && errno != EEXIST))) {
        mg_set_error("%s: cannot create subdirectories: %s", run_dir, strerror(errno));
        goto out;
    }
    if (load_split(data_dir, "train.h5", &t->tr) || load_split(data_dir, "val.h5", &t->va)) goto out;
    if (t->va.coils != t->tr.coils || t->va.h != t->tr.h || t->va.w != t->tr.w) {
        mg_set_error("%s: val.h5 (%ld coils, %ldx%ld) does not match train.h5 (%ld coils, %ldx%ld)",
                     data_dir, t->va.coils, t->va.h, t->va.w, t->tr.coils, t->tr.h, t->tr.w);
        goto out;
    }
    if (cfg->batch % t->P) {
        mg_set_error("--batch %d does not split evenly over %d MPI ranks", cfg->batch, t->P);
        goto out;
    }
    if (t->tr.nslices < cfg->batch) {
        mg_set_error("%s/train.h5: %ld slices, fewer than the batch size %d", data_dir, t->tr.nslices, cfg->batch);
        goto out;
    }
    const int C = (int)t->tr.coils, H = (int)t->tr.h, W = (int)t->tr.w;
    {
        float *m = mg_malloc_array((size_t)H, sizeof(float));
        int bad = mg_mask_make(cfg->mask_type, m, H, cfg->accel, cfg->center, -1, 1);
        free(m);
        if (bad) goto out;
    }
    t->cfg_json = mg_train_config_json(cfg);
    if (lead && !resume && write_text(t->p_cfg, t->cfg_json)) goto out;

    int cin;
    if (trainer_models(t, H, W, &cin)) {
        mg_set_error("%s: %s", data_dir, mg_error());
        goto out;
    }
    t->val_series = mg_calloc((size_t)cfg->epochs + 1, sizeof(double));
    t->fid_series = mg_calloc((size_t)cfg->epochs + 1, sizeof(double));
    if (cfg->fid_weights[0] && lead) {
        if (mg_fid_load(cfg->fid_weights, &t->fid)) goto out;
        t->has_fid = 1;
    }
    if (!resume && cfg->init && mg_checkpoint_load(cfg->init, &t->net, NULL, NULL)) goto out;
    if (resume) {
        if (mg_checkpoint_load(t->p_last, &t->net, t->gan ? &t->critic : NULL, &t->pos)) goto out;
        t->saved_step = t->pos.global_step;
        t->adam.t = t->pos.adam_t;
        t->adam_d.t = t->pos.adam_t_critic;
        t->agb.beta = t->pos.beta;
        t->agb.gma = t->pos.gma;
        t->agb.pma = t->pos.pma;
        t->agb.events = t->pos.agb_events;
        if (lead && trim_metrics(t)) goto out;
        read_val_series(t);
        if (t->nval > t->pos.epoch) t->nval = t->pos.epoch;
        if (!cfg->quiet)
            fprintf(stderr, "train: resuming %s at epoch %ld, step %ld (global step %ld)\n", run_dir,
                    t->pos.epoch + 1, t->pos.step_in_epoch, t->pos.global_step);
    } else if (lead && append_line(t->p_csv, CSV_HEADER)) {
        goto out;
    }
    t->Bg = cfg->batch;
    batch_alloc(&t->b, cfg->batch / t->P, C, H, W, cin);
    t->r0 = t->R * t->b.B;
    if (t->P > 1) {
        long np = mg_params_count(&t->net.params), nc = t->gan ? mg_params_count(&t->critic.params) : 0;
        t->gbuf = mg_malloc_array((size_t)(np > nc ? np : nc), sizeof(float));
        if (t->gan)
            for (int i = 0; i < 4; i++) t->critic.bn[i].sync = 1;
        if (!cfg->quiet)
            fprintf(stderr, "train: data-parallel over %d MPI ranks, %d of the batch of %d per rank\n", t->P,
                    t->b.B, t->Bg);
    }
#ifdef MRGAN_HAVE_CUDA
    if (cfg->gpu >= 0) {
        gpu_alloc(t);
        if (!cfg->quiet) fprintf(stderr, "train: steps and validation on GPU %d: %s%s\n", cfg->gpu, mg_gpu_name(),
                                 mg_gpu_tf32() ? ", TF32 tensor cores" : ", strict FP32");
    }
#endif
    {
        const char *pf = getenv("MRGAN_PREFETCH");
        if (pf ? strcmp(pf, "0") != 0 : cfg->gpu >= 0) prefetch_init(t, t->b.B, C, H, W, cin);
    }
    const long spe = t->tr.nslices / cfg->batch;
    if (!cfg->quiet && !resume) {
        double v0, z0;
        if (validate(t, &v0, &z0, NULL, NULL)) goto out;
        fprintf(stderr, "train: %s, mode %s, %ld train / %ld val slices %dx%d, %d coils; DCI-Net %dI-%dG-%dK, "
                        "%ld parameters%s; val NMSE zero-filled %.5f, untrained %.5f\n",
                data_dir, cfg->mode, t->tr.nslices, t->va.nslices, H, W, C, cfg->net.blocks,
                cfg->net.growth, cfg->net.kernels, mg_params_count(&t->net.params),
                t->gan ? (cin == 2 ? ", conditional critic" : ", critic") : "", z0, v0);
    }
    /* Test hook (tests/cli_train.sh): MRGAN_FAULT_NAN_STEP=N makes the loss
     * of global step N NaN, to exercise the divergence guard. */
    const char *fault = getenv("MRGAN_FAULT_NAN_STEP");
    const long fault_nan_step = fault ? atol(fault) : 0;
    stop_flag = 0;
    void (*old_int)(int) = signal(SIGINT, on_signal);
    void (*old_term)(int) = signal(SIGTERM, on_signal);
    const double t_start = mg_now();
    int interrupted = 0;
    char line[512], label[64];
    while (t->pos.epoch < cfg->epochs) {
        free(perm);
        perm = permutation(cfg->seed, t->pos.epoch, t->tr.nslices);
        mg_progress pr;
        snprintf(label, sizeof label, "epoch %ld/%d", t->pos.epoch + 1, cfg->epochs);
        mg_progress_start(&pr, label, spe, cfg->quiet);
        double loss_sum = 0;
        long loss_n = 0;
        while (t->pos.step_in_epoch < spe) {
            double t0 = mg_now(), c0 = mg_dist_seconds();
            step_log lg = {0, 0, 0, 0, 0, 0};
            double loss;
            train_step(t, perm, spe, &lg, &loss);
            if (fault_nan_step > 0 && t->pos.global_step + 1 == fault_nan_step) loss = NAN;
            if (!isfinite(loss) || !isfinite(lg.w_est)) {
                if (stat(t->p_last, &st) == 0)
                    mg_set_error("non-finite loss at step %ld (epoch %ld): stopped; %s (global step %ld) is the last good "
                                 "checkpoint: lower --lr and continue with --resume",
                                 t->pos.global_step + 1, t->pos.epoch + 1, t->p_last, t->saved_step);
                else
                    mg_set_error("non-finite loss at step %ld (epoch %ld): stopped before any checkpoint; lower --lr",
                                 t->pos.global_step + 1, t->pos.epoch + 1);
                goto restore;
            }
            if (t->nsteps++ > 0) { /* the first step also waits for rank 0's set-up */
                t->step_s += mg_now() - t0;
                t->comm_s += mg_dist_seconds() - c0;
            }
            t->pos.step_in_epoch++;
            t->pos.global_step++;
            loss_sum += loss;
            loss_n++;
            if (t->gan)
                snprintf(line, sizeof line, "step,%ld,%ld,%.8g,,%.4f,%.8g,%.8g,%.8g,%.6g,%.6g,%.6g,%.6g,%.6g,\n",
                         t->pos.epoch + 1, t->pos.global_step, loss, mg_now() - t0, lg.mse, lg.gan, lg.w_est,
                         lg.std_gan, lg.std_mse, t->agb.gma, t->agb.pma, t->agb.beta);
            else
                snprintf(line, sizeof line, "step,%ld,%ld,%.8g,,%.4f,%.8g,,,,,,,,\n", t->pos.epoch + 1,
                         t->pos.global_step, loss, mg_now() - t0, lg.mse);
            if (lead && append_line(t->p_csv, line)) goto restore;
            if (t->gan)
                snprintf(pr.extra, sizeof pr.extra, "loss %.5f W %.3g beta %.4g", loss_sum / (double)loss_n, lg.w_est, t->agb.beta);
            else
                snprintf(pr.extra, sizeof pr.extra, "loss %.5f", loss_sum / (double)loss_n);
            mg_progress_update(&pr, t->pos.step_in_epoch);
            const int stop = t->P > 1 ? mg_dist_max_i(stop_flag) : stop_flag; /* all ranks stop together */
            if (stop || (cfg->max_steps > 0 && t->pos.global_step >= cfg->max_steps)) {
                interrupted = stop ? 2 : 1;
                break;
            }
        }
        if (interrupted) {
            if (!cfg->quiet) fputc('\n', stderr);
            break;
        }
        mg_progress_end(&pr);
        double vn;
        char gname[64];
        snprintf(gname, sizeof gname, "epoch_%03ld.png", t->pos.epoch + 1);
        char *gpath = cfg->grid > 0 ? mg_path_join(t->p_grid, gname) : NULL;
        /* rank 0 validates; the others take its figure */
        double vv[3] = {0, 0, NAN};
        if (lead) vv[0] = validate(t, &vv[1], NULL, gpath, &vv[2]) ? 1 : 0;
        free(gpath);
        mg_dist_bcast_d(vv, 3, 0);
        if (vv[0] != 0) {
            if (!lead) mg_set_error("validation failed on rank 0");
            goto restore;
        }
        vn = vv[1];
        const double vfid = vv[2];
        t->pos.epoch++;
        t->pos.step_in_epoch = 0;
        t->val_series[t->pos.epoch - 1] = vn;
        t->fid_series[t->pos.epoch - 1] = vfid;
        t->nval = t->pos.epoch;
        char fidtxt[32] = "";
        if (isfinite(vfid)) snprintf(fidtxt, sizeof fidtxt, "%.6g", vfid);
        snprintf(line, sizeof line, "epoch,%ld,%ld,%.8g,%.8g,%.2f,,,,,,,,%.6g,%s\n", t->pos.epoch, t->pos.global_step,
                 loss_n ? loss_sum / (double)loss_n : 0.0, vn, mg_now() - t_start, t->agb.beta, fidtxt);
        if (lead && append_line(t->p_csv, line)) goto restore;
        if (lead && save_ckpt(t, t->p_last, 1)) goto restore;
        if (lead && (t->pos.epoch > select_start(t) || (cfg->save_every > 0 && t->pos.epoch % cfg->save_every == 0))) {
            char *pe = epoch_file(t, t->pos.epoch);
            int bad = save_ckpt(t, pe, 0);
            free(pe);
            if (bad) goto restore;
        }
        long be = 0;
        if (lead && update_best(t, &be)) goto restore;
        if (!cfg->quiet)
            fprintf(stderr, "epoch %ld: train loss %.6f, val NMSE %.5f%s%s%s\n", t->pos.epoch,
                    loss_n ? loss_sum / (double)loss_n : 0.0, vn, fidtxt[0] ? ", val FID " : "", fidtxt,
                    be == t->pos.epoch ? " (selected)" : "");
        if (t->P > 1 ? mg_dist_max_i(stop_flag) : stop_flag) {
            interrupted = 2;
            break;
        }
    }
    if (check_replicas(t)) goto restore;
    if (interrupted) {
        if (lead && save_ckpt(t, t->p_last, 1)) goto restore;
        if (!cfg->quiet)
            fprintf(stderr, "train: %s after global step %ld; checkpoint %s (continue with --resume)\n",
                    interrupted == 2 ? "interrupted" : "stopped at --max-steps", t->pos.global_step, t->p_last);
    } else {
        long be = 0;
        if (lead && update_best(t, &be)) goto restore;
        if (!cfg->quiet)
            fprintf(stderr, "train: done, %ld epochs; selected epoch %ld (val NMSE %.5f, from epoch %d on) -> %s\n",
                    t->pos.epoch, be, be > 0 ? t->val_series[be - 1] : 0.0, select_start(t) + 1, t->p_best);
    }
    if (t->P > 1 && !cfg->quiet && t->nsteps > 1)
        fprintf(stderr, "train: %d MPI ranks: %.4f s per step, %.4f s of it in all-reduces (%.1f%%; steps 2..%ld)\n",
                t->P, t->step_s / (double)(t->nsteps - 1), t->comm_s / (double)(t->nsteps - 1),
                100.0 * t->comm_s / t->step_s, t->nsteps);
    rc = interrupted == 2 ? 2 : 0;
restore:
    signal(SIGINT, old_int);
    signal(SIGTERM, old_term);
out:
    prefetch_free(t); /* its threads read perm */
    free(perm);
    trainer_free(t);
    return rc;
}

/* ---------------- speed measurement (mrgan bench) ---------------- */
int mg_train_bench(const mg_train_cfg *cfg_in, int C, int H, int W, int reps, double *step_s, double *prep_s)
{
    trainer T, *t = &T;
    memset(t, 0, sizeof T);
    t->cfg = *cfg_in;
    mg_train_cfg *cfg = &t->cfg;
    int rc = -1;
    long *perm = NULL;
    t->P = 1;
    t->Bg = cfg->batch;
    if (trainer_mode(t) || (cfg->gpu >= 0 && mg_train_gpu_open(cfg->gpu))) goto out;
    /* synthetic slices: birdcage maps, a random smooth-phase image, noise */
    const long ns = cfg->batch, n = (long)C * H * W;
    t->tr.nslices = ns;
    t->tr.coils = C;
    t->tr.h = H;
    t->tr.w = W;
    t->tr.kspace = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    t->tr.sens = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    cfloat *img = mg_malloc_array((size_t)H * W, sizeof(cfloat));
    mg_rng r;
    mg_rng_seed(&r, 1);
    for (long s = 0; s < ns; s++) {
        for (long i = 0; i < (long)H * W; i++) img[i] = (float)mg_rng_uniform(&r);
        mg_birdcage_maps(t->tr.sens + s * n, C, H, W, 1.5, 0.1 * (double)s);
        mg_simulate_kspace(img, t->tr.sens + s * n, C, H, W, 0.01, &r, t->tr.kspace + s * n);
    }
    free(img);
    int cin;
    if (trainer_models(t, H, W, &cin)) goto out;
    batch_alloc(&t->b, cfg->batch, C, H, W, cin);
#ifdef MRGAN_HAVE_CUDA
    if (cfg->gpu >= 0) gpu_alloc(t);
#endif
    perm = mg_calloc((size_t)ns, sizeof(long));
    for (long i = 0; i < ns; i++) perm[i] = i;
    *step_s = 1e30;
    *prep_s = 0;
    for (int i = 0; i <= reps; i++) { /* the first one plans and warms up */
        step_log lg = {0, 0, 0, 0, 0, 0};
        double loss;
        t->pos.step_in_epoch = 0;
        t->prep_s = 0;
        double t0 = mg_now();
        train_step(t, perm, 1, &lg, &loss);
#ifdef MRGAN_HAVE_CUDA
        if (t->gnet) mg_gpu_sync();
#endif
        t0 = mg_now() - t0;
        if (i > 0 && t0 < *step_s) {
            *step_s = t0;
            *prep_s = t->prep_s;
        }
        if (!isfinite(loss)) {
            mg_set_error("bench: non-finite loss");
            goto out;
        }
    }
    rc = 0;
out:
    free(perm);
    trainer_free(t);
    return rc;
}

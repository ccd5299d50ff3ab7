/* The training loop (mode mse; the GAN modes build on it). */
#include "train.h"
#include "../fft/fft.h"
#include "../metrics/metrics.h"
#include "../mri/mri.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
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

void mg_train_defaults(mg_train_cfg *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->mode, sizeof c->mode, "mse");
    c->net = (mg_dcinet_cfg){5, 5, 16, 0.2f};
    c->epochs = 50;
    c->batch = 1;
    c->lr = 5e-4f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->accel = 4.0;
    c->center = 12;
    c->mask_type = MG_MASK_VD;
    c->augment = 1;
    c->max_rot_deg = 20.0;
    c->seed = 1;
    c->eval_seed = 1;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = mg_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *config_to_json(const mg_train_cfg *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", c->mode);
    cJSON_AddNumberToObject(o, "blocks", c->net.blocks);
    cJSON_AddNumberToObject(o, "growth", c->net.growth);
    cJSON_AddNumberToObject(o, "kernels", c->net.kernels);
    cJSON_AddNumberToObject(o, "slope", c->net.slope);
    cJSON_AddNumberToObject(o, "epochs", c->epochs);
    cJSON_AddNumberToObject(o, "batch", c->batch);
    cJSON_AddNumberToObject(o, "lr", c->lr);
    cJSON_AddNumberToObject(o, "beta1", c->beta1);
    cJSON_AddNumberToObject(o, "beta2", c->beta2);
    cJSON_AddNumberToObject(o, "accel", c->accel);
    cJSON_AddNumberToObject(o, "center", (double)c->center);
    cJSON_AddNumberToObject(o, "mask_type", c->mask_type);
    cJSON_AddNumberToObject(o, "augment", c->augment);
    cJSON_AddNumberToObject(o, "max_rot_deg", c->max_rot_deg);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    cJSON_AddStringToObject(o, "seed", seed);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->eval_seed);
    cJSON_AddStringToObject(o, "eval_seed", seed);
    cJSON_AddNumberToObject(o, "save_every", c->save_every);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

static int num(const cJSON *o, const char *k, double *v)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(e)) return -1;
    *v = e->valuedouble;
    return 0;
}

/* Reads a run's config.json into c (training options; max_steps and quiet
 * stay as the caller set them). */
static int config_from_json(const char *path, mg_train_cfg *c)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mg_set_error("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *o = cJSON_Parse(buf);
    double v[15];
    const char *keys[15] = {"blocks", "growth", "kernels", "slope", "epochs", "batch", "lr", "beta1",
                            "beta2", "accel", "center", "mask_type", "augment", "max_rot_deg",
                            "save_every"};
    int bad = !o;
    for (int i = 0; !bad && i < 15; i++) bad = num(o, keys[i], &v[i]);
    const cJSON *mode = o ? cJSON_GetObjectItemCaseSensitive(o, "mode") : NULL;
    const cJSON *seed = o ? cJSON_GetObjectItemCaseSensitive(o, "seed") : NULL;
    const cJSON *eseed = o ? cJSON_GetObjectItemCaseSensitive(o, "eval_seed") : NULL;
    if (bad || !cJSON_IsString(mode) || !cJSON_IsString(seed) || !cJSON_IsString(eseed)) {
        mg_set_error("%s: malformed run configuration", path);
        cJSON_Delete(o);
        return -1;
    }
    snprintf(c->mode, sizeof c->mode, "%s", mode->valuestring);
    c->net = (mg_dcinet_cfg){(int)v[0], (int)v[1], (int)v[2], (float)v[3]};
    c->epochs = (int)v[4];
    c->batch = (int)v[5];
    c->lr = (float)v[6];
    c->beta1 = (float)v[7];
    c->beta2 = (float)v[8];
    c->accel = v[9];
    c->center = (long)v[10];
    c->mask_type = (int)v[11];
    c->augment = (int)v[12];
    c->max_rot_deg = v[13];
    c->save_every = (int)v[14];
    c->seed = strtoull(seed->valuestring, NULL, 10);
    c->eval_seed = strtoull(eseed->valuestring, NULL, 10);
    cJSON_Delete(o);
    return 0;
}

static int write_text(const char *path, const char *text)
{
    char *tmp = mg_tmp_path(path);
    FILE *f = fopen(tmp, "w");
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) {
        mg_set_error("%s: cannot write: %s", path, strerror(errno));
        if (f) remove(tmp);
        free(tmp);
        return -1;
    }
    int rc = mg_commit_tmp(tmp, path);
    free(tmp);
    return rc;
}

static int load_split(const char *dir, const char *name, mg_kdata *d)
{
    char *p = path_join(dir, name);
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

typedef struct {
    int C, H, W, B;
    long hw, n;
    cfloat *k, *sens, *ku, *work;
    float *mask, *target, *out, *dout;
} batch_buf;

static void batch_alloc(batch_buf *b, int B, int C, int H, int W)
{
    b->B = B; b->C = C; b->H = H; b->W = W;
    b->hw = (long)H * W;
    b->n = C * b->hw;
    b->k = mg_malloc_array((size_t)b->n, sizeof(cfloat));
    b->work = mg_malloc_array((size_t)b->n, sizeof(cfloat));
    b->sens = mg_malloc_array((size_t)(B * b->n), sizeof(cfloat));
    b->ku = mg_malloc_array((size_t)(B * b->n), sizeof(cfloat));
    b->mask = mg_malloc_array((size_t)(B * H), sizeof(float));
    b->target = mg_malloc_array((size_t)(B * 2 * b->hw), sizeof(float));
    b->out = mg_malloc_array((size_t)(B * 2 * b->hw), sizeof(float));
    b->dout = mg_malloc_array((size_t)(B * 2 * b->hw), sizeof(float));
}

static void batch_free(batch_buf *b)
{
    free(b->k); free(b->work); free(b->sens); free(b->ku); free(b->mask);
    free(b->target); free(b->out); free(b->dout);
}

/* Validation NMSE (fastMRI volume NMSE on magnitudes) with the fixed masks;
 * also the zero-filled NMSE when zf != NULL. */
static int validate(mg_dcinet *net, const mg_train_cfg *cfg, const mg_kdata *v, batch_buf *b,
                    double *nmse, double *zf)
{
    mg_nmse_acc acc = {0, 0}, acc_zf = {0, 0};
    cfloat *pred = mg_malloc_array((size_t)b->hw, sizeof(cfloat)), *ref = mg_malloc_array((size_t)b->hw, sizeof(cfloat));
    int rc = 0;
    for (long s = 0; s < v->nslices && !rc; s++) {
        rc = mg_mask_make(cfg->mask_type, b->mask, b->H, cfg->accel, cfg->center, -1,
                          mg_mask_slice_seed(cfg->eval_seed, s));
        if (rc) break;
        const cfloat *k = v->kspace + s * b->n, *sens = v->sens + s * b->n;
        float sc = mg_sample_prepare(k, sens, b->mask, b->ku, b->target, b->work, b->C, b->H, b->W);
        mg_dcinet_forward(net, b->ku, sens, b->mask, b->out, 1, b->C, b->H, b->W);
        /* back to the data's units, so slices weigh as in `mrgan zerofill` */
        mg_planes2c(b->out, pred, b->hw);
        mg_planes2c(b->target, ref, b->hw);
        for (long i = 0; i < b->hw; i++) {
            pred[i] *= sc;
            ref[i] *= sc;
        }
        mg_nmse_add_mag(&acc, ref, pred, (size_t)b->hw);
        if (zf) {
            mg_sense_adjoint(b->ku, sens, b->mask, pred, b->work, b->C, b->H, b->W);
            for (long i = 0; i < b->hw; i++) pred[i] *= sc;
            mg_nmse_add_mag(&acc_zf, ref, pred, (size_t)b->hw);
        }
    }
    free(pred);
    free(ref);
    *nmse = mg_nmse_value(&acc);
    if (zf) *zf = mg_nmse_value(&acc_zf);
    return rc;
}

/* Loss of the batch in b->out vs b->target and its gradient in b->dout:
 * L = sum over pixels and both channels of (G - mf)^2 / (B H W), i.e. the
 * paper's per-image mean over W H of |G - mf|^2, averaged over the batch. */
static double mse_loss(batch_buf *b)
{
    const long n = (long)b->B * 2 * b->hw;
    memset(b->dout, 0, sizeof(float) * (size_t)n);
    mg_mse_backward(b->out, b->target, b->dout, n, 2.0f);
    return 2.0 * mg_mse_forward(b->out, b->target, n);
}

static void fill_batch(const mg_train_cfg *cfg, const mg_kdata *d, const long *perm, long epoch,
                       long step, batch_buf *b)
{
    for (int i = 0; i < b->B; i++) {
        long pos = step * b->B + i, idx = perm[pos];
        uint64_t sseed = mg_seed_mix(mg_seed_mix(cfg->seed, (uint64_t)epoch, 1), (uint64_t)pos, 2);
        mg_rng r;
        mg_rng_seed(&r, sseed);
        cfloat *sens = b->sens + i * b->n;
        memcpy(b->k, d->kspace + idx * b->n, sizeof(cfloat) * (size_t)b->n);
        memcpy(sens, d->sens + idx * b->n, sizeof(cfloat) * (size_t)b->n);
        if (cfg->augment) {
            int flip = mg_rng_uniform(&r) < 0.5;
            double deg = cfg->max_rot_deg * (2.0 * mg_rng_uniform(&r) - 1.0);
            mg_augment(b->k, sens, flip, deg, b->work, b->C, b->H, b->W);
        }
        /* a fresh mask for every sample */
        if (mg_mask_make(cfg->mask_type, b->mask + i * b->H, b->H, cfg->accel, cfg->center, -1,
                         mg_rng_u64(&r)))
            abort(); /* validated before training */
        mg_sample_prepare(b->k, sens, b->mask + i * b->H, b->ku + i * b->n, b->target + i * 2 * b->hw,
                          b->work, b->C, b->H, b->W);
    }
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

static int append_line(const char *path, const char *line)
{
    FILE *f = fopen(path, "a");
    if (!f || fputs(line, f) < 0 || fclose(f) != 0) {
        mg_set_error("%s: cannot append: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int mg_train_run(const mg_train_cfg *cfg_in, const char *data_dir, const char *run_dir, int resume)
{
    mg_train_cfg cfg = *cfg_in;
    char *p_cfg = path_join(run_dir, "config.json"), *p_last = path_join(run_dir, "last.safetensors");
    char *p_best = path_join(run_dir, "best.safetensors"), *p_csv = path_join(run_dir, "metrics.csv");
    mg_kdata tr = {0}, va = {0};
    mg_dcinet net = {0};
    batch_buf b = {0};
    long *perm = NULL;
    char *cfg_json = NULL;
    int rc = -1;
    struct stat st;

    if (resume) {
        if (config_from_json(p_cfg, &cfg)) goto out;
        cfg.max_steps = cfg_in->max_steps;
        cfg.quiet = cfg_in->quiet;
        if (cfg_in->epochs > cfg.epochs) cfg.epochs = cfg_in->epochs; /* allow extending a run */
    } else {
        if (stat(p_last, &st) == 0) {
            mg_set_error("%s: run directory already holds a checkpoint (use --resume, or a new directory)", run_dir);
            goto out;
        }
        if (mkdir(run_dir, 0755) && errno != EEXIST) {
            mg_set_error("%s: cannot create run directory: %s", run_dir, strerror(errno));
            goto out;
        }
    }
    if (strcmp(cfg.mode, "mse")) {
        mg_set_error("training mode '%s' is not available yet (mse is)", cfg.mode);
        goto out;
    }
    if (load_split(data_dir, "train.h5", &tr) || load_split(data_dir, "val.h5", &va)) goto out;
    if (va.coils != tr.coils || va.h != tr.h || va.w != tr.w) {
        mg_set_error("%s: val.h5 (%ld coils, %ldx%ld) does not match train.h5 (%ld coils, %ldx%ld)",
                     data_dir, va.coils, va.h, va.w, tr.coils, tr.h, tr.w);
        goto out;
    }
    if (tr.nslices < cfg.batch) {
        mg_set_error("%s/train.h5: %ld slices, fewer than the batch size %d", data_dir, tr.nslices, cfg.batch);
        goto out;
    }
    const int C = (int)tr.coils, H = (int)tr.h, W = (int)tr.w;
    {
        float *m = mg_malloc_array((size_t)H, sizeof(float));
        int bad = mg_mask_make(cfg.mask_type, m, H, cfg.accel, cfg.center, -1, 1);
        free(m);
        if (bad) goto out;
    }
    cfg_json = config_to_json(&cfg);
    if (!resume && write_text(p_cfg, cfg_json)) goto out;

    mg_dcinet_init(&net, &cfg.net, mg_seed_mix(cfg.seed, 0, 0x6e6574ULL));
    mg_train_pos pos = {0, 0, 0, 0, -1.0, -1};
    mg_adam adam;
    mg_adam_init(&adam, cfg.lr, cfg.beta1, cfg.beta2, 1e-8f);
    if (resume) {
        if (mg_checkpoint_load(p_last, &net, &pos)) goto out;
        adam.t = pos.adam_t;
        if (!cfg.quiet)
            fprintf(stderr, "train: resuming %s at epoch %ld, step %ld (global step %ld)\n", run_dir,
                    pos.epoch + 1, pos.step_in_epoch, pos.global_step);
    } else if (append_line(p_csv, "kind,epoch,step,loss,val_nmse,seconds\n")) {
        goto out;
    }
    batch_alloc(&b, cfg.batch, C, H, W);
    const long spe = tr.nslices / cfg.batch;
    if (!cfg.quiet && !resume) {
        double v0, z0;
        if (validate(&net, &cfg, &va, &b, &v0, &z0)) goto out;
        fprintf(stderr, "train: %s, %ld train / %ld val slices %dx%d, %d coils; DCI-Net %dI-%dG-%dK, "
                        "%ld parameters; val NMSE zero-filled %.5f, untrained %.5f\n",
                data_dir, tr.nslices, va.nslices, H, W, C, cfg.net.blocks, cfg.net.growth,
                cfg.net.kernels, mg_params_count(&net.params), z0, v0);
    }
    stop_flag = 0;
    void (*old_int)(int) = signal(SIGINT, on_signal);
    void (*old_term)(int) = signal(SIGTERM, on_signal);
    const double t_start = mg_now();
    int interrupted = 0;
    char line[256], label[64];
    while (pos.epoch < cfg.epochs) {
        free(perm);
        perm = permutation(cfg.seed, pos.epoch, tr.nslices);
        mg_progress pr;
        snprintf(label, sizeof label, "epoch %ld/%d", pos.epoch + 1, cfg.epochs);
        mg_progress_start(&pr, label, spe, cfg.quiet);
        double loss_sum = 0;
        long loss_n = 0;
        while (pos.step_in_epoch < spe) {
            double t0 = mg_now();
            fill_batch(&cfg, &tr, perm, pos.epoch, pos.step_in_epoch, &b);
            mg_dcinet_forward(&net, b.ku, b.sens, b.mask, b.out, cfg.batch, C, H, W);
            double loss = mse_loss(&b);
            if (!isfinite(loss)) {
                mg_set_error("non-finite loss at step %ld (epoch %ld); stopped, %s is the last good "
                             "checkpoint",
                             pos.global_step + 1, pos.epoch + 1, p_last);
                goto restore;
            }
            mg_params_zero_grad(&net.params);
            mg_dcinet_backward(&net, b.dout, NULL);
            mg_adam_step(&adam, &net.params);
            pos.step_in_epoch++;
            pos.global_step++;
            pos.adam_t = adam.t;
            loss_sum += loss;
            loss_n++;
            snprintf(line, sizeof line, "step,%ld,%ld,%.8g,,%.4f\n", pos.epoch + 1, pos.global_step, loss,
                     mg_now() - t0);
            if (append_line(p_csv, line)) goto restore;
            snprintf(pr.extra, sizeof pr.extra, "loss %.5f", loss_sum / (double)loss_n);
            mg_progress_update(&pr, pos.step_in_epoch);
            if (stop_flag || (cfg.max_steps > 0 && pos.global_step >= cfg.max_steps)) {
                interrupted = stop_flag ? 2 : 1;
                break;
            }
        }
        if (interrupted) {
            if (!cfg.quiet) fputc('\n', stderr);
            break;
        }
        mg_progress_end(&pr);
        double vn;
        if (validate(&net, &cfg, &va, &b, &vn, NULL)) goto restore;
        pos.epoch++;
        pos.step_in_epoch = 0;
        snprintf(line, sizeof line, "epoch,%ld,%ld,%.8g,%.8g,%.2f\n", pos.epoch, pos.global_step,
                 loss_n ? loss_sum / (double)loss_n : 0.0, vn, mg_now() - t_start);
        if (append_line(p_csv, line)) goto restore;
        int best = pos.best_val < 0 || vn < pos.best_val;
        if (best) {
            pos.best_val = vn;
            pos.best_epoch = pos.epoch;
        }
        if (!cfg.quiet)
            fprintf(stderr, "epoch %ld: train loss %.6f, val NMSE %.5f%s\n", pos.epoch,
                    loss_n ? loss_sum / (double)loss_n : 0.0, vn, best ? " (best)" : "");
        if (mg_checkpoint_save(p_last, &net, &pos, cfg_json, 1)) goto restore;
        if (best && mg_checkpoint_save(p_best, &net, &pos, cfg_json, 0)) goto restore;
        if (cfg.save_every > 0 && pos.epoch % cfg.save_every == 0) {
            char nm[64];
            snprintf(nm, sizeof nm, "epoch_%03ld.safetensors", pos.epoch);
            char *pe = path_join(run_dir, nm);
            int bad = mg_checkpoint_save(pe, &net, &pos, cfg_json, 0);
            free(pe);
            if (bad) goto restore;
        }
        if (stop_flag) {
            interrupted = 2;
            break;
        }
    }
    if (interrupted) {
        if (mg_checkpoint_save(p_last, &net, &pos, cfg_json, 1)) goto restore;
        if (!cfg.quiet)
            fprintf(stderr, "train: %s after global step %ld; checkpoint %s (continue with --resume)\n",
                    interrupted == 2 ? "interrupted" : "stopped at --max-steps", pos.global_step, p_last);
    } else if (!cfg.quiet) {
        fprintf(stderr, "train: done, %ld epochs, best val NMSE %.5f at epoch %ld (%s)\n", pos.epoch,
                pos.best_val, pos.best_epoch, p_best);
    }
    rc = interrupted == 2 ? 2 : 0;
restore:
    signal(SIGINT, old_int);
    signal(SIGTERM, old_term);
out:
    free(perm);
    free(cfg_json);
    batch_free(&b);
    if (net.params.n) mg_dcinet_free(&net);
    mg_kdata_free(&tr);
    mg_kdata_free(&va);
    free(p_cfg); free(p_last); free(p_best); free(p_csv);
    return rc;
}

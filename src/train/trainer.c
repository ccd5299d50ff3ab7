/* The trainer: set-up, resume and the epoch loop (docs/training.md,
 * docs/gan.md). The step itself is step.h's (CPU or GPU), the batches
 * batch.h's, validation validate.c's, selection select.c's and the run log
 * runlog.h's. */
#include "trainer.h"
#include "../gpu/backend.h"
#include "../mri/mri.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>

static volatile sig_atomic_t stop_flag;
static void on_signal(int s)
{
    (void)s;
    stop_flag = 1;
}

/* the data set's split: its files found and indexed */
static int open_split(trainer *t, const char *dir, const char *split, mg_dataset *ds)
{
    char **files;
    int nf;
    if (mg_dataset_find(dir, split, &files, &nf)) return -1;
    const mg_dataset_opts o = {{t->cfg.crop_readout}, t->cfg.center, t->cfg.sens_method,
                               (size_t)t->cfg.cache_mb << 20};
    int rc = mg_dataset_open(ds, files, nf, &o);
    mg_dataset_free_list(files, nf);
    return rc;
}

int mg_trainer_mode(trainer *t)
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

int mg_trainer_models(trainer *t, int H, int W, int *cin)
{
    const mg_train_cfg *cfg = &t->cfg;
    mg_dcinet_init(&t->net, &cfg->net, mg_seed_mix(cfg->seed, 0, 0x6e6574ULL));
    mg_adam_init(&t->adam, cfg->lr, cfg->beta1, cfg->beta2, 1e-8f);
    *cin = !t->gan ? 0 : !strcmp(cfg->mode, "wgan") ? 1 : 2;
    if (t->gan) {
        if (mg_critic_init(&t->critic, *cin, cfg->critic_ch, H, W, mg_seed_mix(cfg->seed, 0, 0x637269ULL))) return -1;
        mg_adam_init(&t->adam_d, cfg->critic_lr, cfg->beta1, cfg->beta2, 1e-8f);
    }
    mg_agb_init(&t->agb, t->agb_on ? cfg->agb_beta0 : cfg->gan_lambda, cfg->agb_ma, cfg->agb_ratio, cfg->agb_rate,
                cfg->agb_warmup);
    return 0;
}

int mg_trainer_step_open(trainer *t, int cin)
{
    mg_step *s = &t->step;
    s->net = &t->net;
    s->critic = t->gan ? &t->critic : NULL;
    s->adam = &t->adam;
    s->adam_d = &t->adam_d;
    s->agb = &t->agb;
    s->agb_on = t->agb_on;
    s->loss = t->cfg.loss;
    s->clip = t->cfg.clip;
    s->grad_clip = t->cfg.grad_clip;
    s->P = t->P;
    s->Bg = t->Bg;
    s->gbuf = t->gbuf;
    mg_step_cpu(s);
    if (t->cfg.gpu >= 0) return mg_step_gpu(s, t->b.B, t->b.C, t->b.H, t->b.W, cin);
    return 0;
}

int mg_trainer_step(trainer *t, const long *plan, long steps_per_epoch, mg_step_log *lg)
{
    const int cs = t->gan ? t->cfg.critic_steps : 0;
    const long ep = t->pos.epoch, st = t->pos.step_in_epoch;
    mg_batch *set = NULL;
    if (t->pre) {
        double sec;
        set = mg_prefetch_step(t->pre, ep, st, steps_per_epoch, plan, &sec);
        if (!set) return -1;
        t->prep_s += sec;
    }
    for (int k = 0; k <= cs; k++) {
        mg_batch *b = set ? &set[k] : &t->b;
        if (!set) {
            double sec;
            if (k < cs ? mg_batch_fill_critic(&t->src, b, ep, st, k, plan, &sec)
                       : mg_batch_fill_generator(&t->src, b, ep, st, plan, &sec))
                return -1;
            t->prep_s += sec;
        }
        if (k < cs) t->step.critic_step(&t->step, b, lg);
        else t->step.generator_step(&t->step, b, lg);
    }
    return 0;
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

void mg_trainer_free(trainer *t)
{
    mg_trainer_validate_free(t);
    mg_prefetch_free(t->pre);
    t->pre = NULL;
    if (t->step.release) t->step.release(&t->step);
    free(t->gbuf);
    mg_batch_free(&t->b);
    if (t->net.params.n) mg_dcinet_free(&t->net);
    if (t->critic.params.n) mg_critic_free(&t->critic);
    mg_dataset_close(&t->tr);
    mg_dataset_close(&t->vd);
    free(t->cfg_json);
    free(t->val_series);
    free(t->fid_series);
    if (t->has_fid) mg_fid_free(&t->fid);
    free(t->p_cfg); free(t->p_last); free(t->p_best); free(t->p_csv); free(t->p_epochs); free(t->p_grid);
}

/* the optimiser and AGB state goes into the position only when it is saved */
static int save_ckpt(trainer *t, const char *path, int state)
{
    t->step.sync(&t->step);
    t->pos.adam_t = t->adam.t;
    t->pos.adam_t_critic = t->adam_d.t;
    t->pos.agb = t->agb;
    if (state) t->saved_step = t->pos.global_step;
    return mg_checkpoint_save(path, &t->net, state && t->gan ? &t->critic : NULL, &t->pos, t->cfg_json, state);
}

/* the step's row of metrics.csv */
static int log_step(trainer *t, const mg_step_log *lg, double seconds)
{
    mg_log_row r;
    mg_log_row_init(&r, 's');
    r.v[MG_LOG_EPOCH] = (double)(t->pos.epoch + 1);
    r.v[MG_LOG_STEP] = (double)t->pos.global_step;
    r.v[MG_LOG_LOSS] = lg->loss;
    r.v[MG_LOG_SECONDS] = seconds;
    r.v[MG_LOG_MSE] = lg->mse;
    if (t->gan) {
        r.v[MG_LOG_GAN] = lg->gan;
        r.v[MG_LOG_W_EST] = lg->w_est;
        r.v[MG_LOG_STD_GAN] = lg->std_gan;
        r.v[MG_LOG_STD_MSE] = lg->std_mse;
        r.v[MG_LOG_GMA] = t->agb.gma;
        r.v[MG_LOG_PMA] = t->agb.pma;
        r.v[MG_LOG_BETA] = t->agb.beta;
    }
    return mg_log_append(t->p_csv, &r);
}

static int log_epoch(trainer *t, double loss, double val, double seconds, double fid)
{
    mg_log_row r;
    mg_log_row_init(&r, 'e');
    r.v[MG_LOG_EPOCH] = (double)t->pos.epoch;
    r.v[MG_LOG_STEP] = (double)t->pos.global_step;
    r.v[MG_LOG_LOSS] = loss;
    r.v[MG_LOG_VAL_NMSE] = val;
    r.v[MG_LOG_SECONDS] = seconds;
    r.v[MG_LOG_BETA] = t->agb.beta;
    r.v[MG_LOG_VAL_FID] = fid;
    return mg_log_append(t->p_csv, &r);
}

int mg_train_run(const mg_train_cfg *cfg_in, const char *data_dir, const char *run_dir, int resume)
{
    trainer T, *t = &T;
    memset(t, 0, sizeof T);
    t->cfg = *cfg_in;
    t->p_cfg = mg_path_join(run_dir, "config.json");
    t->p_last = mg_path_join(run_dir, "last.safetensors");
    t->p_best = mg_path_join(run_dir, "best.safetensors");
    t->p_csv = mg_path_join(run_dir, "metrics.csv");
    t->p_epochs = mg_path_join(run_dir, "epochs");
    t->p_grid = mg_path_join(run_dir, "val_grid");
    long *perm = NULL;
    double lr_before = 0; /* the run's learning rate where --resume --lr changes it */
    int rc = -1, lock = -1;
    struct stat st;
    mg_train_cfg *cfg = &t->cfg;
    char data_real[PATH_MAX];
    t->P = mg_dist_size();
    t->R = mg_dist_rank();
    const int lead = t->R == 0; /* rank 0 writes files and prints */
    if (!lead) cfg->quiet = 1;
    if (cfg->gpu >= 0) { /* before anything is written */
        if (mg_backend_open(cfg->gpu)) goto out;
        if (t->P > 1) {
            mg_set_error("--gpu trains in one process: run it without mpirun");
            goto out;
        }
    }

    if (!realpath(data_dir, data_real)) {
        mg_set_error("%s: cannot open the data directory: %s", data_dir, strerror(errno));
        goto out;
    }
    if (resume) {
        if (stat(t->p_cfg, &st) != 0) {
            mg_set_error("%s: nothing to resume (no config.json: not a run directory of 'mrgan train')", run_dir);
            goto out;
        }
        if (lead && (lock = mg_lock_dir(run_dir)) < 0) goto out;
        if (mg_train_config_read(t->p_cfg, cfg)) goto out;
        if (cfg_in->epochs > 0) cfg->epochs = cfg_in->epochs; /* --epochs: a new total, longer or shorter */
        if (cfg->data[0] && strcmp(cfg->data, data_real)) {
            mg_set_error("%s: the run trained on %s, not on --data %s (its validation NMSE and model selection "
                         "would compare different sets); resume with that --data, or start a new run",
                         run_dir, cfg->data, data_real);
            goto out;
        }
        if (cfg->resume_lr > 0 && cfg->resume_lr != cfg->lr) { /* noted once the resume is known to go ahead */
            lr_before = cfg->lr;
            cfg->lr = cfg->resume_lr;
        }
    }
    if (cfg->precision == MG_PRECISION_BF16 && cfg->gpu >= 0) {
        mg_set_error("--precision bf16 is for the CPU (the GPU backend computes in fp32)");
        goto out;
    }
    if (mg_conv_set_precision(cfg->precision)) { /* the run's precision; fp32 where the CPU has no bf16 */
        if (lead) fprintf(stderr, "train: note: %s\n", mg_error());
        mg_conv_set_precision(MG_PRECISION_FP32);
    }
    if (!resume) {
        char seen[512];
        int k = mg_dir_list(run_dir, seen, sizeof seen);
        if (k > 0) {
            mg_set_error("%s: not empty (%s): continue a run with --resume, or train into a new directory", run_dir,
                         seen);
            goto out;
        }
    }
    cfg->resume_lr = 0;
    if (strlen(data_real) >= sizeof cfg->data) {
        mg_set_error("%s: path too long", data_real);
        goto out;
    }
    memcpy(cfg->data, data_real, strlen(data_real) + 1);
    if (cfg->select_start >= cfg->epochs) {
        mg_set_error("--select-start %d: not below the %d epochs, so no epoch could be selected", cfg->select_start,
                     cfg->epochs);
        goto out;
    }
    if (mg_trainer_mode(t)) goto out;
    if (open_split(t, data_dir, "train", &t->tr) || open_split(t, data_dir, "val", &t->vd)) goto out;
    if (cfg->batch % t->P) {
        mg_set_error("--batch %d does not split evenly over %d MPI ranks", cfg->batch, t->P);
        goto out;
    }
    {
        long most = 0; /* batches are of one shape */
        for (int g = 0; g < t->tr.ngroups; g++) most = t->tr.groups[g].n > most ? t->tr.groups[g].n : most;
        if (most < cfg->batch) {
            mg_set_error("%s: the train split has %ld slices%s, fewer than the batch size %d (a batch is of one "
                         "shape)", data_dir, t->tr.ngroups > 1 ? most : t->tr.n,
                         t->tr.ngroups > 1 ? " of its most common shape" : "", cfg->batch);
            goto out;
        }
    }
    /* the critic ends in a linear layer sized for one image: it sees every
     * image zero-padded (centred) to the largest shape, rounded up to a
     * multiple of 16 (its four stride-2 convolutions) */
    const int Hc = (int)((t->tr.max_H + 15) / 16 * 16), Wc = (int)((t->tr.max_W + 15) / 16 * 16);
    const int H = t->gan ? Hc : (int)t->tr.max_H, W = t->gan ? Wc : (int)t->tr.max_W; /* the critic's image size */
    for (int g = 0; g < t->tr.ngroups; g++) {
        float *m = mg_malloc_array((size_t)t->tr.groups[g].H, sizeof(float));
        int bad = mg_mask_make(cfg->mask_type, m, t->tr.groups[g].H, cfg->accel, cfg->center, -1, 1);
        free(m);
        if (bad) {
            mg_set_error("%s: slices of %ld lines: %s", data_dir, t->tr.groups[g].H, mg_error());
            goto out;
        }
    }
    /* the data are usable: only now is anything written (a failed start
     * leaves no run directory behind) */
    if (!resume) {
        mg_dist_barrier(); /* every rank has looked before rank 0 writes */
        if (lead && mkdir(run_dir, 0755) && errno != EEXIST) {
            mg_set_error("%s: cannot create run directory: %s", run_dir, strerror(errno));
            goto out;
        }
        if (lead && (lock = mg_lock_dir(run_dir)) < 0) goto out;
    }
    if (lead && ((mkdir(t->p_epochs, 0755) && errno != EEXIST) ||
                 (cfg->grid > 0 && mkdir(t->p_grid, 0755) && errno != EEXIST))) {
        mg_set_error("%s: cannot create subdirectories: %s", run_dir, strerror(errno));
        goto out;
    }
    t->cfg_json = mg_train_config_json(cfg);
    mg_trainer_add_domain(&t->cfg_json, &t->tr, cfg->accel, data_dir);

    int cin;
    if (mg_trainer_models(t, H, W, &cin)) {
        mg_set_error("%s: %s", data_dir, mg_error());
        goto out;
    }
    t->val_series = mg_calloc((size_t)cfg->epochs + 1, sizeof(double));
    t->fid_series = mg_calloc((size_t)cfg->epochs + 1, sizeof(double));
    if (cfg->fid_weights[0] && lead && t->vd.nfiles > 1 && !cfg->quiet)
        fprintf(stderr, "train: note: no validation FID: it needs one validation file (the val split has %d)\n",
                t->vd.nfiles);
    if (cfg->fid_weights[0] && lead && t->vd.nfiles == 1) {
        if (mg_fid_load(cfg->fid_weights, &t->fid)) goto out;
        t->has_fid = 1;
    }
    if (!resume && cfg->init) {
        int from = 0, from_k = 0;
        if (mg_dcinet_load_grown(cfg->init, &t->net, &from, &from_k)) goto out;
        if (from_k < cfg->net.kernels && lead && !cfg->quiet)
            fprintf(stderr, "train: %s has %d kernels: channels %d-%d start unconnected to the others\n",
                    cfg->init, from_k, from_k, cfg->net.kernels - 1);
        if (from < cfg->net.blocks && lead && !cfg->quiet)
            fprintf(stderr, "train: %s has %d blocks: blocks %d-%d start as the identity (conv3 and lambda zero)\n",
                    cfg->init, from, from, cfg->net.blocks - 1);
    }
    if (resume) {
        t->pos.agb = t->agb; /* the configured AGB; the checkpoint's state goes over it */
        if (mg_checkpoint_load(t->p_last, &t->net, t->gan ? &t->critic : NULL, &t->pos)) goto out;
        const long begun = t->pos.epoch + (t->pos.step_in_epoch > 0);
        if (begun > cfg->epochs) {
            mg_set_error("%s has begun %ld epochs: --epochs %d is fewer (give at least %ld)", run_dir, begun,
                         cfg->epochs, begun);
            goto out;
        }
        t->saved_step = t->pos.global_step;
        t->adam.t = t->pos.adam_t;
        t->adam_d.t = t->pos.adam_t_critic;
        t->agb = t->pos.agb;
        if (lead && mg_log_trim(t->p_csv, t->pos.global_step, t->pos.epoch)) goto out;
        mg_trainer_read_series(t);
        if (t->nval > t->pos.epoch) t->nval = t->pos.epoch;
        if (!cfg->quiet)
            fprintf(stderr, "train: resuming %s at epoch %ld, step %ld (global step %ld)\n", run_dir,
                    t->pos.epoch + 1, t->pos.step_in_epoch, t->pos.global_step);
        if (!cfg->quiet && cfg_in->resume_note[0])
            fprintf(stderr, "train: --resume keeps the run's config.json; ignoring %s\n", cfg_in->resume_note);
        if (!cfg->quiet && lr_before > 0)
            fprintf(stderr, "train: --lr %g from here on (the run had %g)\n", (double)cfg->lr, (double)lr_before);
    }
    /* written once the run is known to start or continue (a refused --resume
     * leaves the run's config.json as it was); on --resume: the data path and --lr */
    if (lead && mg_write_text(t->p_cfg, t->cfg_json)) goto out;
    t->Bg = cfg->batch;
    /* batches hold any of the shapes; each step sets its own */
    const int Cm = (int)t->tr.max_C, Hm = H, Wm = W; /* the largest shape (GAN modes: the critic's) */
    mg_batch_alloc(&t->b, cfg->batch / t->P, Cm, Hm, Wm, cin);
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
    t->src = (mg_batch_src){cfg, &t->tr, t->Bg, t->r0};
    if (mg_trainer_step_open(t, cin)) goto out;
    if (cfg->gpu >= 0 && !cfg->quiet)
        fprintf(stderr, "train: steps and validation on GPU %d: %s\n", cfg->gpu, mg_backend_describe());
    {
        const char *pf = getenv("MRGAN_PREFETCH");
        if (pf ? strcmp(pf, "0") != 0 : cfg->gpu >= 0)
            t->pre = mg_prefetch_create(&t->src, t->gan ? cfg->critic_steps : 0, t->b.B, Cm, Hm, Wm, cin);
    }
    const long spe = mg_dataset_batches(&t->tr, t->Bg); /* steps per epoch: the same in every epoch */
    if (!cfg->quiet && !resume) {
        double v0, z0;
        if (mg_trainer_validate(t, &v0, &z0, NULL, NULL)) goto out;
        char tr_desc[512], va_desc[512];
        mg_dataset_describe(&t->tr, tr_desc, sizeof tr_desc);
        mg_dataset_describe(&t->vd, va_desc, sizeof va_desc);
        fprintf(stderr, "train: %s, mode %s%s; train: %s; val: %s; %ld steps per epoch; DCI-Net %dI-%dG-%dK, "
                        "%ld parameters%s; val NMSE zero-filled %.5f, untrained %.5f\n",
                data_dir, cfg->mode,
                cfg->loss == MG_LOSS_MAGNITUDE ? " (magnitude loss)" : cfg->loss == MG_LOSS_NMSE ? " (NMSE loss)" : "",
                tr_desc, va_desc, spe, cfg->net.blocks,
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
    char label[64];
    while (t->pos.epoch < cfg->epochs) {
        free(perm);
        long spe_e;
        perm = mg_batch_plan(&t->tr, cfg->seed, t->pos.epoch, t->Bg, &spe_e);
        if (spe_e != spe) abort(); /* full batches per shape do not depend on the order */
        mg_progress pr;
        snprintf(label, sizeof label, "epoch %ld/%d", t->pos.epoch + 1, cfg->epochs);
        mg_progress_start(&pr, label, spe, cfg->quiet);
        pr.start = t->pos.step_in_epoch; /* a resumed epoch's earlier steps: not in the rate */
        double loss_sum = 0;
        long loss_n = 0, clipped = 0; /* clipped, gn_sum: over this session's part of the epoch */
        double gn_sum = 0;
        long gn_n = 0;
        if (t->pos.step_in_epoch > 0 && lead && /* resumed inside this epoch: its earlier steps count too */
            mg_log_epoch_loss(t->p_csv, t->pos.epoch + 1, t->pos.global_step, &loss_sum, &loss_n))
            goto restore;
        while (t->pos.step_in_epoch < spe) {
            double t0 = mg_now(), c0 = mg_dist_seconds();
            mg_step_log lg = {0, 0, 0, 0, 0, 0, 0};
            t->adam.lr = mg_lr_at(cfg->lr, cfg->lr_decay, t->pos.global_step, (long)cfg->epochs * spe);
            if (mg_trainer_step(t, perm, spe, &lg)) goto restore;
            double loss = lg.loss;
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
            if (cfg->grad_clip > 0 && lg.gnorm > cfg->grad_clip) clipped++;
            gn_sum += lg.gnorm;
            gn_n++;
            lg.loss = loss;
            if (lead && log_step(t, &lg, mg_now() - t0)) goto restore;
            if (t->gan)
                snprintf(pr.extra, sizeof pr.extra, "loss %.5f W %.3g beta %.4g", loss_sum / (double)loss_n, lg.w_est, t->agb.beta);
            else
                snprintf(pr.extra, sizeof pr.extra, "loss %.5f |g| %.3g", loss_sum / (double)loss_n,
                         gn_n ? gn_sum / (double)gn_n : 0.0);
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
        if (lead) vv[0] = mg_trainer_validate(t, &vv[1], NULL, gpath, &vv[2]) ? 1 : 0;
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
        if (lead && log_epoch(t, loss_n ? loss_sum / (double)loss_n : 0.0, vn, mg_now() - t_start, vfid)) goto restore;
        if (lead && save_ckpt(t, t->p_last, 1)) goto restore;
        if (lead && (t->pos.epoch > mg_trainer_select_start(t) || (cfg->save_every > 0 && t->pos.epoch % cfg->save_every == 0))) {
            char *pe = mg_trainer_epoch_file(t, t->pos.epoch);
            int bad = save_ckpt(t, pe, 0);
            free(pe);
            if (bad) goto restore;
        }
        long be = 0;
        if (lead && mg_trainer_update_best(t, &be)) goto restore;
        if (!cfg->quiet) {
            char cliptxt[64] = "";
            const long nstep = gn_n > 0 ? gn_n : 1;
            if (cfg->grad_clip > 0)
                snprintf(cliptxt, sizeof cliptxt, ", gradient norm %.3g, %ld steps clipped", gn_sum / nstep, clipped);
            else if (gn_sum > 0)
                snprintf(cliptxt, sizeof cliptxt, ", gradient norm %.3g", gn_sum / nstep);
            fprintf(stderr, "epoch %ld: train loss %.6f, val NMSE %.5f%s%s%s, lr %.3g%s\n", t->pos.epoch,
                    loss_n ? loss_sum / (double)loss_n : 0.0, vn, fidtxt[0] ? ", val FID " : "", fidtxt,
                    cliptxt, (double)t->adam.lr, be == t->pos.epoch ? " (selected)" : "");
        }
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
        if (lead && mg_trainer_update_best(t, &be)) goto restore;
        if (!cfg->quiet)
            fprintf(stderr, "train: done, %ld epochs; selected epoch %ld (val NMSE %.5f, from epoch %d on) -> %s\n",
                    t->pos.epoch, be, be > 0 ? t->val_series[be - 1] : 0.0, mg_trainer_select_start(t) + 1, t->p_best);
    }
    if (t->tr.sens_dev > 1e-3 && !cfg->quiet) /* as validation's note, for the training files' maps */
        fprintf(stderr, "train: note: coil maps of the train split were not unit-norm (root-sum-of-squares off by up "
                        "to %.3g); normalised per pixel\n", t->tr.sens_dev);
    if (t->P > 1 && !cfg->quiet && t->nsteps > 1)
        fprintf(stderr, "train: %d MPI ranks: %.4f s per step, %.4f s of it in all-reduces (%.1f%%; steps 2..%ld)\n",
                t->P, t->step_s / (double)(t->nsteps - 1), t->comm_s / (double)(t->nsteps - 1),
                100.0 * t->comm_s / t->step_s, t->nsteps);
    rc = interrupted == 2 ? 2 : 0;
restore:
    signal(SIGINT, old_int);
    signal(SIGTERM, old_term);
out:
    mg_conv_set_precision(MG_PRECISION_FP32);
    mg_prefetch_free(t->pre); /* its threads read perm */
    t->pre = NULL;
    free(perm);
    mg_trainer_free(t);
    mg_unlock_dir(lock);
    return rc;
}


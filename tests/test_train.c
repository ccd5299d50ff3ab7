/* Training: safetensors checkpoints, augmentation, exact resume, and that
 * training on tiny data beats zero filling. The data are made here: random
 * ellipse phantoms, 32x32, 4 birdcage coils. */
#include "testutil.h"
#include "fft/fft.h"
#include "io/io.h"
#include "metrics/metrics.h"
#include "mri/mri.h"
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HH 32
#define WW 32
#define CC 4

static char *dir;

static void phantom(cfloat *m, mg_rng *r)
{
    double ax = 0.55 + 0.2 * mg_rng_uniform(r), ay = 0.6 + 0.2 * mg_rng_uniform(r);
    double ex = 0.3 * (mg_rng_uniform(r) - 0.5), ey = 0.3 * (mg_rng_uniform(r) - 0.5);
    double bx = 0.1 + 0.15 * mg_rng_uniform(r), by = 0.1 + 0.2 * mg_rng_uniform(r);
    for (int y = 0; y < HH; y++)
        for (int x = 0; x < WW; x++) {
            double X = (x - WW / 2) / (WW / 2.0), Y = (y - HH / 2) / (HH / 2.0);
            double v = 0;
            if (X * X / (ax * ax) + Y * Y / (ay * ay) < 1) v = 0.6;
            if (X * X / (ax * ax * 0.8) + Y * Y / (ay * ay * 0.8) < 1) v = 0.9;
            if ((X - ex) * (X - ex) / (bx * bx) + (Y - ey) * (Y - ey) / (by * by) < 1) v = 0.3;
            if (fabs(X + 0.2) < 0.05 && fabs(Y) < 0.4) v = 0.2; /* a thin line: detail to recover */
            m[y * WW + x] = (float)v * cexpf(I * (float)(0.5 * X));
        }
}

static void make_split(const char *name, long ns, uint64_t seed)
{
    mg_kdata d = {0};
    d.nslices = ns; d.coils = CC; d.h = HH; d.w = WW;
    const long n = CC * HH * WW;
    d.kspace = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    d.sens = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    cfloat m[HH * WW];
    mg_rng r;
    mg_rng_seed(&r, seed);
    for (long s = 0; s < ns; s++) {
        phantom(m, &r);
        mg_birdcage_maps(d.sens + s * n, CC, HH, WW, 1.5, 0.3 * s);
        mg_simulate_kspace(m, d.sens + s * n, CC, HH, WW, 0.002, &r, d.kspace + s * n);
    }
    char *p = tu_path(dir, name);
    assert_int_equal(mg_kdata_write_h5(p, &d), 0);
    free(p);
    mg_kdata_free(&d);
}

static int setup(void **state)
{
    (void)state;
    dir = tu_tmpdir();
    make_split("train.h5", 12, 1);
    make_split("val.h5", 4, 2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(dir);
    free(dir);
    mg_fft_cleanup();
    return 0;
}

static mg_train_cfg small_cfg(void)
{
    mg_train_cfg c;
    mg_train_defaults(&c);
    c.net = (mg_dcinet_cfg){3, 2, 8, 0.2f};
    c.center = 6;
    c.batch = 2;
    c.quiet = 1;
    c.lr = 1e-3f;
    return c;
}

static void test_safetensors_roundtrip_and_errors(void **state)
{
    (void)state;
    float a[6] = {1, 2, 3, 4, 5, 6}, b[2] = {-1, 0.5f};
    mg_st_tensor t[2] = {{"a", 2, {2, 3}, a}, {"b.c", 1, {2}, b}};
    const char *meta[] = {"k", "v", "x", "{\"q\": 1}"};
    char *p = tu_path(dir, "t.safetensors");
    assert_int_equal(mg_st_write(p, t, 2, meta, 2), 0);
    /* layout: u64 header length, JSON, data; header length multiple of 8 */
    FILE *f = fopen(p, "rb");
    unsigned char len[8];
    assert_int_equal(fread(len, 1, 8, f), 8);
    uint64_t L = 0;
    for (int i = 0; i < 8; i++) L |= (uint64_t)len[i] << (8 * i);
    assert_int_equal(L % 8, 0);
    char *hdr = mg_malloc((size_t)L + 1);
    assert_int_equal(fread(hdr, 1, (size_t)L, f), L);
    hdr[L] = 0;
    assert_non_null(strstr(hdr, "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"));
    float raw[8];
    assert_int_equal(fread(raw, sizeof(float), 8, f), 8);
    assert_true(raw[6] == -1.0f && raw[7] == 0.5f);
    fclose(f);
    free(hdr);
    mg_st_file g;
    assert_int_equal(mg_st_read(p, &g), 0);
    assert_int_equal(g.n, 2);
    assert_memory_equal(mg_st_find(&g, "a")->data, a, sizeof a);
    assert_string_equal(mg_st_meta(&g, "x"), "{\"q\": 1}");
    mg_st_free(&g);
    /* truncated file */
    assert_int_equal(truncate(p, 8 + (long)L + 10), 0);
    assert_int_equal(mg_st_read(p, &g), -1);
    /* garbage */
    f = fopen(p, "wb");
    fputs("\xff\xff\xff\xff\xff\xff\xff\x7fjunk", f);
    fclose(f);
    assert_int_equal(mg_st_read(p, &g), -1);
    assert_non_null(strstr(mg_error(), "t.safetensors"));
    /* a tensor holding NaN is refused and the file on disk stays as it was */
    assert_int_equal(mg_st_write(p, t, 2, meta, 2), 0);
    struct stat st0, st1;
    assert_int_equal(stat(p, &st0), 0);
    b[1] = NAN;
    assert_int_equal(mg_st_write(p, t, 2, NULL, 0), -1);
    assert_non_null(strstr(mg_error(), "tensor 'b.c' has a non-finite value at 1"));
    assert_int_equal(stat(p, &st1), 0);
    assert_int_equal(st0.st_size, st1.st_size);
    assert_int_equal(mg_st_read(p, &g), 0);
    assert_true(mg_st_find(&g, "b.c")->data[1] == 0.5f);
    mg_st_free(&g);
    free(p);
}

/* config.json: what mg_train_config_json writes reads back field for field;
 * an out-of-range number, a wrong type or an unknown mode is refused. */
static void test_config_roundtrip_and_ranges(void **state)
{
    (void)state;
    mg_train_cfg c, r;
    mg_train_defaults(&c);
    snprintf(c.mode, sizeof c.mode, "cwgan-agb");
    c.net = (mg_dcinet_cfg){20, 5, 40, 0.2f};
    c.lr = 1e-4f, c.accel = 6.5, c.center = 24, c.seed = 12345678901234ULL, c.agb_ma = 0.9;
    c.loss = MG_LOSS_NMSE; /* the largest value the range allows */
    c.init = "/models/start.safetensors";
    char *p = tu_path(dir, "config.json");
    char *js = mg_train_config_json(&c);
    FILE *f = fopen(p, "w");
    fputs(js, f);
    fclose(f);
    mg_train_defaults(&r);
    assert_int_equal(mg_train_config_read(p, &r), 0);
    assert_string_equal(r.mode, "cwgan-agb");
    assert_int_equal(r.net.blocks, 20);
    assert_int_equal(r.net.kernels, 40);
    assert_true(r.lr == 1e-4f && r.accel == 6.5 && r.center == 24 && r.agb_ma == 0.9);
    assert_true(r.seed == 12345678901234ULL);
    assert_int_equal(r.loss, MG_LOSS_NMSE);
    /* the init is not applied again on --resume but stays in the record */
    assert_null(r.init);
    assert_string_equal(r.init_rec, "/models/start.safetensors");
    char *js2 = mg_train_config_json(&r);
    assert_non_null(strstr(js2, "\"init\":\t\"/models/start.safetensors\""));
    free(js2);
    /* key, replacement value (the old value runs to the next comma) */
    static const char *bad[][2] = {{"\"blocks\":", "1e30"}, {"\"lr\":", "-1"}, {"\"batch\":", "\"1\""},
                                   {"\"mode\":", "\"gan\""}};
    const char *want[] = {"blocks = 1e+30 is outside [1, 200]", "lr = -1 is outside", "malformed", "mode 'gan'"};
    for (int i = 0; i < 4; i++) {
        const char *at = strstr(js, bad[i][0]);
        assert_non_null(at);
        at += strlen(bad[i][0]);
        const char *end = strchr(at, ',');
        assert_non_null(end);
        f = fopen(p, "w");
        fprintf(f, "%.*s %s%s", (int)(at - js), js, bad[i][1], end);
        fclose(f);
        assert_int_equal(mg_train_config_read(p, &r), -1);
        assert_non_null(strstr(mg_error(), want[i]));
        assert_non_null(strstr(mg_error(), "config.json"));
    }
    free(js);
    free(p);
}

/* Rotating by 0 without a flip is the identity; flipping twice is too; a
 * rotated centred disc stays a disc; augmenting k-space keeps mf = rotated mf. */
static void test_augment(void **state)
{
    (void)state;
    cfloat a[HH * WW], b[HH * WW], c2[HH * WW];
    mg_rng r;
    mg_rng_seed(&r, 5);
    tu_randn_c(a, HH * WW, &r);
    mg_rotate_image(a, b, HH, WW, 0, 0.0);
    assert_memory_equal(a, b, sizeof a);
    mg_rotate_image(a, b, HH, WW, 1, 0.0);
    mg_rotate_image(b, c2, HH, WW, 1, 0.0);
    assert_memory_equal(a, c2, sizeof a);
    assert_true(b[3 * WW + 5] == a[3 * WW + (WW - 1 - 5)]);
    for (int y = 0; y < HH; y++)
        for (int x = 0; x < WW; x++) a[y * WW + x] = hypot(y - 15.5, x - 15.5) < 10 ? 1.0f : 0.0f;
    mg_rotate_image(a, b, HH, WW, 0, 17.0);
    double diff = 0;
    for (int i = 0; i < HH * WW; i++) diff += cabsf(a[i] - b[i]);
    /* boundary interpolation only (~63 edge pixels); a one-pixel shift of the
     * centre would give ~120 */
    if (!(diff < 40)) fail_msg("rotated disc differs by %g", diff);
    print_message("rotated disc: summed difference %.1f\n", diff);
    /* k-space augmentation: the combined image of the result is the rotated image */
    cfloat sens[CC * HH * WW], k[CC * HH * WW], work[CC * HH * WW], m[HH * WW], mf[HH * WW];
    phantom(m, &r);
    mg_birdcage_maps(sens, CC, HH, WW, 1.5, 0.0);
    mg_simulate_kspace(m, sens, CC, HH, WW, 0.0, &r, k);
    mg_augment(k, sens, 1, 12.0, work, CC, HH, WW);
    mg_zerofill(k, sens, NULL, mf, CC, HH, WW);
    mg_rotate_image(m, b, HH, WW, 1, 12.0);
    double e = 0, nn = 0;
    for (int i = 0; i < HH * WW; i++) {
        /* sum |s'|^2 m' vs m': equal where the rotated maps kept unit norm */
        double s2 = 0;
        for (int cc = 0; cc < CC; cc++) s2 += pow(cabsf(sens[cc * HH * WW + i]), 2);
        e += pow(cabsf(mf[i] - (float)s2 * b[i]), 2);
        nn += pow(cabsf(b[i]), 2);
    }
    assert_true(sqrt(e / nn) < 0.05);
}

static int files_equal_tensors(const char *a, const char *b)
{
    mg_st_file fa, fb;
    if (mg_st_read(a, &fa) || mg_st_read(b, &fb)) return 0;
    int same = fa.n == fb.n;
    for (int i = 0; same && i < fa.n; i++) {
        const mg_st_tensor *tb = mg_st_find(&fb, fa.t[i].name);
        long size = 1;
        for (int d = 0; d < fa.t[i].ndim; d++) size *= fa.t[i].shape[d];
        same = tb && !memcmp(fa.t[i].data, tb->data, sizeof(float) * (size_t)size);
    }
    same = same && !strcmp(mg_st_meta(&fa, "position"), mg_st_meta(&fb, "position")) &&
           !strcmp(mg_st_meta(&fa, "agb"), mg_st_meta(&fb, "agb"));
    mg_st_free(&fa);
    mg_st_free(&fb);
    return same;
}

/* 8 steps straight == 4 steps, stop, --resume, 4 more: bit for bit (weights,
 * Adam moments, position), across an epoch boundary (6 steps per epoch). */
static void test_resume_exact(void **state)
{
    (void)state;
    mg_train_cfg c = small_cfg();
    c.epochs = 3;
    char *ra = tu_path(dir, "runA"), *rb = tu_path(dir, "runB");
    c.max_steps = 8;
    assert_int_equal(mg_train_run(&c, dir, ra, 0), 0);
    c.max_steps = 4;
    assert_int_equal(mg_train_run(&c, dir, rb, 0), 0);
    /* a second fresh start refuses to overwrite the run */
    assert_int_equal(mg_train_run(&c, dir, rb, 0), -1);
    c.max_steps = 8;
    assert_int_equal(mg_train_run(&c, dir, rb, 1), 0);
    char *la = tu_path(ra, "last.safetensors"), *lb = tu_path(rb, "last.safetensors");
    assert_true(files_equal_tensors(la, lb));
    /* and the checkpoint differs from an earlier one (the check can fail) */
    c.max_steps = 7;
    char *rc_ = tu_path(dir, "runC"), *lc = tu_path(rc_, "last.safetensors");
    assert_int_equal(mg_train_run(&c, dir, rc_, 0), 0);
    assert_false(files_equal_tensors(la, lc));
    free(ra); free(rb); free(la); free(lb); free(rc_); free(lc);
}

/* Training helps: validation NMSE after a short run < 0.7 x zero-filled. */
static void test_training_helps(void **state)
{
    (void)state;
    if (getenv("MRGAN_UNDER_VALGRIND")) skip(); /* 30 epochs: hours under memcheck (scripts/valgrind.sh) */
    mg_train_cfg c = small_cfg();
    c.epochs = 30;
    char *run = tu_path(dir, "helps");
    assert_int_equal(mg_train_run(&c, dir, run, 0), 0);
    /* evaluate best.safetensors on val.h5 with the fixed masks, against zero filling */
    mg_dcinet net = {0};
    char *best = tu_path(run, "best.safetensors"), *val = tu_path(dir, "val.h5");
    assert_int_equal(mg_checkpoint_load(best, &net, NULL, NULL), 0);
    mg_kdata v;
    assert_int_equal(mg_kdata_read(val, &v), 0);
    const long n = CC * HH * WW, hw = HH * WW;
    cfloat ku[CC * HH * WW], work[CC * HH * WW], pred[HH * WW], zf[HH * WW], ref[HH * WW];
    float mask[HH], out[2 * HH * WW];
    mg_nmse_acc a_net = {0, 0}, a_zf = {0, 0};
    for (long s = 0; s < v.nslices; s++) {
        assert_int_equal(mg_mask_make(MG_MASK_VD, mask, HH, 4.0, 6, -1, mg_mask_slice_seed(1, s)), 0);
        const cfloat *k = v.kspace + s * n, *sens = v.sens + s * n;
        float sc = mg_sample_prepare(k, sens, mask, ku, NULL, NULL, work, CC, HH, WW);
        mg_dcinet_forward(&net, ku, sens, mask, out, 1, CC, HH, WW);
        mg_planes2c(out, pred, hw);
        for (long i = 0; i < hw; i++) pred[i] *= sc;
        mg_zerofill(k, sens, mask, zf, CC, HH, WW);
        mg_zerofill(k, sens, NULL, ref, CC, HH, WW);
        mg_nmse_add_mag(&a_net, ref, pred, (size_t)hw);
        mg_nmse_add_mag(&a_zf, ref, zf, (size_t)hw);
    }
    double nn = mg_nmse_value(&a_net), nz = mg_nmse_value(&a_zf);
    print_message("val NMSE: trained %.5f, zero-filled %.5f (ratio %.3f)\n", nn, nz, nn / nz);
    assert_true(nn < 0.7 * nz);
    mg_kdata_free(&v);
    mg_dcinet_free(&net);
    free(run); free(best); free(val);
}

static double last_val_nmse(const char *run)
{
    char *csv = tu_path(run, "metrics.csv");
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[1024];
    double v = -1;
    long ep;
    double loss, nm;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "epoch,", 6) && sscanf(line + 6, "%ld,%*[^,],%lf,%lf", &ep, &loss, &nm) == 3) v = nm;
    fclose(f);
    free(csv);
    return v;
}

/* Every step row of a GAN run has finite losses, critic estimate, STDs and
 * a beta that never falls below its start. */
static void check_gan_log(const char *run, double beta0)
{
    char *csv = tu_path(run, "metrics.csv");
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[1024];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "step,", 5)) continue;
        double v[11];
        int k = sscanf(line, "step,%*d,%*d,%lf,,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3],
                       &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
        assert_int_equal(k, 10);
        for (int i = 0; i < 10; i++) assert_true(isfinite(v[i]));
        assert_true(v[9] >= beta0 - 1e-9); /* beta */
        assert_true(v[5] > 0 && v[6] > 0); /* gradient STDs measured */
        rows++;
    }
    fclose(f);
    free(csv);
    assert_true(rows > 0);
}

/* A short cWGAN-AGB run stays finite and within 2x of the MSE model's NMSE;
 * wgan and cwgan run too. */
static void test_gan_modes(void **state)
{
    (void)state;
    if (getenv("MRGAN_UNDER_VALGRIND")) skip();
    mg_train_cfg c = small_cfg();
    c.epochs = 30;
    /* the MSE model of test_training_helps (same configuration), trained here
     * only when that test did not run first */
    char *rm = tu_path(dir, "helps"), *ra = tu_path(dir, "g_agb"), *lm = tu_path(rm, "last.safetensors");
    FILE *have = fopen(lm, "r");
    if (have) fclose(have);
    else assert_int_equal(mg_train_run(&c, dir, rm, 0), 0);
    free(lm);
    snprintf(c.mode, sizeof c.mode, "cwgan-agb");
    c.critic_ch = 4;
    assert_int_equal(mg_train_run(&c, dir, ra, 0), 0);
    double vm = last_val_nmse(rm), va = last_val_nmse(ra);
    print_message("val NMSE after 30 epochs: mse %.5f, cwgan-agb %.5f\n", vm, va);
    assert_true(va > 0 && va < 2.0 * vm);
    check_gan_log(ra, c.agb_beta0);
    const char *modes[2] = {"wgan", "cwgan"};
    for (int m = 0; m < 2; m++) {
        mg_train_cfg g = small_cfg();
        g.epochs = 2;
        g.critic_ch = 4;
        snprintf(g.mode, sizeof g.mode, "%s", modes[m]);
        char *r = tu_path(dir, modes[m]);
        assert_int_equal(mg_train_run(&g, dir, r, 0), 0);
        check_gan_log(r, g.gan_lambda);
        free(r);
    }
    free(rm);
    free(ra);
}

/* the cosine schedule at its ends, its middle and a quarter (closed form),
 * and constant as the paper */
static void test_lr_schedule(void **state)
{
    (void)state;
    assert_true(mg_lr_at(1e-3f, MG_LR_CONSTANT, 70, 100) == 1e-3f);
    assert_true(fabsf(mg_lr_at(1e-3f, MG_LR_COSINE, 0, 100) - 1e-3f) < 1e-9f);
    assert_true(fabsf(mg_lr_at(1e-3f, MG_LR_COSINE, 50, 100) - 0.505e-3f) < 1e-9f);
    assert_true(fabsf(mg_lr_at(1e-3f, MG_LR_COSINE, 25, 100) - (float)(1e-5 + 0.99e-3 * (1 + sqrt(0.5)) / 2)) < 1e-9f);
    assert_true(fabsf(mg_lr_at(1e-3f, MG_LR_COSINE, 100, 100) - 1e-5f) < 1e-10f);
    assert_true(fabsf(mg_lr_at(1e-3f, MG_LR_COSINE, 130, 100) - 1e-5f) < 1e-10f);
}

/* a run of c (any mode) trained for 8 steps in one go (RUN a) and stopped
 * after `stop` then resumed to 8 (RUN b): their last checkpoints, which
 * must hold the same tensors */
static void runs_with_and_without_stop(mg_train_cfg c, const char *a, const char *b, int stop, char **la, char **lb)
{
    char *ra = tu_path(dir, a), *rb = tu_path(dir, b);
    c.max_steps = 8;
    assert_int_equal(mg_train_run(&c, dir, ra, 0), 0);
    c.max_steps = stop;
    assert_int_equal(mg_train_run(&c, dir, rb, 0), 0);
    c.max_steps = 8;
    assert_int_equal(mg_train_run(&c, dir, rb, 1), 0);
    *la = tu_path(ra, "last.safetensors");
    *lb = tu_path(rb, "last.safetensors");
    assert_true(files_equal_tensors(*la, *lb));
    free(ra);
    free(rb);
}

/* The cosine schedule and gradient clipping resume exactly (both follow the
 * step), and clipping changes the run (the check can fail). */
static void test_resume_schedule_clip(void **state)
{
    (void)state;
    mg_train_cfg c = small_cfg();
    c.epochs = 2;
    c.lr_decay = MG_LR_COSINE;
    c.grad_clip = 1e-3f; /* below this net's gradient norms: every step clipped */
    char *la, *lb;
    runs_with_and_without_stop(c, "sA", "sB", 5, &la, &lb);
    c.grad_clip = 0;
    c.max_steps = 8;
    char *rn = tu_path(dir, "sN"), *ln = tu_path(rn, "last.safetensors");
    assert_int_equal(mg_train_run(&c, dir, rn, 0), 0);
    assert_false(files_equal_tensors(la, ln));
    /* both are recorded for --resume */
    char *cj = tu_path(dir, "sB/config.json");
    mg_train_cfg r;
    mg_train_defaults(&r);
    assert_int_equal(mg_train_config_read(cj, &r), 0);
    assert_int_equal(r.lr_decay, MG_LR_COSINE);
    assert_true(r.grad_clip == 1e-3f);
    free(la); free(lb); free(rn); free(ln); free(cj);
}

/* --resume with --epochs sets a new total: shorter than configured is fine,
 * fewer than the epochs done is refused (6 steps per epoch) */
static void test_resume_new_total(void **state)
{
    (void)state;
    mg_train_cfg c = small_cfg();
    c.epochs = 5;
    c.max_steps = 12; /* 2 epochs of steps, the second not yet validated */
    char *rs = tu_path(dir, "short");
    assert_int_equal(mg_train_run(&c, dir, rs, 0), 0);
    c.max_steps = 0;
    c.epochs = 1;
    assert_int_equal(mg_train_run(&c, dir, rs, 1), -1);
    assert_non_null(strstr(mg_error(), "has begun 2 epochs"));
    c.epochs = 3;
    assert_int_equal(mg_train_run(&c, dir, rs, 1), 0);
    char *cj = tu_path(rs, "config.json"), *ls = tu_path(rs, "last.safetensors");
    mg_train_cfg r;
    mg_train_defaults(&r);
    assert_int_equal(mg_train_config_read(cj, &r), 0);
    assert_int_equal(r.epochs, 3);
    mg_st_file f;
    assert_int_equal(mg_st_read(ls, &f), 0);
    long ep = -1, st = -1, gs = -1;
    assert_int_equal(sscanf(mg_st_meta(&f, "position"), "%ld %ld %ld", &ep, &st, &gs), 3);
    assert_true(ep == 3 && st == 0 && gs == 18);
    mg_st_free(&f);
    free(rs); free(cj); free(ls);
}

/* Resume is exact in the GAN mode too (critic, its Adam state, AGB). */
static void test_gan_resume_exact(void **state)
{
    (void)state;
    mg_train_cfg c = small_cfg();
    snprintf(c.mode, sizeof c.mode, "cwgan-agb");
    c.critic_ch = 4;
    c.epochs = 3;
    c.agb_ratio = 1e-6; /* a clipped 4-channel critic's gradients are tiny: make beta move */
    char *la, *lb;
    runs_with_and_without_stop(c, "gA", "gB", 4, &la, &lb);
    mg_st_file f;
    assert_int_equal(mg_st_read(la, &f), 0);
    assert_non_null(mg_st_find(&f, "critic.conv0.weight"));
    assert_non_null(mg_st_find(&f, "adam.v.critic.fc.weight"));
    double beta, gma, pma;
    assert_int_equal(sscanf(mg_st_meta(&f, "agb"), "%lf %lf %lf", &beta, &gma, &pma), 3);
    print_message("AGB state after 8 steps: beta %g gma %g pma %g\n", beta, gma, pma);
    assert_true(beta > 10.0 && gma > 0 && pma > 0);
    mg_st_free(&f);
    free(la); free(lb);
}

/* The calibrated ratio resumes exactly too: stopped inside the warm-up and
 * resumed, the run ends with the same tensors and the same AGB state
 * (beta, averages, step count, the calibrated ratio) as one without a stop. */
static void test_gan_resume_calibrated(void **state)
{
    (void)state;
    mg_train_cfg c = small_cfg();
    snprintf(c.mode, sizeof c.mode, "cwgan-agb");
    c.critic_ch = 4;
    c.epochs = 3;
    c.agb_ratio = 0;
    c.agb_warmup = 3;
    char *la, *lb;
    runs_with_and_without_stop(c, "cA", "cB", 2, &la, &lb);
    mg_st_file fa, fb;
    assert_int_equal(mg_st_read(la, &fa), 0);
    assert_int_equal(mg_st_read(lb, &fb), 0);
    const char *aa = mg_st_meta(&fa, "agb"), *ab = mg_st_meta(&fb, "agb");
    print_message("AGB state (calibrated ratio, warm-up 3) after 8 steps: %s\n", aa);
    assert_string_equal(aa, ab);
    double beta, gma, pma, ratio;
    long ev, steps;
    int cal;
    assert_int_equal(sscanf(aa, "%lf %lf %lf %ld %ld %lf %d", &beta, &gma, &pma, &ev, &steps, &ratio, &cal), 7);
    assert_true(steps == 8 && cal == 0 && ratio > 0);
    mg_st_free(&fa);
    mg_st_free(&fb);
    free(la); free(lb);
}

/* --init with a checkpoint of fewer blocks: the grown network computes
 * exactly what the checkpoint's does (appended blocks are the identity), the
 * appended blocks' conv3 and lambda get gradients (training moves them); with
 * fewer kernels too: the old weights in the leading corner, the new channels
 * unconnected to the old, the output the checkpoint's to rounding, gradients
 * on the new connections; checkpoints of more blocks, more kernels or other
 * growth, or with tensors unlike their header's, are refused */
static void test_init_grown(void **state)
{
    (void)state;
    mg_dcinet a, b, c;
    const mg_dcinet_cfg ca = {2, 1, 4, 0.2f}, cb = {4, 1, 4, 0.2f}, cc = {1, 1, 4, 0.2f}, ck = {4, 1, 6, 0.2f},
                        cg = {4, 2, 4, 0.2f};
    mg_dcinet_init(&a, &ca, 1);
    a.lambda[0]->w[0] = 0.7f;
    a.lambda[1]->w[0] = 1.3f;
    char *pa = tu_path(dir, "small.safetensors");
    assert_int_equal(mg_checkpoint_save(pa, &a, NULL, NULL, "{}", 0), 0);
    mg_dcinet_init(&b, &cb, 2);
    int from = -1, fk = -1;
    assert_int_equal(mg_dcinet_load_grown(pa, &b, &from, &fk), 0);
    assert_int_equal(from, 2);
    assert_true(b.lambda[1]->w[0] == 1.3f && b.lambda[2]->w[0] == 0.0f && b.lambda[3]->w[0] == 0.0f);
    /* the appended blocks' conv1 keeps its random initialisation */
    const mg_param *w1 = mg_params_find(&b.params, "block3.conv1.weight");
    double s1 = 0;
    for (long i = 0; i < w1->size; i++) s1 += fabs(w1->w[i]);
    assert_true(s1 > 0);

    const long hw = HH * WW;
    cfloat m[HH * WW], sens[CC * HH * WW], k[CC * HH * WW], ku[CC * HH * WW], work[CC * HH * WW];
    float mask[HH], oa[2 * HH * WW], ob[2 * HH * WW];
    mg_rng r;
    mg_rng_seed(&r, 5);
    phantom(m, &r);
    mg_birdcage_maps(sens, CC, HH, WW, 1.5, 0.2);
    mg_simulate_kspace(m, sens, CC, HH, WW, 0.002, &r, k);
    assert_int_equal(mg_mask_make(MG_MASK_VD, mask, HH, 4.0, 6, -1, 3), 0);
    mg_sample_prepare(k, sens, mask, ku, NULL, NULL, work, CC, HH, WW);
    mg_dcinet_forward(&a, ku, sens, mask, oa, 1, CC, HH, WW);
    mg_dcinet_forward(&b, ku, sens, mask, ob, 1, CC, HH, WW);
    assert_memory_equal(oa, ob, sizeof oa);
    double sa = 0;
    for (long i = 0; i < 2 * hw; i++) sa += fabs(oa[i]);
    assert_true(sa > 0);

    mg_params_zero_grad(&b.params);
    mg_dcinet_backward(&b, ob, NULL);
    const mg_param *g3 = mg_params_find(&b.params, "block3.conv3.weight");
    double sg = 0;
    for (long i = 0; i < g3->size; i++) sg += fabs(g3->g[i]);
    assert_true(sg > 0);
    assert_true(b.lambda[3]->g[0] != 0.0f);

    mg_dcinet_init(&c, &cc, 3);
    assert_int_equal(mg_dcinet_load_grown(pa, &c, &from, &fk), -1);
    assert_non_null(strstr(mg_error(), "small.safetensors"));
    assert_non_null(strstr(mg_error(), "at most its blocks"));
    mg_dcinet_free(&c);
    mg_dcinet_init(&c, &cg, 3);
    assert_int_equal(mg_dcinet_load_grown(pa, &c, &from, &fk), -1);
    assert_non_null(strstr(mg_error(), "2I-1G-4K"));
    mg_dcinet_free(&c);
    /* weights trained for another LeakyReLU slope are refused */
    mg_dcinet_cfg cs = cb;
    cs.slope = 0.1f;
    mg_dcinet_init(&c, &cs, 3);
    assert_int_equal(mg_dcinet_load_grown(pa, &c, &from, &fk), -1);
    assert_non_null(strstr(mg_error(), "small.safetensors: checkpoint's LeakyReLU slope is 0.2 but the run's is 0.1"));
    mg_dcinet_free(&c);

    /* wider: 2I-1G-4K into 4I-1G-6K computes a's output (to rounding: the
     * convolutions sum over more, zero, channels) */
    mg_dcinet_init(&c, &ck, 4);
    assert_int_equal(mg_dcinet_load_grown(pa, &c, &from, &fk), 0);
    assert_true(from == 2 && fk == 4);
    const mg_param *a2 = mg_params_find(&a.params, "block1.conv2.weight"), *c2 = mg_params_find(&c.params, "block1.conv2.weight");
    double snew = 0;
    for (long o = 0; o < 6; o++)
        for (long i = 0; i < 6; i++)
            for (long q = 0; q < 25; q++) {
                const float v = c2->w[(o * 6 + i) * 25 + q];
                if (o < 4 && i < 4) assert_true(v == a2->w[(o * 4 + i) * 25 + q]);
                else if (o < 4) assert_true(v == 0.0f); /* new -> old: unconnected */
                else snew += fabs(v);                   /* new outputs: initialised */
            }
    assert_true(snew > 0);
    float oc[2 * HH * WW];
    mg_dcinet_forward(&c, ku, sens, mask, oc, 1, CC, HH, WW);
    double dmax = 0, amax = 0;
    for (long i = 0; i < 2 * hw; i++) {
        dmax = fmax(dmax, fabs((double)oc[i] - oa[i]));
        amax = fmax(amax, fabs((double)oa[i]));
    }
    print_message("widened 4K -> 6K: max |difference| %.3g of max |output| %.3g\n", dmax, amax);
    assert_true(dmax <= 1e-5 * amax);
    /* conv3's zero weights from the new channels get gradients */
    mg_params_zero_grad(&c.params);
    mg_dcinet_backward(&c, oc, NULL);
    const mg_param *gc3 = mg_params_find(&c.params, "block0.conv3.weight");
    double sgn = 0;
    for (long o = 0; o < 2; o++)
        for (long i = 4; i < 6; i++)
            for (long q = 0; q < 25; q++) sgn += fabs(gc3->g[(o * 6 + i) * 25 + q]);
    assert_true(sgn > 0);
    mg_dcinet_free(&c);
    /* narrower is refused */
    char *pw = tu_path(dir, "wide.safetensors");
    mg_dcinet_init(&c, &ck, 4);
    assert_int_equal(mg_checkpoint_save(pw, &c, NULL, NULL, "{}", 0), 0);
    mg_dcinet_free(&c);
    mg_dcinet_init(&c, &cb, 3);
    assert_int_equal(mg_dcinet_load_grown(pw, &c, &from, &fk), -1);
    assert_non_null(strstr(mg_error(), "at most its blocks and kernels"));
    mg_dcinet_free(&c);
    /* a header that claims 3 kernels over tensors of 4 is refused, naming the tensor */
    a.cfg.kernels = 3;
    assert_int_equal(mg_checkpoint_save(pw, &a, NULL, NULL, "{}", 0), 0);
    a.cfg.kernels = 4;
    mg_dcinet_init(&c, &ck, 4);
    assert_int_equal(mg_dcinet_load_grown(pw, &c, &from, &fk), -1);
    assert_non_null(strstr(mg_error(), "block0.conv1.weight' does not fit"));
    mg_dcinet_free(&c);
    free(pw);
    mg_dcinet_free(&a);
    mg_dcinet_free(&b);
    free(pa);
}

/* mrgan average: each weight of the output is the mean of the inputs'
 * (closed form, in double here); the first input's config and domain are
 * kept, every input is listed; two checkpoints at least, one architecture
 * and one domain, and nothing is written when one of those fails. */
static void test_average(void **state)
{
    (void)state;
    const mg_dcinet_cfg ca = {2, 1, 4, 0.2f}, cb = {3, 1, 4, 0.2f};
    mg_domain dom = {{96, 128}, {128, 160}, {4, 8}, 4.0, "T1,T2", 1}, dom2 = dom;
    dom2.coils[1] = 16;
    char *dj = mg_domain_json(&dom), *dj2 = mg_domain_json(&dom2), cfg[512], cfgb[512], cfg2[512];
    snprintf(cfg, sizeof cfg, "{\"seed\": \"5\", \"domain\": %s}", dj);
    snprintf(cfgb, sizeof cfgb, "{\"seed\": \"7\", \"domain\": %s}", dj);
    snprintf(cfg2, sizeof cfg2, "{\"seed\": \"6\", \"domain\": %s}", dj2);
    mg_dcinet n[3], big, got;
    char *p[3], *pbig = tu_path(dir, "avg_big.safetensors"), *pdom = tu_path(dir, "avg_dom.safetensors"),
                *out = tu_path(dir, "avg_out.safetensors");
    for (int i = 0; i < 3; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "avg_%d.safetensors", i);
        p[i] = tu_path(dir, nm);
        mg_dcinet_init(&n[i], &ca, 10 + (uint64_t)i);
        n[i].lambda[0]->w[0] = 0.5f + (float)i; /* lambdas start equal: make them differ */
        assert_int_equal(mg_checkpoint_save(p[i], &n[i], NULL, NULL, i == 0 ? cfg : cfgb, 0), 0);
    }
    assert_int_equal(mg_checkpoint_average((const char *const *)p, 3, out), 0);
    memset(&got, 0, sizeof got);
    assert_int_equal(mg_dcinet_load(out, &got), 0);
    assert_int_equal(got.params.n, n[0].params.n);
    double worst = 0, spread = 0;
    for (int q = 0; q < got.params.n; q++)
        for (long j = 0; j < got.params.p[q]->size; j++) {
            const double a = n[0].params.p[q]->w[j], b = n[1].params.p[q]->w[j], c = n[2].params.p[q]->w[j];
            worst = fmax(worst, fabs(got.params.p[q]->w[j] - (a + b + c) / 3.0) / fmax(1e-30, fabs(a + b + c) / 3.0));
            if (got.params.p[q]->ndim == 4) spread = fmax(spread, fabs(a - b)); /* the conv weights */
        }
    print_message("average of 3: worst relative error %.3g (conv weights differ by up to %.3g)\n", worst, spread);
    assert_true(spread > 1e-3);
    assert_true(worst <= 1.2e-7);
    assert_true(fabs(got.lambda[0]->w[0] - 1.5f) <= 1e-6f);
    mg_st_file f;
    assert_int_equal(mg_st_read(out, &f), 0);
    const char *oc = mg_st_meta(&f, "config");
    assert_non_null(oc);
    assert_non_null(strstr(oc, "\"seed\":\t\"5\""));
    assert_non_null(strstr(oc, "avg_2.safetensors"));
    char hex[65];
    assert_int_equal(mg_sha256_file(p[1], hex), 0);
    assert_non_null(strstr(oc, hex));
    mg_domain back;
    assert_int_equal(mg_domain_parse(oc, &back), 0);
    assert_true(back.coils[1] == 8 && back.lines[0] == 96 && !strcmp(back.contrasts, "T1,T2"));
    mg_st_free(&f);
    mg_dcinet_free(&got);

    /* refusals: each names the file, and the output is not written */
    assert_int_equal(unlink(out), 0);
    assert_int_equal(mg_checkpoint_average((const char *const *)p, 1, out), -1);
    assert_non_null(strstr(mg_error(), "at least two"));
    mg_dcinet_init(&big, &cb, 3);
    assert_int_equal(mg_checkpoint_save(pbig, &big, NULL, NULL, cfg, 0), 0);
    const char *arch[2] = {p[0], pbig};
    assert_int_equal(mg_checkpoint_average(arch, 2, out), -1);
    assert_non_null(strstr(mg_error(), "avg_big.safetensors"));
    assert_non_null(strstr(mg_error(), "3I-1G-4K"));
    const mg_dcinet_cfg cs = {2, 1, 4, 0.3f}; /* the same shapes, another slope */
    mg_dcinet_free(&big);
    mg_dcinet_init(&big, &cs, 3);
    assert_int_equal(mg_checkpoint_save(pbig, &big, NULL, NULL, cfg, 0), 0);
    assert_int_equal(mg_checkpoint_average(arch, 2, out), -1);
    assert_non_null(strstr(mg_error(), "avg_big.safetensors: checkpoint's LeakyReLU slope is 0.3 but the run's is 0.2"));
    assert_int_equal(mg_checkpoint_save(pdom, &n[1], NULL, NULL, cfg2, 0), 0);
    const char *other[2] = {p[0], pdom};
    assert_int_equal(mg_checkpoint_average(other, 2, out), -1);
    assert_non_null(strstr(mg_error(), "avg_dom.safetensors: trained on another domain"));
    assert_int_equal(mg_checkpoint_save(pdom, &n[1], NULL, NULL, "{}", 0), 0); /* no domain recorded */
    assert_int_equal(mg_checkpoint_average(other, 2, out), -1);
    assert_non_null(strstr(mg_error(), "another domain"));
    assert_int_equal(access(out, F_OK), -1);

    mg_dcinet_free(&big);
    for (int i = 0; i < 3; i++) {
        mg_dcinet_free(&n[i]);
        free(p[i]);
    }
    free(pbig);
    free(pdom);
    free(out);
    free(dj);
    free(dj2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safetensors_roundtrip_and_errors),
        cmocka_unit_test(test_init_grown),
        cmocka_unit_test(test_average),
        cmocka_unit_test(test_config_roundtrip_and_ranges),
        cmocka_unit_test(test_augment),
        cmocka_unit_test(test_resume_exact), cmocka_unit_test(test_lr_schedule),
        cmocka_unit_test(test_resume_schedule_clip), cmocka_unit_test(test_resume_new_total),
        cmocka_unit_test(test_training_helps),
        cmocka_unit_test(test_gan_modes),
        cmocka_unit_test(test_gan_resume_calibrated),
        cmocka_unit_test(test_gan_resume_exact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

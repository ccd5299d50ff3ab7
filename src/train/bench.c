/* Speed (mrgan bench, docs/results.md): DCI-Net inference and training steps
 * on synthetic data, on the CPU or a GPU backend's device; GFLOP/s, the ratio
 * to an OpenBLAS SGEMM run in this process, peak memory. */
#include "trainer.h"
#include "../gpu/backend.h"
#include "../mri/mri.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

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
    if (mg_trainer_mode(t) || (cfg->gpu >= 0 && mg_backend_open(cfg->gpu))) goto out;
    /* synthetic slices: birdcage maps, a random smooth-phase image, noise */
    const long ns = cfg->batch, n = (long)C * H * W;
    mg_kdata d = {.nslices = ns, .coils = C, .h = H, .w = W};
    d.kspace = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    d.sens = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    cfloat *img = mg_malloc_array((size_t)H * W, sizeof(cfloat));
    mg_rng r;
    mg_rng_seed(&r, 1);
    for (long s = 0; s < ns; s++) {
        for (long i = 0; i < (long)H * W; i++) img[i] = (float)mg_rng_uniform(&r);
        mg_birdcage_maps(d.sens + s * n, C, H, W, 1.5, 0.1 * (double)s);
        mg_simulate_kspace(img, d.sens + s * n, C, H, W, 0.01, &r, d.kspace + s * n);
    }
    free(img);
    const int wrapped = mg_dataset_wrap(&t->tr, &d);
    mg_kdata_free(&d);
    if (wrapped) goto out;
    int cin;
    if (mg_trainer_models(t, H, W, &cin)) goto out;
    mg_batch_alloc(&t->b, cfg->batch, C, H, W, cin);
    t->src = (mg_batch_src){cfg, &t->tr, t->Bg, 0};
    if (mg_trainer_step_open(t, cin)) goto out;
    perm = mg_calloc((size_t)ns, sizeof(long));
    for (long i = 0; i < ns; i++) perm[i] = i;
    *step_s = 1e30;
    *prep_s = 0;
    for (int i = 0; i <= reps; i++) { /* the first one plans and warms up */
        mg_step_log lg = {0, 0, 0, 0, 0, 0, 0};
        t->pos.step_in_epoch = 0;
        t->prep_s = 0;
        double t0 = mg_now();
        if (mg_trainer_step(t, perm, 1, &lg)) goto out;
        t->step.finish(&t->step);
        const double loss = lg.loss;
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
    mg_trainer_free(t);
    return rc;
}

/* SGEMM 2048^3, best of 3: OpenBLAS (onednn = 0, the ratios' reference) or
 * mg_sgemm (oneDNN: the linear layers' and FID's kernel) */
static double sgemm_gflops(int onednn)
{
    const int n = 2048;
    float *a = mg_malloc_array((size_t)n * n, sizeof(float)), *b = mg_malloc_array((size_t)n * n, sizeof(float));
    float *c = mg_calloc((size_t)n * n, sizeof(float));
    for (long i = 0; i < (long)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    openblas_set_num_threads(omp_get_max_threads()); /* the machine's SGEMM, all cores */
    double best = 1e30;
    for (int r = 0; r < 4; r++) { /* the first is a warm-up */
        double t = mg_now();
        if (onednn) mg_sgemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t = mg_now() - t;
        if (r > 0 && t < best) best = t;
    }
    openblas_set_num_threads(1); /* as mrgan runs (main.c) */
    free(a); free(b); free(c);
    return 2.0 * n * (double)n * n / best / 1e9;
}

/* fastest of reps forwards (after one warm-up), one slice */
static double time_inference(mg_dcinet *net, int C, int H, int W, int reps, int gpu)
{
    const long hw = (long)H * W, n = C * hw;
    cfloat *ku = mg_malloc_array((size_t)n, sizeof(cfloat)), *sens = mg_malloc_array((size_t)n, sizeof(cfloat));
    float *mask = mg_malloc_array((size_t)H, sizeof(float)), *out = mg_malloc_array((size_t)(2 * hw), sizeof(float));
    mg_rng r;
    mg_rng_seed(&r, 3);
    for (long i = 0; i < n; i++) ku[i] = (float)mg_rng_normal(&r) + I * (float)mg_rng_normal(&r);
    mg_birdcage_maps(sens, C, H, W, 1.5, 0.0);
    mg_mask_vd(mask, H, 4.0, 12, 1);
    mg_mask_apply(ku, mask, C, H, W);
    double best = 1e30;
    if (gpu >= 0) { /* data resident on the device, as in a pipeline; synchronised */
        double hb;
        best = mg_backend_time_forward(net, ku, sens, mask, C, H, W, reps, &hb);
        printf("  inference with host transfers %.2f ms\n", hb * 1e3);
    } else
        for (int i = 0; i <= reps; i++) {
            double t = mg_now();
            mg_dcinet_infer(net, ku, sens, mask, out, 1, C, H, W);
            t = mg_now() - t;
            if (i > 0 && t < best) best = t;
        }
    free(ku); free(sens); free(mask); free(out);
    return best;
}

/* Peak resident set of the process since the last peak_reset (Linux: VmHWM,
 * reset through /proc/self/clear_refs; elsewhere the lifetime maximum), or
 * with --gpu the device memory held by mrgan's buffers. */
static void peak_reset(int gpu)
{
    if (gpu >= 0) {
        mg_backend_peak_reset();
        return;
    }
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

static double peak_mb(int gpu)
{
    if (gpu >= 0) return mg_backend_peak_mb();
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb / 1024.0;
}

/* sgemm: OpenBLAS SGEMM's rate here; peak: the CPU's measured peak for the
 * convolutions' precision (core.h), the figure each rate is a fraction of */
static int run(const char *name, mg_dcinet_cfg cfg, int C, int H, int W, int reps, int batch, int train,
                int gpu, double sgemm, double peak)
{
    mg_dcinet net;
    mg_dcinet_init(&net, &cfg, 1);
    const double f = mg_dcinet_flops(&cfg, C, H, W);
    printf("%s: %dx%d, %d coils, %dI-%dG-%dK, %ld parameters, %.1f GFLOP per forward\n", name, H, W, C, cfg.blocks,
           cfg.growth, cfg.kernels, mg_params_count(&net.params), f / 1e9);
    fflush(stdout);
    peak_reset(gpu);
    const double ti = time_inference(&net, C, H, W, reps, gpu);
    const double pi = peak_mb(gpu);
    mg_dcinet_free(&net);
    const char *unit = gpu >= 0 ? "ms" : "s";
    const double k = gpu >= 0 ? 1e3 : 1;
    printf("  inference      %8.3f %s per slice  %8.1f GFLOP/s", ti * k, unit, f / ti / 1e9);
    if (sgemm > 0) printf("  %.2f of SGEMM", f / ti / 1e9 / sgemm);
    if (peak > 0) printf("  %.3f of CPU peak", f / ti / 1e9 / peak);
    printf("  peak %.0f MB\n", pi);
    fflush(stdout);
    static const char *modes[2] = {"mse", "cwgan-agb"};
    for (int m = 0; train && m < 2; m++) {
        mg_train_cfg tc;
        mg_train_defaults(&tc);
        snprintf(tc.mode, sizeof tc.mode, "%s", modes[m]);
        tc.net = cfg;
        tc.batch = batch;
        tc.gpu = gpu;
        double ts, tp;
        peak_reset(gpu);
        if (mg_train_bench(&tc, C, H, W, reps, &ts, &tp)) return -1;
        const double pm = peak_mb(gpu);
        printf("  %-9s step %8.3f %s (batch %d; %.3f %s preparing samples on the CPU)", modes[m], ts * k, unit,
               batch, tp * k, unit);
        if (m == 0) {
            const double gf = 3.0 * f * batch / ts / 1e9;
            printf("  %8.1f GFLOP/s", gf);
            if (sgemm > 0) printf("  %.2f of SGEMM", gf / sgemm);
            if (peak > 0) printf("  %.3f of CPU peak", gf / peak);
        }
        printf("  peak %.0f MB\n", pm);
        fflush(stdout);
    }
    return 0;
}

int mg_bench_run(const char *which, int reps, int batch, int train, int gpu)
{
    double sg = 0, peak = 0;
    if (gpu >= 0) {
        if (mg_backend_open(gpu)) return -1;
        printf("GPU %d: %s\n", gpu, mg_backend_describe());
    } else {
        sg = sgemm_gflops(0);
        printf("CPU: %d OpenMP threads; SGEMM 2048^3 (best of 3, this process): OpenBLAS %.1f GFLOP/s, oneDNN "
               "%.1f GFLOP/s (mrgan's linear layers and FID)\n",
               omp_get_max_threads(), sg, sgemm_gflops(1));
        const char *h32, *h16;
        const double p32 = mg_peak_fp32_gflops(&h32), p16 = mg_peak_bf16_gflops(&h16);
        printf("CPU peak: fp32 %.1f GFLOP/s (%s), bf16 %.1f GFLOP/s (%s; AMX tiles not measured); convolutions in "
               "%s: figures below are fractions of its peak\n",
               p32, h32, p16, h16, mg_conv_precision() == MG_PRECISION_BF16 ? "bf16" : "fp32");
        peak = mg_conv_precision() == MG_PRECISION_BF16 ? p16 : p32;
    }
    if (!strcmp(which, "small") || !strcmp(which, "all"))
        if (run("small", (mg_dcinet_cfg){5, 5, 16, 0.2f}, 8, 128, 128, reps, batch, train, gpu, sg, peak)) return -1;
    if (!strcmp(which, "paper") || !strcmp(which, "all"))
        if (run("paper", (mg_dcinet_cfg){20, 5, 40, 0.2f}, 8, 256, 256, reps, batch, train, gpu, sg, peak)) return -1;
    if (gpu >= 0)
        printf("targets (issue 10, one H100): paper inference <= 5 ms per slice, cWGAN-AGB step <= 20 ms\n");
    else
        printf("targets (issue 9, 2 cores): paper inference <= 0.9 s, MSE step <= 2.9 s, AGB step <= 4.0 s, "
               "peak memory <= 0.7 GB; PyTorch 1.13 CPU: 1.67 s, 4.53 s, 6.2 s, 1.4 GB\n");
    return 0;
}

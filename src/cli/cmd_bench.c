/* mrgan bench: DCI-Net speed on this machine (CPU, or a CUDA device with
 * --gpu): inference, MSE training step and cWGAN-AGB training step, GFLOP/s,
 * the ratio to an OpenBLAS SGEMM run in this process, peak memory. */
#include "cli.h"
#include "models/models.h"
#include "mri/mri.h"
#include "train/train.h"
#ifdef MRGAN_HAVE_CUDA
#include "gpu/gpu.h"
#endif

#include <cblas.h>
#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const char *help =
    "usage: mrgan bench [options]\n"
    "\n"
    "Times DCI-Net on synthetic data (birdcage maps, random images, a 1D\n"
    "variable-density mask at R = 4) and prints per configuration: inference per\n"
    "slice, an MSE training step and a cWGAN-AGB training step (one critic step,\n"
    "then the generator step with the critic's gradient and the AGB update), each\n"
    "the fastest of --reps after a warm-up; the training steps include preparing\n"
    "the samples on the CPU (shown separately); GFLOP/s of the convolutions and\n"
    "FFTs (a step counts 3 forwards), their ratio to OpenBLAS SGEMM 2048^3 in this\n"
    "process (CPU), and the peak memory of each measurement (resident set of the\n"
    "process, or with --gpu the device memory mrgan holds; reset between them).\n"
    "\n"
    "  --config C     small (128x128, 8 coils, 5I-5G-16K), paper (256x256, 8 coils,\n"
    "                 20I-5G-40K) or all (default)\n"
    "  --reps N       timed repetitions (default 3)\n"
    "  --batch B      slices per training step (default 1, as the paper)\n"
    "  --no-train     inference only\n"
    "  --gpu[=N]      on CUDA device N (default 0) instead of the CPU\n"
    "Threads: OMP_NUM_THREADS (default: all cores).\n";

static double sgemm_gflops(void)
{
    const int n = 2048;
    float *a = mg_malloc_array((size_t)n * n, sizeof(float)), *b = mg_malloc_array((size_t)n * n, sizeof(float));
    float *c = mg_calloc((size_t)n * n, sizeof(float));
    for (long i = 0; i < (long)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    openblas_set_num_threads(omp_get_max_threads()); /* the machine's SGEMM, all cores */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t = mg_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t = mg_now() - t;
        if (t < best) best = t;
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
#ifdef MRGAN_HAVE_CUDA
    if (gpu >= 0) { /* data resident on the device, as in a pipeline; synchronised */
        mg_gpu_dcinet *g = mg_gpu_dcinet_create(net);
        float *dk = mg_gpu_alloc((size_t)(2 * n)), *ds = mg_gpu_alloc((size_t)(2 * n));
        float *dm = mg_gpu_alloc((size_t)H), *dout = mg_gpu_alloc((size_t)(2 * hw));
        mg_gpu_upload(dk, (const float *)ku, (size_t)(2 * n));
        mg_gpu_upload(ds, (const float *)sens, (size_t)(2 * n));
        mg_gpu_upload(dm, mask, (size_t)H);
        for (int i = 0; i <= reps; i++) {
            double t = mg_now();
            mg_gpu_dcinet_forward(g, dk, ds, dm, dout, 1, C, H, W);
            mg_gpu_sync();
            t = mg_now() - t;
            if (i > 0 && t < best) best = t;
        }
        double hb = 1e30; /* host in, host out */
        for (int i = 0; i < reps; i++) {
            double t = mg_now();
            mg_gpu_dcinet_infer(g, ku, sens, mask, out, 1, C, H, W);
            t = mg_now() - t;
            if (t < hb) hb = t;
        }
        printf("  inference with host transfers %.2f ms\n", hb * 1e3);
        mg_gpu_free(dk); mg_gpu_free(ds); mg_gpu_free(dm); mg_gpu_free(dout);
        mg_gpu_dcinet_free(g);
    } else
#else
    (void)gpu;
#endif
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
#ifdef MRGAN_HAVE_CUDA
    if (gpu >= 0) {
        mg_gpu_peak_reset();
        return;
    }
#else
    (void)gpu;
#endif
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

static double peak_mb(int gpu)
{
#ifdef MRGAN_HAVE_CUDA
    if (gpu >= 0) return (double)mg_gpu_peak_bytes() / 1048576.0;
#else
    (void)gpu;
#endif
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

static void run(const char *name, mg_dcinet_cfg cfg, int C, int H, int W, int reps, int batch, int train,
                int gpu, double sgemm)
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
        if (mg_train_bench(&tc, C, H, W, reps, &ts, &tp)) cli_fail("bench", "%s", mg_error());
        const double pm = peak_mb(gpu);
        printf("  %-9s step %8.3f %s (batch %d; %.3f %s preparing samples on the CPU)", modes[m], ts * k, unit,
               batch, tp * k, unit);
        if (m == 0) {
            const double gf = 3.0 * f * batch / ts / 1e9;
            printf("  %8.1f GFLOP/s", gf);
            if (sgemm > 0) printf("  %.2f of SGEMM", gf / sgemm);
        }
        printf("  peak %.0f MB\n", pm);
        fflush(stdout);
    }
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {{"config", 1, 0, 'c'}, {"reps", 1, 0, 'r'}, {"batch", 1, 0, 'b'},
                                         {"no-train", 0, 0, 'n'}, {"gpu", 2, 0, 'G'}, {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cmd = "bench", *which = "all";
    int reps = 3, batch = 1, train = 1, gpu = -1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (strcmp(optarg, "small") && strcmp(optarg, "paper") && strcmp(optarg, "all"))
                cli_fail(cmd, "option --config: '%s' is not small, paper or all", optarg);
            which = optarg;
            break;
        case 'r': reps = (int)cli_long(cmd, "--reps", optarg, 1, 1000); break;
        case 'b': batch = (int)cli_long(cmd, "--batch", optarg, 1, 256); break;
        case 'n': train = 0; break;
        case 'G': gpu = cli_gpu_device(cmd, optarg); break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan bench --help')");
        }
    }
    if (optind != argc) cli_fail(cmd, "unexpected argument '%s' (see 'mrgan bench --help')", argv[optind]);
    double sg = 0;
    if (gpu >= 0) {
        if (mg_train_gpu_open(gpu)) cli_fail(cmd, "%s", mg_error());
#ifdef MRGAN_HAVE_CUDA
        printf("GPU %d: %s, %s\n", gpu, mg_gpu_name(), mg_gpu_tf32() ? "TF32 tensor cores" : "strict FP32");
#endif
    } else {
        sg = sgemm_gflops();
        printf("CPU: %d OpenMP threads; OpenBLAS SGEMM 2048^3 %.1f GFLOP/s (best of 3, this process)\n",
               omp_get_max_threads(), sg);
    }
    if (!strcmp(which, "small") || !strcmp(which, "all"))
        run("small", (mg_dcinet_cfg){5, 5, 16, 0.2f}, 8, 128, 128, reps, batch, train, gpu, sg);
    if (!strcmp(which, "paper") || !strcmp(which, "all"))
        run("paper", (mg_dcinet_cfg){20, 5, 40, 0.2f}, 8, 256, 256, reps, batch, train, gpu, sg);
    if (gpu >= 0)
        printf("targets (issue 10, one H100): paper inference <= 5 ms per slice, cWGAN-AGB step <= 20 ms\n");
    else
        printf("targets (issue 9, 2 cores): paper inference <= 0.9 s, MSE step <= 2.9 s, AGB step <= 4.0 s, "
               "peak memory <= 0.7 GB; PyTorch 1.13 CPU: 1.67 s, 4.53 s, 6.2 s, 1.4 GB\n");
    return 0;
}

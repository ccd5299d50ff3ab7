/* DCI-Net speed: per-slice inference and MSE training-step time, GFLOP/s of
 * the convolutions, and the ratio to an OpenBLAS SGEMM run in this process.
 *   bench_dcinet [small|paper|all] [reps]
 * Paper config: 256x256, 8 coils, 20I-5G-40K; small: 128x128, 8 coils,
 * 5I-5G-16K. Threads: OMP_NUM_THREADS (default all cores). */
#include "core/core.h"
#include "fft/fft.h"
#include "models/models.h"
#include "mri/mri.h"
#include "nn/nn.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double sgemm_gflops(void)
{
    const int n = 2048;
    float *a = mg_malloc_array((size_t)n * n, sizeof(float)), *b = mg_malloc_array((size_t)n * n, sizeof(float));
    float *c = mg_calloc((size_t)n * n, sizeof(float));
    for (long i = 0; i < (long)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t = mg_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t = mg_now() - t;
        if (t < best) best = t;
    }
    free(a); free(b); free(c);
    return 2.0 * n * (double)n * n / best / 1e9;
}

static void run(const char *name, mg_dcinet_cfg cfg, int C, int H, int W, int reps, double sgemm)
{
    const long hw = (long)H * W, n = C * hw;
    mg_dcinet net;
    mg_dcinet_init(&net, &cfg, 1);
    cfloat *ku = mg_malloc_array((size_t)n, sizeof(cfloat)), *sens = mg_malloc_array((size_t)n, sizeof(cfloat));
    float *mask = mg_malloc_array((size_t)H, sizeof(float));
    float *out = mg_malloc_array((size_t)(2 * hw), sizeof(float)), *tgt = mg_calloc((size_t)(2 * hw), sizeof(float));
    float *dout = mg_malloc_array((size_t)(2 * hw), sizeof(float));
    mg_rng r;
    mg_rng_seed(&r, 3);
    for (long i = 0; i < n; i++) ku[i] = (float)mg_rng_normal(&r) + I * (float)mg_rng_normal(&r);
    mg_birdcage_maps(sens, C, H, W, 1.5, 0.0);
    mg_mask_vd(mask, H, 4.0, 12, 1);
    mg_mask_apply(ku, mask, C, H, W);
    mg_adam adam;
    mg_adam_init(&adam, 5e-4f, 0.9f, 0.999f, 1e-8f);
    mg_dcinet_forward(&net, ku, sens, mask, out, 1, C, H, W); /* warm-up: plans, primitives */
    double tinf = 1e30, tstep = 1e30;
    for (int i = 0; i < reps; i++) {
        double t = mg_now();
        mg_dcinet_forward(&net, ku, sens, mask, out, 1, C, H, W);
        t = mg_now() - t;
        if (t < tinf) tinf = t;
    }
    for (int i = 0; i < reps; i++) {
        double t = mg_now();
        mg_dcinet_forward(&net, ku, sens, mask, out, 1, C, H, W);
        memset(dout, 0, sizeof(float) * (size_t)(2 * hw));
        mg_mse_backward(out, tgt, dout, 2 * hw, 2.0f);
        mg_params_zero_grad(&net.params);
        mg_dcinet_backward(&net, dout, NULL);
        mg_adam_step(&adam, &net.params);
        t = mg_now() - t;
        if (t < tstep) tstep = t;
    }
    double f = mg_dcinet_flops(&cfg, C, H, W);
    double gf_inf = f / tinf / 1e9, gf_step = 3.0 * f / tstep / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%-6s %3dx%-3d %d coils %2dI-%dG-%2dK %8ld params | inference %7.3f s (%6.1f GFLOP/s, %.2f of SGEMM) | "
           "MSE step %7.3f s (%6.1f GFLOP/s, %.2f of SGEMM) | peak RSS %.0f MB\n",
           name, H, W, C, cfg.blocks, cfg.growth, cfg.kernels, mg_params_count(&net.params), tinf, gf_inf,
           gf_inf / sgemm, tstep, gf_step, gf_step / sgemm, ru.ru_maxrss / 1024.0);
    mg_dcinet_free(&net);
    free(ku); free(sens); free(mask); free(out); free(tgt); free(dout);
}

int main(int argc, char **argv)
{
    mg_fft_set_threads(omp_get_max_threads()); /* as mrgan does */
    const char *which = argc > 1 ? argv[1] : "all";
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    if (reps < 1) reps = 1;
    double sg = sgemm_gflops();
    printf("OpenBLAS SGEMM 2048^3: %.1f GFLOP/s (best of 3, this process)\n", sg);
    if (!strcmp(which, "small") || !strcmp(which, "all"))
        run("small", (mg_dcinet_cfg){5, 5, 16, 0.2f}, 8, 128, 128, reps, sg);
    if (!strcmp(which, "paper") || !strcmp(which, "all"))
        run("paper", (mg_dcinet_cfg){20, 5, 40, 0.2f}, 8, 256, 256, reps, sg);
    printf("targets on 2 cores (issue 3/9): paper inference <= 0.9 s, MSE step <= 2.9 s; "
           "PyTorch CPU reference 1.67 s and 4.53 s\n");
    mg_fft_cleanup();
    return 0;
}

/* Per-layer timings of DCI-Net's three convolutions at the paper config
 * (256 x 256, K = 40, a block with 5 skips: conv1 12 -> 40, conv2 40 -> 40,
 * conv3 40 -> 2), forward and backward (data and weight gradients, the
 * LeakyReLU backward fused where DCI-Net fuses it), best of 8, in fp32 and
 * (where the CPU has it) bf16: the layouts of session 10 (conv1 plain ->
 * nChw16c, conv2 nChw16c, conv3 nChw16c -> plain) against DCI-Net's nhwc
 * throughout (docs/dcinet.md). A benchmark: prints figures, asserts nothing.
 *
 *   OMP_NUM_THREADS=2 build/conv_layers */
#include "nn/nn.h"

#include <stdio.h>
#include <stdlib.h>

/* one layer: forward and backward milliseconds (best of 8), their sum returned */
static double layer(const char *name, int cin, int cout, int lay_src, int lay_dst)
{
    const int H = 256;
    const long n = 48L * H * H; /* every buffer large enough for 48 channels */
    mg_rng g;
    mg_rng_seed(&g, 3);
    mg_params ps = {0};
    mg_conv2d cv;
    mg_conv2d_init(&cv, &ps, "c", cin, cout, 5, 1, 2, 1, &g);
    cv.lay_src = lay_src;
    cv.lay_dst = lay_dst;
    cv.fuse_leaky = cout > 2; /* conv1 and conv2 */
    cv.slope = 0.2f;
    float *x = mg_calloc((size_t)n, sizeof(float)), *y = mg_calloc((size_t)n, sizeof(float));
    float *dy = mg_calloc((size_t)n, sizeof(float)), *dx = mg_calloc((size_t)n, sizeof(float));
    for (long i = 0; i < n; i++) {
        x[i] = (float)mg_rng_uniform(&g) - 0.3f;
        dy[i] = (float)mg_rng_uniform(&g) - 0.5f;
    }
    double bf = 1e30, bb = 1e30;
    for (int k = 0; k < 8; k++) {
        const double t0 = mg_now();
        mg_conv2d_forward(&cv, x, y, 1, H, H);
        const double t1 = mg_now();
        if (cin == 12) /* conv1: its input needs a gradient, no LeakyReLU before it */
            mg_conv2d_backward(&cv, x, dy, dx, 1, H, H);
        else /* conv2, conv3: the LeakyReLU backward of their input fused in */
            mg_conv2d_backward_act(&cv, x, dy, dx, x, 0.2f, 1, H, H);
        const double t2 = mg_now();
        if (t1 - t0 < bf) bf = t1 - t0;
        if (t2 - t1 < bb) bb = t2 - t1;
    }
    printf("  %-6s forward %6.2f ms   backward (data + weights) %6.2f ms\n", name, bf * 1e3, bb * 1e3);
    mg_conv2d_free(&cv);
    mg_params_free(&ps);
    free(x); free(y); free(dy); free(dx);
    return (bf + bb) * 1e3;
}

int main(void)
{
    const int N = MG_LAYOUT_NHWC, B = MG_LAYOUT_NCHW16C, P = MG_LAYOUT_NCHW;
    for (int prec = 0; prec < 2; prec++) {
        if (prec == 1 && mg_conv_set_precision(MG_PRECISION_BF16)) {
            printf("bf16: %s\n", mg_error());
            break;
        }
        double total[2];
        for (int nhwc = 0; nhwc < 2; nhwc++) {
            printf("%s, %s\n", prec ? "bf16" : "fp32", nhwc ? "nhwc throughout" : "session 10: plain -> nChw16c -> plain");
            total[nhwc] = layer("conv1", 12, 40, nhwc ? N : P, nhwc ? N : B) + layer("conv2", 40, 40, nhwc ? N : B, nhwc ? N : B) +
                          layer("conv3", 40, 2, nhwc ? N : B, nhwc ? N : P);
        }
        printf("%s, the three per block: %.1f -> %.1f ms (%.2fx)\n", prec ? "bf16" : "fp32", total[0], total[1],
               total[0] / total[1]);
    }
    mg_conv_release_scratch();
    return 0;
}

/* mrgan recon: a trained DCI-Net applied to undersampled k-space. */
#include "cli.h"
#include "models/models.h"
#include "mri/mri.h"
#include "train/train.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help_head =
    "usage: mrgan recon --model CKPT [options] KSPACE OUT\n"
    "\n"
    "Reconstructs undersampled k-space with a trained DCI-Net checkpoint\n"
    "(RUN/best.safetensors or RUN/last.safetensors from 'mrgan train').\n"
    "KSPACE and OUT as for 'mrgan zerofill'. Each slice is scaled by the 99th\n"
    "percentile of its zero-filled magnitude, as in training.\n"
    "\n"
    "  --model CKPT         checkpoint (required)\n";

typedef struct {
    int C, H, W;
    mg_dcinet net;
    cfloat *ku, *work;
    float *out, *full;
} recon_ctx;

static void recon_slice(void *ctx, const cfloat *k, const cfloat *sens, const float *mask, cfloat *img, long s)
{
    (void)s;
    recon_ctx *r = ctx;
    const float *m = mask ? mask : r->full;
    float sc = mg_sample_prepare(k, sens, m, r->ku, NULL, NULL, r->work, r->C, r->H, r->W);
    mg_dcinet_forward(&r->net, r->ku, sens, m, r->out, 1, r->C, r->H, r->W);
    const long n = (long)r->H * r->W;
    mg_planes2c(r->out, img, n);
    for (long i = 0; i < n; i++) img[i] *= sc;
}

int cmd_recon(int argc, char **argv)
{
    static const struct option opts[] = {CLI_INPUT_OPTIONS, {"model", 1, 0, 'k'}, {"quiet", 0, 0, 'q'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "recon";
    cli_inputs in;
    cli_inputs_init(&in, cmd);
    const char *model = NULL;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_inputs_option(&in, c, optarg)) continue;
        switch (c) {
        case 'k': model = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': cli_inputs_print_help(help_head); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan recon --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan recon --help')");
    if (!model) cli_fail(cmd, "--model CKPT is required");
    const char *out = argv[optind + 1];
    recon_ctx r;
    memset(&r, 0, sizeof r);
    if (mg_checkpoint_load(model, &r.net, NULL, NULL)) cli_fail_lib(cmd);
    cli_inputs_open(&in, argv[optind]);
    r.C = (int)in.d.coils;
    r.H = (int)in.d.h;
    r.W = (int)in.d.w;
    const long n = (long)r.H * r.W;
    r.ku = mg_malloc_array((size_t)(r.C * n), sizeof(cfloat));
    r.work = mg_malloc_array((size_t)(r.C * n), sizeof(cfloat));
    r.out = mg_malloc_array((size_t)(2 * n), sizeof(float));
    r.full = mg_malloc_array((size_t)r.H, sizeof(float)); /* fully sampled input: every line */
    for (int y = 0; y < r.H; y++) r.full[y] = 1.0f;
    mg_nmse_acc acc = {0, 0};
    double dt = cli_inputs_run(&in, quiet, recon_slice, &r, out, &acc);
    printf("recon: %ld slice(s) of %dx%d, %d coils, DCI-Net %dI-%dG-%dK, %.3f s per slice -> %s\n",
           in.s1 - in.s0, r.H, r.W, r.C, r.net.cfg.blocks, r.net.cfg.growth, r.net.cfg.kernels, dt, out);
    cli_inputs_report(&in, &acc);
    free(r.ku); free(r.work); free(r.out); free(r.full);
    mg_dcinet_free(&r.net);
    cli_inputs_free(&in);
    return 0;
}

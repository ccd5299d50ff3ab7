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
        case 'h':
            fputs(help_head, stdout);
            fputs(cli_inputs_help, stdout);
            fputs("  -q, --quiet          no progress output\n  -h, --help           this text\n", stdout);
            return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan recon --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan recon --help')");
    if (!model) cli_fail(cmd, "--model CKPT is required");
    const char *out = argv[optind + 1];
    mg_dcinet net = {0};
    if (mg_checkpoint_load(model, &net, NULL, NULL)) cli_fail_lib(cmd);
    cli_inputs_open(&in, argv[optind]);
    const int C = (int)in.d.coils, H = (int)in.d.h, W = (int)in.d.w;
    const long n = (long)H * W, ns = in.s1 - in.s0;
    cfloat *img = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    cfloat *ref = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *sens = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    cfloat *ku = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    cfloat *work = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    float *outp = mg_malloc_array((size_t)(2 * n), sizeof(float));
    float *full = mg_malloc_array((size_t)H, sizeof(float));
    for (int y = 0; y < H; y++) full[y] = 1.0f;
    mg_nmse_acc acc = {0, 0};
    mg_progress pr;
    mg_progress_start(&pr, cmd, ns, quiet || ns < 2);
    double t0 = mg_now();
    for (long s = in.s0; s < in.s1; s++) {
        const cfloat *k = in.d.kspace + s * C * n;
        const float *m = cli_inputs_slice(&in, s, sens);
        const float *mm = m ? m : full;
        float sc = mg_sample_prepare(k, sens, mm, ku, NULL, work, C, H, W);
        mg_dcinet_forward(&net, ku, sens, mm, outp, 1, C, H, W);
        cfloat *x = img + (s - in.s0) * n;
        mg_planes2c(outp, x, n);
        for (long i = 0; i < n; i++) x[i] *= sc;
        if (in.undersample) {
            mg_zerofill(k, sens, NULL, ref, C, H, W);
            mg_nmse_add_mag(&acc, ref, x, (size_t)n);
        }
        mg_progress_update(&pr, s - in.s0 + 1);
    }
    double dt = mg_now() - t0;
    mg_progress_end(&pr);
    if (mg_images_write(out, img, ns, H, W)) cli_fail_lib(cmd);
    printf("recon: %ld slice(s) of %dx%d, %d coils, DCI-Net %dI-%dG-%dK, %.3f s per slice -> %s\n", ns,
           H, W, C, net.cfg.blocks, net.cfg.growth, net.cfg.kernels, dt / (double)ns, out);
    cli_inputs_report(&in, &acc);
    free(img); free(ref); free(sens); free(ku); free(work); free(outp); free(full);
    mg_dcinet_free(&net);
    cli_inputs_free(&in);
    return 0;
}

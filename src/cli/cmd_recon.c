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
    "  --model CKPT         checkpoint (required); a shipped model by name: mse,\n"
    "                       cwgan-agb (models/README.md)\n"
    "  --gpu[=N]            run the network on CUDA device N (default 0; builds with\n"
    "                       the GPU backend, docs/gpu.md)\n"
    "  --precision P        fp32 (default) | bf16: the network's convolutions in\n"
    "                       bf16 (CPU; AVX512-BF16 or AMX, elsewhere a note and fp32)\n"
    "  --flips N            average the network over N mirror images of the input:\n"
    "                       4 (default) the acquisition, its readout mirror, its\n"
    "                       phase-encode mirror and both; 2 the first two; 1 the\n"
    "                       plain network (test-time self-ensembling, docs/models.md;\n"
    "                       N times the network's time)\n";

int cmd_recon(int argc, char **argv)
{
    static const struct option opts[] = {CLI_INPUT_OPTIONS, {"model", 1, 0, 'k'}, {"gpu", 2, 0, 'G'}, {"quiet", 0, 0, 'q'}, {"precision", 1, 0, 'P'}, {"flips", 1, 0, 'F'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "recon";
    cli_inputs in;
    cli_inputs_init(&in, cmd);
    const char *model = NULL;
    int quiet = 0, c, gpu = -1, prec = MG_PRECISION_FP32, flips = CLI_FLIPS_DEFAULT;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_inputs_option(&in, c, optarg)) continue;
        switch (c) {
        case 'k': model = optarg; break;
        case 'G': gpu = cli_gpu_device(cmd, optarg); break;
        case 'P': prec = cli_precision_arg(cmd, optarg); break;
        case 'F': flips = cli_flips_arg(cmd, optarg); break;
        case 'q': quiet = 1; break;
        case 'h': cli_inputs_print_help(help_head, 1); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan recon --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan recon --help')");
    if (!model) cli_fail(cmd, "--model CKPT is required");
    cli_precision_apply(cmd, prec, gpu);
    const char *out = argv[optind + 1];
    if (mg_check_output(out, &model, 1)) cli_fail_lib(cmd);
    mg_method r;
    mg_method_init(&r, MG_M_DCINET, "dci-net");
    if (mg_method_load(&r, model)) cli_fail_lib(cmd);
    if (gpu >= 0) cli_method_use_gpu(cmd, &r, gpu);
    r.flips = flips;
    cli_inputs_open(&in, argv[optind], out);
    cli_inputs_check_mask(&in); /* a bad mask option fails before the domain warning: one line on stderr */
    cli_domain_warn(cmd, &r, in.path, in.d.coils, in.d.h, in.d.w, in.mo.accel);
    mg_method_open(&r, in.d.coils, in.d.h, in.d.w, in.path);
    r.sets = in.maps;
    if (in.maps > 1 && !quiet) fprintf(stderr, "recon: note: DCI-Net's data consistency uses map set 1 of %ld\n", in.maps);
    mg_nmse_acc acc = {0, 0};
    double dt = cli_inputs_run(&in, quiet, mg_method_slice, &r, out, &acc);
    char fl[48] = "";
    if (flips > 1) snprintf(fl, sizeof fl, " averaged over %d mirror images,", flips);
    printf("recon: %ld slice(s) of %ldx%ld, %ld coils, DCI-Net %dI-%dG-%dK,%s %.3f s per slice -> %s\n",
           in.s1 - in.s0, r.H, r.W, r.C, r.net.cfg.blocks, r.net.cfg.growth, r.net.cfg.kernels, fl, dt, out);
    cli_inputs_report(&in, &acc);
    mg_method_free(&r);
    cli_inputs_free(&in);
    return 0;
}

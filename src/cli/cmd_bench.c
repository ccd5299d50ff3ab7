/* mrgan bench: DCI-Net speed on this machine (CPU, or a CUDA device with
 * --gpu): inference, MSE training step and cWGAN-AGB training step, GFLOP/s,
 * the ratio to an OpenBLAS SGEMM run in this process, peak memory. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

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
    "process (CPU; oneDNN's SGEMM, which mrgan's linear layers and FID use, is\n"
    "printed next to it), and the peak memory of each measurement (resident set of the\n"
    "process, or with --gpu the device memory mrgan holds; reset between them).\n"
    "\n"
    "  --config C     small (128x128, 8 coils, 5I-5G-16K), paper (256x256, 8 coils,\n"
    "                 20I-5G-40K) or all (default)\n"
    "  --reps N       timed repetitions (default 3)\n"
    "  --batch B      slices per training step (default 1, as the paper)\n"
    "  --no-train     inference only\n"
    "  --gpu[=N]      on CUDA device N (default 0) instead of the CPU\n"
    "  --precision P  fp32 (default) | bf16: the convolutions in bf16 (CPU;\n"
    "                 AVX512-BF16 or AMX, elsewhere a note and fp32)\n"
    "  -q, --quiet    accepted as by every command (bench prints results only)\n"
    "Threads: OMP_NUM_THREADS (default: all cores).\n";

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {{"config", 1, 0, 'c'}, {"reps", 1, 0, 'r'}, {"batch", 1, 0, 'b'},
                                         {"no-train", 0, 0, 'n'}, {"gpu", 2, 0, 'G'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
                                         {"precision", 1, 0, 'P'},
                                         {0, 0, 0, 0}};
    const char *cmd = "bench", *which = "all";
    int reps = 3, batch = 1, train = 1, gpu = -1, c, prec = MG_PRECISION_FP32;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
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
        case 'P': prec = cli_precision_arg(cmd, optarg); break;
        case 'q': break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan bench --help')");
        }
    }
    if (optind != argc) cli_fail(cmd, "unexpected argument '%s' (see 'mrgan bench --help')", argv[optind]);
    cli_precision_apply(cmd, prec, gpu);
    if (mg_bench_run(which, reps, batch, train, gpu)) cli_fail(cmd, "%s", mg_error());
    return 0;
}

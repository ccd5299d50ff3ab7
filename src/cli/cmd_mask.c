/* mrgan mask: write an undersampling mask over phase-encode lines. */
#include "cli.h"
#include "mri/mri.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan mask [options] OUT\n"
    "\n"
    "Writes a 1D undersampling mask over N phase-encode lines to OUT: a BART\n"
    "cfl with dims [1 N] (usable with 'bart fmac'), or a PNG picture (.png).\n"
    "\n"
    "  --lines N            phase-encode lines (default 256)\n"
    "  --accel R            net acceleration, >= 1 (default 4)\n"
    "  --mask-type T        vd (default): linear variable density, exact line count\n"
    "                       random: fastMRI RandomMaskFunc\n"
    "                       equispaced: fastMRI EquispacedMaskFunc\n"
    "  --center C           fully sampled centre lines (default 12)\n"
    "  --center-fraction F  centre as a fraction of N (random/equispaced; default C/N)\n"
    "  --seed S             random seed (default 1); the same seed gives the same mask\n"
    "  -q, --quiet          accepted as by every command (mask shows no progress)\n"
    "  -h, --help           this text\n";

int cmd_mask(int argc, char **argv)
{
    static const struct option opts[] = {{"lines", 1, 0, 'n'},    {"accel", 1, 0, 'R'},
                                         {"mask-type", 1, 0, 't'}, {"center", 1, 0, 'c'},
                                         {"center-fraction", 1, 0, 'f'}, {"seed", 1, 0, 's'},
                                         {"quiet", 0, 0, 'q'},    {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    const char *cmd = "mask";
    long n = 256;
    cli_mask_opts mo = {0, 4.0, 12, -1.0, 1};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'n': n = cli_long(cmd, "--lines", optarg, 2, 1 << 16); break;
        case 'R': mo.accel = cli_double(cmd, "--accel", optarg, 1.0, 1e6); break;
        case 't': mo.type = cli_mask_type(cmd, optarg); break;
        case 'c': mo.center = cli_long(cmd, "--center", optarg, 0, 1 << 16); break;
        case 'f': mo.center_frac = cli_double(cmd, "--center-fraction", optarg, 0.0, 1.0); break;
        case 's': mo.seed = cli_seed(cmd, "--seed", optarg); break;
        case 'q': break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan mask --help')");
        }
    }
    if (argc - optind != 1) cli_fail(cmd, "expected one output file (see 'mrgan mask --help')");
    const char *out = argv[optind];
    if (mg_check_output(out, NULL, 0)) cli_fail_lib(cmd);
    if (mo.center > n) cli_fail(cmd, "option --center: %ld centre lines exceed --lines %ld", mo.center, n);
    float *mask = mg_malloc_array((size_t)n, sizeof(float));
    /* slice index 0: `mrgan mask --seed S` equals the mask zerofill uses for slice 0 */
    cli_make_mask(cmd, &mo, n, 0, NULL, mask);
    cli_write_mask(cmd, out, mask, n, n < 64 ? 64 : n);
    long k = mg_mask_count(mask, n);
    printf("mask: %ld of %ld lines sampled (net R = %.3f), written to %s\n", k, n,
           (double)n / (double)k, out);
    free(mask);
    return 0;
}

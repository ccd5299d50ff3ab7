/* mrgan simulate: multi-coil k-space data sets from a real brain volume.
 * The split and every step are documented in docs/data.md. */
#include "cli.h"
#include "data/data.h"
#include "mri/mri.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_VOLUME MG_DEFAULT_VOLUME
static const char *orient_names[3] = {"axial", "coronal", "sagittal"};

static const char *help =
    "usage: mrgan simulate [options] OUTDIR\n"
    "\n"
    "Turns a brain volume into multi-coil k-space: axial, coronal and sagittal\n"
    "slices, padded to a common square field of view, resampled to the matrix by\n"
    "cropping their spectrum, given a smooth random phase, birdcage coil maps and\n"
    "complex Gaussian noise. Writes OUTDIR/train.h5, val.h5, test.h5 (fastMRI\n"
    "layout: kspace, sens_maps, reconstruction_rss, slice_info) and\n"
    "OUTDIR/simulate.json. Slices are split in blocks along each axis; slices next\n"
    "to a validation or test block are dropped from training (docs/data.md).\n"
    "\n"
    "  --input FILE     NIfTI volume (default " DEFAULT_VOLUME ",\n"
    "                   Colin27 full-head T1 from Debian's mricron-data)\n"
    "  --matrix N       image matrix N x N (default 128; 256 for the paper size)\n"
    "  --coils C        coils (default 8)\n"
    "  --stride S       use every S-th slice (default 3)\n"
    "  --orient LIST    comma list of axial,coronal,sagittal (default all three)\n"
    "  --noise SIGMA    noise std per real/imaginary k-space sample, relative to the\n"
    "                   volume maximum (default 0.005)\n"
    "  --phase AMP      amplitude of the random phase polynomial, radians (default 1)\n"
    "  --seed S         random seed (default 1)\n"
    "  --maps M         stored maps: true (default: the birdcage maps the k-space was\n"
    "                   made with) or walsh | direct | espirit (estimated from the 12\n"
    "                   centre lines of the simulated k-space; ESPIRiT uncropped), as\n"
    "                   a method on real data would have them\n"
    "  --pe-fold K      keep every K-th phase-encode line (default 1): a field of\n"
    "                   view K times smaller than the head along the phase encoding,\n"
    "                   the image wraps (K x 1 lines of N / K); no sens_maps stored\n"
    "  -q, --quiet      no progress output\n"
    "  -h, --help       this text\n";

int cmd_simulate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", 1, 0, 'i'}, {"matrix", 1, 0, 'N'}, {"coils", 1, 0, 'C'}, {"stride", 1, 0, 's'},
        {"orient", 1, 0, 'o'}, {"noise", 1, 0, 'n'}, {"phase", 1, 0, 'p'}, {"seed", 1, 0, 'S'}, {"pe-fold", 1, 0, 'F'}, {"maps", 1, 0, 'M'},
        {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "simulate";
    const char *input = DEFAULT_VOLUME;
    long N = 128, C = 8, stride = 3;
    double noise = 0.005, phase_amp = 1.0;
    long fold = 1;
    int maps = 0;
    uint64_t seed = 1;
    int use[3] = {1, 1, 1}, quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'i': input = optarg; break;
        case 'N': N = cli_long(cmd, "--matrix", optarg, 8, 1024); break;
        case 'C': C = cli_long(cmd, "--coils", optarg, 1, 64); break;
        case 's': stride = cli_long(cmd, "--stride", optarg, 1, 1000); break;
        case 'n': noise = cli_double(cmd, "--noise", optarg, 0.0, 10.0); break;
        case 'p': phase_amp = cli_double(cmd, "--phase", optarg, 0.0, 10.0); break;
        case 'S': seed = cli_seed(cmd, "--seed", optarg); break;
        case 'F': fold = cli_long(cmd, "--pe-fold", optarg, 1, 8); break;
        case 'M':
            if (!strcmp(optarg, "true")) maps = 0;
            else if (!strcmp(optarg, "walsh")) maps = MG_SENS_WALSH + 1;
            else if (!strcmp(optarg, "direct")) maps = MG_SENS_DIRECT + 1;
            else if (!strcmp(optarg, "espirit")) maps = MG_SENS_ESPIRIT + 1;
            else cli_fail(cmd, "option --maps: '%s' is not one of true, walsh, direct, espirit", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'o': {
            use[0] = use[1] = use[2] = 0;
            char *list = mg_strdup(optarg), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int k = -1;
                for (int j = 0; j < 3; j++)
                    if (!strcmp(t, orient_names[j])) k = j;
                if (k < 0) cli_fail(cmd, "option --orient: '%s' is not axial, coronal or sagittal", t);
                use[k] = 1;
            }
            free(list);
            break;
        }
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan simulate --help')");
        }
    }
    if (argc - optind != 1) cli_fail(cmd, "expected one output directory (see 'mrgan simulate --help')");
    const char *outdir = argv[optind];
    if (N % 2) cli_fail(cmd, "option --matrix: %ld must be even", N);

    mg_simulate_opts so;
    mg_simulate_defaults(&so);
    so.input = input;
    so.matrix = N, so.coils = C, so.stride = stride;
    so.noise = noise, so.phase = phase_amp, so.seed = seed, so.quiet = quiet;
    so.pe_fold = fold;
    so.maps = maps;
    if (N % fold) cli_fail(cmd, "option --pe-fold: %ld does not divide --matrix %ld", fold, N);
    memcpy(so.use, use, sizeof use);
    long counts[3];
    if (mg_simulate_dataset(&so, outdir, counts)) cli_fail_lib(cmd);
    printf("simulate: %s -> %s: train %ld, val %ld, test %ld slices of %ldx%ld, %ld coils\n", input, outdir, counts[0],
           counts[1], counts[2], N, N, C);
    return 0;
}

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
    "With --train, --val and --test the data set looks like scanner data\n"
    "(docs/data.md \"Looking like scanner data\"): many volumes, split by volume\n"
    "(subject), each acquired in a few series with random matrix, field of view\n"
    "(some smaller than the head: wrapped), readout direction, loop-coil array\n"
    "(Biot-Savart), correlated coil noise, tone curve, bias field and phase of\n"
    "several scales. Writes OUTDIR/train/, val/, test/ with one file per series\n"
    "(NAME_pK.h5, fastMRI layout; sens_maps except for wrapped series) and\n"
    "OUTDIR/simulate.json.\n"
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
    "Scanner-like data sets:\n"
    "  --train PATH     NIfTI volume or a directory of them (*.nii, *.nii.gz) for\n"
    "                   the train split (repeatable); --val, --test alike. A\n"
    "                   subject's volumes belong in one split\n"
    "  --matrix LIST    readout lengths to draw from (default 192,224,256); the\n"
    "                   phase-encode lines follow from the field of view\n"
    "  --coils LIST     coil counts to draw from (default 8,12,16; at most 64)\n"
    "  --noise LO,HI    noise std drawn log-uniformly (default 0.003,0.02), relative\n"
    "                   to the volume's 99.5th percentile\n"
    "  --slices N       planes per volume (default 24)\n"
    "  --series N       series (protocols) per volume (default 2; at least one per\n"
    "                   orientation used)\n"
    "  --wrap P         probability of a field of view smaller than the head along\n"
    "                   the phase encoding (default 0.1)\n"
    "  --warp MM        deform each series' head (anatomical variety): rotation in\n"
    "                   +-12 degrees, each axis scaled by 0.9-1.1, and a smooth\n"
    "                   displacement of at most MM mm along each axis (default 0:\n"
    "                   no deformation; at most 10)\n"
    "  --seed, --maps   as above\n"
    "  -q, --quiet      no progress output\n"
    "  -h, --help       this text\n";

/* a comma list of longs in [lo, hi] into v (at most 8) */
static long parse_list(const char *cmd, const char *opt, const char *arg, long lo, long hi, long *v)
{
    char *list = mg_strdup(arg), *save = NULL;
    long n = 0;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == 8) cli_fail(cmd, "option %s: at most 8 values", opt);
        v[n++] = cli_long(cmd, opt, t, lo, hi);
    }
    free(list);
    if (!n) cli_fail(cmd, "option %s: no value in '%s'", opt, arg);
    return n;
}

static int simulate_scanner(mg_scanner_opts *sc, const char **vols[3], const char *outdir, const char *matrix_arg,
                            const char *coils_arg, const char *noise_arg, int set_input, int set_basic_only,
                            uint64_t seed, int maps, int quiet)
{
    const char *cmd = "simulate";
    if (set_input) cli_fail(cmd, "--input and --train/--val/--test do not go together (the first makes one volume's "
                                 "data set, split by slice blocks)");
    if (set_basic_only) cli_fail(cmd, "--stride, --orient, --phase and --pe-fold are for --input data sets");
    for (int k = 0; k < 3; k++)
        if (!sc->ninputs[k]) {
            static const char *names[3] = {"--train", "--val", "--test"};
            cli_fail(cmd, "%s is missing: a scanner-like data set needs volumes for each split", names[k]);
        }
    for (int k = 0; k < 3; k++) sc->inputs[k] = vols[k];
    if (matrix_arg) {
        sc->nmatrices = parse_list(cmd, "--matrix", matrix_arg, 32, 1024, sc->matrices);
        for (long i = 0; i < sc->nmatrices; i++)
            if (sc->matrices[i] % 8) cli_fail(cmd, "option --matrix: %ld is not a multiple of 8", sc->matrices[i]);
    }
    if (coils_arg) sc->ncoils = parse_list(cmd, "--coils", coils_arg, 1, 64, sc->coils);
    if (noise_arg) {
        char *comma = strchr(noise_arg, ',');
        if (!comma) cli_fail(cmd, "option --noise: give LO,HI for a scanner-like data set ('%s')", noise_arg);
        char *lo = mg_strdup(noise_arg);
        lo[comma - noise_arg] = 0;
        sc->noise_lo = cli_double(cmd, "--noise", lo, 1e-6, 10.0);
        sc->noise_hi = cli_double(cmd, "--noise", comma + 1, 1e-6, 10.0);
        free(lo);
        if (sc->noise_hi < sc->noise_lo) cli_fail(cmd, "option --noise: HI %g is below LO %g", sc->noise_hi, sc->noise_lo);
    }
    sc->seed = seed, sc->maps = maps, sc->quiet = quiet;
    long counts[3];
    if (mg_simulate_scanner(sc, outdir, counts)) cli_fail_lib(cmd);
    printf("simulate: scanner-like data set -> %s: train %ld, val %ld, test %ld slices (%s/simulate.json lists the "
           "series)\n", outdir, counts[0], counts[1], counts[2], outdir);
    for (int k = 0; k < 3; k++) free(vols[k]);
    return 0;
}

int cmd_simulate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", 1, 0, 'i'}, {"matrix", 1, 0, 'N'}, {"coils", 1, 0, 'C'}, {"stride", 1, 0, 's'},
        {"orient", 1, 0, 'o'}, {"noise", 1, 0, 'n'}, {"phase", 1, 0, 'p'}, {"seed", 1, 0, 'S'}, {"pe-fold", 1, 0, 'F'}, {"maps", 1, 0, 'M'},
        {"train", 1, 0, 'T'}, {"val", 1, 0, 'V'}, {"test", 1, 0, 'E'}, {"slices", 1, 0, 'L'}, {"series", 1, 0, 'P'},
        {"wrap", 1, 0, 'W'}, {"warp", 1, 0, 'D'},
        {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "simulate";
    const char *input = DEFAULT_VOLUME;
    long N = 128, C = 8, stride = 3;
    double noise = 0.005, phase_amp = 1.0;
    long fold = 1;
    int maps = 0;
    uint64_t seed = 1;
    int use[3] = {1, 1, 1}, quiet = 0, c;
    /* scanner-like data sets: the list options are kept as text until the
     * mode is known */
    mg_scanner_opts sc;
    mg_scanner_defaults(&sc);
    const char **vols[3] = {NULL, NULL, NULL};
    const char *matrix_arg = NULL, *coils_arg = NULL, *noise_arg = NULL;
    int set_input = 0, set_scanner_only = 0, set_basic_only = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'i': input = optarg, set_input = 1; break;
        case 'N': matrix_arg = optarg; break;
        case 'C': coils_arg = optarg; break;
        case 's': stride = cli_long(cmd, "--stride", optarg, 1, 1000), set_basic_only = 1; break;
        case 'n': noise_arg = optarg; break;
        case 'p': phase_amp = cli_double(cmd, "--phase", optarg, 0.0, 10.0), set_basic_only = 1; break;
        case 'T': case 'V': case 'E': {
            int k = c == 'T' ? 0 : c == 'V' ? 1 : 2;
            vols[k] = realloc(vols[k], sizeof(char *) * (size_t)(sc.ninputs[k] + 1));
            if (!vols[k]) cli_fail(cmd, "out of memory");
            vols[k][sc.ninputs[k]++] = optarg;
            break;
        }
        case 'L': sc.slices = cli_long(cmd, "--slices", optarg, 1, 100000), set_scanner_only = 1; break;
        case 'P': sc.protocols = cli_long(cmd, "--series", optarg, 1, 1000), set_scanner_only = 1; break;
        case 'W': sc.wrap = cli_double(cmd, "--wrap", optarg, 0.0, 1.0), set_scanner_only = 1; break;
        case 'D': sc.warp = cli_double(cmd, "--warp", optarg, 0.0, 10.0), set_scanner_only = 1; break;
        case 'S': seed = cli_seed(cmd, "--seed", optarg); break;
        case 'F': fold = cli_long(cmd, "--pe-fold", optarg, 1, 8), set_basic_only = 1; break;
        case 'M':
            if (!strcmp(optarg, "true")) maps = 0;
            else if (!strcmp(optarg, "walsh")) maps = MG_SENS_WALSH + 1;
            else if (!strcmp(optarg, "direct")) maps = MG_SENS_DIRECT + 1;
            else if (!strcmp(optarg, "espirit")) maps = MG_SENS_ESPIRIT + 1;
            else cli_fail(cmd, "option --maps: '%s' is not one of true, walsh, direct, espirit", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'o': {
            set_basic_only = 1;
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
    if (sc.ninputs[0] || sc.ninputs[1] || sc.ninputs[2])
        return simulate_scanner(&sc, vols, outdir, matrix_arg, coils_arg, noise_arg, set_input, set_basic_only,
                                seed, maps, quiet);
    if (set_scanner_only) cli_fail(cmd, "--slices, --series, --wrap and --warp need --train, --val and --test");
    if (matrix_arg) N = cli_long(cmd, "--matrix", matrix_arg, 8, 1024);
    if (coils_arg) C = cli_long(cmd, "--coils", coils_arg, 1, 64);
    if (noise_arg) noise = cli_double(cmd, "--noise", noise_arg, 0.0, 10.0);
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

/* mrgan report: a self-contained HTML page and PNG figures from a training
 * run and an evaluation: panels with zoomed regions and error maps (paper
 * Fig. 4), validation NMSE per epoch (Fig. 3), beta per epoch (Fig. 9), the
 * tables, and a blinded reader study (Table 3). */
#include "cli.h"
#include "report/report.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan report [options] RUN\n"
    "\n"
    "Writes RUN/report/ (or --out DIR): index.html, a self-contained page (every\n"
    "figure embedded) with\n"
    "  - the evaluation table (NMSE x1e3, PSNR, SSIM, HFEN, FID, KID, time),\n"
    "  - fig4_slice_NNN.png: reference and every method side by side, a zoomed\n"
    "    region of interest, and error maps |x - reference| (x5),\n"
    "  - fig3_val_nmse.png, fig3_val_fid.png: validation NMSE and FID (runs trained\n"
    "    with --fid-weights) per epoch; fig3_train_loss.png,\n"
    "  - fig9_beta.png: the AGB balance beta per epoch (GAN runs),\n"
    "and reader.html, a blinded reader study: the methods' images of some test\n"
    "slices in a shuffled order under random codes, each scored 1-5 for\n"
    "sharpness, SNR, contrast, artifacts and overall quality, exported as CSV by\n"
    "the page; reader_key.csv (codes -> method, slice) stays out of the page.\n"
    "'--scores' turns exported CSVs into table3.md / table3.csv (mean and SD per\n"
    "method and criterion), with the existing reader_key.csv (the study is not\n"
    "regenerated then).\n"
    "\n"
    "  --eval DIR        output of 'mrgan eval' (default RUN/eval)\n"
    "  --out DIR         where to write (default RUN/report)\n"
    "  --slices LIST     test slices for the panels, comma-separated indices into\n"
    "                    the evaluated slices (default: 3 spread over the split)\n"
    "  --roi X,Y,S       zoomed region: top-left corner and size in pixels\n"
    "                    (default: the S = N/4 box with the most reference edges)\n"
    "  --reader N        slices per method in the reader study (default 6)\n"
    "  --seed S          shuffle of the reader study (default 1)\n"
    "  --scores FILE     a reader's exported scores (repeatable): Table 3\n"
    "  -q, --quiet       no progress output\n"
    "  -h, --help        this text\n";

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"eval", 1, 0, 'e'},  {"out", 1, 0, 'o'},    {"slices", 1, 0, 's'},
                                         {"roi", 1, 0, 'r'},   {"reader", 1, 0, 'n'}, {"seed", 1, 0, 'S'},
                                         {"scores", 1, 0, 'c'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cmd = "report", *scores[64];
    mg_report_opts o;
    mg_report_defaults(&o);
    int quiet = 0, nsc = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'e': o.evald = optarg; break;
        case 'o': o.out = optarg; break;
        case 's': o.slices = optarg; break;
        case 'r': o.roi = optarg; break;
        case 'n': o.nreader = (int)cli_long(cmd, "--reader", optarg, 1, 1000); break;
        case 'S': o.seed = cli_seed(cmd, "--seed", optarg); break;
        case 'c':
            if (nsc == 64) cli_fail(cmd, "option --scores: at most 64 files");
            scores[nsc++] = optarg;
            break;
        case 'q': quiet = 1; break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan report --help')");
        }
    }
    if (argc - optind != 1) cli_fail(cmd, "expected one run directory (see 'mrgan report --help')");
    o.run = argv[optind];
    o.scores = scores;
    o.nscores = nsc;
    char *index;
    if (mg_report_build(&o, &index)) cli_fail_lib(cmd);
    if (!quiet) {
        const size_t L = strlen(index) - strlen("/index.html");
        printf("report: %s (figures %.*s/*.png, reader study %.*s/reader.html)\n", index, (int)L, index, (int)L, index);
    }
    free(index);
    return 0;
}

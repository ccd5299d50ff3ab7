/* mrgan cs: compressed-sensing SENSE with l1-wavelet or total variation. */
#include "cli.h"
#include "mri/mri.h"
#include "recon/recon.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help_head =
    "usage: mrgan cs [options] KSPACE OUT\n"
    "\n"
    "Compressed-sensing SENSE reconstruction,\n"
    "  min_x 1/2 ||M F S x - y/s||^2 + lambda R(x),   image = s x,\n"
    "with R the l1 norm of an orthonormal Daubechies wavelet transform (FISTA,\n"
    "random cycle spinning) or isotropic total variation (ADMM, rho 0.5, 10 CG\n"
    "steps, over-relaxation 1.6): the algorithms and the data scale s of\n"
    "'bart pics -R W' / '-R T', so the same lambda gives the same trade-off.\n"
    "KSPACE and OUT as for 'mrgan zerofill'.\n"
    "\n"
    "  --reg R              wavelet (default) | tv\n"
    "  --lambda L           regularisation weight (default 0.002, docs/baselines.md)\n"
    "  --iter N             iterations (default 30, as bart pics)\n"
    "  --wavelet W          db2 (default, BART's dau2) | db4 | haar\n"
    "  --no-randshift       no cycle spinning\n"
    "  --scale S            data scale instead of the estimate\n";

int cmd_cs(int argc, char **argv)
{
    static const struct option opts[] = {CLI_INPUT_OPTIONS, {"reg", 1, 0, 'g'}, {"lambda", 1, 0, 'l'},
                                         {"iter", 1, 0, 'n'}, {"wavelet", 1, 0, 'w'},
                                         {"no-randshift", 0, 0, 'r'}, {"scale", 1, 0, 'x'},
                                         {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "cs";
    cli_inputs in;
    cli_inputs_init(&in, cmd);
    mg_method cc;
    mg_method_init(&cc, MG_M_CS_WAVELET, "cs-wavelet");
    float lambda = -1;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_inputs_option(&in, c, optarg)) continue;
        switch (c) {
        case 'g':
            /* only the regulariser: options given before --reg stay */
            if (!strcmp(optarg, "wavelet")) cc.kind = MG_M_CS_WAVELET, cc.cs.reg = MG_REG_WAVELET;
            else if (!strcmp(optarg, "tv")) cc.kind = MG_M_CS_TV, cc.cs.reg = MG_REG_TV;
            else cli_fail(cmd, "option --reg: '%s' is not wavelet or tv", optarg);
            break;
        case 'l': lambda = (float)cli_double(cmd, "--lambda", optarg, 0.0, 1e6); break;
        case 'n': cc.cs.iters = (int)cli_long(cmd, "--iter", optarg, 1, 100000); break;
        case 'w':
            if (!strcmp(optarg, "db2")) cc.cs.wavelet = MG_WAV_DB2;
            else if (!strcmp(optarg, "db4")) cc.cs.wavelet = MG_WAV_DB4;
            else if (!strcmp(optarg, "haar")) cc.cs.wavelet = MG_WAV_HAAR;
            else cli_fail(cmd, "option --wavelet: '%s' is not db2, db4 or haar", optarg);
            break;
        case 'r': cc.cs.randshift = 0; break;
        case 'x': cc.cs.scale = (float)cli_double(cmd, "--scale", optarg, 1e-30, 1e30); break;
        case 'q': quiet = 1; break;
        case 'h': cli_inputs_print_help(help_head, 1); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan cs --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan cs --help')");
    if (lambda >= 0) cc.cs.lambda = lambda;
    const char *out = argv[optind + 1];
    cli_inputs_open(&in, argv[optind], out);
    mg_method_open(&cc, in.d.coils, in.d.h, in.d.w, in.path);
    cc.sets = in.maps;
    mg_nmse_acc acc = {0, 0};
    double dt = cli_inputs_run(&in, quiet, mg_method_slice, &cc, out, &acc);
    const long ns = in.s1 - in.s0;
    printf("cs: %s, lambda %g, %d iterations, mean data scale %.4g; %ld slice(s), %.3f s per slice -> %s\n",
           cc.cs.reg == MG_REG_WAVELET ? "l1-wavelet (FISTA)" : "TV (ADMM)", (double)cc.cs.lambda, cc.cs.iters,
           cc.scale_sum / (double)ns, ns, dt, out);
    cli_inputs_report(&in, &acc);
    mg_method_free(&cc);
    cli_inputs_free(&in);
    return 0;
}

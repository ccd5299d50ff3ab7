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
    mg_cs_opts o;
    mg_cs_defaults(&o, MG_REG_WAVELET);
    float lambda = -1;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_inputs_option(&in, c, optarg)) continue;
        switch (c) {
        case 'g':
            if (!strcmp(optarg, "wavelet")) o.reg = MG_REG_WAVELET;
            else if (!strcmp(optarg, "tv")) o.reg = MG_REG_TV;
            else cli_fail(cmd, "option --reg: '%s' is not wavelet or tv", optarg);
            break;
        case 'l': lambda = (float)cli_double(cmd, "--lambda", optarg, 0.0, 1e6); break;
        case 'n': o.iters = (int)cli_long(cmd, "--iter", optarg, 1, 100000); break;
        case 'w':
            if (!strcmp(optarg, "db2")) o.wavelet = MG_WAV_DB2;
            else if (!strcmp(optarg, "db4")) o.wavelet = MG_WAV_DB4;
            else if (!strcmp(optarg, "haar")) o.wavelet = MG_WAV_HAAR;
            else cli_fail(cmd, "option --wavelet: '%s' is not db2, db4 or haar", optarg);
            break;
        case 'r': o.randshift = 0; break;
        case 'x': o.scale = (float)cli_double(cmd, "--scale", optarg, 1e-30, 1e30); break;
        case 'q': quiet = 1; break;
        case 'h':
            fputs(help_head, stdout);
            fputs(cli_inputs_help, stdout);
            fputs("  -q, --quiet          no progress output\n  -h, --help           this text\n", stdout);
            return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan cs --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan cs --help')");
    if (lambda >= 0) o.lambda = lambda;
    const char *out = argv[optind + 1];
    cli_inputs_open(&in, argv[optind]);
    const long C = in.d.coils, H = in.d.h, W = in.d.w, n = H * W, ns = in.s1 - in.s0;
    cfloat *img = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    cfloat *ref = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *sens = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    float *allmask = mg_malloc_array((size_t)H, sizeof(float));
    mg_nmse_acc acc = {0, 0};
    mg_progress pr;
    mg_progress_start(&pr, cmd, ns, quiet || ns < 2);
    double t0 = mg_now(), ssum = 0;
    for (long s = in.s0; s < in.s1; s++) {
        const cfloat *k = in.d.kspace + s * C * n;
        const float *m = cli_inputs_slice(&in, s, sens);
        if (!m) { /* use the data as they are: every line is "sampled" */
            for (long y = 0; y < H; y++) allmask[y] = 1.0f;
            m = allmask;
        }
        ssum += mg_cs_recon(k, sens, m, C, H, W, &o, img + (s - in.s0) * n);
        if (in.undersample) {
            mg_zerofill(k, sens, NULL, ref, C, H, W);
            mg_nmse_add_mag(&acc, ref, img + (s - in.s0) * n, (size_t)n);
        }
        mg_progress_update(&pr, s - in.s0 + 1);
    }
    double dt = mg_now() - t0;
    mg_progress_end(&pr);
    if (mg_images_write(out, img, ns, H, W)) cli_fail_lib(cmd);
    printf("cs: %s, lambda %g, %d iterations, mean data scale %.4g; %ld slice(s), %.3f s per slice -> %s\n",
           o.reg == MG_REG_WAVELET ? "l1-wavelet (FISTA)" : "TV (ADMM)", (double)o.lambda, o.iters,
           ssum / (double)ns, ns, dt / (double)ns, out);
    cli_inputs_report(&in, &acc);
    free(img); free(ref); free(sens); free(allmask);
    cli_inputs_free(&in);
    return 0;
}

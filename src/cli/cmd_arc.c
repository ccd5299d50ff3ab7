/* mrgan arc: ARC / GRAPPA-style k-space interpolation, coil-combined. */
#include "cli.h"
#include "fft/fft.h"
#include "mri/mri.h"
#include "recon/recon.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help_head =
    "usage: mrgan arc [options] KSPACE OUT\n"
    "\n"
    "Autocalibrating k-space interpolation: every missing phase-encode line of\n"
    "every coil is a linear combination of acquired neighbours of all coils,\n"
    "with one kernel per distinct pattern of neighbours, calibrated on the\n"
    "centre lines (Tikhonov) and applied after a readout inverse FFT. The coil\n"
    "images are combined with the maps (sum conj(s_c) x_c). KSPACE and OUT as\n"
    "for 'mrgan zerofill'; a mask (--accel or --mask) is required unless the\n"
    "input is already undersampled.\n"
    "\n"
    "  --kx-taps N          readout taps each side (default 3: 7 taps)\n"
    "  --window N           phase-encode search window (default 4)\n"
    "  --sources N          nearest acquired lines per side (default 1)\n"
    "  --lambda L           Tikhonov weight, relative to trace(A^H A)/n (default 0.05)\n"
    "  --calib N            calibration (centre) lines (default 12)\n";

int cmd_arc(int argc, char **argv)
{
    static const struct option opts[] = {CLI_INPUT_OPTIONS, {"kx-taps", 1, 0, 'x'}, {"window", 1, 0, 'w'},
                                         {"sources", 1, 0, 'n'}, {"lambda", 1, 0, 'l'},
                                         {"calib", 1, 0, 'C'}, {"quiet", 0, 0, 'q'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "arc";
    cli_inputs in;
    cli_inputs_init(&in, cmd);
    mg_arc_opts o;
    mg_arc_defaults(&o);
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_inputs_option(&in, c, optarg)) continue;
        switch (c) {
        case 'x': o.kx_half = (int)cli_long(cmd, "--kx-taps", optarg, 0, 16); break;
        case 'w': o.ky_window = (int)cli_long(cmd, "--window", optarg, 1, 64); break;
        case 'n': o.sources = (int)cli_long(cmd, "--sources", optarg, 1, 4); break;
        case 'l': o.lambda = (float)cli_double(cmd, "--lambda", optarg, 0.0, 1e3); break;
        case 'C': o.acs = cli_long(cmd, "--calib", optarg, 2, 1 << 16); break;
        case 'q': quiet = 1; break;
        case 'h':
            fputs(help_head, stdout);
            fputs(cli_inputs_help, stdout);
            fputs("  -q, --quiet          no progress output\n  -h, --help           this text\n", stdout);
            return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan arc --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan arc --help')");
    const char *out = argv[optind + 1];
    cli_inputs_open(&in, argv[optind]);
    const long C = in.d.coils, H = in.d.h, W = in.d.w, n = H * W, ns = in.s1 - in.s0;
    if (o.acs > H) cli_fail(cmd, "option --calib: %ld lines exceed the %ld phase-encode lines of %s", o.acs, H, in.path);
    cfloat *img = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    cfloat *ref = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *sens = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    cfloat *kf = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    float *seen = mg_malloc_array((size_t)H, sizeof(float));
    mg_nmse_acc acc = {0, 0};
    long empty = 0;
    mg_progress pr;
    mg_progress_start(&pr, cmd, ns, quiet || ns < 2);
    double t0 = mg_now();
    for (long s = in.s0; s < in.s1; s++) {
        const cfloat *k = in.d.kspace + s * C * n;
        const float *m = cli_inputs_slice(&in, s, sens);
        if (!m) { /* fully sampled: nothing to fill */
            for (long y = 0; y < H; y++) seen[y] = 1.0f;
            m = seen;
        }
        long e = mg_arc(k, m, C, H, W, &o, kf);
        if (e < 0) cli_fail(cmd, "%s, slice %ld: %s", in.path, s, mg_error());
        empty += e;
        mg_zerofill(kf, sens, NULL, img + (s - in.s0) * n, C, H, W);
        if (in.undersample) {
            mg_zerofill(k, sens, NULL, ref, C, H, W);
            mg_nmse_add_mag(&acc, ref, img + (s - in.s0) * n, (size_t)n);
        }
        mg_progress_update(&pr, s - in.s0 + 1);
    }
    double dt = mg_now() - t0;
    mg_progress_end(&pr);
    if (mg_images_write(out, img, ns, H, W)) cli_fail_lib(cmd);
    printf("arc: %d-tap readout, window %d, %d sources per side, lambda %g; %ld slice(s), %.3f s per "
           "slice%s -> %s\n",
           2 * o.kx_half + 1, o.ky_window, o.sources, (double)o.lambda, ns, dt / (double)ns,
           empty ? " (some lines had no usable sources and stay empty)" : "", out);
    cli_inputs_report(&in, &acc);
    free(img); free(ref); free(sens); free(kf); free(seen);
    cli_inputs_free(&in);
    return 0;
}

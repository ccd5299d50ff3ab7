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
    mg_method a;
    mg_method_init(&a, MG_M_ARC, "arc");
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_inputs_option(&in, c, optarg)) continue;
        switch (c) {
        case 'x': a.arc.kx_half = (int)cli_long(cmd, "--kx-taps", optarg, 0, 16); break;
        case 'w': a.arc.ky_window = (int)cli_long(cmd, "--window", optarg, 1, 64); break;
        case 'n': a.arc.sources = (int)cli_long(cmd, "--sources", optarg, 1, 4); break;
        case 'l': a.arc.lambda = (float)cli_double(cmd, "--lambda", optarg, 0.0, 1e3); break;
        case 'C': a.arc.acs = cli_long(cmd, "--calib", optarg, 2, 1 << 16); break;
        case 'q': quiet = 1; break;
        case 'h': cli_inputs_print_help(help_head, 1); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan arc --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan arc --help')");
    const char *out = argv[optind + 1];
    cli_inputs_open(&in, argv[optind], out);
    if (a.arc.acs > in.d.h)
        cli_fail(cmd, "option --calib: %ld lines exceed the %ld phase-encode lines of %s", a.arc.acs, in.d.h, in.path);
    mg_method_open(&a, in.d.coils, in.d.h, in.d.w, in.path);
    a.sets = in.maps;
    mg_nmse_acc acc = {0, 0};
    double dt = cli_inputs_run(&in, quiet, mg_method_slice, &a, out, &acc);
    printf("arc: %d-tap readout, window %d, %d sources per side, lambda %g; %ld slice(s), %.3f s per "
           "slice%s -> %s\n",
           2 * a.arc.kx_half + 1, a.arc.ky_window, a.arc.sources, (double)a.arc.lambda, in.s1 - in.s0, dt,
           a.empty ? " (some lines had no usable sources and stay empty)" : "", out);
    cli_inputs_report(&in, &acc);
    mg_method_free(&a);
    cli_inputs_free(&in);
    return 0;
}

/* mrgan zerofill: mz = sum_c conj(s_c) F^-1(M K_c). */
#include "cli.h"
#include "mri/mri.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help_head =
    "usage: mrgan zerofill [options] KSPACE OUT\n"
    "\n"
    "Zero-filled, sensitivity-weighted coil combination of (undersampled) k-space.\n"
    "KSPACE: fastMRI-layout HDF5 (.h5) or BART cfl [W H 1 coils].\n"
    "OUT: .png (magnitude; one file per slice, _NNN appended when several),\n"
    "     .cfl (complex [W H], slices in dim 13), .h5 (fastMRI 'reconstruction'),\n"
    "     .nii / .nii.gz (magnitude).\n"
    "\n";

int cmd_zerofill(int argc, char **argv)
{
    static const struct option opts[] = {CLI_INPUT_OPTIONS, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "zerofill";
    cli_inputs in;
    cli_inputs_init(&in, cmd);
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_inputs_option(&in, c, optarg)) continue;
        switch (c) {
        case 'q': quiet = 1; break;
        case 'h': cli_inputs_print_help(help_head, 1); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan zerofill --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan zerofill --help')");
    const char *out = argv[optind + 1];
    cli_inputs_open(&in, argv[optind], out);
    mg_method z;
    mg_method_init(&z, MG_M_ZF, "zero-filled");
    mg_method_open(&z, in.d.coils, in.d.h, in.d.w, in.path);
    z.sets = in.maps;
    mg_nmse_acc acc = {0, 0};
    cli_inputs_run(&in, quiet, mg_method_slice, &z, out, &acc);
    printf("zerofill: %ld slice(s) of %ldx%ld, %ld coils -> %s\n", in.s1 - in.s0, z.H, z.W, z.C, out);
    cli_inputs_report(&in, &acc);
    mg_method_free(&z);
    cli_inputs_free(&in);
    return 0;
}

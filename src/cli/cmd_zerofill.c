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
        case 'h':
            fputs(help_head, stdout);
            fputs(cli_inputs_help, stdout);
            fputs("  -q, --quiet          no progress output\n  -h, --help           this text\n", stdout);
            return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan zerofill --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan zerofill --help')");
    const char *out = argv[optind + 1];
    cli_inputs_open(&in, argv[optind]);
    const long C = in.d.coils, H = in.d.h, W = in.d.w, n = H * W, ns = in.s1 - in.s0;
    cfloat *img = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    cfloat *ref = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *sens = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    mg_nmse_acc acc = {0, 0};
    mg_progress pr;
    mg_progress_start(&pr, cmd, ns, quiet || ns < 4);
    for (long s = in.s0; s < in.s1; s++) {
        const cfloat *k = in.d.kspace + s * C * n;
        const float *m = cli_inputs_slice(&in, s, sens);
        cfloat *mz = img + (s - in.s0) * n;
        mg_zerofill(k, sens, m, mz, C, H, W);
        if (in.undersample) {
            mg_zerofill(k, sens, NULL, ref, C, H, W);
            mg_nmse_add_mag(&acc, ref, mz, (size_t)n);
        }
        mg_progress_update(&pr, s - in.s0 + 1);
    }
    mg_progress_end(&pr);
    if (mg_images_write(out, img, ns, H, W)) cli_fail_lib(cmd);
    printf("zerofill: %ld slice(s) of %ldx%ld, %ld coils -> %s\n", ns, H, W, C, out);
    cli_inputs_report(&in, &acc);
    free(img);
    free(ref);
    free(sens);
    cli_inputs_free(&in);
    return 0;
}

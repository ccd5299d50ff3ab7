/* mrgan convert: k-space from ISMRMRD raw data, BART cfl or any fastMRI-layout
 * file into a fastMRI-layout HDF5 file (docs/formats.md). */
#include "cli.h"
#include "mri/mri.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan convert [options] KSPACE OUT.h5\n"
    "\n"
    "Writes the k-space of KSPACE (ISMRMRD raw data, a fastMRI-layout HDF5 file\n"
    "or a BART cfl [W H 1 C]) as a fastMRI-layout file: kspace (slices, coils,\n"
    "readout, phase encodes), reconstruction_rss (the root-sum-of-squares of the\n"
    "fully sampled coil images, centre-cropped to reconSpace), the coil maps when\n"
    "KSPACE has them, mask when KSPACE is undersampled, and an ismrmrd_header\n"
    "with the matrices, fields of view and encoding limits. ISMRMRD raw data:\n"
    "slices by idx.slice, repetitions and averages averaged, noise and other\n"
    "non-image acquisitions skipped, calibration-only lines used where the scan\n"
    "has none. (NIfTI volumes become k-space with 'mrgan simulate'.)\n"
    "\n"
    "  --crop-readout M   auto (default): remove readout oversampling (header's\n"
    "                     encodedSpace x > reconSpace x); none: keep it\n"
    "  -q, --quiet        no summary line\n"
    "  -h, --help         this text\n";

int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"crop-readout", 1, 0, CLI_OPT_CROP}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "convert";
    mg_read_opts ro = MG_READ_DEFAULTS;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case CLI_OPT_CROP: ro.crop_readout = cli_crop_readout(cmd, optarg); break;
        case 'q': quiet = 1; break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan convert --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT.h5 (see 'mrgan convert --help')");
    const char *in = argv[optind], *out = argv[optind + 1];
    if (!mg_has_suffix(out, ".h5") && !mg_has_suffix(out, ".hdf5"))
        cli_fail(cmd, "%s: the output is a fastMRI-layout HDF5 file (.h5)", out);
    if (mg_check_output(out, &in, 1)) cli_fail_lib(cmd);
    mg_kdata d;
    if (mg_kdata_read_opts(in, &ro, &d)) cli_fail_lib(cmd);
    const long S = d.nslices, C = d.coils, H = d.h, W = d.w, n = H * W;
    /* the reference as fastMRI computes it: RSS of the coil images */
    free(d.rss);
    free(d.rss_crop);
    d.rss_crop = NULL;
    d.rss = mg_malloc_array((size_t)(S * n), sizeof(float));
    cfloat *work = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    long sampled = 0;
    float *acq = mg_malloc_array((size_t)H, sizeof(float)), *any = mg_calloc((size_t)H, sizeof(float));
    for (long s = 0; s < S; s++) {
        mg_rss(d.kspace + s * C * n, C, H, W, work, d.rss + s * n);
        sampled += mg_kdata_acquired(&d, s, acq);
        for (long y = 0; y < H; y++)
            if (acq[y] != 0.0f) any[y] = 1.0f; /* lines sampled in any slice */
    }
    free(work);
    free(acq);
    /* undersampled input: its lines as the mask (the test files' layout) */
    if (!d.mask && sampled < S * (d.acq_hi - d.acq_lo)) d.mask = any;
    else free(any);
    if (mg_kdata_write_h5(out, &d)) cli_fail_lib(cmd);
    if (!quiet)
        printf("convert: %s: %ld slice(s), %ld coils, %ld x %ld (phase encodes x readout%s)%s -> %s\n", in, S, C, H, W,
               d.w_encoded ? ", oversampling removed" : "", d.mask ? ", undersampled (mask written)" : "", out);
    mg_kdata_free(&d);
    return 0;
}

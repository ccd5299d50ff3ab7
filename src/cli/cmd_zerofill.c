/* mrgan zerofill: mz = sum_c conj(s_c) F^-1(M K_c). */
#include "cli.h"
#include "metrics/metrics.h"
#include "mri/mri.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan zerofill [options] KSPACE OUT\n"
    "\n"
    "Zero-filled, sensitivity-weighted coil combination of (undersampled) k-space.\n"
    "KSPACE: fastMRI-layout HDF5 (.h5) or BART cfl [W H 1 coils].\n"
    "OUT: .png (magnitude; one file per slice, _NNN appended when several),\n"
    "     .cfl (complex [W H], slices in dim 13), .h5 (fastMRI 'reconstruction'),\n"
    "     .nii / .nii.gz (magnitude).\n"
    "\n"
    "Undersampling (applied to the input, which should then be fully sampled;\n"
    "the NMSE against the fully sampled reconstruction is printed):\n"
    "  --accel R            generate a mask with net acceleration R per slice\n"
    "  --mask-type T        vd (default) | random | equispaced\n"
    "  --center C           fully sampled centre lines (default 12)\n"
    "  --seed S             mask seed (default 1); slice i uses a seed mixed from S and i\n"
    "  --mask FILE          use this cfl mask ([1 H]) for every slice instead\n"
    "  --mask-out FILE      also write the first slice's mask (cfl or png)\n"
    "Without --accel/--mask the input is used as it is (a 'mask' data set in the\n"
    "HDF5 file is applied when present).\n"
    "\n"
    "Coil maps (default: the file's sens_maps, else estimated with walsh):\n"
    "  --sens FILE          cfl maps [W H 1 coils]\n"
    "  --sens-method M      walsh | direct: estimate from the centre lines (even when\n"
    "                       the file has maps)\n"
    "  --acs N              calibration lines for the estimate (default 12)\n"
    "  --slice I            only slice I\n"
    "  -q, --quiet          no progress output\n"
    "  -h, --help           this text\n";

int cmd_zerofill(int argc, char **argv)
{
    static const struct option opts[] = {
        {"accel", 1, 0, 'R'}, {"mask-type", 1, 0, 't'}, {"center", 1, 0, 'c'},
        {"seed", 1, 0, 's'},  {"mask", 1, 0, 'm'},      {"mask-out", 1, 0, 'o'},
        {"sens", 1, 0, 'S'},  {"sens-method", 1, 0, 'M'}, {"acs", 1, 0, 'a'},
        {"slice", 1, 0, 'i'}, {"quiet", 0, 0, 'q'},     {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    const char *cmd = "zerofill";
    cli_mask_opts mo = {0, 0.0, 12, -1.0, 1};
    const char *mask_file = NULL, *mask_out = NULL, *sens_file = NULL;
    int method = MG_SENS_WALSH, force_est = 0, quiet = 0;
    long acs = 12, only = -1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'R': mo.accel = cli_double(cmd, "--accel", optarg, 1.0, 1e6); break;
        case 't': mo.type = cli_mask_type(cmd, optarg); break;
        case 'c': mo.center = cli_long(cmd, "--center", optarg, 0, 1 << 16); break;
        case 's': mo.seed = cli_seed(cmd, "--seed", optarg); break;
        case 'm': mask_file = optarg; break;
        case 'o': mask_out = optarg; break;
        case 'S': sens_file = optarg; break;
        case 'M': method = cli_sens_method(cmd, optarg); force_est = 1; break;
        case 'a': acs = cli_long(cmd, "--acs", optarg, 2, 1 << 16); break;
        case 'i': only = cli_long(cmd, "--slice", optarg, 0, 1L << 30); break;
        case 'q': quiet = 1; break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan zerofill --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUT (see 'mrgan zerofill --help')");
    if (mask_file && mo.accel > 0) cli_fail(cmd, "give either --mask or --accel, not both");
    const char *in = argv[optind], *out = argv[optind + 1];

    mg_kdata d;
    if (mg_kdata_read(in, &d)) cli_fail_lib(cmd);
    const long C = d.coils, H = d.h, W = d.w, n = H * W;
    if (only >= d.nslices) cli_fail(cmd, "option --slice: %ld is out of range (%s has %ld slices)", only, in, d.nslices);
    if (acs > H) cli_fail(cmd, "option --acs: %ld lines exceed the %ld phase-encode lines of %s", acs, H, in);
    if (mo.accel > (double)H) cli_fail(cmd, "option --accel: R=%g is larger than the %ld phase-encode lines of %s", mo.accel, H, in);

    float *fixed = NULL;
    if (mask_file && mg_mask_read_cfl(mask_file, H, &fixed)) cli_fail_lib(cmd);
    cfloat *ext_sens = NULL;
    if (sens_file) {
        if (d.nslices > 1 && only < 0)
            cli_fail(cmd, "--sens FILE holds one slice's maps; %s has %ld slices (pick one with --slice)", in, d.nslices);
        if (mg_sens_read_cfl(sens_file, C, H, W, &ext_sens)) cli_fail_lib(cmd);
    }
    const int undersample = fixed || mo.accel > 0;
    long s0 = only >= 0 ? only : 0, s1 = only >= 0 ? only + 1 : d.nslices, ns = s1 - s0;
    cfloat *img = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    cfloat *ref = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *sens = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    float *mask = mg_malloc_array((size_t)H, sizeof(float));
    mg_nmse_acc acc = {0, 0};
    long lines = 0;
    mg_progress pr;
    mg_progress_start(&pr, "zerofill", ns, quiet || ns < 4);
    for (long s = s0; s < s1; s++) {
        const cfloat *k = d.kspace + s * C * n;
        const float *m = NULL;
        if (fixed) m = fixed;
        else if (mo.accel > 0) {
            cli_make_mask(cmd, &mo, H, s, mask);
            m = mask;
        } else if (d.mask) m = d.mask;
        if (m && s == s0 && mask_out) {
            int rc;
            if (mg_has_suffix(mask_out, ".png")) {
                unsigned char *pix = mg_malloc_array((size_t)(H * W), 1);
                for (long y = 0; y < H; y++) memset(pix + y * W, m[y] != 0.0f ? 255 : 0, (size_t)W);
                rc = mg_png_write_gray(mask_out, pix, H, W);
                free(pix);
            } else rc = mg_mask_write_cfl(mask_out, m, H);
            if (rc) cli_fail_lib(cmd);
        }
        if (m) lines += mg_mask_count(m, H);
        if (ext_sens) memcpy(sens, ext_sens, sizeof(cfloat) * (size_t)(C * n));
        else if (d.sens && !force_est) memcpy(sens, d.sens + s * C * n, sizeof(cfloat) * (size_t)(C * n));
        else if (mg_sens_estimate(k, C, H, W, acs, method, sens)) cli_fail_lib(cmd);
        cfloat *mz = img + (s - s0) * n;
        mg_zerofill(k, sens, m, mz, C, H, W);
        if (undersample) {
            mg_zerofill(k, sens, NULL, ref, C, H, W);
            mg_nmse_add_mag(&acc, ref, mz, (size_t)n);
        }
        mg_progress_update(&pr, s - s0 + 1);
    }
    mg_progress_end(&pr);
    if (mg_images_write(out, img, ns, H, W)) cli_fail_lib(cmd);
    printf("zerofill: %ld slice(s) of %ldx%ld, %ld coils -> %s\n", ns, H, W, C, out);
    if (undersample) {
        double nmse = mg_nmse_value(&acc);
        printf("zerofill: mean sampled lines %.1f of %ld (net R = %.3f); NMSE vs fully sampled = "
               "%.5f (x1e3: %.2f)\n",
               (double)lines / (double)ns, H, (double)H * (double)ns / (double)lines, nmse, nmse * 1e3);
    }
    free(img);
    free(ref);
    free(sens);
    free(mask);
    free(fixed);
    free(ext_sens);
    mg_kdata_free(&d);
    return 0;
}

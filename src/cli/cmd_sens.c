/* mrgan sens: coil sensitivity maps from the fully sampled centre lines. */
#include "cli.h"
#include "mri/mri.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan sens [options] KSPACE MAPS\n"
    "\n"
    "Estimates coil sensitivity maps from the --acs centre phase-encode lines of\n"
    "KSPACE (HDF5 or cfl; other lines are ignored) and writes them as a BART cfl\n"
    "[W H 1 coils] (slices in dim 13). Prints the projection residual\n"
    "||x - S S^H x|| / ||x|| of the coil images x = F^-1 K onto the maps, which\n"
    "measures the maps when KSPACE is fully sampled (and, for HDF5 files with\n"
    "sens_maps, the same residual with the stored maps for comparison).\n"
    "\n"
    "  --sens-method M   walsh (default): local covariance eigenvector\n"
    "                    direct: low resolution normalised by root sum of squares\n"
    "                    espirit: ESPIRiT (Uecker et al. 2014), one set: a 6x6\n"
    "                    kernel over the --acs lines x 24 readout points, singular\n"
    "                    values above sqrt(0.001) of the largest, eigenvalue crop 0.8\n"
    "                    (bart ecalib -m1's defaults)\n"
    "  --espirit-crop C  ESPIRiT's eigenvalue crop (default 0.8, as bart ecalib)\n"
    "  --espirit-kernel K  ESPIRiT's kernel, K x K (default 6, as bart ecalib)\n"
    "  --acs N           calibration lines (default 12)\n"
    "  --check MAPS      also print the residual of these maps (cfl, e.g. from\n"
    "                    bart ecalib; set 1 of several), for comparison\n"
    "  --crop-readout M  auto (default): remove readout oversampling (header's\n"
    "                    encodedSpace x > reconSpace x); none: keep it\n"
    "  -q, --quiet       accepted as by every command (sens shows no progress)\n"
    "  -h, --help        this text\n";

int cmd_sens(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sens-method", 1, 0, 'M'}, {"acs", 1, 0, 'a'}, {"crop-readout", 1, 0, CLI_OPT_CROP}, {"check", 1, 0, 'k'}, {"espirit-crop", 1, 0, 'c'}, {"espirit-kernel", 1, 0, 'K'},
        {"quiet", 0, 0, 'q'},       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "sens";
    int method = MG_SENS_WALSH, c;
    mg_read_opts ro = MG_READ_DEFAULTS;
    long acs = 12;
    const char *check = NULL;
    mg_espirit_opts eo;
    mg_espirit_defaults(&eo);
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'M': method = cli_sens_method(cmd, optarg); break;
        case 'a': acs = cli_long(cmd, "--acs", optarg, 2, 1 << 16); break;
        case CLI_OPT_CROP: ro.crop_readout = cli_crop_readout(cmd, optarg); break;
        case 'k': check = optarg; break;
        case 'c': eo.crop = cli_double(cmd, "--espirit-crop", optarg, 0.0, 1.0); break;
        case 'K': eo.kernel = cli_long(cmd, "--espirit-kernel", optarg, 2, 32); break;
        case 'q': break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan sens --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and MAPS (see 'mrgan sens --help')");
    const char *in = argv[optind], *out = argv[optind + 1];
    const char *ins[2] = {in, check};
    if (mg_check_output(out, ins, check ? 2 : 1)) cli_fail_lib(cmd);
    mg_kdata d;
    if (mg_kdata_read_opts(in, &ro, &d)) cli_fail_lib(cmd);
    const long C = d.coils, H = d.h, W = d.w, n = C * H * W;
    if (acs > H) cli_fail(cmd, "option --acs: %ld lines exceed the %ld phase-encode lines of %s", acs, H, in);
    cfloat *maps = mg_malloc_array((size_t)(d.nslices * n), sizeof(cfloat));
    double t0 = mg_now(), sum = 0, sum_file = 0;
    for (long s = 0; s < d.nslices; s++) {
        if (mg_sens_estimate_opts(d.kspace + s * n, C, H, W, acs, method, &eo, maps + s * n))
            cli_fail(cmd, "%s, slice %ld: %s", in, s, mg_error());
        sum += mg_sens_projection_nrmse(d.kspace + s * n, maps + s * n, C, H, W);
        if (d.sens) sum_file += mg_sens_projection_nrmse(d.kspace + s * n, d.sens + s * n, C, H, W);
    }
    double dt = mg_now() - t0;
    double chk = -1;
    if (check) { /* another tool's maps, one slice */
        if (d.nslices > 1) cli_fail(cmd, "--check MAPS holds one slice's maps; %s has %ld slices", in, d.nslices);
        cfloat *cm;
        long sets = 1;
        if (mg_sens_read_cfl(check, C, H, W, &cm, &sets)) cli_fail_lib(cmd);
        chk = mg_sens_projection_nrmse(d.kspace, cm, C, H, W);
        free(cm);
    }
    long dims[14] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, d.nslices};
    mg_kdata_cfl_layout(&d, C, H, W, dims); /* the input's layout ([W H 1 C] or [1 W H C] ...) */
    if (mg_cfl_write(out, d.nslices > 1 ? 14 : 4, dims, maps)) cli_fail_lib(cmd);
    printf("sens: %s maps from %ld centre lines, %ld slice(s) %ldx%ld, %ld coils, %.3f s\n",
           method == MG_SENS_WALSH ? "walsh" : method == MG_SENS_ESPIRIT ? "espirit" : "direct", acs, d.nslices, H, W,
           C, dt);
    printf("sens: projection NRMSE ||x - S S^H x||/||x|| = %.4f (mean over slices)\n",
           sum / (double)d.nslices);
    if (d.sens)
        printf("sens: projection NRMSE with the maps stored in %s = %.4f (the noise floor when they are "
               "the true maps)\n",
               in, sum_file / (double)d.nslices);
    if (check) printf("sens: projection NRMSE with the maps of %s = %.4f\n", check, chk);
    free(maps);
    mg_kdata_free(&d);
    return 0;
}

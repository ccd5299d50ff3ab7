/* mrgan compare: NMSE / PSNR of an image against a reference (like bart nrmse). */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan compare REF IMG\n"
    "\n"
    "Compares two complex image stacks (BART cfl, same dims: [W H] or [1 W H]\n"
    "with slices in the remaining dims; e.g. a reference from 'mrgan zerofill' on fully\n"
    "sampled data and any reconstruction, including 'bart pics -S' output) and\n"
    "prints, on magnitudes over the whole stack as fastMRI does per volume:\n"
    "  NMSE  || |ref| - |img| ||^2 / || |ref| ||^2\n"
    "  PSNR  10 log10(max|ref|^2 / mean (|ref| - |img|)^2)\n"
    "  SSIM  mean over slices, 7x7 window, data range max|ref| (skimage)\n"
    "  HFEN  ||LoG(|img|) - LoG(|ref|)|| / ||LoG(|ref|)||, LoG 15x15 sigma 1.5\n"
    "and, on the complex values, NRMSE ||ref - img|| / ||ref|| (as 'bart nrmse').\n"
    "\n"
    "  -q, --quiet   accepted as by every command (compare shows no progress)\n"
    "  -h, --help    this text\n";

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "compare";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'q': break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan compare --help')");
        }
    }
    argv += optind - 1;
    argc -= optind - 1;
    if (argc != 3) cli_fail(cmd, "expected REF and IMG (see 'mrgan compare --help')");
    int na, nb;
    long da[MG_MAX_DIMS], db[MG_MAX_DIMS];
    cfloat *a, *b;
    if (mg_cfl_read(argv[1], &na, da, &a)) cli_fail_lib(cmd);
    if (mg_cfl_read(argv[2], &nb, db, &b)) cli_fail_lib(cmd);
    long n = 1;
    for (int i = 0; i < MG_MAX_DIMS; i++) {
        if (da[i] != db[i])
            cli_fail(cmd, "%s: dims differ from %s in dim %d (%ld vs %ld)", argv[2], argv[1], i, db[i], da[i]);
        n *= da[i];
    }
    if (mg_first_nonfinite_c(a, (size_t)n) >= 0) cli_fail(cmd, "%s: non-finite values", argv[1]);
    if (mg_first_nonfinite_c(b, (size_t)n) >= 0) cli_fail(cmd, "%s: non-finite values", argv[2]);
    /* the image plane: the first two dims of size > 1 among 0..2 ([W H], or
     * BART's [1 W H] of a transformed readout); the rest are slices */
    long sp[2] = {da[0], da[1]}, k = 0;
    for (int i = 0; i < 3 && k < 2; i++)
        if (da[i] > 1) sp[k++] = da[i];
    if (k < 2) sp[0] = da[0], sp[1] = da[1];
    const long W = sp[0], H = sp[1], hw = W * H, ns = n / hw;
    float *ma = mg_malloc_array((size_t)n, sizeof(float)), *mb = mg_malloc_array((size_t)n, sizeof(float));
    double e = 0, r = 0, ec = 0, mx = 0;
    for (long i = 0; i < n; i++) {
        ma[i] = cabsf(a[i]);
        mb[i] = cabsf(b[i]);
        e += ((double)ma[i] - mb[i]) * ((double)ma[i] - mb[i]);
        r += (double)ma[i] * ma[i];
        ec += pow(cabsf(a[i] - b[i]), 2);
        if (ma[i] > mx) mx = ma[i];
    }
    if (!(r > 0)) cli_fail(cmd, "%s: the reference is all zero: NMSE is undefined", argv[1]);
    double ssim = 0;
    mg_hfen_acc hf = {0, 0};
    for (long s = 0; s < ns; s++) {
        ssim += mg_ssim(ma + s * hw, mb + s * hw, H, W, mx);
        mg_hfen_add(&hf, ma + s * hw, mb + s * hw, H, W);
    }
    printf("NMSE %.6f  PSNR %.2f dB  SSIM %.4f  HFEN %.4f  NRMSE %.6f  (%ld slice(s))\n", r > 0 ? e / r : 0.0,
           mg_psnr(ma, mb, n, mx), ssim / (double)ns, mg_hfen_value(&hf), r > 0 ? sqrt(ec / r) : 0.0, ns);
    free(ma);
    free(mb);
    free(a);
    free(b);
    return 0;
}

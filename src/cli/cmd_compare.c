/* mrgan compare: NMSE / PSNR of an image against a reference (like bart nrmse). */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan compare REF IMG\n"
    "\n"
    "Compares two complex images (BART cfl, same dims; e.g. a reference from\n"
    "'mrgan zerofill' on fully sampled data and any reconstruction, including\n"
    "'bart pics -S' output) and prints, over all their elements:\n"
    "  NMSE  ||  |ref| - |img|  ||^2 / || |ref| ||^2   (magnitudes, as fastMRI)\n"
    "  PSNR  10 log10(max|ref|^2 / mean (|ref| - |img|)^2)\n"
    "  NRMSE ||ref - img|| / ||ref||                 (complex, as 'bart nrmse')\n";

int cmd_compare(int argc, char **argv)
{
    const char *cmd = "compare";
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(help, stdout);
        return 0;
    }
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
    if (mg_first_nonfinite_c(b, (size_t)n) >= 0) cli_fail(cmd, "%s: non-finite values", argv[2]);
    double e = 0, r = 0, ec = 0, rc = 0, mx = 0;
    for (long i = 0; i < n; i++) {
        double ma = cabsf(a[i]), mb = cabsf(b[i]);
        e += (ma - mb) * (ma - mb);
        r += ma * ma;
        ec += pow(cabsf(a[i] - b[i]), 2);
        rc += ma * ma;
        if (ma > mx) mx = ma;
    }
    printf("NMSE %.6f  PSNR %.2f dB  NRMSE %.6f\n", r > 0 ? e / r : 0.0,
           e > 0 ? 10 * log10(mx * mx / (e / (double)n)) : INFINITY, rc > 0 ? sqrt(ec / rc) : 0.0);
    free(a);
    free(b);
    return 0;
}

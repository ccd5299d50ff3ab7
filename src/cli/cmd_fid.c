/* mrgan fid: FID and KID between two image sets (as pytorch-fid's command). */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan fid --weights FILE [options] REF IMAGES\n"
    "\n"
    "Frechet inception distance and kernel inception distance between two image\n"
    "sets, with pytorch-fid's Inception-v3 (pool3, 2048 features; images scaled by\n"
    "--vmax and clipped to [0, 1], resized bilinearly to 299 x 299, grey copied to\n"
    "three channels). REF and IMAGES are image stacks: a cfl ([W H] x images in the\n"
    "remaining dims, magnitudes taken; e.g. 'mrgan eval' OUTDIR/images/NAME.cfl)\n"
    "or a directory of 8-bit grey PNGs of one size. FID is computed with the exact\n"
    "matrix square root; with fewer images than 2048 the covariances are singular\n"
    "and FID is biased upwards: compare numbers of the same image counts only.\n"
    "\n"
    "  --weights FILE       converted Inception-v3 weights (docs/metrics.md)\n"
    "  --vmax V             intensity mapped to 1 (default: REF's maximum for cfl,\n"
    "                       255 for PNG)\n"
    "  --features-out F     also write both sets' features as cfl [2048 n] (F_ref, F_img)\n"
    "  -q, --quiet          accepted as by every command (fid shows no progress)\n"
    "  -h, --help           this text\n";

/* the intensity a set maps to 1: 255 for 8-bit PNGs, the maximum of magnitudes */
static double set_scale(const float *x, long n, int png)
{
    if (png) return 255;
    double m = 0;
    for (long i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static void write_features(const char *cmd, const char *base, const char *suffix, const float *f, long n)
{
    char p[4096];
    snprintf(p, sizeof p, "%s%s", base, suffix);
    cfloat *z = mg_malloc_array((size_t)(n * MG_FID_DIM), sizeof(cfloat));
    for (long i = 0; i < n * MG_FID_DIM; i++) z[i] = f[i];
    long dims[2] = {MG_FID_DIM, n};
    if (mg_cfl_write(p, 2, dims, z)) cli_fail_lib(cmd);
    free(z);
}

int cmd_fid(int argc, char **argv)
{
    static const struct option opts[] = {{"weights", 1, 0, 'w'}, {"vmax", 1, 0, 'v'}, {"features-out", 1, 0, 'f'},
                                         {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "fid", *weights = NULL, *fout = NULL;
    double vmax = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'w': weights = optarg; break;
        case 'v': vmax = cli_double(cmd, "--vmax", optarg, 1e-30, 1e30); break;
        case 'f': fout = optarg; break;
        case 'q': break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan fid --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected REF and IMAGES (see 'mrgan fid --help')");
    if (!weights) cli_fail(cmd, "--weights FILE is required (docs/metrics.md: converting pytorch-fid's weights)");
    mg_fid_model m;
    if (mg_fid_load(weights, &m)) cli_fail_lib(cmd);
    long na, nb, Ha, Wa, Hb, Wb;
    int pa, pb;
    float *a = mg_image_set_read(argv[optind], &na, &Ha, &Wa, &pa);
    if (!a) cli_fail_lib(cmd);
    float *b = mg_image_set_read(argv[optind + 1], &nb, &Hb, &Wb, &pb);
    if (!b) cli_fail_lib(cmd);
    if (na < 2 || nb < 2) cli_fail(cmd, "need at least 2 images per set (%ld and %ld)", na, nb);
    double vmax_b = vmax;
    char note[256] = ""; /* said after the result: an error stays one line */
    if (vmax == 0) {
        vmax = set_scale(a, na * Ha * Wa, pa);
        vmax_b = pa != pb ? set_scale(b, nb * Hb * Wb, pb) : vmax; /* PNGs and magnitudes: each set its own */
        if (pa != pb)
            snprintf(note, sizeof note, "mrgan fid: note: one set is PNG, the other cfl: each mapped by its own "
                     "maximum (%g and %g; --vmax sets one for both)", vmax, vmax_b);
    }
    if (!(vmax > 0) || !(vmax_b > 0)) cli_fail(cmd, "an image set is all zero (no intensity scale)");
    float *fa, *fb;
    double t0 = mg_now();
    if (mg_fid_features(&m, a, na, Ha, Wa, vmax, &fa) || mg_fid_features(&m, b, nb, Hb, Wb, vmax_b, &fb))
        cli_fail_lib(cmd);
    double dt = mg_now() - t0;
    if (fout) {
        write_features(cmd, fout, "_ref", fa, na);
        write_features(cmd, fout, "_img", fb, nb);
    }
    printf("FID %.6g  KID %.6g  (%ld vs %ld images, vmax %g; %.3f s per image; weights SHA-256 %s)\n",
           mg_fid_distance(fb, nb, fa, na, MG_FID_DIM), mg_kid(fb, nb, fa, na, MG_FID_DIM), na, nb, vmax,
           dt / (double)(na + nb), m.sha256);
    if (note[0]) fprintf(stderr, "%s\n", note);
    free(a); free(b); free(fa); free(fb);
    mg_fid_free(&m);
    return 0;
}

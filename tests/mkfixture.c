/* Writes test inputs for the CLI tests (tests make their own data):
 *   mkfixture phantom OUT.nii.gz      a 48x56x40 head-like volume (ellipsoids)
 *   mkfixture nancfl BASE             2D 4-coil k-space [16 16 1 4] with one NaN
 *   mkfixture zeromask BASE           a cfl mask [1 16] with no sampled line
 *   mkfixture kspace BASE             2D 4-coil k-space [16 16 1 4] of a disc
 *   mkfixture maps BASE COILS         unit-norm birdcage maps [16 16 1 COILS] */
#include "core/core.h"
#include "io/io.h"
#include "mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int phantom(const char *out)
{
    const long nx = 48, ny = 56, nz = 40;
    float *v = calloc((size_t)(nx * ny * nz), sizeof(float));
    for (long z = 0; z < nz; z++)
        for (long y = 0; y < ny; y++)
            for (long x = 0; x < nx; x++) {
                double X = (x - nx / 2.0) / (0.42 * nx), Y = (y - ny / 2.0) / (0.45 * ny),
                       Z = (z - nz / 2.0) / (0.45 * nz);
                double r = X * X + Y * Y + Z * Z, val = 0;
                if (r < 1) val = 200;                            /* scalp */
                if (r < 0.8) val = 120;                          /* brain */
                if ((X - 0.2) * (X - 0.2) + Y * Y * 4 + Z * Z < 0.06) val = 40; /* ventricle */
                if ((X + 0.3) * (X + 0.3) + (Y - 0.3) * (Y - 0.3) + Z * Z < 0.02) val = 160;
                v[(z * ny + y) * nx + x] = (float)val;
            }
    int rc = mg_nifti_write(out, nx, ny, nz, v, NULL);
    free(v);
    return rc;
}

static void disc_kspace(cfloat *k, long C)
{
    const long H = 16, W = 16, n = H * W;
    cfloat *sens = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    cfloat img[256];
    for (long y = 0; y < H; y++)
        for (long x = 0; x < W; x++)
            img[y * W + x] = (x - 8) * (x - 8) + (y - 8) * (y - 8) < 36 ? 1.0f : 0.0f;
    mg_birdcage_maps(sens, C, H, W, 1.5, 0.0);
    mg_rng r;
    mg_rng_seed(&r, 1);
    mg_simulate_kspace(img, sens, C, H, W, 0.001, &r, k);
    free(sens);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mkfixture phantom|nancfl|zeromask|kspace|maps OUT [COILS]\n");
        return 2;
    }
    int rc = 0;
    if (!strcmp(argv[1], "phantom")) rc = phantom(argv[2]);
    else if (!strcmp(argv[1], "kspace") || !strcmp(argv[1], "nancfl")) {
        cfloat k[4 * 256];
        disc_kspace(k, 4);
        if (!strcmp(argv[1], "nancfl")) k[100] = NAN;
        long dims[4] = {16, 16, 1, 4};
        rc = mg_cfl_write(argv[2], 4, dims, k);
    } else if (!strcmp(argv[1], "zeromask")) {
        float m[16] = {0};
        rc = mg_mask_write_cfl(argv[2], m, 16);
    } else if (!strcmp(argv[1], "maps") && argc == 4) {
        long C = atol(argv[3]);
        cfloat *s = mg_malloc_array((size_t)(C * 256), sizeof(cfloat));
        mg_birdcage_maps(s, C, 16, 16, 1.5, 0.0);
        long dims[4] = {16, 16, 1, C};
        rc = mg_cfl_write(argv[2], 4, dims, s);
        free(s);
    } else {
        fprintf(stderr, "mkfixture: unknown fixture %s\n", argv[1]);
        return 2;
    }
    if (rc) fprintf(stderr, "mkfixture: %s\n", mg_error());
    return rc ? 1 : 0;
}

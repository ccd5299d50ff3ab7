/* Compressed-sensing SENSE: options, bart pics' data scaling (so the same
 * lambda means the same there) and the driver; the solvers are
 * cs_wavelet.c (FISTA) and cs_tv.c (ADMM). */
#include "recon.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_cs_defaults(mg_cs_opts *o, int reg)
{
    memset(o, 0, sizeof *o);
    o->reg = reg;
    o->lambda = 0.002f; /* best of 0.0005..0.01 on the default validation split, both (docs/baselines.md) */
    o->iters = 30;
    o->wavelet = MG_WAV_DB2;
    o->randshift = 1;
    o->momentum = 1;
    o->rho = 0.5f;
    o->cg_iters = 10;
    o->alpha = 1.6f;
    o->scale = 0;
    o->sets = 1;
}

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float mg_cs_scaling(const cfloat *ksp, const float *mask, long C, long H, long W)
{
    /* fully sampled centre block of phase-encode lines, at most 32 */
    long c0 = H / 2, c1 = H / 2;
    while (c0 - 1 >= 0 && (!mask || mask[c0 - 1] != 0.0f) && c1 - c0 + 1 < 32) c0--;
    while (c1 + 1 < H && (!mask || mask[c1 + 1] != 0.0f) && c1 - c0 + 1 < 32) c1++;
    if (mask && mask[H / 2] == 0.0f) c0 = c1 = H / 2;
    /* readout window of <= 32 samples with the k-space centre W/2 at its own centre */
    const long hc = c1 - c0 + 1, wc = W < 32 ? W : 32, x0c = W / 2 - wc / 2;
    cfloat *cal = mg_malloc_array((size_t)(C * hc * wc), sizeof(cfloat));
    for (long c = 0; c < C; c++)
        for (long y = 0; y < hc; y++)
            for (long x = 0; x < wc; x++) cal[(c * hc + y) * wc + x] = ksp[(c * H + c0 + y) * W + x0c + x];
    mg_fft2c(cal, C, hc, wc, MG_FFT_INVERSE);
    const long n = hc * wc;
    float *mag = mg_malloc_array((size_t)n, sizeof(float));
    const double resc = sqrt(((double)H * W) / ((double)hc * wc));
    for (long i = 0; i < n; i++) {
        double a = 0;
        for (long c = 0; c < C; c++) a += pow(cabsf(cal[c * n + i]), 2);
        mag[i] = (float)(sqrt(a) / resc);
    }
    qsort(mag, (size_t)n, sizeof(float), cmp_f);
    float med = mag[n / 2], p90 = mag[(long)(0.9 * (double)n)], mx = mag[n - 1];
    float s = (mx - p90) < 2 * (p90 - med) ? p90 : mx;
    free(cal);
    free(mag);
    return s > 0 && isfinite(s) ? s : 1.0f;
}

/* ---- total variation pieces ---- */
float mg_cs_recon(const cfloat *ksp, const cfloat *sens, const float *mask, long C, long H, long W,
                  const mg_cs_opts *o, cfloat *img)
{
    const long n = C * H * W;
    float s = o->scale > 0 ? o->scale : mg_cs_scaling(ksp, mask, C, H, W);
    cfloat *y = mg_malloc_array((size_t)n, sizeof(cfloat));
    for (long i = 0; i < n; i++) y[i] = ksp[i] / s;
    mg_mask_apply(y, mask, C, H, W);
    const long S = o->sets > 1 ? o->sets : 1;
    mg_sense_op op;
    mg_sense_op_init_sets(&op, sens, S, mask, C, H, W, NULL);
    cfloat *x = S > 1 ? mg_malloc_array((size_t)(S * H * W), sizeof(cfloat)) : img; /* one image per set */
    if (o->reg == MG_REG_WAVELET) mg_cs_wavelet_solve(&op, y, o, x);
    else mg_cs_tv_solve(&op, y, o, x);
    if (S > 1) {
        mg_sets_combine(x, S, H * W, img);
        free(x);
    }
    for (long i = 0; i < H * W; i++) img[i] *= s;
    mg_sense_op_free(&op);
    free(y);
    return s;
}

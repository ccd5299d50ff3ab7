/* The network's input: masking and scaling (models.h). */
#include "models.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* 99th percentile of |mz| (1 if zero) */
static float scale_of(const cfloat *mz, long hw)
{
    float *mag = mg_malloc_array((size_t)hw, sizeof(float));
    for (long i = 0; i < hw; i++) mag[i] = cabsf(mz[i]);
    qsort(mag, (size_t)hw, sizeof(float), cmp_f);
    float s = mag[(long)(0.99 * (double)(hw - 1))];
    free(mag);
    return s > 0 && isfinite(s) ? s : 1.0f;
}

float mg_sample_prepare(const cfloat *k, const cfloat *sens, const float *mask, cfloat *ku,
                        float *target, cfloat *mz, cfloat *work, int C, int H, int W)
{
    const long hw = (long)H * W, n = C * hw;
    memcpy(ku, k, sizeof(cfloat) * (size_t)n);
    mg_mask_apply(ku, mask, C, H, W);
    cfloat *z = mz ? mz : mg_malloc_array((size_t)hw, sizeof(cfloat));
    mg_sense_adjoint(ku, sens, mask, z, work, C, H, W);
    float s = scale_of(z, hw);
    const float inv = 1.0f / s;
    for (long i = 0; i < n; i++) ku[i] *= inv;
    if (mz)
        for (long i = 0; i < hw; i++) mz[i] *= inv; /* A^H is linear: the zero-filled image of ku / s */
    else
        free(z);
    if (target) {
        cfloat *mf = mg_malloc_array((size_t)hw, sizeof(cfloat));
        mg_sense_adjoint(k, sens, NULL, mf, work, C, H, W);
        for (long i = 0; i < hw; i++) mf[i] *= inv;
        mg_c2planes(mf, target, hw);
        free(mf);
    }
    return s;
}


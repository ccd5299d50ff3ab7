/* k-space data in memory (io.h's mg_kdata): freeing, the acquired lines of
 * a slice, and the removal of readout oversampling (docs/formats.md,
 * "Readout oversampling" and "Acquired lines"). */
#include "io.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <stdlib.h>
#include <string.h>

void mg_kdata_free(mg_kdata *d)
{
    free(d->kspace);
    free(d->sens);
    free(d->rss);
    free(d->mask);
    free(d->slice_info);
    free(d->rss_crop);
    memset(d, 0, sizeof *d);
}

long mg_kdata_acquired(const mg_kdata *d, long s, float *acq)
{
    const long C = d->coils, H = d->h, W = d->w;
    const long lo = d->acq_hi > d->acq_lo ? d->acq_lo : 0, hi = d->acq_hi > d->acq_lo ? d->acq_hi : H;
    return mg_acquired_lines(d->kspace + s * C * H * W, C, H, W, lo, hi, acq);
}

/* the centre w2 columns of each of `planes` H x W planes, in place (the
 * planes move down as they shrink) */
static void crop_cols(void *data, long planes, long H, long W, long w2, size_t elem)
{
    char *p = data;
    for (long i = 0; i < planes; i++)
        mg_center_crop(p + (size_t)(i * H * W) * elem, H, W, p + (size_t)(i * H * w2) * elem, H, w2, elem);
}

void mg_kdata_crop_readout(mg_kdata *d, long w2)
{
    const long S = d->nslices, C = d->coils, H = d->h, W = d->w;
    if (w2 <= 0 || w2 >= W) return;
    /* image space along the readout (a 2D inverse and forward FFT leave the
     * phase-encode axis as it was), crop, back to k-space */
    for (long p = 0; p < S * C; p++) {
        cfloat *k = d->kspace + p * H * W;
        mg_fft2c(k, 1, H, W, MG_FFT_INVERSE);
        cfloat *k2 = d->kspace + p * H * w2; /* planes move down as they shrink */
        mg_center_crop(k, H, W, k2, H, w2, sizeof(cfloat));
        mg_fft2c(k2, 1, H, w2, MG_FFT_FORWARD);
    }
    d->kspace = mg_realloc(d->kspace, sizeof(cfloat) * (size_t)(S * C * H * w2));
    if (d->sens) {
        crop_cols(d->sens, S * C, H, W, w2, sizeof(cfloat));
        d->sens = mg_realloc(d->sens, sizeof(cfloat) * (size_t)(S * C * H * w2));
    }
    if (d->rss) {
        crop_cols(d->rss, S, H, W, w2, sizeof(float));
        d->rss = mg_realloc(d->rss, sizeof(float) * (size_t)(S * H * w2));
    }
    if (d->fov_w_mm > 0) d->fov_w_mm *= (double)w2 / (double)W;
    d->w_encoded = W;
    d->w = w2;
}

/* k-space data in memory (io.h's mg_kdata): reading by file type (HDF5:
 * h5.c, ISMRMRD: ismrmrd.c, cfl: cfl.c), freeing, the header's geometry,
 * the acquired lines of a slice and the removal of readout oversampling
 * (docs/formats.md, "ISMRMRD header", "Readout oversampling" and "Acquired
 * lines"). */
#include "io.h"
#include "io_internal.h"
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

/* the header's geometry, where it describes the array d holds (d->w the
 * readout, d->h the phase-encode lines, as read) */
void mg_kdata_geometry(mg_kdata *d, const mg_ismrmrd_hdr *hdr)
{
    if (hdr->matrix[0][0] == d->w && hdr->fov_mm[0][0] > 0) d->fov_w_mm = hdr->fov_mm[0][0];
    if (hdr->matrix[0][1] == d->h && hdr->fov_mm[0][1] > 0) d->fov_h_mm = hdr->fov_mm[0][1];
    if (hdr->matrix[1][0] > 0 && hdr->matrix[1][1] > 0) {
        d->recon_w = hdr->matrix[1][0];
        d->recon_h = hdr->matrix[1][1];
    }
    d->acq_lo = 0;
    d->acq_hi = d->h;
    mg_ismrmrd_acquired_range(hdr, d->h, &d->acq_lo, &d->acq_hi);
}

/* readout oversampling: the header's encoded readout is longer than its
 * reconstructed one (fastMRI: 640 -> 320) */
void mg_kdata_crop_header(mg_kdata *d, const mg_ismrmrd_hdr *hdr, const mg_read_opts *o, int shape_only)
{
    const long R = d->w, w2 = hdr->matrix[1][0];
    if (!o->crop_readout || hdr->matrix[0][0] != R || w2 <= 0 || w2 >= R) return;
    if (shape_only) {
        d->w_encoded = R;
        d->w = w2;
        if (d->fov_w_mm > 0) d->fov_w_mm *= (double)w2 / (double)R;
    } else {
        mg_kdata_crop_readout(d, w2);
    }
}

/* cnt slices from s0 (cnt 0: all; cnt < 0: the shape only) */
static int read_any(const char *path, const mg_read_opts *o, long s0, long cnt, mg_kdata *d)
{
    memset(d, 0, sizeof *d);
    d->cfl_dims[1] = 1; /* [W H ...] */
    const char *ctx = mg_alloc_context(path);
    int rc;
    if (mg_has_suffix(path, ".h5") || mg_has_suffix(path, ".hdf5")) {
        rc = mg_h5_read_kdata(path, o, s0, cnt, d);
    } else {
        rc = mg_cfl_read_kspace(path, d);
        if (!rc && cnt > 0 && (s0 != 0 || cnt != 1)) {
            mg_set_error("%s: holds one slice; slices %ld..%ld do not exist", path, s0, s0 + cnt - 1);
            mg_kdata_free(d);
            rc = -1;
        }
        if (!rc) d->has_sens = 0;
    }
    if (!rc && d->acq_hi <= d->acq_lo) {
        d->acq_lo = 0;
        d->acq_hi = d->h;
    }
    mg_alloc_context(ctx);
    return rc;
}

int mg_kdata_read_opts(const char *path, const mg_read_opts *o, mg_kdata *d) { return read_any(path, o, 0, 0, d); }

int mg_kdata_read_slices(const char *path, const mg_read_opts *o, long s0, long cnt, mg_kdata *d)
{
    return read_any(path, o, s0, cnt > 0 ? cnt : 1, d);
}

int mg_kdata_probe(const char *path, const mg_read_opts *o, mg_kdata *d)
{
    if (mg_has_suffix(path, ".h5") || mg_has_suffix(path, ".hdf5")) return read_any(path, o, 0, -1, d);
    if (read_any(path, o, 0, 0, d)) return -1; /* a cfl: one slice, read whole */
    free(d->kspace);
    d->kspace = NULL;
    return 0;
}

int mg_kdata_read(const char *path, mg_kdata *d)
{
    const mg_read_opts o = MG_READ_DEFAULTS;
    return mg_kdata_read_opts(path, &o, d);
}


/* Validation after each epoch (trainer.h): the validation split through the
 * step's network with the fixed evaluation masks. */
#include "trainer.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* tile layout: G rows of [zf | recon | reference] */
static void tile(cfloat *tiles, long s, const cfloat *zfi, const cfloat *pred, const cfloat *ref, long H, long W)
{
    for (long y = 0; y < H; y++)
        for (long x = 0; x < W; x++) {
            long row = (s * H + y) * 3 * W;
            tiles[row + x] = zfi[y * W + x];
            tiles[row + W + x] = pred[y * W + x];
            tiles[row + 2 * W + x] = ref[y * W + x];
        }
}

/* FID of the reconstructions' magnitudes against the references' (features
 * of the references computed once) */
static int validation_fid(trainer *t, const float *pm, const float *rm, double *fid)
{
    const mg_kdata *v = &t->va;
    const long n = v->nslices * v->h * v->w;
    double vmax = 0;
    for (long i = 0; i < n; i++) vmax = rm[i] > vmax ? rm[i] : vmax;
    float *fp = NULL;
    int rc = t->fid_ref ? 0 : mg_fid_features(&t->fid, rm, v->nslices, (int)v->h, (int)v->w, vmax, &t->fid_ref);
    if (!rc) rc = mg_fid_features(&t->fid, pm, v->nslices, (int)v->h, (int)v->w, vmax, &fp);
    if (!rc) *fid = mg_fid_distance(fp, v->nslices, t->fid_ref, v->nslices, MG_FID_DIM);
    free(fp);
    return rc;
}

int mg_trainer_validate(trainer *t, double *nmse, double *zf, const char *grid, double *fid)
{
    mg_batch *b = &t->b;
    const mg_kdata *v = &t->va;
    mg_nmse_acc acc = {0, 0}, acc_zf = {0, 0};
    const long hw = b->hw;
    cfloat *pred = mg_malloc_array((size_t)hw, sizeof(cfloat)), *ref = mg_malloc_array((size_t)hw, sizeof(cfloat));
    cfloat *zfi = mg_malloc_array((size_t)hw, sizeof(cfloat));
    const int G = grid ? (int)(t->cfg.grid < v->nslices ? t->cfg.grid : v->nslices) : 0;
    cfloat *tiles = G ? mg_calloc((size_t)(3 * G) * (size_t)hw, sizeof(cfloat)) : NULL;
    const int want_fid = fid && t->has_fid;
    float *pm = want_fid ? mg_malloc_array((size_t)(v->nslices * hw), sizeof(float)) : NULL;
    float *rm = want_fid ? mg_malloc_array((size_t)(v->nslices * hw), sizeof(float)) : NULL;
    int rc = 0;
    for (long s = 0; s < v->nslices && !rc; s++) {
        rc = mg_mask_make(t->cfg.mask_type, b->mask, b->H, t->cfg.accel, t->cfg.center, -1,
                          mg_mask_slice_seed(t->cfg.eval_seed, s));
        if (rc) break;
        const cfloat *k = v->kspace + s * b->n, *sens = v->sens + s * b->n;
        float sc = mg_sample_prepare(k, sens, b->mask, b->ku, b->target, zfi, b->work, b->C, b->H, b->W);
        t->step.infer(&t->step, b->ku, sens, b->mask, b->out, b->C, b->H, b->W);
        mg_planes2c(b->out, pred, hw);
        mg_planes2c(b->target, ref, hw);
        for (long i = 0; i < hw; i++) {
            pred[i] *= sc;
            ref[i] *= sc;
            zfi[i] *= sc;
        }
        mg_nmse_add_mag(&acc, ref, pred, (size_t)hw);
        mg_nmse_add_mag(&acc_zf, ref, zfi, (size_t)hw);
        if (want_fid)
            for (long i = 0; i < hw; i++) pm[s * hw + i] = cabsf(pred[i]), rm[s * hw + i] = cabsf(ref[i]);
        if (s < G) tile(tiles, s, zfi, pred, ref, b->H, b->W);
    }
    if (!rc && G) rc = mg_png_write_mag(grid, tiles, G * b->H, 3 * b->W, 0.0f, 0.0f);
    if (!rc && want_fid) rc = validation_fid(t, pm, rm, fid);
    free(pm);
    free(rm);
    free(pred);
    free(ref);
    free(zfi);
    free(tiles);
    *nmse = mg_nmse_value(&acc);
    if (zf) *zf = mg_nmse_value(&acc_zf);
    if (fid && !want_fid) *fid = NAN;
    return rc;
}

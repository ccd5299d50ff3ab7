/* Validation after each epoch (trainer.h): the evaluation protocol of
 * `mrgan eval` (recon/evaluate.c) on the validation split with its fixed
 * masks, the network run by the step's backend. */
#include "trainer.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* the validation maps and the fixed evaluation mask of slice s */
static const float *val_slice(void *ctx, long s, cfloat *sens)
{
    trainer *t = ctx;
    const mg_kdata *v = &t->va;
    const long n = v->coils * v->h * v->w;
    memcpy(sens, v->sens + s * n, sizeof(cfloat) * (size_t)n);
    if (mg_mask_make(t->cfg.mask_type, t->vmask, v->h, t->cfg.accel, t->cfg.center, -1,
                     mg_mask_slice_seed(t->cfg.eval_seed, s)))
        return NULL;
    return t->vmask;
}

/* the step's network as an inference engine for the evaluation's method */
static void step_infer(mg_engine *e, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int n, int C,
                       int H, int W)
{
    mg_step *s = e->dev;
    const long k = (long)C * H * W;
    for (int i = 0; i < n; i++) s->infer(s, ku + i * k, sens + i * k, mask + (long)i * H, out + 2L * i * H * W, C, H, W);
}

static void step_release(mg_engine *e) { (void)e; }

static int open_validation(trainer *t)
{
    const mg_kdata *v = &t->va;
    const long C = v->coils, H = v->h, W = v->w;
    t->vmask = mg_malloc_array((size_t)H, sizeof(float));
    t->vimg = mg_malloc_array((size_t)(v->nslices * H * W), sizeof(cfloat));
    t->zimg = mg_malloc_array((size_t)(v->nslices * H * W), sizeof(cfloat));
    t->ev = (mg_eval){.data = v, .s0 = 0, .s1 = v->nslices, .slice = val_slice, .ctx = t,
                      .fid = t->has_fid ? &t->fid : NULL, .quiet = 1, .nmse_only = !t->has_fid};
    mg_method_init(&t->vnet, MG_M_DCINET, "dci-net");
    t->vnet.eng = (mg_engine){.net = &t->net, .name = t->step.name, .infer = step_infer, .release = step_release,
                              .dev = &t->step};
    mg_method_open(&t->vnet, C, H, W, "validation");
    t->ev_open = 1;
    if (mg_eval_prepare(&t->ev)) return -1;
    /* zero filling: the same every epoch (fixed masks), so once */
    mg_method zf;
    mg_method_init(&zf, MG_M_ZF, "zero-filled");
    mg_method_open(&zf, C, H, W, "validation");
    const mg_fid_model *fm = t->ev.fid;
    t->ev.fid = NULL;
    mg_eval_row row;
    int rc = mg_eval_method(&t->ev, &zf, &row, t->zimg);
    t->ev.fid = fm;
    t->zf_nmse = row.nmse;
    mg_method_free(&zf);
    return rc;
}

void mg_trainer_validate_free(trainer *t)
{
    if (!t->ev_open) return;
    mg_eval_free(&t->ev);
    mg_method_free(&t->vnet);
    free(t->vmask);
    free(t->vimg);
    free(t->zimg);
    t->ev_open = 0;
}

/* G rows of [zero-filled | reconstruction | reference] */
static int write_grid(trainer *t, const char *path, int G)
{
    const long H = t->va.h, W = t->va.w;
    cfloat *tiles = mg_calloc((size_t)(3 * G) * (size_t)(H * W), sizeof(cfloat));
    const cfloat *src[3] = {t->zimg, t->vimg, t->ev.ref};
    for (long s = 0; s < G; s++)
        for (int k = 0; k < 3; k++)
            for (long y = 0; y < H; y++)
                memcpy(tiles + (s * H + y) * 3 * W + k * W, src[k] + (s * H + y) * W, sizeof(cfloat) * (size_t)W);
    int rc = mg_png_write_mag(path, tiles, G * H, 3 * W, 0.0f, 0.0f);
    free(tiles);
    return rc;
}

int mg_trainer_validate(trainer *t, double *nmse, double *zf, const char *grid, double *fid)
{
    if (!t->ev_open && open_validation(t)) return -1;
    const int G = grid ? (int)(t->cfg.grid < t->va.nslices ? t->cfg.grid : t->va.nslices) : 0;
    t->ev.fid = fid && t->has_fid ? &t->fid : NULL;
    mg_eval_row row;
    if (mg_eval_method(&t->ev, &t->vnet, &row, t->vimg)) return -1;
    *nmse = row.nmse;
    if (fid) *fid = row.has_fid ? row.fid : NAN;
    if (zf) *zf = t->zf_nmse;
    return G ? write_grid(t, grid, G) : 0;
}

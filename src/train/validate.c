/* Validation after each epoch (trainer.h): the evaluation protocol of
 * `mrgan eval` (recon/evaluate.c) on the validation split with its fixed
 * masks, the network run by the step's backend. */
#include "trainer.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* the validation maps and the fixed evaluation mask (over the acquired
 * lines) of slice s */
static const float *val_slice(void *ctx, long s, cfloat *sens)
{
    trainer *t = ctx;
    const mg_kdata *v = &t->va;
    const long n = v->coils * v->h * v->w;
    memcpy(sens, v->sens + s * n, sizeof(cfloat) * (size_t)n);
    float *acq = t->vmask + v->h;
    const long nacq = mg_kdata_acquired(v, s, acq);
    if (mg_mask_make_acquired(t->cfg.mask_type, t->vmask, nacq < v->h ? acq : NULL, v->h, t->cfg.accel,
                              t->cfg.center, -1, mg_mask_slice_seed(t->cfg.eval_seed, s))) {
        mg_set_error("%s, slice %ld: %s", t->vd.files[t->ev_file], s, mg_error());
        return NULL;
    }
    return t->vmask;
}

/* A validation file as the trainer uses it: read whole, maps normalised (a
 * note when they were not unit-norm) or estimated from the centre lines. */
static int load_val(trainer *t, int f)
{
    const char *p = t->vd.files[f];
    mg_kdata *d = &t->va;
    const mg_read_opts ro = {t->cfg.crop_readout};
    double dev;
    if (mg_kdata_read_opts(p, &ro, d) || mg_kdata_unit_maps(d, p, t->cfg.center, t->cfg.sens_method, &dev)) return -1;
    if (dev > 1e-3 && !t->cfg.quiet)
        fprintf(stderr, "train: note: the coil maps of %s are not unit-norm (root-sum-of-squares off by up to %.3g); "
                        "normalised per pixel\n", p, dev);
    return 0;
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

static void close_validation(trainer *t)
{
    if (!t->ev_open) return;
    mg_eval_free(&t->ev);
    mg_method_free(&t->vnet);
    free(t->vmask);
    free(t->vimg);
    free(t->zimg);
    t->vmask = NULL, t->vimg = t->zimg = NULL; /* a failed open comes back here */
    mg_kdata_free(&t->va);
    t->ev_open = 0;
}

/* validation file f: loaded, references and masks prepared, zero filling's
 * NMSE once */
static int open_validation(trainer *t, int f)
{
    if (t->ev_open && t->ev_file == f) return 0;
    close_validation(t);
    if (!t->zf_nmse) {
        t->zf_nmse = mg_malloc_array((size_t)t->vd.nfiles, sizeof(double));
        for (int i = 0; i < t->vd.nfiles; i++) t->zf_nmse[i] = NAN;
    }
    t->ev_open = 1;
    t->ev_file = f;
    t->vmask = mg_malloc_array((size_t)(2 * t->vd.max_H), sizeof(float)); /* the mask, the acquired lines */
    if (load_val(t, f)) return -1;
    const mg_kdata *v = &t->va;
    const long C = v->coils, H = v->h, W = v->w;
    t->vimg = mg_malloc_array((size_t)(v->nslices * H * W), sizeof(cfloat));
    t->zimg = mg_malloc_array((size_t)(v->nslices * H * W), sizeof(cfloat));
    t->ev = (mg_eval){.data = v, .s0 = 0, .s1 = v->nslices, .slice = val_slice, .ctx = t,
                      .fid = t->has_fid ? &t->fid : NULL, .quiet = 1, .nmse_only = !t->has_fid,
                      .path = t->vd.files[f]};
    mg_method_init(&t->vnet, MG_M_DCINET, "dci-net");
    t->vnet.eng = (mg_engine){.net = &t->net, .name = t->step.name, .infer = step_infer, .release = step_release,
                              .dev = &t->step};
    mg_method_open(&t->vnet, C, H, W, "validation");
    if (mg_eval_prepare(&t->ev)) return -1;
    /* zero filling: the same every epoch (fixed masks); its images for the
     * grid of the first file, its NMSE once per file */
    if (!isnan(t->zf_nmse[f]) && f != 0) return 0;
    mg_method zf;
    mg_method_init(&zf, MG_M_ZF, "zero-filled");
    mg_method_open(&zf, C, H, W, "validation");
    const mg_fid_model *fm = t->ev.fid;
    t->ev.fid = NULL;
    mg_eval_row row;
    int rc = mg_eval_method(&t->ev, &zf, &row, t->zimg);
    t->ev.fid = fm;
    t->zf_nmse[f] = row.nmse;
    mg_method_free(&zf);
    return rc;
}

void mg_trainer_validate_free(trainer *t)
{
    close_validation(t);
    free(t->zf_nmse);
    t->zf_nmse = NULL;
}

/* G rows of [zero-filled | reconstruction | reference], each image shown as
 * the PNGs of io.h (rows along W) */
static int write_grid(trainer *t, const char *path, int G)
{
    const long H = t->va.h, W = t->va.w;
    cfloat *tiles = mg_calloc((size_t)(3 * G) * (size_t)(H * W), sizeof(cfloat));
    const cfloat *src[3] = {t->zimg, t->vimg, t->ev.ref};
    for (long s = 0; s < G; s++)
        for (int k = 0; k < 3; k++)
            for (long x = 0; x < W; x++)
                for (long y = 0; y < H; y++) tiles[(s * W + x) * 3 * H + k * H + y] = src[k][(s * H + y) * W + x];
    int rc = mg_png_write_mag(path, tiles, G * W, 3 * H, 0.0f, 0.0f);
    free(tiles);
    return rc;
}

int mg_trainer_validate(trainer *t, double *nmse, double *zf, const char *grid, double *fid)
{
    const int nf = t->vd.nfiles;
    double sum = 0, zsum = 0;
    if (fid) *fid = NAN;
    for (int f = 0; f < nf; f++) {
        if (open_validation(t, f)) return -1;
        t->ev.fid = fid && t->has_fid ? &t->fid : NULL;
        mg_eval_row row;
        if (mg_eval_method(&t->ev, &t->vnet, &row, t->vimg)) return -1;
        sum += row.nmse;
        zsum += t->zf_nmse[f];
        if (fid && row.has_fid) *fid = row.fid;
        const int G = grid && f == 0 ? (int)(t->cfg.grid < t->va.nslices ? t->cfg.grid : t->va.nslices) : 0;
        if (G && write_grid(t, grid, G)) return -1;
    }
    *nmse = sum / nf;
    if (zf) *zf = zsum / nf;
    return 0;
}

/* The GPU backend's parameter mirrors, Adam, clipping and batch-norm state
 * (gpu.h; the twins of src/nn/params.c and the batch-norm layer). The models
 * are gpu_dc.c, gpu_dcinet.c and gpu_patchgan.c, each the twin of the CPU
 * file of the same name in src/models. */
#include "gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- parameters ---------------- */
void mg_gpu_params_init(mg_gpu_params *gp, mg_params *host)
{
    memset(gp, 0, sizeof *gp);
    gp->host = host;
    gp->off = mg_malloc_array((size_t)(host->n > 0 ? host->n : 1), sizeof(long));
    for (int i = 0; i < host->n; i++) {
        gp->off[i] = gp->total;
        gp->total += host->p[i]->size;
    }
    gp->w = mg_gpu_alloc((size_t)gp->total);
    gp->g = mg_gpu_alloc((size_t)gp->total);
    gp->m = mg_gpu_alloc((size_t)gp->total);
    gp->v = mg_gpu_alloc((size_t)gp->total);
    mg_gpu_params_upload(gp);
}

void mg_gpu_params_free(mg_gpu_params *gp)
{
    mg_gpu_free(gp->w);
    mg_gpu_free(gp->g);
    mg_gpu_free(gp->m);
    mg_gpu_free(gp->v);
    free(gp->off);
    memset(gp, 0, sizeof *gp);
}

void mg_gpu_params_upload(mg_gpu_params *gp)
{
    for (int i = 0; i < gp->host->n; i++) {
        const mg_param *p = gp->host->p[i];
        mg_gpu_upload(gp->w + gp->off[i], p->w, (size_t)p->size);
        mg_gpu_upload(gp->m + gp->off[i], p->m, (size_t)p->size);
        mg_gpu_upload(gp->v + gp->off[i], p->v, (size_t)p->size);
    }
}

void mg_gpu_params_download(mg_gpu_params *gp)
{
    for (int i = 0; i < gp->host->n; i++) {
        mg_param *p = gp->host->p[i];
        mg_gpu_download(p->w, gp->w + gp->off[i], (size_t)p->size);
        mg_gpu_download(p->g, gp->g + gp->off[i], (size_t)p->size);
        mg_gpu_download(p->m, gp->m + gp->off[i], (size_t)p->size);
        mg_gpu_download(p->v, gp->v + gp->off[i], (size_t)p->size);
    }
}

void mg_gpu_params_zero_grad(mg_gpu_params *gp) { mg_gpu_zero(gp->g, (size_t)gp->total); }

static long param_index(const mg_gpu_params *gp, const mg_param *p)
{
    for (int i = 0; i < gp->host->n; i++)
        if (gp->host->p[i] == p) return gp->off[i];
    abort(); /* a layer of another model: a programming error */
}

float *mg_gpu_param_w(const mg_gpu_params *gp, const mg_param *p) { return gp->w + param_index(gp, p); }
float *mg_gpu_param_g(const mg_gpu_params *gp, const mg_param *p) { return gp->g + param_index(gp, p); }

void mg_gpu_adam_step(mg_adam *a, mg_gpu_params *gp)
{
    a->t++; /* bias corrections as mg_adam_step computes them */
    const float c1 = 1.0f - powf(a->beta1, (float)a->t), c2 = 1.0f - powf(a->beta2, (float)a->t);
    mg_gpu_adam_flat(gp->w, gp->g, gp->m, gp->v, gp->total, a->lr, a->beta1, a->beta2, c1, c2, a->eps);
}

void mg_gpu_clip_weights(mg_gpu_params *gp, float c) { mg_gpu_clip_flat(gp->w, gp->total, c); }

/* ---------------- batch norm state ---------------- */
void mg_gpu_bn_init(mg_gpu_bn *g, mg_batchnorm *host)
{
    g->host = host;
    const size_t c = (size_t)host->c;
    g->run_mean = mg_gpu_alloc(c);
    g->run_var = mg_gpu_alloc(c);
    g->mean = mg_gpu_alloc(c);
    g->invstd = mg_gpu_alloc(c);
    mg_gpu_upload(g->run_mean, host->run_mean, c);
    mg_gpu_upload(g->run_var, host->run_var, c);
}

void mg_gpu_bn_free(mg_gpu_bn *g)
{
    mg_gpu_free(g->run_mean);
    mg_gpu_free(g->run_var);
    mg_gpu_free(g->mean);
    mg_gpu_free(g->invstd);
}

void mg_gpu_bn_download(const mg_gpu_bn *g)
{
    mg_gpu_download(g->host->run_mean, g->run_mean, (size_t)g->host->c);
    mg_gpu_download(g->host->run_var, g->run_var, (size_t)g->host->c);
}

void mg_gpu_bn_forward(mg_gpu_bn *g, const float *gamma, const float *beta, const float *x, float *y,
                       int n, int h, int w, int train)
{
    mg_gpu_bn_fwd(x, y, gamma, beta, g->mean, g->invstd, g->run_mean, g->run_var, n, g->host->c,
                  (long)h * w, train, g->host->momentum, g->host->eps);
}

void mg_gpu_bn_backward(mg_gpu_bn *g, const float *gamma, const float *x, const float *dy, float *dx,
                        float *dgamma, float *dbeta, int n, int h, int w)
{
    mg_gpu_bn_bwd(x, dy, dx, gamma, g->mean, g->invstd, dgamma, dbeta, n, g->host->c, (long)h * w);
}


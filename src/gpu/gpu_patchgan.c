/* The PatchGAN critic on the device (gpu.h): the twin of
 * src/models/patchgan.c. */
#include "gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mg_gpu_critic {
    mg_critic *d;
    mg_gpu_params p;
    mg_gpu_conv *conv[4];
    mg_gpu_bn bn[4];
    int n;
    const float *x;
    float *pre[4], *act[4], *bno[4], *g1, *g2;
};

mg_gpu_critic *mg_gpu_critic_create(mg_critic *d)
{
    mg_gpu_critic *g = mg_calloc(1, sizeof *g);
    g->d = d;
    mg_gpu_params_init(&g->p, &d->params);
    for (int i = 0; i < 4; i++) {
        const mg_conv2d *c = &d->conv[i];
        g->conv[i] = mg_gpu_conv_create(c->cin, c->cout, c->k, c->stride, c->pad);
        mg_gpu_bn_init(&g->bn[i], &d->bn[i]);
    }
    return g;
}

static void cws_free(mg_gpu_critic *g)
{
    for (int i = 0; i < 4; i++) {
        mg_gpu_free(g->pre[i]);
        mg_gpu_free(g->act[i]);
        mg_gpu_free(g->bno[i]);
        g->pre[i] = g->act[i] = g->bno[i] = NULL;
    }
    mg_gpu_free(g->g1);
    mg_gpu_free(g->g2);
    g->g1 = g->g2 = NULL;
    g->n = 0;
}

void mg_gpu_critic_free(mg_gpu_critic *g)
{
    if (!g) return;
    cws_free(g);
    for (int i = 0; i < 4; i++) {
        mg_gpu_conv_free(g->conv[i]);
        mg_gpu_bn_free(&g->bn[i]);
    }
    mg_gpu_params_free(&g->p);
    free(g);
}

mg_gpu_params *mg_gpu_critic_params(mg_gpu_critic *g) { return &g->p; }

void mg_gpu_critic_download(mg_gpu_critic *g)
{
    mg_gpu_params_download(&g->p);
    for (int i = 0; i < 4; i++) mg_gpu_bn_download(&g->bn[i]);
}

static long cact(const mg_critic *d, int i, int n)
{
    return (long)n * (d->ch << i) * (d->H >> (i + 1)) * (d->W >> (i + 1));
}

void mg_gpu_critic_forward(mg_gpu_critic *g, const float *x, float *out, int n, int train)
{
    const mg_critic *d = g->d;
    if (g->n != n) {
        cws_free(g);
        g->n = n;
        long mx = (long)n * d->cin * d->H * d->W;
        for (int i = 0; i < 4; i++) {
            long sz = cact(d, i, n);
            g->pre[i] = mg_gpu_alloc((size_t)sz);
            g->act[i] = mg_gpu_alloc((size_t)sz);
            g->bno[i] = mg_gpu_alloc((size_t)sz);
            if (sz > mx) mx = sz;
        }
        g->g1 = mg_gpu_alloc((size_t)mx);
        g->g2 = mg_gpu_alloc((size_t)mx);
    }
    g->x = x;
    const float *in = x;
    for (int i = 0; i < 4; i++) {
        const int h = d->H >> i, w = d->W >> i;
        mg_gpu_conv_forward(g->conv[i], mg_gpu_param_w(&g->p, d->conv[i].weight),
                            mg_gpu_param_w(&g->p, d->conv[i].bias), in, g->pre[i], n, h, w);
        mg_gpu_bn_forward(&g->bn[i], mg_gpu_param_w(&g->p, d->bn[i].gamma), mg_gpu_param_w(&g->p, d->bn[i].beta),
                          g->pre[i], g->bno[i], n, h / 2, w / 2, train);
        mg_gpu_leaky_forward(g->bno[i], g->act[i], cact(d, i, n), d->slope);
        in = g->act[i];
    }
    mg_gpu_linear_forward(mg_gpu_param_w(&g->p, d->fc.weight), mg_gpu_param_w(&g->p, d->fc.bias), g->act[3], out,
                          n, d->fc.in, d->fc.out);
}

void mg_gpu_critic_backward(mg_gpu_critic *g, const float *dout, float *dx)
{
    const mg_critic *d = g->d;
    const int n = g->n;
    mg_gpu_zero(g->g1, (size_t)cact(d, 3, n));
    mg_gpu_linear_backward(mg_gpu_param_w(&g->p, d->fc.weight), g->act[3], dout, g->g1,
                           mg_gpu_param_g(&g->p, d->fc.weight), mg_gpu_param_g(&g->p, d->fc.bias), n, d->fc.in,
                           d->fc.out);
    for (int i = 3; i >= 0; i--) {
        const long sz = cact(d, i, n);
        const int h = d->H >> i, w = d->W >> i;
        mg_gpu_zero(g->g2, (size_t)sz);
        mg_gpu_leaky_backward(g->act[i], g->g1, g->g2, sz, d->slope); /* g2 = d bno */
        mg_gpu_zero(g->g1, (size_t)sz);
        mg_gpu_bn_backward(&g->bn[i], mg_gpu_param_w(&g->p, d->bn[i].gamma), g->pre[i], g->g2, g->g1,
                           mg_gpu_param_g(&g->p, d->bn[i].gamma), mg_gpu_param_g(&g->p, d->bn[i].beta), n, h / 2,
                           w / 2); /* g1 = d pre */
        float *din = dx;
        if (i > 0) {
            din = g->g2;
            mg_gpu_zero(din, (size_t)cact(d, i - 1, n));
        }
        mg_gpu_conv_backward(g->conv[i], mg_gpu_param_w(&g->p, d->conv[i].weight), i > 0 ? g->act[i - 1] : g->x,
                             g->g1, din, mg_gpu_param_g(&g->p, d->conv[i].weight),
                             mg_gpu_param_g(&g->p, d->conv[i].bias), n, h, w);
        if (i > 0) mg_gpu_copy(g->g1, g->g2, (size_t)cact(d, i - 1, n));
    }
}

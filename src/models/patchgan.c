/* PatchGAN critic: 4 x (conv 4x4 s2 -> batch norm -> LeakyReLU), linear. */
#include "models.h"

#include <stdlib.h>
#include <string.h>

struct mg_critic_ws {
    int n;
    const float *x;
    float *pre[4], *act[4]; /* conv outputs and LeakyReLU(BN(.)) outputs */
    float *bno[4];          /* BN outputs */
    float *g1, *g2;         /* gradient scratch (largest activation) */
};

int mg_critic_init(mg_critic *d, int cin, int ch, int H, int W, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    if (H % 16 || W % 16 || H < 16 || W < 16) {
        mg_set_error("critic: image %dx%d must be a multiple of 16 in both dims", H, W);
        return -1;
    }
    d->cin = cin;
    d->ch = ch;
    d->H = H;
    d->W = W;
    d->slope = 0.2f;
    mg_rng r;
    mg_rng_seed(&r, seed);
    int c = cin;
    for (int i = 0; i < 4; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "critic.conv%d", i);
        mg_conv2d_init(&d->conv[i], &d->params, nm, c, ch << i, 4, 2, 1, 1, &r);
        snprintf(nm, sizeof nm, "critic.bn%d", i);
        mg_batchnorm_init(&d->bn[i], &d->params, nm, ch << i);
        c = ch << i;
    }
    mg_linear_init(&d->fc, &d->params, "critic.fc", c * (H / 16) * (W / 16), 1, &r);
    return 0;
}

static void ws_free(mg_critic *d)
{
    mg_critic_ws *w = d->ws;
    if (!w) return;
    for (int i = 0; i < 4; i++) {
        free(w->pre[i]);
        free(w->act[i]);
        free(w->bno[i]);
    }
    free(w->g1);
    free(w->g2);
    free(w);
    d->ws = NULL;
}

void mg_critic_free(mg_critic *d)
{
    ws_free(d);
    for (int i = 0; i < 4; i++) {
        mg_conv2d_free(&d->conv[i]);
        mg_batchnorm_free(&d->bn[i]);
    }
    mg_params_free(&d->params);
}

static long act_size(const mg_critic *d, int i, int n)
{
    return (long)n * (d->ch << i) * (d->H >> (i + 1)) * (d->W >> (i + 1));
}

void mg_critic_forward(mg_critic *d, const float *x, float *out, int n, int train)
{
    if (!d->ws || d->ws->n != n) {
        ws_free(d);
        d->ws = mg_calloc(1, sizeof(mg_critic_ws));
        d->ws->n = n;
        long mx = (long)n * d->cin * d->H * d->W;
        for (int i = 0; i < 4; i++) {
            long sz = act_size(d, i, n);
            d->ws->pre[i] = mg_malloc_array((size_t)sz, sizeof(float));
            d->ws->act[i] = mg_malloc_array((size_t)sz, sizeof(float));
            d->ws->bno[i] = mg_malloc_array((size_t)sz, sizeof(float));
            if (sz > mx) mx = sz;
        }
        d->ws->g1 = mg_malloc_array((size_t)mx, sizeof(float));
        d->ws->g2 = mg_malloc_array((size_t)mx, sizeof(float));
    }
    mg_critic_ws *w = d->ws;
    w->x = x;
    const float *in = x;
    for (int i = 0; i < 4; i++) {
        int h = d->H >> i, wd = d->W >> i;
        mg_conv2d_forward(&d->conv[i], in, w->pre[i], n, h, wd);
        mg_batchnorm_forward(&d->bn[i], w->pre[i], w->bno[i], n, h / 2, wd / 2, train);
        mg_leaky_forward(w->bno[i], w->act[i], act_size(d, i, n), d->slope);
        in = w->act[i];
    }
    mg_linear_forward(&d->fc, w->act[3], out, n);
}

void mg_critic_backward(mg_critic *d, const float *dout, float *dx)
{
    mg_critic_ws *w = d->ws;
    const int n = w->n;
    /* g1 holds the gradient w.r.t. act[i] as we walk down */
    memset(w->g1, 0, sizeof(float) * (size_t)act_size(d, 3, n));
    mg_linear_backward(&d->fc, w->act[3], dout, w->g1, n);
    for (int i = 3; i >= 0; i--) {
        long sz = act_size(d, i, n);
        int h = d->H >> i, wd = d->W >> i;
        memset(w->g2, 0, sizeof(float) * (size_t)sz);
        mg_leaky_backward(w->act[i], w->g1, w->g2, sz, d->slope); /* g2 = d bno */
        memset(w->g1, 0, sizeof(float) * (size_t)sz);
        mg_batchnorm_backward(&d->bn[i], w->pre[i], w->g2, w->g1, n, h / 2, wd / 2); /* g1 = d pre */
        float *din;
        if (i > 0) {
            din = w->g2;
            memset(din, 0, sizeof(float) * (size_t)act_size(d, i - 1, n));
        } else {
            din = dx;
        }
        mg_conv2d_backward(&d->conv[i], i > 0 ? w->act[i - 1] : w->x, w->g1, din, n, h, wd);
        if (i > 0) memcpy(w->g1, w->g2, sizeof(float) * (size_t)act_size(d, i - 1, n));
    }
}

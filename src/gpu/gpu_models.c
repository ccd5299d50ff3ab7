/* The GPU backend's C half: parameter mirrors, Adam, batch-norm state, and the
 * DCI-Net and PatchGAN critic as sequences of device ops, step for step the
 * CPU code of src/models (dcinet.c, patchgan.c). */
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

/* ---------------- DCI-Net (see models.h and dcinet.c) ---------------- */
struct mg_gpu_dcinet {
    mg_dcinet *net;
    mg_gpu_params p;
    mg_gpu_conv **conv; /* [3 N] */
    /* workspace for one shape */
    int n, C, H, W;
    mg_gpu_sense *A;
    const float *ku, *sens, *mask;
    float **y, **r, **in, **a1, **a2, **dy; /* as mg_dcinet_ws */
    float *o3, *ddc, *da1, *da2, *din;
    float *h_ku, *h_sens, *h_mask, *h_out; /* device copies for mg_gpu_dcinet_infer */
};

static int n_skips(const mg_dcinet_cfg *c, int b) { return b < c->growth ? b : c->growth; }

mg_gpu_dcinet *mg_gpu_dcinet_create(mg_dcinet *net)
{
    mg_gpu_dcinet *g = mg_calloc(1, sizeof *g);
    g->net = net;
    mg_gpu_params_init(&g->p, &net->params);
    const int N = net->cfg.blocks;
    g->conv = mg_calloc((size_t)(3 * N), sizeof(mg_gpu_conv *));
    for (int i = 0; i < 3 * N; i++) {
        const mg_conv2d *c = &net->conv[i];
        g->conv[i] = mg_gpu_conv_create(c->cin, c->cout, c->k, c->stride, c->pad);
    }
    return g;
}

static void dws_free(mg_gpu_dcinet *g)
{
    if (!g->A) return;
    const int N = g->net->cfg.blocks;
    for (int j = 0; j <= N; j++) {
        mg_gpu_free(g->y[j]);
        mg_gpu_free(g->dy[j]);
    }
    for (int b = 0; b < N; b++) {
        mg_gpu_free(g->r[b]);
        mg_gpu_free(g->in[b]);
        mg_gpu_free(g->a1[b]);
        mg_gpu_free(g->a2[b]);
    }
    free(g->y); free(g->dy); free(g->r); free(g->in); free(g->a1); free(g->a2);
    mg_gpu_free(g->o3); mg_gpu_free(g->ddc); mg_gpu_free(g->da1); mg_gpu_free(g->da2); mg_gpu_free(g->din);
    mg_gpu_free(g->h_ku); mg_gpu_free(g->h_sens); mg_gpu_free(g->h_mask); mg_gpu_free(g->h_out);
    mg_gpu_sense_free(g->A);
    g->A = NULL;
}

void mg_gpu_dcinet_free(mg_gpu_dcinet *g)
{
    if (!g) return;
    dws_free(g);
    for (int i = 0; i < 3 * g->net->cfg.blocks; i++) mg_gpu_conv_free(g->conv[i]);
    free(g->conv);
    mg_gpu_params_free(&g->p);
    free(g);
}

mg_gpu_params *mg_gpu_dcinet_params(mg_gpu_dcinet *g) { return &g->p; }

static void dws_plan(mg_gpu_dcinet *g, int n, int C, int H, int W)
{
    if (g->A && g->n == n && g->C == C && g->H == H && g->W == W) return;
    dws_free(g);
    g->n = n; g->C = C; g->H = H; g->W = W;
    const int N = g->net->cfg.blocks, K = g->net->cfg.kernels;
    const size_t hw = (size_t)H * W, img = (size_t)n * 2 * hw, kk = (size_t)n * K * hw;
    g->A = mg_gpu_sense_create(n, C, H, W);
    g->y = mg_calloc((size_t)N + 1, sizeof(float *));
    g->dy = mg_calloc((size_t)N + 1, sizeof(float *));
    for (int j = 0; j <= N; j++) {
        g->y[j] = mg_gpu_alloc(img);
        g->dy[j] = mg_gpu_alloc(img);
    }
    g->r = mg_calloc((size_t)N, sizeof(float *));
    g->in = mg_calloc((size_t)N, sizeof(float *));
    g->a1 = mg_calloc((size_t)N, sizeof(float *));
    g->a2 = mg_calloc((size_t)N, sizeof(float *));
    for (int b = 0; b < N; b++) {
        g->r[b] = mg_gpu_alloc(img);
        g->in[b] = mg_gpu_alloc((size_t)n * (size_t)(2 * (1 + n_skips(&g->net->cfg, b))) * hw);
        g->a1[b] = mg_gpu_alloc(kk);
        g->a2[b] = mg_gpu_alloc(kk);
    }
    g->o3 = mg_gpu_alloc(img);
    g->ddc = mg_gpu_alloc(img);
    g->da1 = mg_gpu_alloc(kk);
    g->da2 = mg_gpu_alloc(kk);
    g->din = mg_gpu_alloc((size_t)n * (size_t)(2 * (1 + g->net->cfg.growth)) * hw);
    g->h_ku = mg_gpu_alloc((size_t)n * C * hw * 2);
    g->h_sens = mg_gpu_alloc((size_t)n * C * hw * 2);
    g->h_mask = mg_gpu_alloc((size_t)n * H);
    g->h_out = mg_gpu_alloc(img);
}

static float *conv_w(mg_gpu_dcinet *g, int i) { return mg_gpu_param_w(&g->p, g->net->conv[i].weight); }
static float *conv_b(mg_gpu_dcinet *g, int i) { return mg_gpu_param_w(&g->p, g->net->conv[i].bias); }

void mg_gpu_dcinet_forward(mg_gpu_dcinet *g, const float *ku, const float *sens, const float *mask,
                           float *out, int n, int C, int H, int W)
{
    dws_plan(g, n, C, H, W);
    g->ku = ku; g->sens = sens; g->mask = mask;
    const mg_dcinet_cfg *cfg = &g->net->cfg;
    const long hw = (long)H * W, nimg = (long)n * 2 * hw, nk = (long)n * cfg->kernels * hw;
    mg_gpu_sense_adjoint(g->A, ku, sens, mask, g->y[0]); /* y_{-1} = mz */
    for (int b = 0; b < cfg->blocks; b++) {
        const int ns = n_skips(cfg, b), cin = 2 * (1 + ns);
        float *yb = g->y[b + 1];
        /* dc (held in yb until the residual is added) */
        mg_gpu_dc_forward(g->A, g->y[b], ku, sens, mask, mg_gpu_param_w(&g->p, g->net->lambda[b]), g->r[b], yb);
        mg_gpu_concat_forward(yb, g->in[b], n, 2, cin, 0, hw);
        for (int k = 0; k < ns; k++) mg_gpu_concat_forward(g->y[b - 1 - k], g->in[b], n, 2, cin, 2 * (k + 1), hw);
        mg_gpu_conv_forward(g->conv[3 * b], conv_w(g, 3 * b), conv_b(g, 3 * b), g->in[b], g->a1[b], n, H, W);
        mg_gpu_leaky_forward(g->a1[b], g->a1[b], nk, cfg->slope);
        mg_gpu_conv_forward(g->conv[3 * b + 1], conv_w(g, 3 * b + 1), conv_b(g, 3 * b + 1), g->a1[b], g->a2[b], n, H, W);
        mg_gpu_leaky_forward(g->a2[b], g->a2[b], nk, cfg->slope);
        mg_gpu_conv_forward(g->conv[3 * b + 2], conv_w(g, 3 * b + 2), conv_b(g, 3 * b + 2), g->a2[b], g->o3, n, H, W);
        mg_gpu_add(yb, g->o3, nimg);
    }
    if (out) mg_gpu_copy(out, g->y[cfg->blocks], (size_t)nimg);
}

void mg_gpu_dcinet_backward(mg_gpu_dcinet *g, const float *dout, float *dku)
{
    const mg_dcinet_cfg *cfg = &g->net->cfg;
    const int n = g->n, H = g->H, W = g->W, N = cfg->blocks;
    const long hw = (long)H * W, nimg = (long)n * 2 * hw, nk = (long)n * cfg->kernels * hw;
    for (int j = 0; j < N; j++) mg_gpu_zero(g->dy[j], (size_t)nimg);
    mg_gpu_copy(g->dy[N], dout, (size_t)nimg);
    for (int b = N - 1; b >= 0; b--) {
        const int ns = n_skips(cfg, b), cin = 2 * (1 + ns);
        const float *gr = g->dy[b + 1];
        mg_gpu_copy(g->ddc, gr, (size_t)nimg); /* residual path */
        mg_gpu_zero(g->da2, (size_t)nk);
        mg_gpu_conv_backward(g->conv[3 * b + 2], conv_w(g, 3 * b + 2), g->a2[b], gr, g->da2,
                             mg_gpu_param_g(&g->p, g->net->conv[3 * b + 2].weight),
                             mg_gpu_param_g(&g->p, g->net->conv[3 * b + 2].bias), n, H, W);
        mg_gpu_leaky_mul(g->a2[b], g->da2, nk, cfg->slope);
        mg_gpu_zero(g->da1, (size_t)nk);
        mg_gpu_conv_backward(g->conv[3 * b + 1], conv_w(g, 3 * b + 1), g->a1[b], g->da2, g->da1,
                             mg_gpu_param_g(&g->p, g->net->conv[3 * b + 1].weight),
                             mg_gpu_param_g(&g->p, g->net->conv[3 * b + 1].bias), n, H, W);
        mg_gpu_leaky_mul(g->a1[b], g->da1, nk, cfg->slope);
        mg_gpu_zero(g->din, (size_t)n * cin * hw);
        mg_gpu_conv_backward(g->conv[3 * b], conv_w(g, 3 * b), g->in[b], g->da1, g->din,
                             mg_gpu_param_g(&g->p, g->net->conv[3 * b].weight),
                             mg_gpu_param_g(&g->p, g->net->conv[3 * b].bias), n, H, W);
        mg_gpu_concat_backward(g->din, g->ddc, n, 2, cin, 0, hw);
        for (int k = 0; k < ns; k++) mg_gpu_concat_backward(g->din, g->dy[b - 1 - k], n, 2, cin, 2 * (k + 1), hw);
        /* DC unit: d lambda = -sum ddc * r; dx += ddc - lam A^H A ddc; dku += lam A ddc */
        const mg_param *lam = g->net->lambda[b];
        mg_gpu_dot_acc(g->ddc, g->r[b], nimg, -1.0f, mg_gpu_param_g(&g->p, lam));
        mg_gpu_dc_backward(g->A, g->ddc, g->sens, g->mask, mg_gpu_param_w(&g->p, lam), g->dy[b], dku);
    }
    if (dku) /* y_{-1} = A^H Ku: dKu += A dy_{-1} */
        mg_gpu_dc_backward(g->A, g->dy[0], g->sens, g->mask, NULL, NULL, dku);
}

void mg_gpu_dcinet_infer(mg_gpu_dcinet *g, const cfloat *ku, const cfloat *sens, const float *mask,
                         float *out, int n, int C, int H, int W)
{
    dws_plan(g, n, C, H, W);
    const size_t nc = (size_t)n * C * H * W * 2;
    mg_gpu_upload(g->h_ku, (const float *)ku, nc);
    mg_gpu_upload(g->h_sens, (const float *)sens, nc);
    mg_gpu_upload(g->h_mask, mask, (size_t)n * H);
    mg_gpu_dcinet_forward(g, g->h_ku, g->h_sens, g->h_mask, g->h_out, n, C, H, W);
    mg_gpu_download(out, g->h_out, (size_t)n * 2 * H * W);
}

/* ---------------- PatchGAN critic (see patchgan.c) ---------------- */
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

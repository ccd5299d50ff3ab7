/* DCI-Net on the device (gpu.h): the twin of src/models/dcinet.c, the same
 * sequence of ops with the same accumulate semantics (tests/test_gpu.c). */
#include "gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mg_gpu_dcinet {
    mg_dcinet *net;
    mg_gpu_params p;
    mg_gpu_conv **conv; /* [3 N] */
    /* workspace: buffers sized for the largest shape seen so far (capacities
     * in floats per pixel of the batch, n H W, and per coil pixel, n C H W),
     * and one SENSE operator (cuFFT plan) per shape, kept: batches of mixed
     * shapes change shape at nearly every step */
    int n, C, H, W;
    size_t cap_px, cap_cpx, cap_mask;
    mg_gpu_sense *A;       /* the current shape's, one of senses */
    mg_gpu_sense **senses; /* nsenses of them */
    int nsenses;
    const float *ku, *sens, *mask;
    float **y, **r, **in, **a1, **a2, **dy; /* as mg_dcinet_ws */
    float *o3, *ddc, *da1, *da2, *din;
    float *h_ku, *h_sens, *h_mask, *h_out; /* device copies for mg_gpu_dcinet_infer */
};

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

static void dws_free_buffers(mg_gpu_dcinet *g)
{
    if (!g->cap_px) return;
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
    g->cap_px = g->cap_cpx = g->cap_mask = 0;
}

static void dws_free(mg_gpu_dcinet *g)
{
    dws_free_buffers(g);
    for (int i = 0; i < g->nsenses; i++) mg_gpu_sense_free(g->senses[i]);
    free(g->senses);
    g->senses = NULL;
    g->nsenses = 0;
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

/* buffers for px = n H W pixels, cpx = n C H W coil pixels and mk = n H mask lines */
static void dws_alloc(mg_gpu_dcinet *g, size_t px, size_t cpx, size_t mk)
{
    const int N = g->net->cfg.blocks, K = g->net->cfg.kernels;
    const size_t img = 2 * px, kk = (size_t)K * px;
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
        g->in[b] = mg_gpu_alloc((size_t)(2 * (1 + mg_dcinet_skips(&g->net->cfg, b))) * px);
        g->a1[b] = mg_gpu_alloc(kk);
        g->a2[b] = mg_gpu_alloc(kk);
    }
    g->o3 = mg_gpu_alloc(img);
    g->ddc = mg_gpu_alloc(img);
    g->da1 = mg_gpu_alloc(kk);
    g->da2 = mg_gpu_alloc(kk);
    g->din = mg_gpu_alloc((size_t)(2 * (1 + g->net->cfg.growth)) * px);
    g->h_ku = mg_gpu_alloc(2 * cpx);
    g->h_sens = mg_gpu_alloc(2 * cpx);
    g->h_mask = mg_gpu_alloc(mk);
    g->h_out = mg_gpu_alloc(img);
    g->cap_px = px;
    g->cap_cpx = cpx;
    g->cap_mask = mk;
}

/* the workspace for a batch of n samples of C coils, H x W: the buffers grow
 * to the largest shape (never shrink), the shape's SENSE operator is made
 * once and kept */
static void dws_plan(mg_gpu_dcinet *g, int n, int C, int H, int W)
{
    if (g->A && g->n == n && g->C == C && g->H == H && g->W == W) return;
    const size_t px = (size_t)n * H * W, cpx = px * (size_t)C, mk = (size_t)n * H;
    if (px > g->cap_px || cpx > g->cap_cpx || mk > g->cap_mask) {
        const size_t npx = px > g->cap_px ? px : g->cap_px, ncpx = cpx > g->cap_cpx ? cpx : g->cap_cpx,
                     nmk = mk > g->cap_mask ? mk : g->cap_mask;
        dws_free_buffers(g);
        dws_alloc(g, npx, ncpx, nmk);
    }
    g->A = NULL;
    for (int i = 0; i < g->nsenses && !g->A; i++) {
        mg_gpu_sense *s = g->senses[i];
        if (mg_gpu_sense_shape_is(s, n, C, H, W)) g->A = s;
    }
    if (!g->A) {
        g->senses = mg_realloc(g->senses, ((size_t)g->nsenses + 1) * sizeof *g->senses);
        g->A = g->senses[g->nsenses++] = mg_gpu_sense_create(n, C, H, W);
    }
    g->n = n; g->C = C; g->H = H; g->W = W;
}

/* conv1's input of block b, [dc, y_{b-2}, ..., y_{b-1-ns}] (block_input of dcinet.c) */
static void block_input(mg_gpu_dcinet *g, int b, const float *dc, float *in)
{
    const int ns = mg_dcinet_skips(&g->net->cfg, b), cin = 2 * (1 + ns);
    const long hw = (long)g->H * g->W;
    mg_gpu_concat_forward(dc, in, g->n, 2, cin, 0, hw);
    for (int k = 0; k < ns; k++) mg_gpu_concat_forward(g->y[b - 1 - k], in, g->n, 2, cin, 2 * (k + 1), hw);
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
        float *yb = g->y[b + 1];
        /* dc (held in yb until the residual is added) */
        mg_gpu_dc_unit_forward(g->A, g->y[b], ku, sens, mask, mg_gpu_param_w(&g->p, g->net->lambda[b]), g->r[b], yb);
        block_input(g, b, yb, g->in[b]);
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
        const int ns = mg_dcinet_skips(cfg, b), cin = 2 * (1 + ns);
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
        mg_gpu_dc_unit_backward(g->A, g->ddc, g->r[b], g->sens, g->mask, mg_gpu_param_w(&g->p, lam),
                                mg_gpu_param_g(&g->p, lam), g->dy[b], dku, nimg);
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


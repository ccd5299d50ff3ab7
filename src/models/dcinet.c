/* DCI-Net: densely connected iterative network (see models.h). */
#include "models.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mg_dcinet_ws {
    int n, C, H, W;
    int keep;    /* activations of every block kept for the backward (else one set, reused) */
    const cfloat *ku, *sens;
    const float *mask;
    float **y;   /* y[j + 1], j = -1..N-1: block outputs, n x 2 x HW */
    float **r;   /* r[b] = A^H(A x - Ku) per block */
    float *in;   /* concat input of the current block, nhwc (rebuilt in the backward) */
    float **a1, **a2;
    cfloat *o3;  /* conv3's output (forward) or its gradient (backward): nhwc of 2 channels, i.e. complex */
    float **dy;  /* gradients of the y */
    float *ddc, *da1, *da2, *din;
    cfloat *cx, *cr, *work;
    cfloat *hyb; /* n x C x W x H: each sample's data term for the DC units (mg_sense_pe_data), or NULL */
};

void mg_c2planes(const cfloat *z, float *p, long hw)
{
    for (long i = 0; i < hw; i++) {
        p[i] = crealf(z[i]);
        p[hw + i] = cimagf(z[i]);
    }
}

void mg_planes2c(const float *p, cfloat *z, long hw)
{
    for (long i = 0; i < hw; i++) z[i] = p[i] + I * p[hw + i];
}

int mg_dcinet_skips(const mg_dcinet_cfg *c, int b) { return b < c->growth ? b : c->growth; }

void mg_dcinet_init(mg_dcinet *net, const mg_dcinet_cfg *cfg, uint64_t seed)
{
    memset(net, 0, sizeof *net);
    net->cfg = *cfg;
    mg_rng rng;
    mg_rng_seed(&rng, seed);
    const int N = cfg->blocks, K = cfg->kernels;
    net->lambda = mg_calloc((size_t)N, sizeof(mg_param *));
    net->conv = mg_calloc((size_t)N * 3, sizeof(mg_conv2d));
    char nm[96];
    long one[1] = {1};
    for (int b = 0; b < N; b++) {
        snprintf(nm, sizeof nm, "block%d.dc.lambda", b);
        net->lambda[b] = mg_params_add(&net->params, nm, 1, one);
        net->lambda[b]->w[0] = 1.0f;
        int cin = 2 * (1 + mg_dcinet_skips(cfg, b));
        snprintf(nm, sizeof nm, "block%d.conv1", b);
        mg_conv2d_init(&net->conv[3 * b], &net->params, nm, cin, K, 5, 1, 2, 1, &rng);
        snprintf(nm, sizeof nm, "block%d.conv2", b);
        mg_conv2d_init(&net->conv[3 * b + 1], &net->params, nm, K, K, 5, 1, 2, 1, &rng);
        for (int i = 0; i < 2; i++) { /* LeakyReLU fused into conv1 and conv2 */
            net->conv[3 * b + i].fuse_leaky = 1;
            net->conv[3 * b + i].slope = cfg->slope;
        }
        /* every tensor of the conv unit is channels-last (nhwc): conv1's
         * input, a1 (conv1 -> conv2), a2 (conv2 -> conv3) and conv3's output
         * (2 channels: interleaved re, im); oneDNN's nhwc kernels take them
         * as they are, with no padding of the 40 channels (docs/dcinet.md) */
        snprintf(nm, sizeof nm, "block%d.conv3", b);
        mg_conv2d_init(&net->conv[3 * b + 2], &net->params, nm, K, 2, 5, 1, 2, 1, &rng);
        for (int i = 0; i < 3; i++) net->conv[3 * b + i].lay_src = net->conv[3 * b + i].lay_dst = MG_LAYOUT_NHWC;
    }
}

static void ws_free(mg_dcinet *net)
{
    mg_dcinet_ws *w = net->ws;
    if (!w) return;
    const int N = net->cfg.blocks;
    for (int j = 0; j <= N; j++) {
        free(w->y[j]);
        if (w->dy) free(w->dy[j]);
    }
    for (int b = 0; b < (w->keep ? N : 1); b++) {
        free(w->r[b]);
        free(w->a1[b]);
        free(w->a2[b]);
    }
    free(w->y); free(w->dy); free(w->r); free(w->in); free(w->a1); free(w->a2);
    free(w->o3); free(w->ddc); free(w->da1); free(w->da2); free(w->din);
    free(w->cx); free(w->cr); free(w->work); free(w->hyb);
    free(w);
    net->ws = NULL;
}

void mg_dcinet_free(mg_dcinet *net)
{
    ws_free(net);
    for (int i = 0; i < 3 * net->cfg.blocks; i++) mg_conv2d_free(&net->conv[i]);
    free(net->conv);
    free(net->lambda);
    mg_params_free(&net->params);
}

/* keep: the training forward (every block's activations, and the gradient
 * buffers); else inference: one set of block buffers reused by every block */
static void ws_plan(mg_dcinet *net, int n, int C, int H, int W, int keep)
{
    mg_dcinet_ws *w = net->ws;
    if (w && w->n == n && w->C == C && w->H == H && w->W == W && w->keep == keep) return;
    ws_free(net);
    w = net->ws = mg_calloc(1, sizeof(mg_dcinet_ws));
    w->n = n; w->C = C; w->H = H; w->W = W;
    w->keep = keep;
    const int N = net->cfg.blocks, K = net->cfg.kernels, nb = keep ? N : 1;
    const size_t hw = (size_t)H * W, img = (size_t)n * 2 * hw;
    const size_t k1 = (size_t)n * (size_t)K * hw, k2 = k1; /* a1, a2 (nhwc) */
    const int cmax = 2 * (1 + net->cfg.growth);
    w->y = mg_calloc((size_t)N + 1, sizeof(float *));
    for (int j = 0; j <= N; j++) w->y[j] = mg_malloc_array(img, sizeof(float));
    w->r = mg_calloc((size_t)nb, sizeof(float *));
    w->in = mg_malloc_array((size_t)n * (size_t)cmax * hw, sizeof(float));
    w->a1 = mg_calloc((size_t)nb, sizeof(float *));
    w->a2 = mg_calloc((size_t)nb, sizeof(float *));
    for (int b = 0; b < nb; b++) {
        w->r[b] = mg_malloc_array(img, sizeof(float));
        w->a1[b] = mg_malloc_array(k1, sizeof(float));
        w->a2[b] = mg_malloc_array(k2, sizeof(float));
    }
    w->o3 = mg_malloc_array((size_t)n * hw, sizeof(cfloat));
    if (keep) {
        w->dy = mg_calloc((size_t)N + 1, sizeof(float *));
        for (int j = 0; j <= N; j++) w->dy[j] = mg_malloc_array(img, sizeof(float));
        w->ddc = mg_malloc_array(img, sizeof(float));
        w->da1 = mg_malloc_array(k1, sizeof(float));
        w->da2 = mg_malloc_array(k2, sizeof(float));
        w->din = mg_malloc_array((size_t)n * cmax * hw, sizeof(float));
    }
    w->cx = mg_malloc_array(hw, sizeof(cfloat));
    w->cr = mg_malloc_array(hw, sizeof(cfloat));
    w->work = mg_malloc_array((size_t)C * hw, sizeof(cfloat));
}

/* r = A^H (A x - Ku) for sample s (planes in, planes out): the DC unit's residual */
static void dc_residual(mg_dcinet_ws *w, int s, const float *x, float *r)
{
    const long hw = (long)w->H * w->W, C = w->C;
    mg_sense_op op;
    mg_sense_op_init(&op, w->sens + (long)s * C * hw, w->mask + (long)s * w->H, C, w->H, w->W, w->work);
    mg_dc_residual(&op, w->ku + (long)s * C * hw, w->hyb ? w->hyb + (long)s * C * hw : NULL, x, r, w->cx, w->cr);
}

/* conv1's input of block b, [dc, y_{b-2}, ..., y_{b-1-ns}] channels-last,
 * with dc = y_{b-1} - lam r_b: built the same way by the forward and, from
 * what the forward kept, by the backward */
static void block_input(const mg_dcinet *net, const mg_dcinet_ws *w, int b, const float *r, float *in)
{
    const long hw = (long)w->H * w->W, img = 2 * hw;
    const int ns = mg_dcinet_skips(&net->cfg, b), cin = 2 * (1 + ns);
    const float lam = net->lambda[b]->w[0];
#pragma omp parallel for schedule(static) if (w->n * hw > (1L << 14))
    for (long t = 0; t < w->n * hw; t++) {
        const long s = t / hw, p = t % hw, re = s * img + p, im = re + hw;
        float *o = in + t * cin;
        o[0] = w->y[b][re] - lam * r[re];
        o[1] = w->y[b][im] - lam * r[im];
        for (int k = 0; k < ns; k++) {
            o[2 * k + 2] = w->y[b - 1 - k][re];
            o[2 * k + 3] = w->y[b - 1 - k][im];
        }
    }
}

/* the backward of block_input's concatenation: its channels' gradients (din,
 * nhwc) added to dc's (ddc) and to the skipped outputs' */
static void block_input_backward(const mg_dcinet *net, mg_dcinet_ws *w, int b, const float *din)
{
    const long hw = (long)w->H * w->W, img = 2 * hw;
    const int ns = mg_dcinet_skips(&net->cfg, b), cin = 2 * (1 + ns);
#pragma omp parallel for schedule(static) if (w->n * hw > (1L << 14))
    for (long t = 0; t < w->n * hw; t++) {
        const long s = t / hw, p = t % hw, re = s * img + p, im = re + hw;
        const float *g = din + t * cin;
        w->ddc[re] += g[0];
        w->ddc[im] += g[1];
        for (int k = 0; k < ns; k++) {
            w->dy[b - 1 - k][re] += g[2 * k + 2];
            w->dy[b - 1 - k][im] += g[2 * k + 3];
        }
    }
}

static void forward(mg_dcinet *net, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int n,
                    int C, int H, int W, int keep)
{
    ws_plan(net, n, C, H, W, keep);
    mg_dcinet_ws *w = net->ws;
    w->ku = ku; w->sens = sens; w->mask = mask;
    const long hw = (long)H * W, img = 2 * hw;
    const int N = net->cfg.blocks;
    /* the DC units' data term once per sample, where the phase-encode FFT alone serves */
    int pe = 1;
    for (int s = 0; s < n; s++) pe &= mg_sense_pe_fits(H, mask + (long)s * H);
    if (!pe) {
        free(w->hyb);
        w->hyb = NULL;
    } else {
        if (!w->hyb) w->hyb = mg_malloc_array((size_t)n * C * hw, sizeof(cfloat));
        for (int s = 0; s < n; s++)
            mg_sense_pe_data(ku + (long)s * C * hw, mask + (long)s * H, C, H, W, w->work, w->hyb + (long)s * C * hw);
    }
    /* y_{-1} = mz = A^H Ku */
    for (int s = 0; s < n; s++) {
        mg_sense_adjoint(ku + (long)s * C * hw, sens + (long)s * C * hw, mask + (long)s * H, w->cx,
                         w->work, C, H, W);
        mg_c2planes(w->cx, w->y[0] + s * img, hw);
    }
    for (int b = 0; b < N; b++) {
        const float *x = w->y[b];  /* y_{b-1} */
        float *yb = w->y[b + 1];   /* y_b */
        const float lam = net->lambda[b]->w[0];
        const int q = keep ? b : 0;
        float *r = w->r[q], *in = w->in, *a1 = w->a1[q], *a2 = w->a2[q];
        for (int s = 0; s < n; s++) {
            dc_residual(w, s, x + s * img, r + s * img);
            for (long i = 0; i < img; i++) yb[s * img + i] = x[s * img + i] - lam * r[s * img + i];
        }
        /* dc is held in yb until the residual is added */
        block_input(net, w, b, r, in);
        mg_conv2d_forward(&net->conv[3 * b], in, a1, n, H, W);     /* LeakyReLU fused */
        mg_conv2d_forward(&net->conv[3 * b + 1], a1, a2, n, H, W); /* LeakyReLU fused */
        mg_conv2d_forward(&net->conv[3 * b + 2], a2, (float *)w->o3, n, H, W);
        for (long t = 0; t < n * hw; t++) { /* o3 into the planes */
            const long re = t / hw * img + t % hw;
            yb[re] += crealf(w->o3[t]);
            yb[re + hw] += cimagf(w->o3[t]);
        }
    }
    memcpy(out, w->y[N], sizeof(float) * (size_t)(n * img));
}

void mg_dcinet_forward(mg_dcinet *net, const cfloat *ku, const cfloat *sens, const float *mask,
                       float *out, int n, int C, int H, int W)
{
    forward(net, ku, sens, mask, out, n, C, H, W, 1);
}

void mg_dcinet_infer(mg_dcinet *net, const cfloat *ku, const cfloat *sens, const float *mask,
                     float *out, int n, int C, int H, int W)
{
    forward(net, ku, sens, mask, out, n, C, H, W, 0);
}

void mg_dcinet_backward(mg_dcinet *net, const float *dout, cfloat *dku)
{
    mg_dcinet_ws *w = net->ws;
    if (!w || !w->keep) { /* a programming error: the last forward kept nothing */
        fprintf(stderr, "mrgan: mg_dcinet_backward without a preceding mg_dcinet_forward\n");
        abort();
    }
    const int n = w->n, C = w->C, H = w->H, W = w->W, N = net->cfg.blocks;
    const long hw = (long)H * W, img = 2 * hw, nimg = n * img;
    const float slope = net->cfg.slope;
    for (int j = 0; j <= N; j++) memset(w->dy[j], 0, sizeof(float) * (size_t)nimg);
    memcpy(w->dy[N], dout, sizeof(float) * (size_t)nimg);
    for (int b = N - 1; b >= 0; b--) {
        const int ns = mg_dcinet_skips(&net->cfg, b), cin = 2 * (1 + ns);
        const float *g = w->dy[b + 1];
        memcpy(w->ddc, g, sizeof(float) * (size_t)nimg); /* residual path */
        for (int s = 0; s < n; s++) mg_planes2c(g + s * img, w->o3 + s * hw, hw); /* conv3's output gradient, nhwc */
        /* a1, a2, da1, da2: nhwc; each data gradient comes out through the
         * LeakyReLU fused into the layer before (da2 = leaky'(a2) * conv3^T g,
         * da1 = leaky'(a1) * conv2^T da2) */
        mg_conv2d_backward_act(&net->conv[3 * b + 2], w->a2[b], (const float *)w->o3, w->da2, w->a2[b], slope, n, H, W);
        mg_conv2d_backward_act(&net->conv[3 * b + 1], w->a1[b], w->da2, w->da1, w->a1[b], slope, n, H, W);
        memset(w->din, 0, sizeof(float) * (size_t)(n * cin * hw));
        block_input(net, w, b, w->r[b], w->in); /* conv1's input again */
        mg_conv2d_backward(&net->conv[3 * b], w->in, w->da1, w->din, n, H, W);
        block_input_backward(net, w, b, w->din);
        /* DC unit: dc = x - lam r(x), r = A^H A x - A^H Ku */
        const float lam = net->lambda[b]->w[0];
        double dlam = 0;
        for (int s = 0; s < n; s++) {
            const float *gd = w->ddc + s * img, *r = w->r[b] + s * img;
            mg_sense_op op;
            mg_sense_op_init(&op, w->sens + (long)s * C * hw, w->mask + (long)s * H, C, H, W, w->work);
            mg_dc_backward(&op, lam, gd, r, w->dy[b] + s * img, dku ? dku + (long)s * C * hw : NULL, &dlam, w->cx,
                           w->cr);
        }
        net->lambda[b]->g[0] += (float)dlam;
    }
    if (dku) /* y_{-1} = A^H Ku: dKu += A dy_{-1} */
        for (int s = 0; s < n; s++) {
            mg_planes2c(w->dy[0] + s * img, w->cx, hw);
            mg_sense_forward(w->cx, w->sens + (long)s * C * hw, w->mask + (long)s * H, w->work, C, H, W);
            for (long i = 0; i < C * hw; i++) dku[(long)s * C * hw + i] += w->work[i];
        }
}

double mg_dcinet_flops(const mg_dcinet_cfg *cfg, int C, int H, int W)
{
    const double hw = (double)H * W, K = cfg->kernels;
    double f = 0;
    for (int b = 0; b < cfg->blocks; b++) {
        double cin = 2.0 * (1 + mg_dcinet_skips(cfg, b));
        f += 2.0 * 25.0 * hw * (cin * K + K * K + K * 2.0); /* 2 flops per multiply-add */
        f += 2.0 * C * 5.0 * hw * log2((double)H);         /* the DC unit: two FFT passes along H per coil, ~5 N log N */
    }
    return f;
}

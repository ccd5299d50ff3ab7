/* Inception-v3 as pytorch-fid uses it for FID (FIDInceptionA/C/E_1/E_2 with
 * the 2015 TensorFlow weights): grey image -> 3 equal channels in [-1, 1],
 * bilinear resize to 299 x 299 (align_corners = False), the network up to
 * Mixed_7c, global average pool: 2048 features. Inference only; every
 * BasicConv2d (conv without bias, batch norm eps 0.001, ReLU) has its batch
 * norm folded into the convolution when the weights are loaded, and runs as
 * im2col + SGEMM. See docs/metrics.md. */
#include "metrics.h"
#include "../io/io.h"

#include "../nn/nn.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define INC_FORMAT "mrgan-fid-inception-v3"

typedef struct {
    float *d;
    int c, h, w;
} tens;

static tens tnew(int c, int h, int w)
{
    tens t = {mg_malloc_array((size_t)c * (size_t)h * (size_t)w, sizeof(float)), c, h, w};
    return t;
}

/* ---------------- the operations (also used by the tests) ---------------- */

void mg_inc_resize_bilinear(const float *in, int ih, int iw, float *out, int oh, int ow)
{
    const double sy = (double)ih / oh, sx = (double)iw / ow;
    for (int y = 0; y < oh; y++) {
        double fy = (y + 0.5) * sy - 0.5;
        if (fy < 0) fy = 0;
        int y0 = (int)fy, y1 = y0 + 1 < ih ? y0 + 1 : ih - 1;
        double ly = fy - y0;
        for (int x = 0; x < ow; x++) {
            double fx = (x + 0.5) * sx - 0.5;
            if (fx < 0) fx = 0;
            int x0 = (int)fx, x1 = x0 + 1 < iw ? x0 + 1 : iw - 1;
            double lx = fx - x0;
            double v = (1 - ly) * ((1 - lx) * in[y0 * iw + x0] + lx * in[y0 * iw + x1]) +
                       ly * ((1 - lx) * in[y1 * iw + x0] + lx * in[y1 * iw + x1]);
            out[y * ow + x] = (float)v;
        }
    }
}

/* k x k pooling, stride s, padding p: max (padding never wins) or average
 * over the window's pixels inside the image (count_include_pad = False) */
void mg_inc_pool(const float *in, int c, int h, int w, int k, int s, int p, int is_max, float *out, int *oh, int *ow)
{
    const int H = (h + 2 * p - k) / s + 1, W = (w + 2 * p - k) / s + 1;
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double acc = is_max ? -INFINITY : 0;
                int cnt = 0;
                for (int dy = 0; dy < k; dy++)
                    for (int dx = 0; dx < k; dx++) {
                        int yy = y * s - p + dy, xx = x * s - p + dx;
                        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                        float v = in[((long)ch * h + yy) * w + xx];
                        if (is_max) acc = v > acc ? v : acc;
                        else acc += v;
                        cnt++;
                    }
                out[((long)ch * H + y) * W + x] = (float)(is_max ? acc : acc / cnt);
            }
    *oh = H;
    *ow = W;
}

/* out[cout, oh, ow] = relu?(W * in + b), W cout x cin x kh x kw; im2col + SGEMM */
void mg_inc_conv(const float *in, int cin, int h, int w, const float *wt, const float *b, int cout, int kh, int kw,
                 int sh, int sw, int ph, int pw, int relu, float *out, int *ohp, int *owp)
{
    const int oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
    const long P = (long)oh * ow, K = (long)cin * kh * kw;
    const float *col = in;
    float *buf = NULL;
    if (!(kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0)) {
        buf = mg_malloc_array((size_t)(K * P), sizeof(float));
        for (int c = 0; c < cin; c++)
            for (int dy = 0; dy < kh; dy++)
                for (int dx = 0; dx < kw; dx++) {
                    float *row = buf + (((long)c * kh + dy) * kw + dx) * P;
                    for (int y = 0; y < oh; y++) {
                        int yy = y * sh - ph + dy;
                        for (int x = 0; x < ow; x++) {
                            int xx = x * sw - pw + dx;
                            row[(long)y * ow + x] =
                                yy >= 0 && yy < h && xx >= 0 && xx < w ? in[((long)c * h + yy) * w + xx] : 0.0f;
                        }
                    }
                }
        col = buf;
    }
    for (int o = 0; o < cout; o++)
        for (long i = 0; i < P; i++) out[o * P + i] = b ? b[o] : 0.0f;
    mg_sgemm(0, 0, cout, P, K, 1.0f, wt, K, col, P, 1.0f, out, P);
    if (relu)
        for (long i = 0; i < (long)cout * P; i++) out[i] = out[i] > 0 ? out[i] : 0.0f;
    free(buf);
    *ohp = oh;
    *owp = ow;
}

/* ---------------- the network ---------------- */

struct mg_inc_layer_s {
    char name[48];
    int cin, cout, kh, kw, s, ph, pw;
    float *w, *b; /* batch norm folded in */
};

static void reg(mg_fid_model *m, const char *block, const char *name, int cin, int cout, int kh, int kw, int s,
                int ph, int pw)
{
    mg_inc_layer *c = &m->conv[m->nconv++];
    snprintf(c->name, sizeof c->name, "%s%s%s", block, *block ? "." : "", name);
    c->cin = cin, c->cout = cout, c->kh = kh, c->kw = kw, c->s = s, c->ph = ph, c->pw = pw;
}

static void reg_a(mg_fid_model *m, const char *b, int in, int pool)
{
    reg(m, b, "branch1x1", in, 64, 1, 1, 1, 0, 0);
    reg(m, b, "branch5x5_1", in, 48, 1, 1, 1, 0, 0);
    reg(m, b, "branch5x5_2", 48, 64, 5, 5, 1, 2, 2);
    reg(m, b, "branch3x3dbl_1", in, 64, 1, 1, 1, 0, 0);
    reg(m, b, "branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
    reg(m, b, "branch3x3dbl_3", 96, 96, 3, 3, 1, 1, 1);
    reg(m, b, "branch_pool", in, pool, 1, 1, 1, 0, 0);
}

static void reg_c(mg_fid_model *m, const char *b, int c7)
{
    reg(m, b, "branch1x1", 768, 192, 1, 1, 1, 0, 0);
    reg(m, b, "branch7x7_1", 768, c7, 1, 1, 1, 0, 0);
    reg(m, b, "branch7x7_2", c7, c7, 1, 7, 1, 0, 3);
    reg(m, b, "branch7x7_3", c7, 192, 7, 1, 1, 3, 0);
    reg(m, b, "branch7x7dbl_1", 768, c7, 1, 1, 1, 0, 0);
    reg(m, b, "branch7x7dbl_2", c7, c7, 7, 1, 1, 3, 0);
    reg(m, b, "branch7x7dbl_3", c7, c7, 1, 7, 1, 0, 3);
    reg(m, b, "branch7x7dbl_4", c7, c7, 7, 1, 1, 3, 0);
    reg(m, b, "branch7x7dbl_5", c7, 192, 1, 7, 1, 0, 3);
    reg(m, b, "branch_pool", 768, 192, 1, 1, 1, 0, 0);
}

static void reg_e(mg_fid_model *m, const char *b, int in)
{
    reg(m, b, "branch1x1", in, 320, 1, 1, 1, 0, 0);
    reg(m, b, "branch3x3_1", in, 384, 1, 1, 1, 0, 0);
    reg(m, b, "branch3x3_2a", 384, 384, 1, 3, 1, 0, 1);
    reg(m, b, "branch3x3_2b", 384, 384, 3, 1, 1, 1, 0);
    reg(m, b, "branch3x3dbl_1", in, 448, 1, 1, 1, 0, 0);
    reg(m, b, "branch3x3dbl_2", 448, 384, 3, 3, 1, 1, 1);
    reg(m, b, "branch3x3dbl_3a", 384, 384, 1, 3, 1, 0, 1);
    reg(m, b, "branch3x3dbl_3b", 384, 384, 3, 1, 1, 1, 0);
    reg(m, b, "branch_pool", in, 192, 1, 1, 1, 0, 0);
}

static void register_all(mg_fid_model *m)
{
    m->nconv = 0;
    reg(m, "", "Conv2d_1a_3x3", 3, 32, 3, 3, 2, 0, 0);
    reg(m, "", "Conv2d_2a_3x3", 32, 32, 3, 3, 1, 0, 0);
    reg(m, "", "Conv2d_2b_3x3", 32, 64, 3, 3, 1, 1, 1);
    reg(m, "", "Conv2d_3b_1x1", 64, 80, 1, 1, 1, 0, 0);
    reg(m, "", "Conv2d_4a_3x3", 80, 192, 3, 3, 1, 0, 0);
    reg_a(m, "Mixed_5b", 192, 32);
    reg_a(m, "Mixed_5c", 256, 64);
    reg_a(m, "Mixed_5d", 288, 64);
    reg(m, "Mixed_6a", "branch3x3", 288, 384, 3, 3, 2, 0, 0);
    reg(m, "Mixed_6a", "branch3x3dbl_1", 288, 64, 1, 1, 1, 0, 0);
    reg(m, "Mixed_6a", "branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
    reg(m, "Mixed_6a", "branch3x3dbl_3", 96, 96, 3, 3, 2, 0, 0);
    reg_c(m, "Mixed_6b", 128);
    reg_c(m, "Mixed_6c", 160);
    reg_c(m, "Mixed_6d", 160);
    reg_c(m, "Mixed_6e", 192);
    reg(m, "Mixed_7a", "branch3x3_1", 768, 192, 1, 1, 1, 0, 0);
    reg(m, "Mixed_7a", "branch3x3_2", 192, 320, 3, 3, 2, 0, 0);
    reg(m, "Mixed_7a", "branch7x7x3_1", 768, 192, 1, 1, 1, 0, 0);
    reg(m, "Mixed_7a", "branch7x7x3_2", 192, 192, 1, 7, 1, 0, 3);
    reg(m, "Mixed_7a", "branch7x7x3_3", 192, 192, 7, 1, 1, 3, 0);
    reg(m, "Mixed_7a", "branch7x7x3_4", 192, 192, 3, 3, 2, 0, 0);
    reg_e(m, "Mixed_7b", 1280);
    reg_e(m, "Mixed_7c", 2048);
}

static const mg_inc_layer *find(const mg_fid_model *m, const char *block, const char *name)
{
    char full[64];
    snprintf(full, sizeof full, "%s%s%s", block, *block ? "." : "", name);
    for (int i = 0; i < m->nconv; i++)
        if (!strcmp(m->conv[i].name, full)) return &m->conv[i];
    abort(); /* every name used below is registered above */
}

/* BasicConv2d on x (x kept) */
static tens bconv(const mg_fid_model *m, const char *block, const char *name, tens x)
{
    const mg_inc_layer *c = find(m, block, name);
    const int oh = (x.h + 2 * c->ph - c->kh) / c->s + 1, ow = (x.w + 2 * c->pw - c->kw) / c->s + 1;
    tens y = tnew(c->cout, oh, ow);
    int a, b;
    mg_inc_conv(x.d, x.c, x.h, x.w, c->w, c->b, c->cout, c->kh, c->kw, c->s, c->s, c->ph, c->pw, 1, y.d, &a, &b);
    return y;
}

static tens conv_free(const mg_fid_model *m, const char *block, const char *name, tens x)
{
    tens y = bconv(m, block, name, x);
    free(x.d);
    return y;
}

static tens pool(tens x, int k, int s, int p, int is_max)
{
    const int oh = (x.h + 2 * p - k) / s + 1, ow = (x.w + 2 * p - k) / s + 1;
    tens y = tnew(x.c, oh, ow);
    int a, b;
    mg_inc_pool(x.d, x.c, x.h, x.w, k, s, p, is_max, y.d, &a, &b);
    return y;
}

/* concatenate along channels, freeing the parts */
static tens cat(tens *p, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++) c += p[i].c;
    tens y = tnew(c, p[0].h, p[0].w);
    long o = 0;
    for (int i = 0; i < n; i++) {
        size_t sz = (size_t)p[i].c * (size_t)p[i].h * (size_t)p[i].w;
        memcpy(y.d + o, p[i].d, sz * sizeof(float));
        o += (long)sz;
        free(p[i].d);
    }
    return y;
}

static tens block_a(const mg_fid_model *m, const char *b, tens x)
{
    tens p[4];
    p[0] = bconv(m, b, "branch1x1", x);
    p[1] = conv_free(m, b, "branch5x5_2", bconv(m, b, "branch5x5_1", x));
    p[2] = conv_free(m, b, "branch3x3dbl_3", conv_free(m, b, "branch3x3dbl_2", bconv(m, b, "branch3x3dbl_1", x)));
    p[3] = conv_free(m, b, "branch_pool", pool(x, 3, 1, 1, 0));
    free(x.d);
    return cat(p, 4);
}

static tens block_b(const mg_fid_model *m, tens x)
{
    const char *b = "Mixed_6a";
    tens p[3];
    p[0] = bconv(m, b, "branch3x3", x);
    p[1] = conv_free(m, b, "branch3x3dbl_3", conv_free(m, b, "branch3x3dbl_2", bconv(m, b, "branch3x3dbl_1", x)));
    p[2] = pool(x, 3, 2, 0, 1);
    free(x.d);
    return cat(p, 3);
}

static tens block_c(const mg_fid_model *m, const char *b, tens x)
{
    tens p[4];
    p[0] = bconv(m, b, "branch1x1", x);
    p[1] = conv_free(m, b, "branch7x7_3", conv_free(m, b, "branch7x7_2", bconv(m, b, "branch7x7_1", x)));
    tens t = bconv(m, b, "branch7x7dbl_1", x);
    t = conv_free(m, b, "branch7x7dbl_2", t);
    t = conv_free(m, b, "branch7x7dbl_3", t);
    t = conv_free(m, b, "branch7x7dbl_4", t);
    p[2] = conv_free(m, b, "branch7x7dbl_5", t);
    p[3] = conv_free(m, b, "branch_pool", pool(x, 3, 1, 1, 0));
    free(x.d);
    return cat(p, 4);
}

static tens block_d(const mg_fid_model *m, tens x)
{
    const char *b = "Mixed_7a";
    tens p[3];
    p[0] = conv_free(m, b, "branch3x3_2", bconv(m, b, "branch3x3_1", x));
    tens t = bconv(m, b, "branch7x7x3_1", x);
    t = conv_free(m, b, "branch7x7x3_2", t);
    t = conv_free(m, b, "branch7x7x3_3", t);
    p[1] = conv_free(m, b, "branch7x7x3_4", t);
    p[2] = pool(x, 3, 2, 0, 1);
    free(x.d);
    return cat(p, 3);
}

/* E_1 (Mixed_7b) pools by average, E_2 (Mixed_7c) by max (pytorch-fid) */
static tens block_e(const mg_fid_model *m, const char *b, tens x, int max_pool)
{
    tens p[6];
    p[0] = bconv(m, b, "branch1x1", x);
    tens t = bconv(m, b, "branch3x3_1", x);
    p[1] = bconv(m, b, "branch3x3_2a", t);
    p[2] = conv_free(m, b, "branch3x3_2b", t);
    t = conv_free(m, b, "branch3x3dbl_2", bconv(m, b, "branch3x3dbl_1", x));
    p[3] = bconv(m, b, "branch3x3dbl_3a", t);
    p[4] = conv_free(m, b, "branch3x3dbl_3b", t);
    p[5] = conv_free(m, b, "branch_pool", pool(x, 3, 1, 1, max_pool));
    free(x.d);
    return cat(p, 6);
}

void mg_inc_forward(const mg_fid_model *m, const float *rgb299, float *feat)
{
    tens x = tnew(3, 299, 299);
    memcpy(x.d, rgb299, sizeof(float) * 3 * 299 * 299);
    x = conv_free(m, "", "Conv2d_1a_3x3", x);
    x = conv_free(m, "", "Conv2d_2a_3x3", x);
    x = conv_free(m, "", "Conv2d_2b_3x3", x);
    tens t = pool(x, 3, 2, 0, 1);
    free(x.d);
    x = conv_free(m, "", "Conv2d_3b_1x1", t);
    x = conv_free(m, "", "Conv2d_4a_3x3", x);
    t = pool(x, 3, 2, 0, 1);
    free(x.d);
    x = block_a(m, "Mixed_5b", t);
    x = block_a(m, "Mixed_5c", x);
    x = block_a(m, "Mixed_5d", x);
    x = block_b(m, x);
    x = block_c(m, "Mixed_6b", x);
    x = block_c(m, "Mixed_6c", x);
    x = block_c(m, "Mixed_6d", x);
    x = block_c(m, "Mixed_6e", x);
    x = block_d(m, x);
    x = block_e(m, "Mixed_7b", x, 0);
    x = block_e(m, "Mixed_7c", x, 1);
    const long hw = (long)x.h * x.w;
    for (int c = 0; c < x.c; c++) {
        double s = 0;
        for (long i = 0; i < hw; i++) s += x.d[c * hw + i];
        feat[c] = (float)(s / (double)hw);
    }
    free(x.d);
}

/* the layer list, for writing weight files (tests, converters) */
static mg_fid_model *layer_table(void)
{
    static mg_fid_model t;
    static mg_inc_layer layers[128];
    if (!t.conv) {
        t.conv = layers;
        register_all(&t);
    }
    return &t;
}

int mg_fid_layer_count(void) { return layer_table()->nconv; }

void mg_fid_layer_info(int i, const char **name, int *cin, int *cout, int *kh, int *kw)
{
    const mg_inc_layer *c = &layer_table()->conv[i];
    *name = c->name, *cin = c->cin, *cout = c->cout, *kh = c->kh, *kw = c->kw;
}

/* ---------------- weights ---------------- */

static const mg_st_tensor *want(const mg_st_file *f, const char *path, const char *conv, const char *suffix,
                                int ndim, const long *shape)
{
    char nm[96];
    snprintf(nm, sizeof nm, "%s.%s", conv, suffix);
    const mg_st_tensor *t = mg_st_find(f, nm);
    int ok = t && t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (!ok) {
        mg_set_error("%s: tensor %s is missing or not of shape %ld%s%s", path, nm, shape[0], ndim > 1 ? "x..." : "",
                     " (not pytorch-fid's Inception-v3? see docs/metrics.md)");
        return NULL;
    }
    return t;
}

int mg_fid_load(const char *path, mg_fid_model *m)
{
    memset(m, 0, sizeof *m);
    if (mg_sha256_file(path, m->sha256)) return -1;
    mg_st_file f;
    if (mg_st_read(path, &f)) return -1;
    int rc = -1;
    const char *fmt = mg_st_meta(&f, "format");
    if (!fmt || strcmp(fmt, INC_FORMAT)) {
        mg_set_error("%s: not converted Inception-v3 FID weights (format '%s', want '%s'; docs/metrics.md)", path,
                     fmt ? fmt : "none", INC_FORMAT);
        goto out;
    }
    m->conv = mg_calloc(128, sizeof(mg_inc_layer));
    register_all(m);
    for (int i = 0; i < m->nconv; i++) {
        mg_inc_layer *c = &m->conv[i];
        long ws[4] = {c->cout, c->cin, c->kh, c->kw}, bs[1] = {c->cout};
        const mg_st_tensor *w = want(&f, path, c->name, "conv.weight", 4, ws);
        const mg_st_tensor *g = w ? want(&f, path, c->name, "bn.weight", 1, bs) : NULL;
        const mg_st_tensor *be = g ? want(&f, path, c->name, "bn.bias", 1, bs) : NULL;
        const mg_st_tensor *mu = be ? want(&f, path, c->name, "bn.running_mean", 1, bs) : NULL;
        const mg_st_tensor *var = mu ? want(&f, path, c->name, "bn.running_var", 1, bs) : NULL;
        if (!var) goto out;
        const long per = (long)c->cin * c->kh * c->kw;
        c->w = mg_malloc_array((size_t)(c->cout * per), sizeof(float));
        c->b = mg_malloc_array((size_t)c->cout, sizeof(float));
        for (int o = 0; o < c->cout; o++) {
            if (!(var->data[o] >= 0)) {
                mg_set_error("%s: %s.bn.running_var is negative", path, c->name);
                goto out;
            }
            const double sc = g->data[o] / sqrt((double)var->data[o] + 1e-3);
            for (long j = 0; j < per; j++) c->w[o * per + j] = (float)(w->data[o * per + j] * sc);
            c->b[o] = (float)(be->data[o] - mu->data[o] * sc);
        }
    }
    rc = 0;
out:
    mg_st_free(&f);
    if (rc) mg_fid_free(m);
    return rc;
}

void mg_fid_free(mg_fid_model *m)
{
    for (int i = 0; m->conv && i < m->nconv; i++) {
        free(m->conv[i].w);
        free(m->conv[i].b);
    }
    free(m->conv);
    m->conv = NULL;
    m->nconv = 0;
}

/* Magnitude images / vmax, clipped to [0, 1] (as an 8-bit PNG would hold
 * them), resized to 299 x 299, then 2x - 1 in three equal channels. */
int mg_fid_features(const mg_fid_model *m, const float *imgs, long n, long H, long W, double vmax, float **feat)
{
    if (!(vmax > 0)) {
        mg_set_error("FID: the reference volume is all zero");
        return -1;
    }
    float *out = mg_malloc_array((size_t)(n * MG_FID_DIM), sizeof(float));
#pragma omp parallel
    {
        float *u = mg_malloc_array((size_t)(H * W), sizeof(float));
        float *x = mg_malloc_array((size_t)(3 * 299 * 299), sizeof(float));
#pragma omp for schedule(dynamic)
        for (long i = 0; i < n; i++) {
            for (long j = 0; j < H * W; j++) {
                double v = imgs[i * H * W + j] / vmax;
                u[j] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
            }
            mg_inc_resize_bilinear(u, (int)H, (int)W, x, 299, 299);
            for (long j = 0; j < 299 * 299; j++) x[j] = 2.0f * x[j] - 1.0f;
            memcpy(x + 299 * 299, x, sizeof(float) * 299 * 299);
            memcpy(x + 2 * 299 * 299, x, sizeof(float) * 299 * 299);
            mg_inc_forward(m, x, out + i * MG_FID_DIM);
        }
        free(u);
        free(x);
    }
    *feat = out;
    return 0;
}

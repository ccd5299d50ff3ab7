/* Compressed-sensing SENSE: l1-wavelet by FISTA, total variation by ADMM,
 * with bart pics' data scaling, so the same lambda means the same there. */
#include "recon.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_cs_defaults(mg_cs_opts *o, int reg)
{
    memset(o, 0, sizeof *o);
    o->reg = reg;
    o->lambda = 0.002f; /* best of 0.0005..0.01 on the default validation split, both (docs/baselines.md) */
    o->iters = 30;
    o->wavelet = MG_WAV_DB2;
    o->randshift = 1;
    o->momentum = 1;
    o->rho = 0.5f;
    o->cg_iters = 10;
    o->alpha = 1.6f;
    o->scale = 0;
}

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float mg_cs_scaling(const cfloat *ksp, const float *mask, long C, long H, long W)
{
    /* fully sampled centre block of phase-encode lines, at most 32 */
    long c0 = H / 2, c1 = H / 2;
    while (c0 - 1 >= 0 && (!mask || mask[c0 - 1] != 0.0f) && c1 - c0 + 1 < 32) c0--;
    while (c1 + 1 < H && (!mask || mask[c1 + 1] != 0.0f) && c1 - c0 + 1 < 32) c1++;
    if (mask && mask[H / 2] == 0.0f) c0 = c1 = H / 2;
    /* readout window of <= 32 samples with the k-space centre W/2 at its own centre */
    const long hc = c1 - c0 + 1, wc = W < 32 ? W : 32, x0c = W / 2 - wc / 2;
    cfloat *cal = mg_malloc_array((size_t)(C * hc * wc), sizeof(cfloat));
    for (long c = 0; c < C; c++)
        for (long y = 0; y < hc; y++)
            for (long x = 0; x < wc; x++) cal[(c * hc + y) * wc + x] = ksp[(c * H + c0 + y) * W + x0c + x];
    mg_fft2c(cal, C, hc, wc, MG_FFT_INVERSE);
    const long n = hc * wc;
    float *mag = mg_malloc_array((size_t)n, sizeof(float));
    const double resc = sqrt(((double)H * W) / ((double)hc * wc));
    for (long i = 0; i < n; i++) {
        double a = 0;
        for (long c = 0; c < C; c++) a += pow(cabsf(cal[c * n + i]), 2);
        mag[i] = (float)(sqrt(a) / resc);
    }
    qsort(mag, (size_t)n, sizeof(float), cmp_f);
    float med = mag[n / 2], p90 = mag[(long)(0.9 * (double)n)], mx = mag[n - 1];
    float s = (mx - p90) < 2 * (p90 - med) ? p90 : mx;
    free(cal);
    free(mag);
    return s > 0 && isfinite(s) ? s : 1.0f;
}

/* ---- total variation pieces ---- */
void mg_grad_forward(const cfloat *x, cfloat *g, long H, long W)
{
    for (long y = 0; y < H; y++)
        for (long c = 0; c < W; c++) {
            cfloat v = x[y * W + c];
            g[y * W + c] = x[((y + 1) % H) * W + c] - v;
            g[H * W + y * W + c] = x[y * W + (c + 1) % W] - v;
        }
}

void mg_grad_adjoint(const cfloat *g, cfloat *x, long H, long W)
{
    for (long y = 0; y < H; y++)
        for (long c = 0; c < W; c++)
            x[y * W + c] = g[((y + H - 1) % H) * W + c] - g[y * W + c] + g[H * W + y * W + (c + W - 1) % W] -
                           g[H * W + y * W + c];
}

double mg_tv_norm(const cfloat *x, long H, long W)
{
    cfloat *g = mg_malloc_array((size_t)(2 * H * W), sizeof(cfloat));
    mg_grad_forward(x, g, H, W);
    double s = 0;
    for (long i = 0; i < H * W; i++) s += sqrt(pow(cabsf(g[i]), 2) + pow(cabsf(g[H * W + i]), 2));
    free(g);
    return s;
}

typedef struct {
    const cfloat *sens;
    const float *mask;
    long C, H, W;
    cfloat *ksp; /* C*H*W scratch */
} sense_op;

/* out = A^H A x */
static void normal(sense_op *op, const cfloat *x, cfloat *out)
{
    mg_sense_forward(x, op->sens, op->mask, op->ksp, op->C, op->H, op->W);
    mg_fft2c(op->ksp, op->C, op->H, op->W, MG_FFT_INVERSE);
    mg_sens_adjoint(op->ksp, op->sens, out, op->C, op->H, op->W);
}

static double data_term(sense_op *op, const cfloat *x, const cfloat *y)
{
    mg_sense_forward(x, op->sens, op->mask, op->ksp, op->C, op->H, op->W);
    double s = 0;
    for (long i = 0; i < op->C * op->H * op->W; i++) s += pow(cabsf(op->ksp[i] - y[i]), 2);
    return 0.5 * s;
}

static void soft(cfloat *z, long n, float t)
{
    for (long i = 0; i < n; i++) {
        float m = cabsf(z[i]);
        z[i] = m > t ? z[i] * ((m - t) / m) : 0.0f;
    }
}

static void roll(const cfloat *in, cfloat *out, long H, long W, long sy, long sx)
{
    for (long y = 0; y < H; y++)
        for (long x = 0; x < W; x++) out[((y + sy) % H) * W + (x + sx) % W] = in[y * W + x];
}

static double l1_wavelet(const mg_wavelet *wv, const cfloat *x, long H, long W)
{
    cfloat *c = mg_malloc_array((size_t)(H * W), sizeof(cfloat)), *tmp = mg_malloc_array((size_t)(H > W ? H : W), sizeof(cfloat));
    memcpy(c, x, sizeof(cfloat) * (size_t)(H * W));
    mg_wavelet_forward(wv, c, H, W, tmp);
    double s = 0;
    for (long i = 0; i < H * W; i++) s += cabsf(c[i]);
    free(c);
    free(tmp);
    return s;
}

/* FISTA on the image zero-padded to a multiple of 2^levels (top-left
 * placement; the data term sees the crop). */
static void fista_wavelet(sense_op *op, const cfloat *y, const mg_cs_opts *o, cfloat *img)
{
    const long H = op->H, W = op->W;
    int L = 0;
    while (L < 4 && (H >> (L + 1)) >= 8 && (W >> (L + 1)) >= 8) L++;
    if (L == 0) L = 1;
    const long B = 1L << L, Hp = (H + B - 1) / B * B, Wp = (W + B - 1) / B * B, np = Hp * Wp;
    mg_wavelet wv;
    mg_wavelet_init(&wv, o->wavelet, L);
    cfloat *x = mg_calloc((size_t)np, sizeof(cfloat)), *xo = mg_calloc((size_t)np, sizeof(cfloat));
    cfloat *z = mg_calloc((size_t)np, sizeof(cfloat)), *v = mg_malloc_array((size_t)np, sizeof(cfloat));
    cfloat *r = mg_malloc_array((size_t)np, sizeof(cfloat));
    cfloat *ci = mg_malloc_array((size_t)(H * W), sizeof(cfloat)), *g = mg_malloc_array((size_t)(H * W), sizeof(cfloat));
    cfloat *aty = mg_malloc_array((size_t)(H * W), sizeof(cfloat));
    cfloat *tmp = mg_malloc_array((size_t)(Hp > Wp ? Hp : Wp), sizeof(cfloat));
    mg_sense_adjoint(y, op->sens, op->mask, aty, op->ksp, op->C, H, W);
    const float tau = 0.95f; /* ||A^H A|| <= 1 for maps with sum |s|^2 <= 1 */
    mg_rng rng;
    mg_rng_seed(&rng, 1);
    double t = 1;
    for (int it = 0; it < o->iters; it++) {
        for (long yy = 0; yy < H; yy++) memcpy(ci + yy * W, z + yy * Wp, sizeof(cfloat) * (size_t)W);
        normal(op, ci, g);
        memcpy(v, z, sizeof(cfloat) * (size_t)np);
        for (long yy = 0; yy < H; yy++)
            for (long xx = 0; xx < W; xx++) v[yy * Wp + xx] -= tau * (g[yy * W + xx] - aty[yy * W + xx]);
        long sy = 0, sx = 0;
        if (o->randshift) {
            sy = (long)(mg_rng_uniform(&rng) * (double)B);
            sx = (long)(mg_rng_uniform(&rng) * (double)B);
        }
        roll(v, r, Hp, Wp, sy, sx);
        mg_wavelet_forward(&wv, r, Hp, Wp, tmp);
        soft(r, np, tau * o->lambda);
        mg_wavelet_inverse(&wv, r, Hp, Wp, tmp);
        roll(r, x, Hp, Wp, Hp - sy, Wp - sx);
        double tn = o->momentum ? 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t)) : 1.0;
        float beta = (float)((t - 1.0) / tn);
        for (long i = 0; i < np; i++) {
            z[i] = x[i] + beta * (x[i] - xo[i]);
            xo[i] = x[i];
        }
        t = tn;
        if (o->objective) {
            for (long yy = 0; yy < H; yy++) memcpy(ci + yy * W, x + yy * Wp, sizeof(cfloat) * (size_t)W);
            o->objective[it] = data_term(op, ci, y) + o->lambda * l1_wavelet(&wv, x, Hp, Wp);
        }
    }
    for (long yy = 0; yy < H; yy++) memcpy(img + yy * W, x + yy * Wp, sizeof(cfloat) * (size_t)W);
    free(x); free(xo); free(z); free(v); free(r); free(ci); free(g); free(aty); free(tmp);
}

/* ADMM for TV with z = grad x (as bart pics -R T). */
static void admm_tv(sense_op *op, const cfloat *y, const mg_cs_opts *o, cfloat *x)
{
    const long H = op->H, W = op->W, n = H * W;
    cfloat *z = mg_calloc((size_t)(2 * n), sizeof(cfloat)), *u = mg_calloc((size_t)(2 * n), sizeof(cfloat));
    cfloat *gx = mg_malloc_array((size_t)(2 * n), sizeof(cfloat)), *hv = mg_malloc_array((size_t)(2 * n), sizeof(cfloat));
    cfloat *rhs = mg_malloc_array((size_t)n, sizeof(cfloat)), *aty = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *r = mg_malloc_array((size_t)n, sizeof(cfloat)), *p = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *q = mg_malloc_array((size_t)n, sizeof(cfloat)), *t1 = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *g2 = mg_malloc_array((size_t)(2 * n), sizeof(cfloat));
    const float rho = o->rho, alpha = o->alpha;
    memset(x, 0, sizeof(cfloat) * (size_t)n);
    mg_sense_adjoint(y, op->sens, op->mask, aty, op->ksp, op->C, H, W);
    for (int it = 0; it < o->iters; it++) {
        /* rhs = A^H y + rho grad^H (z - u) */
        for (long i = 0; i < 2 * n; i++) g2[i] = z[i] - u[i];
        mg_grad_adjoint(g2, rhs, H, W);
        for (long i = 0; i < n; i++) rhs[i] = aty[i] + rho * rhs[i];
        /* CG on (A^H A + rho grad^H grad) x = rhs, warm start */
#define APPLY(in, out)                                                   \
    do {                                                                 \
        normal(op, in, out);                                             \
        mg_grad_forward(in, g2, H, W);                                   \
        mg_grad_adjoint(g2, t1, H, W);                                   \
        for (long i_ = 0; i_ < n; i_++) out[i_] += rho * t1[i_];         \
    } while (0)
        APPLY(x, q);
        double rr = 0;
        for (long i = 0; i < n; i++) {
            r[i] = rhs[i] - q[i];
            p[i] = r[i];
            rr += pow(cabsf(r[i]), 2);
        }
        for (int k = 0; k < o->cg_iters && rr > 0; k++) {
            APPLY(p, q);
            double pq = 0;
            for (long i = 0; i < n; i++) pq += creal(conj((double complex)p[i]) * q[i]);
            if (pq <= 0) break;
            float a = (float)(rr / pq);
            double rn = 0;
            for (long i = 0; i < n; i++) {
                x[i] += a * p[i];
                r[i] -= a * q[i];
                rn += pow(cabsf(r[i]), 2);
            }
            float b = (float)(rn / rr);
            for (long i = 0; i < n; i++) p[i] = r[i] + b * p[i];
            rr = rn;
        }
#undef APPLY
        mg_grad_forward(x, gx, H, W);
        for (long i = 0; i < 2 * n; i++) hv[i] = alpha * gx[i] + (1 - alpha) * z[i];
        const float thr = o->lambda / rho;
        for (long i = 0; i < n; i++) { /* isotropic shrinkage of (h + u) per pixel */
            cfloat a = hv[i] + u[i], b = hv[n + i] + u[n + i];
            float m = sqrtf(cabsf(a) * cabsf(a) + cabsf(b) * cabsf(b));
            float f = m > thr ? (m - thr) / m : 0.0f;
            z[i] = f * a;
            z[n + i] = f * b;
        }
        for (long i = 0; i < 2 * n; i++) u[i] += hv[i] - z[i];
        if (o->objective) o->objective[it] = data_term(op, x, y) + o->lambda * mg_tv_norm(x, H, W);
    }
    free(z); free(u); free(gx); free(hv); free(rhs); free(aty); free(r); free(p); free(q); free(t1); free(g2);
}

float mg_cs_recon(const cfloat *ksp, const cfloat *sens, const float *mask, long C, long H, long W,
                  const mg_cs_opts *o, cfloat *img)
{
    const long n = C * H * W;
    float s = o->scale > 0 ? o->scale : mg_cs_scaling(ksp, mask, C, H, W);
    cfloat *y = mg_malloc_array((size_t)n, sizeof(cfloat));
    for (long i = 0; i < n; i++) y[i] = ksp[i] / s;
    mg_mask_apply(y, mask, C, H, W);
    sense_op op = {sens, mask, C, H, W, mg_malloc_array((size_t)n, sizeof(cfloat))};
    if (o->reg == MG_REG_WAVELET) fista_wavelet(&op, y, o, img);
    else admm_tv(&op, y, o, img);
    for (long i = 0; i < H * W; i++) img[i] *= s;
    free(op.ksp);
    free(y);
    return s;
}

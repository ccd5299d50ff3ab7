/* Elementwise layers, batch norm, linear, concat, complex magnitude, MSE. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* elementwise: worth the OpenMP team only for large tensors (the paper
 * config's 40 x 256 x 256 activations) */
#define ELEMENTWISE_PAR (1L << 16)

void mg_leaky_forward(const float *x, float *y, long n, float slope)
{
#pragma omp parallel for simd schedule(static) if (n > ELEMENTWISE_PAR)
    for (long i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i];
}

void mg_leaky_backward(const float *y, const float *dy, float *dx, long n, float slope)
{
#pragma omp parallel for simd schedule(static) if (n > ELEMENTWISE_PAR)
    for (long i = 0; i < n; i++) dx[i] += y[i] > 0 ? dy[i] : slope * dy[i];
}

/* ---------------- batch norm ---------------- */
void mg_batchnorm_init(mg_batchnorm *b, mg_params *ps, const char *name, int c)
{
    memset(b, 0, sizeof *b);
    b->c = c;
    b->momentum = 0.1f;
    b->eps = 1e-5f;
    char nm[96];
    long s[1] = {c};
    snprintf(nm, sizeof nm, "%s.weight", name);
    b->gamma = mg_params_add(ps, nm, 1, s);
    snprintf(nm, sizeof nm, "%s.bias", name);
    b->beta = mg_params_add(ps, nm, 1, s);
    for (int i = 0; i < c; i++) b->gamma->w[i] = 1.0f;
    b->run_mean = mg_calloc((size_t)c, sizeof(float));
    b->run_var = mg_malloc_array((size_t)c, sizeof(float));
    for (int i = 0; i < c; i++) b->run_var[i] = 1.0f;
    b->mean = mg_calloc((size_t)c, sizeof(float));
    b->invstd = mg_calloc((size_t)c, sizeof(float));
    b->acc = mg_calloc((size_t)(2 * c), sizeof(double));
}

void mg_batchnorm_free(mg_batchnorm *b)
{
    free(b->run_mean);
    free(b->run_var);
    free(b->mean);
    free(b->invstd);
    free(b->acc);
}

/* With b->sync the sums run over every rank's part of the batch (each rank
 * holds the same number of samples), so data-parallel training normalises
 * exactly as one process with the whole batch. Variance in two passes. */
void mg_batchnorm_forward(mg_batchnorm *b, const float *x, float *y, int n, int h, int w, int train)
{
    const long hw = (long)h * w;
    const double M = (double)n * (double)hw * (b->sync ? mg_dist_size() : 1);
    double *s = b->acc, *ss = b->acc + b->c;
    if (train) {
        for (int c = 0; c < b->c; c++) {
            s[c] = 0;
            for (int i = 0; i < n; i++) {
                const float *p = x + ((long)i * b->c + c) * hw;
                for (long j = 0; j < hw; j++) s[c] += p[j];
            }
        }
        if (b->sync) mg_dist_sum_d(s, b->c);
        for (int c = 0; c < b->c; c++) {
            const double mu = s[c] / M;
            ss[c] = 0;
            for (int i = 0; i < n; i++) {
                const float *p = x + ((long)i * b->c + c) * hw;
                for (long j = 0; j < hw; j++) ss[c] += (p[j] - mu) * (p[j] - mu);
            }
        }
        if (b->sync) mg_dist_sum_d(ss, b->c);
    }
    for (int c = 0; c < b->c; c++) {
        float mean, invstd;
        if (train) {
            double mu = s[c] / M, var = ss[c] / M;
            mean = (float)mu;
            invstd = (float)(1.0 / sqrt(var + b->eps));
            b->mean[c] = mean;
            b->invstd[c] = invstd;
            double unb = M > 1 ? ss[c] / (M - 1) : var;
            b->run_mean[c] = (1 - b->momentum) * b->run_mean[c] + b->momentum * (float)mu;
            b->run_var[c] = (1 - b->momentum) * b->run_var[c] + b->momentum * (float)unb;
        } else {
            mean = b->run_mean[c];
            invstd = 1.0f / sqrtf(b->run_var[c] + b->eps);
        }
        const float g = b->gamma->w[c], be = b->beta->w[c];
        for (int i = 0; i < n; i++) {
            const float *p = x + ((long)i * b->c + c) * hw;
            float *q = y + ((long)i * b->c + c) * hw;
            for (long j = 0; j < hw; j++) q[j] = g * (p[j] - mean) * invstd + be;
        }
    }
}

/* gamma/beta gradients get this rank's sums (the trainer all-reduces every
 * gradient afterwards); dx needs the sums over all ranks. */
void mg_batchnorm_backward(mg_batchnorm *b, const float *x, const float *dy, float *dx, int n, int h,
                           int w)
{
    const long hw = (long)h * w;
    const double M = (double)n * (double)hw * (b->sync ? mg_dist_size() : 1);
    double *sdy = b->acc, *sdyx = b->acc + b->c;
    for (int c = 0; c < b->c; c++) {
        const float mean = b->mean[c], invstd = b->invstd[c];
        sdy[c] = sdyx[c] = 0;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((long)i * b->c + c) * hw, *g = dy + ((long)i * b->c + c) * hw;
            for (long j = 0; j < hw; j++) {
                sdy[c] += g[j];
                sdyx[c] += (double)g[j] * (p[j] - mean) * invstd;
            }
        }
        b->gamma->g[c] += (float)sdyx[c];
        b->beta->g[c] += (float)sdy[c];
    }
    if (!dx) return;
    if (b->sync) mg_dist_sum_d(b->acc, 2L * b->c);
    for (int c = 0; c < b->c; c++) {
        const float mean = b->mean[c], invstd = b->invstd[c];
        const double k = b->gamma->w[c] * invstd / M;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((long)i * b->c + c) * hw, *g = dy + ((long)i * b->c + c) * hw;
            float *d = dx + ((long)i * b->c + c) * hw;
            for (long j = 0; j < hw; j++) {
                double xh = (p[j] - mean) * invstd;
                d[j] += (float)(k * (M * g[j] - sdy[c] - xh * sdyx[c]));
            }
        }
    }
}

/* ---------------- linear ---------------- */
void mg_linear_init(mg_linear *l, mg_params *ps, const char *name, int in, int out, mg_rng *rng)
{
    l->in = in;
    l->out = out;
    char nm[96];
    long ws[2] = {out, in}, bs[1] = {out};
    snprintf(nm, sizeof nm, "%s.weight", name);
    l->weight = mg_params_add(ps, nm, 2, ws);
    snprintf(nm, sizeof nm, "%s.bias", name);
    l->bias = mg_params_add(ps, nm, 1, bs);
    const double bound = 1.0 / sqrt((double)in);
    for (long i = 0; i < l->weight->size; i++) l->weight->w[i] = (float)(bound * (2 * mg_rng_uniform(rng) - 1));
    for (int i = 0; i < out; i++) l->bias->w[i] = (float)(bound * (2 * mg_rng_uniform(rng) - 1));
}

void mg_linear_forward(const mg_linear *l, const float *x, float *y, int n)
{
    for (int i = 0; i < n; i++) memcpy(y + (long)i * l->out, l->bias->w, sizeof(float) * (size_t)l->out);
    mg_sgemm(0, 1, n, l->out, l->in, 1.0f, x, l->in, l->weight->w, l->in, 1.0f, y, l->out);
}

void mg_linear_backward(const mg_linear *l, const float *x, const float *dy, float *dx, int n)
{
    mg_sgemm(1, 0, l->out, l->in, n, 1.0f, dy, l->out, x, l->in, 1.0f, l->weight->g, l->in);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < l->out; o++) l->bias->g[o] += dy[(long)i * l->out + o];
    if (dx)
        mg_sgemm(0, 0, n, l->in, l->out, 1.0f, dy, l->out, l->weight->w, l->in, 1.0f, dx, l->in);
}

/* ---------------- concat ---------------- */
void mg_concat_forward(const float *src, float *dst, int n, int c, int ctot, int off, long hw)
{
    for (int i = 0; i < n; i++)
        memcpy(dst + ((long)i * ctot + off) * hw, src + (long)i * c * hw, sizeof(float) * (size_t)(c * hw));
}

void mg_concat_backward(const float *ddst, float *dsrc, int n, int c, int ctot, int off, long hw)
{
    for (int i = 0; i < n; i++) {
        const float *a = ddst + ((long)i * ctot + off) * hw;
        float *b = dsrc + (long)i * c * hw;
        for (long j = 0; j < c * hw; j++) b[j] += a[j];
    }
}

/* ---------------- complex magnitude ---------------- */
void mg_cmag_forward(const float *x, float *y, int n, long hw)
{
    for (int i = 0; i < n; i++) {
        const float *re = x + 2L * i * hw, *im = re + hw;
        for (long j = 0; j < hw; j++) y[(long)i * hw + j] = sqrtf(re[j] * re[j] + im[j] * im[j] + MG_CMAG_EPS);
    }
}

void mg_cmag_backward(const float *x, const float *dy, float *dx, int n, long hw)
{
    for (int i = 0; i < n; i++) {
        const float *re = x + 2L * i * hw, *im = re + hw;
        float *dre = dx + 2L * i * hw, *dim = dre + hw;
        for (long j = 0; j < hw; j++) {
            float m = sqrtf(re[j] * re[j] + im[j] * im[j] + MG_CMAG_EPS);
            float g = dy[(long)i * hw + j] / m;
            dre[j] += g * re[j];
            dim[j] += g * im[j];
        }
    }
}

/* ---------------- MSE ---------------- */
double mg_mse_forward(const float *x, const float *t, long n)
{
    double s = 0;
    for (long i = 0; i < n; i++) {
        double d = (double)x[i] - t[i];
        s += d * d;
    }
    return s / (double)n;
}

void mg_mse_backward(const float *x, const float *t, float *dx, long n, float scale)
{
    const float k = 2.0f * scale / (float)n;
    for (long i = 0; i < n; i++) dx[i] += k * (x[i] - t[i]);
}

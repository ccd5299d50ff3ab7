/* CS-TV: min_x 1/2 ||A x - y||^2 + lambda TV(x), isotropic total variation
 * by ADMM with z = grad x (as bart pics -R T), the x-update by conjugate
 * gradient (cg.c) on (A^H A + rho grad^H grad). docs/baselines.md. */
#include "recon.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* (A^H A + rho grad^H grad) for CG, on the S images of S map sets */
typedef struct {
    mg_sense_op *op;
    float rho;
    cfloat *g2, *t1;
} tv_normal;

static void apply_tv_normal(void *ctx, const cfloat *in, cfloat *out)
{
    tv_normal *c = ctx;
    const long H = c->op->H, W = c->op->W, n = H * W;
    mg_sense_op_normal(c->op, in, out);
    for (long s = 0; s < c->op->S; s++) {
        mg_grad_forward(in + s * n, c->g2, H, W);
        mg_grad_adjoint(c->g2, c->t1, H, W);
        for (long i = 0; i < n; i++) out[s * n + i] += c->rho * c->t1[i];
    }
}

/* ADMM for TV with z = grad x (as bart pics -R T), per image of each set. */
void mg_cs_tv_solve(mg_sense_op *op, const cfloat *y, const mg_cs_opts *o, cfloat *x)
{
    const long H = op->H, W = op->W, n = H * W, S = op->S, N = S * n;
    cfloat *z = mg_calloc((size_t)(2 * N), sizeof(cfloat)), *u = mg_calloc((size_t)(2 * N), sizeof(cfloat));
    cfloat *gx = mg_malloc_array((size_t)(2 * N), sizeof(cfloat)), *hv = mg_malloc_array((size_t)(2 * N), sizeof(cfloat));
    cfloat *rhs = mg_malloc_array((size_t)N, sizeof(cfloat)), *aty = mg_malloc_array((size_t)N, sizeof(cfloat));
    cfloat *t1 = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *g2 = mg_malloc_array((size_t)(2 * N), sizeof(cfloat));
    const float rho = o->rho, alpha = o->alpha;
    memset(x, 0, sizeof(cfloat) * (size_t)N);
    mg_sense_op_adjoint(op, y, aty);
    for (int it = 0; it < o->iters; it++) {
        /* rhs = A^H y + rho grad^H (z - u); image s's gradients at 2 n s */
        for (long i = 0; i < 2 * N; i++) g2[i] = z[i] - u[i];
        for (long s = 0; s < S; s++) mg_grad_adjoint(g2 + 2 * n * s, rhs + n * s, H, W);
        for (long i = 0; i < N; i++) rhs[i] = aty[i] + rho * rhs[i];
        /* CG on (A^H A + rho grad^H grad) x = rhs, warm start */
        tv_normal nc = {op, rho, g2, t1};
        mg_cg(apply_tv_normal, &nc, rhs, x, N, o->cg_iters);
        for (long s = 0; s < S; s++) mg_grad_forward(x + n * s, gx + 2 * n * s, H, W);
        for (long i = 0; i < 2 * N; i++) hv[i] = alpha * gx[i] + (1 - alpha) * z[i];
        const float thr = o->lambda / rho;
        for (long s = 0; s < S; s++)
            for (long i = 0; i < n; i++) { /* isotropic shrinkage of (h + u) per pixel */
                const long a0 = 2 * n * s + i, b0 = a0 + n;
                cfloat a = hv[a0] + u[a0], b = hv[b0] + u[b0];
                float m = sqrtf(cabsf(a) * cabsf(a) + cabsf(b) * cabsf(b));
                float f = m > thr ? (m - thr) / m : 0.0f;
                z[a0] = f * a;
                z[b0] = f * b;
            }
        for (long i = 0; i < 2 * N; i++) u[i] += hv[i] - z[i];
        if (o->objective) {
            double tv = 0;
            for (long s = 0; s < S; s++) tv += mg_tv_norm(x + n * s, H, W);
            o->objective[it] = mg_sense_op_data_term(op, x, y) + o->lambda * tv;
        }
    }
    free(z); free(u); free(gx); free(hv); free(rhs); free(aty); free(t1); free(g2);
}

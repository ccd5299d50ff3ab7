/* CS-wavelet: min_x 1/2 ||A x - y||^2 + lambda ||Psi x||_1, orthonormal
 * Daubechies wavelets (wavelet.c) with random cycle spinning, by FISTA
 * (as bart pics -R W). docs/baselines.md. */
#include "recon.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
 * placement; the data term sees the crop); with S map sets on S images, each
 * with its own wavelet penalty (as bart pics on a maps dimension). */
void mg_cs_wavelet_solve(mg_sense_op *op, const cfloat *y, const mg_cs_opts *o, cfloat *img)
{
    const long H = op->H, W = op->W, S = op->S, n = H * W;
    int L = 0;
    while (L < 4 && (H >> (L + 1)) >= 8 && (W >> (L + 1)) >= 8) L++;
    if (L == 0) L = 1;
    const long B = 1L << L, Hp = (H + B - 1) / B * B, Wp = (W + B - 1) / B * B, np = Hp * Wp;
    mg_wavelet wv;
    mg_wavelet_init(&wv, o->wavelet, L);
    cfloat *x = mg_calloc((size_t)(S * np), sizeof(cfloat)), *xo = mg_calloc((size_t)(S * np), sizeof(cfloat));
    cfloat *z = mg_calloc((size_t)(S * np), sizeof(cfloat)), *v = mg_malloc_array((size_t)np, sizeof(cfloat));
    cfloat *r = mg_malloc_array((size_t)np, sizeof(cfloat));
    cfloat *ci = mg_malloc_array((size_t)(S * n), sizeof(cfloat)), *g = mg_malloc_array((size_t)(S * n), sizeof(cfloat));
    cfloat *aty = mg_malloc_array((size_t)(S * n), sizeof(cfloat));
    cfloat *tmp = mg_malloc_array((size_t)(Hp > Wp ? Hp : Wp), sizeof(cfloat));
    mg_sense_op_adjoint(op, y, aty);
    const float tau = 0.95f; /* ||A^H A|| <= 1 for maps with sum |s|^2 <= 1 (orthonormal sets per pixel) */
    mg_rng rng;
    mg_rng_seed(&rng, 1);
    double t = 1;
    for (int it = 0; it < o->iters; it++) {
        for (long s = 0; s < S; s++)
            for (long yy = 0; yy < H; yy++) memcpy(ci + s * n + yy * W, z + s * np + yy * Wp, sizeof(cfloat) * (size_t)W);
        mg_sense_op_normal(op, ci, g);
        long sy = 0, sx = 0;
        if (o->randshift) {
            sy = (long)(mg_rng_uniform(&rng) * (double)B);
            sx = (long)(mg_rng_uniform(&rng) * (double)B);
        }
        for (long s = 0; s < S; s++) { /* gradient step and the wavelet prox, per image */
            memcpy(v, z + s * np, sizeof(cfloat) * (size_t)np);
            for (long yy = 0; yy < H; yy++)
                for (long xx = 0; xx < W; xx++)
                    v[yy * Wp + xx] -= tau * (g[s * n + yy * W + xx] - aty[s * n + yy * W + xx]);
            roll(v, r, Hp, Wp, sy, sx);
            mg_wavelet_forward(&wv, r, Hp, Wp, tmp);
            soft(r, np, tau * o->lambda);
            mg_wavelet_inverse(&wv, r, Hp, Wp, tmp);
            roll(r, x + s * np, Hp, Wp, Hp - sy, Wp - sx);
        }
        double tn = o->momentum ? 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t)) : 1.0;
        float beta = (float)((t - 1.0) / tn);
        for (long i = 0; i < S * np; i++) {
            z[i] = x[i] + beta * (x[i] - xo[i]);
            xo[i] = x[i];
        }
        t = tn;
        if (o->objective) {
            double l1 = 0;
            for (long s = 0; s < S; s++) {
                for (long yy = 0; yy < H; yy++) memcpy(ci + s * n + yy * W, x + s * np + yy * Wp, sizeof(cfloat) * (size_t)W);
                l1 += l1_wavelet(&wv, x + s * np, Hp, Wp);
            }
            o->objective[it] = mg_sense_op_data_term(op, ci, y) + o->lambda * l1;
        }
    }
    for (long s = 0; s < S; s++)
        for (long yy = 0; yy < H; yy++) memcpy(img + s * n + yy * W, x + s * np + yy * Wp, sizeof(cfloat) * (size_t)W);
    free(x); free(xo); free(z); free(v); free(r); free(ci); free(g); free(aty); free(tmp);
}

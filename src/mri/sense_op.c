/* The SENSE operator A = M F S of one slice as an object with forward,
 * adjoint and normal (mri.h), as BART's linear operators: CS, the DC units
 * of DCI-Net and the solvers take it. */
#include "mri.h"
#include "../fft/fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_sense_op_init(mg_sense_op *op, const cfloat *sens, const float *mask, long C, long H, long W, cfloat *work)
{
    mg_sense_op_init_sets(op, sens, 1, mask, C, H, W, work);
}

void mg_sense_op_init_sets(mg_sense_op *op, const cfloat *sens, long S, const float *mask, long C, long H, long W,
                           cfloat *work)
{
    op->sens = sens;
    op->mask = mask;
    op->C = C, op->H = H, op->W = W, op->S = S;
    op->own = work == NULL;
    op->ksp = work ? work : mg_malloc_array((size_t)(C * H * W), sizeof(cfloat));
}

void mg_sets_combine(const cfloat *x, long S, long n, cfloat *img)
{
    for (long i = 0; i < n; i++) {
        double e = 0;
        for (long s = 0; s < S; s++) e += (double)crealf(x[s * n + i]) * crealf(x[s * n + i]) +
                                         (double)cimagf(x[s * n + i]) * cimagf(x[s * n + i]);
        const float a = cabsf(x[i]);
        img[i] = S == 1 ? x[i] : (a > 0 ? x[i] / a : 1.0f) * (float)sqrt(e);
    }
}

void mg_zerofill_sets(const cfloat *ksp, const cfloat *sens, long S, const float *mask, cfloat *img, long C, long H,
                      long W)
{
    if (S <= 1) {
        mg_zerofill(ksp, sens, mask, img, C, H, W);
        return;
    }
    mg_sense_op op;
    mg_sense_op_init_sets(&op, sens, S, mask, C, H, W, NULL);
    cfloat *x = mg_malloc_array((size_t)(S * H * W), sizeof(cfloat));
    mg_sense_op_adjoint(&op, ksp, x);
    mg_sets_combine(x, S, H * W, img);
    free(x);
    mg_sense_op_free(&op);
}

/* coil images sum_s S_s x_s into out (C x H x W) */
static void sets_apply(const mg_sense_op *op, const cfloat *x, cfloat *out)
{
    const long C = op->C, n = op->H * op->W;
    mg_sens_apply(x, op->sens, out, C, op->H, op->W);
    for (long s = 1; s < op->S; s++) {
        const cfloat *ss = op->sens + s * C * n, *xs = x + s * n;
        for (long c = 0; c < C; c++)
            for (long i = 0; i < n; i++) out[c * n + i] += ss[c * n + i] * xs[i];
    }
}

/* x_s = S_s^H coils, every set */
static void sets_adjoint(const mg_sense_op *op, const cfloat *coils, cfloat *x)
{
    const long C = op->C, n = op->H * op->W;
    for (long s = 0; s < op->S; s++) mg_sens_adjoint(coils, op->sens + s * C * n, x + s * n, C, op->H, op->W);
}

/* y = M F sum_s S_s x_s (one set: mg_sense_forward's steps) */
static void forward_sets(mg_sense_op *op, const cfloat *x, cfloat *y)
{
    sets_apply(op, x, y);
    mg_fft2c(y, op->C, op->H, op->W, MG_FFT_FORWARD);
    mg_mask_apply(y, op->mask, op->C, op->H, op->W);
}

void mg_sense_op_free(mg_sense_op *op)
{
    if (op->own) free(op->ksp);
    op->ksp = NULL;
}

void mg_sense_op_forward(mg_sense_op *op, const cfloat *x, cfloat *y) { forward_sets(op, x, y); }

void mg_sense_op_adjoint(mg_sense_op *op, const cfloat *y, cfloat *x)
{
    memcpy(op->ksp, y, sizeof(cfloat) * (size_t)(op->C * op->H * op->W));
    mg_mask_apply(op->ksp, op->mask, op->C, op->H, op->W);
    mg_fft2c(op->ksp, op->C, op->H, op->W, MG_FFT_INVERSE);
    sets_adjoint(op, op->ksp, x);
}

void mg_sense_op_normal(mg_sense_op *op, const cfloat *x, cfloat *out)
{
    if (op->S == 1 && mg_sense_pe_fits(op->H, op->mask)) { /* the phase-encode FFT alone (sense_pe.c) */
        mg_sense_pe_residual(op->sens, op->mask, NULL, x, out, op->ksp, op->C, op->H, op->W);
        return;
    }
    forward_sets(op, x, op->ksp);
    mg_fft2c(op->ksp, op->C, op->H, op->W, MG_FFT_INVERSE);
    sets_adjoint(op, op->ksp, out);
}

void mg_sense_op_residual(mg_sense_op *op, const cfloat *x, const cfloat *y, cfloat *r)
{
    const long C = op->C, H = op->H, W = op->W;
    forward_sets(op, x, op->ksp);
    /* M (A x - y), one pass over the coils' rows (A x is zero on unsampled lines) */
#pragma omp parallel for schedule(static) if (C * H * W >= (1L << 16))
    for (long row = 0; row < C * H; row++) {
        cfloat *wr = op->ksp + row * W;
        const cfloat *kr = y + row * W;
        if (!op->mask || op->mask[row % H] != 0.0f)
            for (long j = 0; j < W; j++) wr[j] -= kr[j];
        else
            memset(wr, 0, sizeof(cfloat) * (size_t)W);
    }
    mg_fft2c(op->ksp, C, H, W, MG_FFT_INVERSE);
    sets_adjoint(op, op->ksp, r);
}

double mg_sense_op_data_term(mg_sense_op *op, const cfloat *x, const cfloat *y)
{
    forward_sets(op, x, op->ksp);
    double s = 0;
    for (long i = 0; i < op->C * op->H * op->W; i++) {
        const double a = cabsf(op->ksp[i] - y[i]);
        s += a * a;
    }
    return 0.5 * s;
}

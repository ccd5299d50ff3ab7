/* The SENSE operator A = M F S of one slice as an object with forward,
 * adjoint and normal (mri.h), as BART's linear operators: CS, the DC units
 * of DCI-Net and the solvers take it. */
#include "mri.h"
#include "../fft/fft.h"

#include <stdlib.h>
#include <string.h>

void mg_sense_op_init(mg_sense_op *op, const cfloat *sens, const float *mask, long C, long H, long W, cfloat *work)
{
    op->sens = sens;
    op->mask = mask;
    op->C = C, op->H = H, op->W = W;
    op->own = work == NULL;
    op->ksp = work ? work : mg_malloc_array((size_t)(C * H * W), sizeof(cfloat));
}

void mg_sense_op_free(mg_sense_op *op)
{
    if (op->own) free(op->ksp);
    op->ksp = NULL;
}

void mg_sense_op_forward(mg_sense_op *op, const cfloat *x, cfloat *y)
{
    mg_sense_forward(x, op->sens, op->mask, y, op->C, op->H, op->W);
}

void mg_sense_op_adjoint(mg_sense_op *op, const cfloat *y, cfloat *x)
{
    mg_sense_adjoint(y, op->sens, op->mask, x, op->ksp, op->C, op->H, op->W);
}

void mg_sense_op_normal(mg_sense_op *op, const cfloat *x, cfloat *out)
{
    mg_sense_forward(x, op->sens, op->mask, op->ksp, op->C, op->H, op->W);
    mg_fft2c(op->ksp, op->C, op->H, op->W, MG_FFT_INVERSE);
    mg_sens_adjoint(op->ksp, op->sens, out, op->C, op->H, op->W);
}

void mg_sense_op_residual(mg_sense_op *op, const cfloat *x, const cfloat *y, cfloat *r)
{
    const long C = op->C, H = op->H, W = op->W;
    mg_sense_forward(x, op->sens, op->mask, op->ksp, C, H, W);
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
    mg_sens_adjoint(op->ksp, op->sens, r, C, H, W);
}

double mg_sense_op_data_term(mg_sense_op *op, const cfloat *x, const cfloat *y)
{
    mg_sense_forward(x, op->sens, op->mask, op->ksp, op->C, op->H, op->W);
    double s = 0;
    for (long i = 0; i < op->C * op->H * op->W; i++) {
        const double a = cabsf(op->ksp[i] - y[i]);
        s += a * a;
    }
    return 0.5 * s;
}

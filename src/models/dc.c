/* The data-consistency (DC) unit of DCI-Net (paper Sec. 3.1, Appendix A;
 * docs/dcinet.md): dc = x - lambda A^H (A x - Ku), on the slice's SENSE
 * operator (mri.h). The GPU twin is gpu/gpu_dc.c. */
#include "models.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <string.h>

void mg_dc_residual(mg_sense_op *op, const cfloat *ku, const float *x, float *r, cfloat *cx, cfloat *cr)
{
    const long hw = op->H * op->W;
    mg_planes2c(x, cx, hw);
    mg_sense_op_residual(op, cx, ku, cr);
    mg_c2planes(cr, r, hw);
}

void mg_dc_backward(mg_sense_op *op, float lam, const float *gd, const float *r, float *dx, cfloat *dku,
                    double *dlam, cfloat *cx, cfloat *cr)
{
    const long hw = op->H * op->W, img = 2 * hw, n = op->C * hw;
    for (long i = 0; i < img; i++) *dlam -= (double)gd[i] * r[i];
    /* dx += gd - lam A^H A gd; d/dKu of -lam r = +lam A^H Ku: dKu += lam A gd */
    mg_planes2c(gd, cx, hw);
    mg_sense_op_forward(op, cx, op->ksp);
    if (dku)
        for (long i = 0; i < n; i++) dku[i] += lam * op->ksp[i];
    mg_fft2c(op->ksp, op->C, op->H, op->W, MG_FFT_INVERSE); /* A gd is masked already */
    mg_sens_adjoint(op->ksp, op->sens, cr, op->C, op->H, op->W);
    for (long i = 0; i < hw; i++) {
        dx[i] += gd[i] - lam * crealf(cr[i]);
        dx[hw + i] += gd[hw + i] - lam * cimagf(cr[i]);
    }
}

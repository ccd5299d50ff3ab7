/* The data-consistency (DC) unit of DCI-Net (paper Sec. 3.1, Appendix A;
 * docs/dcinet.md): dc = x - lambda A^H (A x - Ku), on the slice's SENSE
 * operator (mri.h). With a line mask and even H the residual and A^H A run
 * through the phase-encode FFT alone (mri/sense_pe.c; hyb: the data term
 * prepared once per sample). The GPU twin is gpu/gpu_dc.c (2D FFTs). */
#include "models.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <string.h>

void mg_dc_residual(mg_sense_op *op, const cfloat *ku, const cfloat *hyb, const float *x, float *r, cfloat *cx,
                    cfloat *cr)
{
    const long hw = op->H * op->W;
    mg_planes2c(x, cx, hw);
    if (hyb)
        mg_sense_pe_residual(op->sens, op->mask, hyb, cx, cr, op->ksp, op->C, op->H, op->W);
    else
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
    if (dku) { /* A gd in k-space is needed: the 2D FFTs */
        mg_sense_op_forward(op, cx, op->ksp);
        for (long i = 0; i < n; i++) dku[i] += lam * op->ksp[i];
        mg_fft2c(op->ksp, op->C, op->H, op->W, MG_FFT_INVERSE); /* A gd is masked already */
        mg_sens_adjoint(op->ksp, op->sens, cr, op->C, op->H, op->W);
    } else {
        mg_sense_op_normal(op, cx, cr); /* the phase-encode FFT alone where it fits */
    }
    for (long i = 0; i < hw; i++) {
        dx[i] += gd[i] - lam * crealf(cr[i]);
        dx[hw + i] += gd[hw + i] - lam * cimagf(cr[i]);
    }
}

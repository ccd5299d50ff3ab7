/* The DC unit on the device (gpu.h): the twin of src/models/dc.c,
 * dc = x - lambda A^H (A x - Ku) for a batch, on the batched SENSE operator
 * of gpu_layers.cu. */
#include "gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_gpu_dc_unit_forward(mg_gpu_sense *A, const float *x, const float *ku, const float *sens, const float *mask,
                            const float *lam, float *r, float *dc)
{
    mg_gpu_dc_forward(A, x, ku, sens, mask, lam, r, dc);
}

void mg_gpu_dc_unit_backward(mg_gpu_sense *A, const float *gd, const float *r, const float *sens, const float *mask,
                             const float *lam, float *dlam, float *dx, float *dku, long nimg)
{
    mg_gpu_dot_acc(gd, r, nimg, -1.0f, dlam); /* d lambda = -<gd, r> */
    mg_gpu_dc_backward(A, gd, sens, mask, lam, dx, dku);
}

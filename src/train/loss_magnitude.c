/* The magnitude loss of `mrgan train --loss magnitude` (docs/training.md
 * "Loss"): the MSE between magnitude images, the quantity the evaluation
 * (fastMRI's NMSE, SSIM and HFEN on magnitudes) compares. */
#include "step.h"

#include <math.h>

double mg_mag_mse_grad(const float *out, const float *target, float *dout, int B, long hw, int P)
{
    const float c = 2.0f / ((float)B * (float)hw * (float)P);
    double sum = 0;
    for (int i = 0; i < B; i++) {
        const float *ore = out + 2L * i * hw, *oim = ore + hw, *tre = target + 2L * i * hw, *tim = tre + hw;
        float *dre = dout + 2L * i * hw, *dim = dre + hw;
        for (long j = 0; j < hw; j++) {
            const float m = sqrtf(ore[j] * ore[j] + oim[j] * oim[j] + MG_CMAG_EPS);
            const float d = m - sqrtf(tre[j] * tre[j] + tim[j] * tim[j]);
            sum += (double)d * d;
            const float g = c * d / m; /* d/d(re) of |out| is re / |out| */
            dre[j] = g * ore[j];
            dim[j] = g * oim[j];
        }
    }
    return sum / ((double)B * (double)hw * P);
}

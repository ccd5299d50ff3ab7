/* The magnitude losses of `mrgan train --loss magnitude` and `--loss nmse`
 * (docs/training.md "Loss"): the MSE between magnitude images, the quantity
 * the evaluation (fastMRI's NMSE, SSIM and HFEN on magnitudes) compares, and
 * that MSE divided by each target's mean-square magnitude: the per-image
 * NMSE, the metric itself. */
#include "step.h"

#include <math.h>

/* One loss for both: sample i's squared errors weighted by w_i (1, or the
 * reciprocal of its target's mean-square magnitude). */
static double mag_loss_grad(const float *out, const float *target, float *dout, int B, long hw, int P, int nmse)
{
    const float c = 2.0f / ((float)B * (float)hw * (float)P);
    double sum = 0;
    for (int i = 0; i < B; i++) {
        const float *ore = out + 2L * i * hw, *oim = ore + hw, *tre = target + 2L * i * hw, *tim = tre + hw;
        float *dre = dout + 2L * i * hw, *dim = dre + hw;
        double w = 1;
        if (nmse) {
            double e = 0;
            for (long j = 0; j < hw; j++) e += (double)tre[j] * tre[j] + (double)tim[j] * tim[j];
            w = 1.0 / fmax(e / (double)hw, MG_NMSE_LOSS_FLOOR);
        }
        const float cw = c * (float)w;
        double si = 0;
        for (long j = 0; j < hw; j++) {
            const float m = sqrtf(ore[j] * ore[j] + oim[j] * oim[j] + MG_CMAG_EPS);
            const float d = m - sqrtf(tre[j] * tre[j] + tim[j] * tim[j]);
            si += (double)d * d;
            const float g = cw * d / m; /* d/d(re) of |out| is re / |out| */
            dre[j] = g * ore[j];
            dim[j] = g * oim[j];
        }
        sum += w * si;
    }
    return sum / ((double)B * (double)hw * P);
}

double mg_mag_mse_grad(const float *out, const float *target, float *dout, int B, long hw, int P)
{
    return mag_loss_grad(out, target, dout, B, hw, P, 0);
}

double mg_mag_nmse_grad(const float *out, const float *target, float *dout, int B, long hw, int P)
{
    return mag_loss_grad(out, target, dout, B, hw, P, 1);
}

/* Adaptive Gradient Balancing (paper Alg. 1, docs/methods.md 1.3, docs/gan.md).
 * Each generator step measures the population standard deviation of the two
 * gradients w.r.t. the generated image (the GAN one already divided by beta)
 * from the same forward pass; moving averages gma, pma (factor ma, from 0,
 * no bias correction); when gma > ratio * pma: beta *= 1 + rate and
 * gma *= 1 - rate. The GAN terms of both losses are divided by beta.
 * ratio <= 0 asks for the calibrated ratio (docs/gan.md "When beta
 * moves"): for the first `warmup` steps beta stays and nothing fires; then
 * ratio = gma / pma, the balance the run started with at beta_init, and the
 * rule runs as the paper's from there. */
#ifndef MRGAN_AGB_H
#define MRGAN_AGB_H

typedef struct {
    double beta, gma, pma;
    double ma, ratio, rate;
    long events; /* number of beta increases */
    long steps;  /* updates so far */
    long warmup; /* calibration steps (a calibrated ratio only) */
    int calibrate; /* 1 until the calibrated ratio is set */
} mg_agb;

void mg_agb_init(mg_agb *a, double beta_init, double ma, double ratio, double rate, long warmup);
/* Returns 1 when beta was increased by this step. */
int mg_agb_update(mg_agb *a, double std_gan, double std_mse);
/* population standard deviation over all n elements */
double mg_std(const float *x, long n);

#endif

/* mrgan metrics (this layer grows with the evaluation issue). */
#ifndef MRGAN_METRICS_H
#define MRGAN_METRICS_H

#include "../core/core.h"

/* Running sums for a volume-level NMSE on magnitudes, as fastMRI defines it:
 * NMSE = ||gt - pred||^2 / ||gt||^2 over the whole volume. */
typedef struct { double err, ref; } mg_nmse_acc;
void mg_nmse_add_mag(mg_nmse_acc *acc, const cfloat *gt, const cfloat *pred, size_t n);
double mg_nmse_value(const mg_nmse_acc *acc);

#endif

#include "metrics.h"

#include <math.h>

void mg_nmse_add_mag(mg_nmse_acc *acc, const cfloat *gt, const cfloat *pred, size_t n)
{
    double e = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        double g = cabsf(gt[i]), p = cabsf(pred[i]);
        e += (g - p) * (g - p);
        r += g * g;
    }
    acc->err += e;
    acc->ref += r;
}

void mg_nmse_add_f(mg_nmse_acc *acc, const float *gt, const float *pred, size_t n)
{
    double e = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        double g = gt[i], p = pred[i];
        e += (g - p) * (g - p);
        r += g * g;
    }
    acc->err += e;
    acc->ref += r;
}

double mg_nmse_value(const mg_nmse_acc *acc) { return acc->ref > 0 ? acc->err / acc->ref : NAN; }

#include "agb.h"

#include <math.h>

void mg_agb_init(mg_agb *a, double beta_init, double ma, double ratio, double rate, long warmup)
{
    a->beta = beta_init;
    a->gma = a->pma = 0;
    a->ma = ma;
    a->calibrate = !(ratio > 0);
    a->ratio = a->calibrate ? 0 : ratio;
    a->rate = rate;
    a->events = 0;
    a->steps = 0;
    a->warmup = warmup > 0 ? warmup : 1;
}

int mg_agb_update(mg_agb *a, double std_gan, double std_mse)
{
    a->gma = a->gma * a->ma + (1 - a->ma) * std_gan;
    a->pma = a->pma * a->ma + (1 - a->ma) * std_mse;
    a->steps++;
    if (a->calibrate) {
        /* both averages carry the same (1 - ma^steps) bias: their ratio is unbiased */
        if (a->steps < a->warmup || !(a->pma > 0) || !(a->gma > 0)) return 0;
        a->ratio = a->gma / a->pma;
        a->calibrate = 0;
        return 0;
    }
    if (a->gma > a->pma * a->ratio) {
        a->beta *= 1 + a->rate;
        a->gma *= 1 - a->rate;
        a->events++;
        return 1;
    }
    return 0;
}

double mg_std(const float *x, long n)
{
    if (n <= 0) return 0;
    double m = 0, s = 0;
    for (long i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    for (long i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (double)n);
}

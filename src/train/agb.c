#include "agb.h"

#include <math.h>

void mg_agb_init(mg_agb *a, double beta_init, double ma, double ratio, double rate)
{
    a->beta = beta_init;
    a->gma = a->pma = 0;
    a->ma = ma;
    a->ratio = ratio;
    a->rate = rate;
    a->events = 0;
}

int mg_agb_update(mg_agb *a, double std_gan, double std_mse)
{
    a->gma = a->gma * a->ma + (1 - a->ma) * std_gan;
    a->pma = a->pma * a->ma + (1 - a->ma) * std_mse;
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

/* Random monotone tone curves, so that one volume's contrast is not the
 * only one the network sees (docs/data.md "Contrast"). */
#include "mri.h"

#include <math.h>

void mg_tone_curve_random(float knots[MG_TONE_KNOTS], mg_rng *rng)
{
    /* t(x) = (1 - lam) x^gamma + lam p(x): gamma log-uniform in [0.7, 1.4],
     * p piecewise linear with exponentially distributed increments (a
     * random increasing curve from 0 to 1), lam uniform in [0, 0.6] */
    const int K = MG_TONE_KNOTS;
    double gamma = exp(log(0.7) + (log(1.4) - log(0.7)) * mg_rng_uniform(rng));
    double lam = 0.6 * mg_rng_uniform(rng);
    double inc[MG_TONE_KNOTS], sum = 0;
    inc[0] = 0;
    for (int i = 1; i < K; i++) sum += inc[i] = 0.2 - log(1.0 - mg_rng_uniform(rng));
    double acc = 0;
    for (int i = 0; i < K; i++) {
        acc += inc[i];
        double x = (double)i / (double)(K - 1);
        knots[i] = (float)((1.0 - lam) * pow(x, gamma) + lam * acc / sum);
    }
    knots[0] = 0.0f;
    knots[K - 1] = 1.0f;
}

float mg_tone_apply(const float knots[MG_TONE_KNOTS], float x)
{
    const int K = MG_TONE_KNOTS;
    if (!(x > 0.0f)) return 0.0f;
    if (x >= 1.0f) return 1.0f;
    float t = x * (float)(K - 1);
    int i = (int)t;
    if (i > K - 2) i = K - 2;
    float f = t - (float)i;
    return knots[i] + f * (knots[i + 1] - knots[i]);
}

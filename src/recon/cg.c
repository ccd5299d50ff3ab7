/* Conjugate gradient for a Hermitian positive (semi-)definite operator
 * (recon.h), as BART's iter/ conjugate gradient. */
#include "recon.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>

static double norm2(const cfloat *x, long n)
{
    double s = 0;
    for (long i = 0; i < n; i++) s += pow(cabsf(x[i]), 2);
    return s;
}

int mg_cg(mg_normal_fn apply, void *ctx, const cfloat *b, cfloat *x, long n, int iters)
{
    cfloat *r = mg_malloc_array((size_t)n, sizeof(cfloat)), *p = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *q = mg_malloc_array((size_t)n, sizeof(cfloat));
    apply(ctx, x, q);
    for (long i = 0; i < n; i++) p[i] = r[i] = b[i] - q[i];
    double rr = norm2(r, n);
    int k = 0;
    for (; k < iters && rr > 0; k++) {
        apply(ctx, p, q);
        double pq = 0;
        for (long i = 0; i < n; i++) pq += creal(conj((double complex)p[i]) * q[i]);
        if (pq <= 0) break;
        const float a = (float)(rr / pq);
        for (long i = 0; i < n; i++) {
            x[i] += a * p[i];
            r[i] -= a * q[i];
        }
        const double rn = norm2(r, n);
        const float beta = (float)(rn / rr);
        for (long i = 0; i < n; i++) p[i] = r[i] + beta * p[i];
        rr = rn;
    }
    free(r);
    free(p);
    free(q);
    return k;
}

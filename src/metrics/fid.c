/* Frechet distance between Gaussians fitted to two feature sets, and the
 * kernel inception distance (docs/metrics.md). */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK (OpenBLAS): symmetric eigen-decomposition */
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
            const int *lwork, int *info);

static int eig_sym(double *a, int n, double *w, int vectors)
{
    int info = 0, lwork = -1;
    double q;
    dsyev_(vectors ? "V" : "N", "U", &n, a, &n, w, &q, &lwork, &info);
    lwork = (int)q;
    double *work = mg_malloc_array((size_t)lwork, sizeof(double));
    dsyev_(vectors ? "V" : "N", "U", &n, a, &n, w, work, &lwork, &info);
    free(work);
    if (info) mg_set_error("FID: eigen-decomposition failed (dsyev info %d)", info);
    return info ? -1 : 0;
}

/* mean and covariance (divisor n - 1, as numpy.cov) of n rows of d values */
static void moments(const float *x, long n, int d, double *mu, double *cov)
{
    memset(mu, 0, sizeof(double) * (size_t)d);
    for (long i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mu[j] += x[i * d + j];
    for (int j = 0; j < d; j++) mu[j] /= (double)n;
    double *c = mg_malloc_array((size_t)n * (size_t)d, sizeof(double));
    for (long i = 0; i < n; i++)
        for (int j = 0; j < d; j++) c[i * d + j] = x[i * d + j] - mu[j];
    /* cov = C^T C / (n - 1), with C n x d (row-major) */
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++) {
            double s = 0;
            for (long i = 0; i < n; i++) s += c[i * d + a] * c[i * d + b];
            cov[a * d + b] = cov[b * d + a] = s / (double)(n > 1 ? n - 1 : 1);
        }
    free(c);
}

/* Tr sqrt(A B) for symmetric positive semi-definite A, B: the eigenvalues of
 * A B are those of the symmetric A^1/2 B A^1/2, whose square roots we sum
 * (negative round-off clipped to zero). */
double mg_trace_sqrt_product(const double *A, const double *B, int d)
{
    double *u = mg_malloc_array((size_t)d * (size_t)d, sizeof(double)), *w = mg_malloc_array((size_t)d, sizeof(double));
    double *s = mg_calloc((size_t)d * (size_t)d, sizeof(double)), *t = mg_malloc_array((size_t)d * (size_t)d, sizeof(double));
    memcpy(u, A, sizeof(double) * (size_t)d * (size_t)d);
    double tr = NAN;
    if (eig_sym(u, d, w, 1)) goto out;
    /* column-major result: eigenvector k is u[k*d .. k*d+d-1]; S = U diag(sqrt w) U^T */
    for (int k = 0; k < d; k++) {
        double r = w[k] > 0 ? sqrt(w[k]) : 0;
        if (r == 0) continue;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) s[i * d + j] += r * u[k * d + i] * u[k * d + j];
    }
    /* t = S B S */
    double *sb = mg_calloc((size_t)d * (size_t)d, sizeof(double));
    for (int i = 0; i < d; i++)
        for (int k = 0; k < d; k++) {
            double v = s[i * d + k];
            if (v == 0) continue;
            for (int j = 0; j < d; j++) sb[i * d + j] += v * B[k * d + j];
        }
    memset(t, 0, sizeof(double) * (size_t)d * (size_t)d);
    for (int i = 0; i < d; i++)
        for (int k = 0; k < d; k++) {
            double v = sb[i * d + k];
            if (v == 0) continue;
            for (int j = 0; j < d; j++) t[i * d + j] += v * s[k * d + j];
        }
    free(sb);
    for (int i = 0; i < d; i++) /* symmetrise the round-off */
        for (int j = i + 1; j < d; j++) t[i * d + j] = t[j * d + i] = 0.5 * (t[i * d + j] + t[j * d + i]);
    if (eig_sym(t, d, w, 0)) goto out;
    tr = 0;
    for (int k = 0; k < d; k++) tr += w[k] > 0 ? sqrt(w[k]) : 0;
out:
    free(u);
    free(w);
    free(s);
    free(t);
    return tr;
}

double mg_frechet(const double *mu1, const double *c1, const double *mu2, const double *c2, int d)
{
    double m = 0, tr = 0;
    for (int j = 0; j < d; j++) {
        m += (mu1[j] - mu2[j]) * (mu1[j] - mu2[j]);
        tr += c1[j * d + j] + c2[j * d + j];
    }
    return m + tr - 2.0 * mg_trace_sqrt_product(c1, c2, d);
}

double mg_fid_distance(const float *fa, long na, const float *fb, long nb, int d)
{
    double *mu1 = mg_malloc_array((size_t)d, sizeof(double)), *mu2 = mg_malloc_array((size_t)d, sizeof(double));
    double *c1 = mg_malloc_array((size_t)d * (size_t)d, sizeof(double)), *c2 = mg_malloc_array((size_t)d * (size_t)d, sizeof(double));
    moments(fa, na, d, mu1, c1);
    moments(fb, nb, d, mu2, c2);
    double v = mg_frechet(mu1, c1, mu2, c2, d);
    free(mu1);
    free(mu2);
    free(c1);
    free(c2);
    return v;
}

/* polynomial kernel k(x, y) = (x.y / d + 1)^3 */
static double kpoly(const float *x, const float *y, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) s += (double)x[j] * y[j];
    s = s / d + 1.0;
    return s * s * s;
}

/* unbiased MMD^2 with the polynomial kernel over all samples (torch-fidelity
 * and clean-fid average this over random subsets of 1000; with fewer images
 * than that, all of them form the one subset) */
double mg_kid(const float *fa, long na, const float *fb, long nb, int d)
{
    if (na < 2 || nb < 2) return NAN;
    double kxx = 0, kyy = 0, kxy = 0;
    for (long i = 0; i < na; i++)
        for (long j = 0; j < na; j++)
            if (i != j) kxx += kpoly(fa + i * d, fa + j * d, d);
    for (long i = 0; i < nb; i++)
        for (long j = 0; j < nb; j++)
            if (i != j) kyy += kpoly(fb + i * d, fb + j * d, d);
    for (long i = 0; i < na; i++)
        for (long j = 0; j < nb; j++) kxy += kpoly(fa + i * d, fb + j * d, d);
    return kxx / ((double)na * (na - 1)) + kyy / ((double)nb * (nb - 1)) - 2.0 * kxy / ((double)na * nb);
}

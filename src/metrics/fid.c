/* Frechet distance between Gaussians fitted to two feature sets, and the
 * kernel inception distance (docs/metrics.md). */
#include "metrics.h"

#include <cblas.h>
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
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, (int)n, 1.0 / (double)(n > 1 ? n - 1 : 1), c, d, c, d,
                0.0, cov, d);
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
    double *v = mg_malloc_array((size_t)d * (size_t)d, sizeof(double));
    for (int k = 0; k < d; k++) {
        double r = w[k] > 0 ? sqrt(w[k]) : 0;
        for (int i = 0; i < d; i++) v[k * d + i] = r * u[k * d + i];
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, d, 1.0, v, d, u, d, 0.0, s, d);
    free(v);
    /* t = S B S */
    double *sb = mg_malloc_array((size_t)d * (size_t)d, sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, s, d, B, d, 0.0, sb, d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, sb, d, s, d, 0.0, t, d);
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

/* centred rows (double) of n x d features; mean out */
static double *centred(const float *x, long n, int d, double *mu)
{
    double *c = mg_malloc_array((size_t)n * (size_t)d, sizeof(double));
    memset(mu, 0, sizeof(double) * (size_t)d);
    for (long i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mu[j] += x[i * d + j];
    for (int j = 0; j < d; j++) mu[j] /= (double)n;
    for (long i = 0; i < n; i++)
        for (int j = 0; j < d; j++) c[i * d + j] = x[i * d + j] - mu[j];
    return c;
}

/* With fewer images than features the covariances S1 = A^T A / (na - 1),
 * S2 = B^T B / (nb - 1) (A, B the centred features) have rank < d, and the
 * non-zero eigenvalues of S1 S2 are those of the small symmetric
 * (A B^T)(A B^T)^T / ((na - 1)(nb - 1)): Tr sqrt(S1 S2) is the sum of the
 * singular values of A B^T over sqrt((na - 1)(nb - 1)). Exact, and
 * O(na nb d) instead of O(d^3). */
static double frechet_lowrank(const float *fa, long na, const float *fb, long nb, int d)
{
    double *mu1 = mg_malloc_array((size_t)d, sizeof(double)), *mu2 = mg_malloc_array((size_t)d, sizeof(double));
    double *A = centred(fa, na, d, mu1), *B = centred(fb, nb, d, mu2);
    double *C = mg_malloc_array((size_t)(na * nb), sizeof(double)), *M = mg_malloc_array((size_t)(na * na), sizeof(double));
    double *w = mg_malloc_array((size_t)na, sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)na, (int)nb, d, 1.0, A, d, B, d, 0.0, C, (int)nb);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)na, (int)na, (int)nb, 1.0, C, (int)nb, C, (int)nb, 0.0, M,
                (int)na);
    double v = NAN;
    if (!eig_sym(M, (int)na, w, 0)) {
        double tr = 0, m = 0, t1 = 0, t2 = 0;
        for (long k = 0; k < na; k++) tr += w[k] > 0 ? sqrt(w[k]) : 0;
        for (int j = 0; j < d; j++) m += (mu1[j] - mu2[j]) * (mu1[j] - mu2[j]);
        for (long i = 0; i < na * d; i++) t1 += A[i] * A[i];
        for (long i = 0; i < nb * d; i++) t2 += B[i] * B[i];
        v = m + t1 / (double)(na - 1) + t2 / (double)(nb - 1) - 2.0 * tr / sqrt((double)(na - 1) * (double)(nb - 1));
    }
    free(mu1); free(mu2); free(A); free(B); free(C); free(M); free(w);
    return v;
}

double mg_fid_distance(const float *fa, long na, const float *fb, long nb, int d)
{
    if (na < 2 || nb < 2) return NAN;
    if (na <= d && nb <= d) return frechet_lowrank(fa, na, fb, nb, d);
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

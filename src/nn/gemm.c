/* Single-precision matrix products for the paths that are not convolutions
 * (the critic's linear layer, Inception-v3's im2col convolutions for FID):
 * oneDNN's SGEMM, which picks its kernel from the instructions this CPU has
 * (Debian's OpenBLAS 0.3.21 falls back to a generic kernel on CPUs it does
 * not recognise: issue 19 measured 65 GFLOP/s on a Xeon where oneDNN's
 * convolutions ran at 160). OpenBLAS stays as the fallback and as the
 * reference of `mrgan bench`. Row-major, as cblas_sgemm. */
#include "nn.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

void mg_sgemm(int ta, int tb, long M, long N, long K, float alpha, const float *A, long lda, const float *B, long ldb,
              float beta, float *C, long ldc)
{
    if (M <= 0 || N <= 0) return;
    if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == dnnl_success)
        return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
                alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

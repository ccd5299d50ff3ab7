/* Private to the CUDA files of src/gpu: error checks, launch helpers and the
 * device state they share (gpu_kernels.cu owns it). */
#ifndef MRGAN_GPU_INTERNAL_CUH
#define MRGAN_GPU_INTERNAL_CUH

#include "gpu_kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <cufft.h>

#include <stdio.h>
#include <stdlib.h>

extern "C" void mg_set_error(const char *fmt, ...);

/* ---------------- errors: a failing device call inside an op is fatal ---------------- */
static inline void fatal(const char *what, const char *msg, const char *file, int line)
{
    fprintf(stderr, "mrgan: GPU: %s failed: %s (%s:%d)\n", what, msg, file, line);
    exit(3);
}
#define CK(x)                                                                                     \
    do {                                                                                          \
        cudaError_t e_ = (x);                                                                     \
        if (e_ != cudaSuccess) fatal(#x, cudaGetErrorString(e_), __FILE__, __LINE__);             \
    } while (0)
#define CKDNN(x)                                                                                  \
    do {                                                                                          \
        cudnnStatus_t e_ = (x);                                                                   \
        if (e_ != CUDNN_STATUS_SUCCESS) fatal(#x, cudnnGetErrorString(e_), __FILE__, __LINE__);   \
    } while (0)
#define CKBLAS(x)                                                                                 \
    do {                                                                                          \
        cublasStatus_t e_ = (x);                                                                  \
        if (e_ != CUBLAS_STATUS_SUCCESS) fatal(#x, cublasGetStatusString(e_), __FILE__, __LINE__); \
    } while (0)
#define CKFFT(x)                                                                                  \
    do {                                                                                          \
        cufftResult e_ = (x);                                                                     \
        if (e_ != CUFFT_SUCCESS) {                                                                \
            char b_[32];                                                                          \
            snprintf(b_, sizeof b_, "cufft error %d", (int)e_);                                   \
            fatal(#x, b_, __FILE__, __LINE__);                                                    \
        }                                                                                         \
    } while (0)
#define LAUNCH_CHECK() CK(cudaGetLastError())

/* ---------------- launch helpers ---------------- */
#define TPB 256
static inline unsigned blocks_for(long n)
{
    long b = (n + TPB - 1) / TPB;
    if (b > 65535L * 16) b = 65535L * 16;
    return (unsigned)(b < 1 ? 1 : b);
}
#define GRID_LOOP(i, n) for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (n); i += (long)gridDim.x * blockDim.x)

/* the shared device state (gpu_kernels.cu) */
extern cublasHandle_t mg_gpu_blas;
extern double *mg_gpu_red; /* reduction results */

#endif

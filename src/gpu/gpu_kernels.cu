/* CUDA kernels and library calls behind src/gpu/gpu_kernels.h: device and
 * memory, cuDNN convolutions, elementwise layers, batch norm, cuBLAS linear,
 * reductions, Adam, and the SENSE operator on cuFFT. Semantics are those of
 * the CPU functions in src/nn and src/mri (tests/test_gpu.c compares them). */
#include "gpu_kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <cufft.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" void mg_set_error(const char *fmt, ...);

/* ---------------- errors: a failing device call inside an op is fatal ---------------- */
static void fatal(const char *what, const char *msg, const char *file, int line)
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

/* ---------------- device state ---------------- */
static int g_ready = 0, g_tf32 = 1;
static char g_name[512];
static cudnnHandle_t g_dnn;
static cublasHandle_t g_blas;
static void *g_ws;          /* cuDNN workspace, grown on demand */
static size_t g_ws_size;
static double *g_red;       /* reduction results (host-visible copies go through it) */
static size_t g_live, g_peak;

extern "C" int mg_gpu_init(int dev)
{
    if (g_ready) return 0;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        mg_set_error("GPU: no usable CUDA device (%s)", cudaGetErrorString(e));
        return -1;
    }
    if (dev < 0) dev = 0;
    if (dev >= n) {
        mg_set_error("GPU: device %d requested, %d present", dev, n);
        return -1;
    }
    e = cudaSetDevice(dev);
    if (e != cudaSuccess) {
        mg_set_error("GPU: cannot use device %d (%s)", dev, cudaGetErrorString(e));
        return -1;
    }
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, dev));
    snprintf(g_name, sizeof g_name, "%.255s (sm_%d%d, %.1f GiB)", p.name, p.major, p.minor,
             (double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    CKDNN(cudnnCreate(&g_dnn));
    CKBLAS(cublasCreate(&g_blas));
    const char *fp = getenv("MRGAN_GPU_FP32");
    if (fp && *fp && strcmp(fp, "0")) g_tf32 = 0;
    CKBLAS(cublasSetMathMode(g_blas, g_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
    CK(cudaMalloc(&g_red, 64 * sizeof(double)));
    g_ready = 1;
    return 0;
}

extern "C" const char *mg_gpu_name(void) { return g_name; }

extern "C" void mg_gpu_set_tf32(int on)
{
    g_tf32 = on != 0;
    if (g_ready) CKBLAS(cublasSetMathMode(g_blas, g_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
}

extern "C" int mg_gpu_tf32(void) { return g_tf32; }
extern "C" void mg_gpu_sync(void) { CK(cudaDeviceSynchronize()); }
extern "C" size_t mg_gpu_peak_bytes(void) { return g_peak; }
extern "C" void mg_gpu_peak_reset(void) { g_peak = g_live; }

extern "C" void mg_gpu_release(void)
{
    if (!g_ready) return;
    cudaDeviceSynchronize();
    cudaFree(g_ws);
    cudaFree(g_red);
    g_live -= g_ws_size;
    g_ws = NULL;
    g_ws_size = 0;
    cudnnDestroy(g_dnn);
    cublasDestroy(g_blas);
    g_ready = 0;
}

/* ---------------- memory ---------------- */
/* allocation sizes are kept in a header word before the block, for the peak count */
extern "C" float *mg_gpu_alloc(size_t n)
{
    if (n == 0) n = 1;
    const size_t bytes = n * sizeof(float) + 256;
    char *p = NULL;
    cudaError_t e = cudaMalloc((void **)&p, bytes);
    if (e != cudaSuccess) {
        size_t fr = 0, tot = 0;
        cudaMemGetInfo(&fr, &tot);
        fprintf(stderr, "mrgan: GPU: out of memory: %.1f MiB requested, %.1f MiB free of %.1f MiB on %s\n",
                bytes / 1048576.0, fr / 1048576.0, tot / 1048576.0, g_name);
        exit(3);
    }
    CK(cudaMemset(p, 0, bytes));
    CK(cudaMemcpy(p, &bytes, sizeof bytes, cudaMemcpyHostToDevice));
    g_live += bytes;
    if (g_live > g_peak) g_peak = g_live;
    return (float *)(p + 256);
}

extern "C" void mg_gpu_free(void *q)
{
    if (!q) return;
    char *p = (char *)q - 256;
    size_t bytes = 0;
    CK(cudaMemcpy(&bytes, p, sizeof bytes, cudaMemcpyDeviceToHost));
    g_live -= bytes;
    CK(cudaFree(p));
}

extern "C" void mg_gpu_upload(float *dst, const float *src, size_t n)
{
    CK(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyHostToDevice));
}
extern "C" void mg_gpu_download(float *dst, const float *src, size_t n)
{
    CK(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyDeviceToHost));
}
extern "C" void mg_gpu_copy(float *dst, const float *src, size_t n)
{
    CK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, 0));
}
extern "C" void mg_gpu_zero(float *p, size_t n) { CK(cudaMemsetAsync(p, 0, n * sizeof(float), 0)); }

static void *workspace(size_t bytes)
{
    if (bytes > g_ws_size) {
        CK(cudaFree(g_ws));
        g_live -= g_ws_size;
        g_ws = NULL;
        g_ws_size = 0;
        CK(cudaMalloc(&g_ws, bytes));
        g_ws_size = bytes;
        g_live += bytes;
        if (g_live > g_peak) g_peak = g_live;
    }
    return g_ws;
}

/* ---------------- launch helpers ---------------- */
#define TPB 256
static unsigned blocks_for(long n)
{
    long b = (n + TPB - 1) / TPB;
    if (b > 65535L * 16) b = 65535L * 16;
    return (unsigned)(b < 1 ? 1 : b);
}
#define GRID_LOOP(i, n) for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (n); i += (long)gridDim.x * blockDim.x)

/* ---------------- convolution (cuDNN) ---------------- */
#define CONV_PLANS 4
typedef struct {
    int n, h, w, ho, wo;
    cudnnTensorDescriptor_t xd, yd, bd;
    cudnnConvolutionDescriptor_t cf, cd, cw; /* one per direction: each keeps its math type */
    cudnnConvolutionFwdAlgo_t fa;
    cudnnConvolutionBwdDataAlgo_t da;
    cudnnConvolutionBwdFilterAlgo_t wa;
    size_t ws;
} conv_plan;

struct mg_gpu_conv {
    int cin, cout, k, stride, pad;
    cudnnFilterDescriptor_t fd;
    conv_plan plan[CONV_PLANS];
    int nplan, next;
};

extern "C" mg_gpu_conv *mg_gpu_conv_create(int cin, int cout, int k, int stride, int pad)
{
    mg_gpu_conv *g = (mg_gpu_conv *)calloc(1, sizeof *g);
    if (!g) abort();
    g->cin = cin; g->cout = cout; g->k = k; g->stride = stride; g->pad = pad;
    CKDNN(cudnnCreateFilterDescriptor(&g->fd));
    CKDNN(cudnnSetFilter4dDescriptor(g->fd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, cout, cin, k, k));
    return g;
}

static void plan_destroy(conv_plan *p)
{
    cudnnDestroyTensorDescriptor(p->xd);
    cudnnDestroyTensorDescriptor(p->yd);
    cudnnDestroyTensorDescriptor(p->bd);
    cudnnDestroyConvolutionDescriptor(p->cf);
    cudnnDestroyConvolutionDescriptor(p->cd);
    cudnnDestroyConvolutionDescriptor(p->cw);
}

extern "C" void mg_gpu_conv_free(mg_gpu_conv *g)
{
    if (!g) return;
    for (int i = 0; i < g->nplan; i++) plan_destroy(&g->plan[i]);
    cudnnDestroyFilterDescriptor(g->fd);
    free(g);
}

static cudnnConvolutionDescriptor_t conv_desc(const mg_gpu_conv *g)
{
    cudnnConvolutionDescriptor_t c;
    CKDNN(cudnnCreateConvolutionDescriptor(&c));
    CKDNN(cudnnSetConvolution2dDescriptor(c, g->pad, g->pad, g->stride, g->stride, 1, 1,
                                          CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CKDNN(cudnnSetConvolutionMathType(c, g_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
    return c;
}

/* algorithms: cuDNN's measured ranking, first deterministic one that fits 2 GiB */
#define WS_LIMIT ((size_t)2 << 30)
/* index of the first (fastest) deterministic algorithm of a cudnnFind* result */
template <typename Perf> static int pick(const Perf *perf, int got, const char *what)
{
    for (int i = 0; i < got; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].determinism == CUDNN_DETERMINISTIC &&
            perf[i].memory <= WS_LIMIT)
            return i;
    fatal(what, "no deterministic algorithm", __FILE__, __LINE__);
    return -1;
}

static conv_plan *get_plan(mg_gpu_conv *g, int n, int h, int w)
{
    for (int i = 0; i < g->nplan; i++)
        if (g->plan[i].n == n && g->plan[i].h == h && g->plan[i].w == w) return &g->plan[i];
    conv_plan *p;
    if (g->nplan < CONV_PLANS) {
        p = &g->plan[g->nplan++];
    } else { /* replace round robin */
        p = &g->plan[g->next];
        g->next = (g->next + 1) % CONV_PLANS;
        plan_destroy(p);
    }
    memset(p, 0, sizeof *p);
    p->n = n; p->h = h; p->w = w;
    p->ho = (h + 2 * g->pad - g->k) / g->stride + 1;
    p->wo = (w + 2 * g->pad - g->k) / g->stride + 1;
    CKDNN(cudnnCreateTensorDescriptor(&p->xd));
    CKDNN(cudnnCreateTensorDescriptor(&p->yd));
    CKDNN(cudnnCreateTensorDescriptor(&p->bd));
    CKDNN(cudnnSetTensor4dDescriptor(p->xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, g->cin, h, w));
    CKDNN(cudnnSetTensor4dDescriptor(p->yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, g->cout, p->ho, p->wo));
    CKDNN(cudnnSetTensor4dDescriptor(p->bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, g->cout, 1, 1));
    p->cf = conv_desc(g);
    p->cd = conv_desc(g);
    p->cw = conv_desc(g);
    int got = 0, i;
    cudnnConvolutionFwdAlgoPerf_t fp[16];
    CKDNN(cudnnFindConvolutionForwardAlgorithm(g_dnn, p->xd, g->fd, p->cf, p->yd, 16, &got, fp));
    i = pick(fp, got, "cudnnFindConvolutionForwardAlgorithm");
    p->fa = fp[i].algo;
    CKDNN(cudnnSetConvolutionMathType(p->cf, fp[i].mathType));
    p->ws = fp[i].memory;
    cudnnConvolutionBwdDataAlgoPerf_t dp[16];
    CKDNN(cudnnFindConvolutionBackwardDataAlgorithm(g_dnn, g->fd, p->yd, p->cd, p->xd, 16, &got, dp));
    i = pick(dp, got, "cudnnFindConvolutionBackwardDataAlgorithm");
    p->da = dp[i].algo;
    CKDNN(cudnnSetConvolutionMathType(p->cd, dp[i].mathType));
    if (dp[i].memory > p->ws) p->ws = dp[i].memory;
    cudnnConvolutionBwdFilterAlgoPerf_t wp[16];
    CKDNN(cudnnFindConvolutionBackwardFilterAlgorithm(g_dnn, p->xd, p->yd, p->cw, g->fd, 16, &got, wp));
    i = pick(wp, got, "cudnnFindConvolutionBackwardFilterAlgorithm");
    p->wa = wp[i].algo;
    CKDNN(cudnnSetConvolutionMathType(p->cw, wp[i].mathType));
    if (wp[i].memory > p->ws) p->ws = wp[i].memory;
    return p;
}

extern "C" void mg_gpu_conv_forward(mg_gpu_conv *g, const float *wt, const float *b, const float *x,
                                    float *y, int n, int h, int w)
{
    conv_plan *p = get_plan(g, n, h, w);
    const float one = 1.0f, zero = 0.0f;
    void *ws = workspace(p->ws);
    CKDNN(cudnnConvolutionForward(g_dnn, &one, p->xd, x, g->fd, wt, p->cf, p->fa, ws, p->ws, &zero, p->yd, y));
    if (b) CKDNN(cudnnAddTensor(g_dnn, &one, p->bd, b, &one, p->yd, y));
}

extern "C" void mg_gpu_conv_backward(mg_gpu_conv *g, const float *wt, const float *x, const float *dy,
                                     float *dx, float *dw, float *db, int n, int h, int w)
{
    conv_plan *p = get_plan(g, n, h, w);
    const float one = 1.0f;
    void *ws = workspace(p->ws);
    CKDNN(cudnnConvolutionBackwardFilter(g_dnn, &one, p->xd, x, p->yd, dy, p->cw, p->wa, ws, p->ws, &one, g->fd, dw));
    if (db) CKDNN(cudnnConvolutionBackwardBias(g_dnn, &one, p->yd, dy, &one, p->bd, db));
    if (dx) CKDNN(cudnnConvolutionBackwardData(g_dnn, &one, g->fd, wt, p->yd, dy, p->cd, p->da, ws, p->ws, &one, p->xd, dx));
}

/* ---------------- elementwise ---------------- */
__global__ void k_leaky_fwd(const float *x, float *y, long n, float s)
{
    GRID_LOOP(i, n) y[i] = x[i] > 0 ? x[i] : s * x[i];
}
__global__ void k_leaky_bwd(const float *y, const float *dy, float *dx, long n, float s)
{
    GRID_LOOP(i, n) dx[i] += y[i] > 0 ? dy[i] : s * dy[i];
}
__global__ void k_leaky_mul(const float *y, float *g, long n, float s)
{
    GRID_LOOP(i, n) g[i] *= y[i] > 0 ? 1.0f : s;
}
extern "C" void mg_gpu_leaky_forward(const float *x, float *y, long n, float slope)
{
    k_leaky_fwd<<<blocks_for(n), TPB>>>(x, y, n, slope);
    LAUNCH_CHECK();
}
extern "C" void mg_gpu_leaky_backward(const float *y, const float *dy, float *dx, long n, float slope)
{
    k_leaky_bwd<<<blocks_for(n), TPB>>>(y, dy, dx, n, slope);
    LAUNCH_CHECK();
}
extern "C" void mg_gpu_leaky_mul(const float *y, float *g, long n, float slope)
{
    k_leaky_mul<<<blocks_for(n), TPB>>>(y, g, n, slope);
    LAUNCH_CHECK();
}

/* concat: element i of the n x c x hw source block */
__global__ void k_concat(const float *src, float *dst, long n, int c, int ctot, int off, long hw, int back)
{
    const long per = (long)c * hw;
    GRID_LOOP(i, n * per) {
        long s = i / per, r = i % per;
        long d = (s * ctot + off) * hw + r;
        if (back) dst[i] += src[d]; /* here src = ddst, dst = dsrc */
        else dst[d] = src[i];
    }
}
extern "C" void mg_gpu_concat_forward(const float *src, float *dst, int n, int c, int ctot, int off, long hw)
{
    k_concat<<<blocks_for((long)n * c * hw), TPB>>>(src, dst, n, c, ctot, off, hw, 0);
    LAUNCH_CHECK();
}
extern "C" void mg_gpu_concat_backward(const float *ddst, float *dsrc, int n, int c, int ctot, int off, long hw)
{
    k_concat<<<blocks_for((long)n * c * hw), TPB>>>(ddst, dsrc, n, c, ctot, off, hw, 1);
    LAUNCH_CHECK();
}

#define CMAG_EPS 1e-12f
__global__ void k_cmag_fwd(const float *x, float *y, long n, long hw)
{
    GRID_LOOP(i, n * hw) {
        long s = i / hw, j = i % hw;
        float re = x[2 * s * hw + j], im = x[(2 * s + 1) * hw + j];
        y[i] = sqrtf(re * re + im * im + CMAG_EPS);
    }
}
__global__ void k_cmag_bwd(const float *x, const float *dy, float *dx, long n, long hw)
{
    GRID_LOOP(i, n * hw) {
        long s = i / hw, j = i % hw;
        float re = x[2 * s * hw + j], im = x[(2 * s + 1) * hw + j];
        float g = dy[i] / sqrtf(re * re + im * im + CMAG_EPS);
        dx[2 * s * hw + j] += g * re;
        dx[(2 * s + 1) * hw + j] += g * im;
    }
}
extern "C" void mg_gpu_cmag_forward(const float *x, float *y, int n, long hw)
{
    k_cmag_fwd<<<blocks_for(n * hw), TPB>>>(x, y, n, hw);
    LAUNCH_CHECK();
}
extern "C" void mg_gpu_cmag_backward(const float *x, const float *dy, float *dx, int n, long hw)
{
    k_cmag_bwd<<<blocks_for(n * hw), TPB>>>(x, dy, dx, n, hw);
    LAUNCH_CHECK();
}

__global__ void k_add(float *y, const float *x, long n)
{
    GRID_LOOP(i, n) y[i] += x[i];
}
extern "C" void mg_gpu_add(float *y, const float *x, long n)
{
    k_add<<<blocks_for(n), TPB>>>(y, x, n);
    LAUNCH_CHECK();
}

__global__ void k_mse_bwd(const float *x, const float *t, float *dx, long n, float k)
{
    GRID_LOOP(i, n) dx[i] += k * (x[i] - t[i]);
}
extern "C" void mg_gpu_mse_backward(const float *x, const float *t, float *dx, long n, float scale)
{
    k_mse_bwd<<<blocks_for(n), TPB>>>(x, t, dx, n, 2.0f * scale / (float)n);
    LAUNCH_CHECK();
}

/* ---------------- reductions: one block of 1024 threads, double sums, fixed order ----------------
 * (__launch_bounds__ keeps their register use within what 1024 threads may have) */
#define RED 1024
__device__ double block_sum(double v, double *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

/* kind 0: sum x; 1: sum (x - t)^2; 2: sum x*t; 3: sum (x - mean)^2, mean = out[0] / n */
__global__ void __launch_bounds__(RED) k_reduce(const float *x, const float *t, long n, int kind, double *out)
{
    __shared__ double sh[RED];
    double acc = 0, mean = kind == 3 ? out[0] / (double)n : 0;
    for (long i = threadIdx.x; i < n; i += blockDim.x) {
        double a = x[i];
        if (kind == 0) acc += a;
        else if (kind == 1) acc += (a - t[i]) * (a - t[i]);
        else if (kind == 2) acc += a * t[i];
        else acc += (a - mean) * (a - mean);
    }
    double s = block_sum(acc, sh);
    if (threadIdx.x == 0) out[kind == 3 ? 1 : 0] = s;
}
static double reduce(const float *x, const float *t, long n, int kind)
{
    k_reduce<<<1, RED>>>(x, t, n, kind, g_red);
    LAUNCH_CHECK();
    double r;
    CK(cudaMemcpy(&r, g_red, sizeof r, cudaMemcpyDeviceToHost));
    return r;
}
extern "C" double mg_gpu_sum(const float *x, long n) { return reduce(x, NULL, n, 0); }
extern "C" double mg_gpu_mse_forward(const float *x, const float *t, long n) { return reduce(x, t, n, 1) / (double)n; }
extern "C" double mg_gpu_std(const float *x, long n)
{
    if (n <= 0) return 0;
    k_reduce<<<1, RED>>>(x, NULL, n, 0, g_red);
    k_reduce<<<1, RED>>>(x, NULL, n, 3, g_red);
    LAUNCH_CHECK();
    double r[2];
    CK(cudaMemcpy(r, g_red, sizeof r, cudaMemcpyDeviceToHost));
    return sqrt(r[1] / (double)n);
}

__global__ void __launch_bounds__(RED) k_dot_acc(const float *a, const float *b, long n, float coef, float *out)
{
    __shared__ double sh[RED];
    double acc = 0;
    for (long i = threadIdx.x; i < n; i += blockDim.x) acc += (double)a[i] * b[i];
    double s = block_sum(acc, sh);
    if (threadIdx.x == 0) out[0] += (float)(coef * s);
}
extern "C" void mg_gpu_dot_acc(const float *a, const float *b, long n, float coef, float *out)
{
    k_dot_acc<<<1, RED>>>(a, b, n, coef, out);
    LAUNCH_CHECK();
}

/* ---------------- batch norm: one block per channel ---------------- */
__global__ void __launch_bounds__(RED) k_bn_fwd(const float *x, float *y, const float *gamma, const float *beta, float *mean,
                         float *invstd, float *run_mean, float *run_var, int n, int C, long hw, int train,
                         float momentum, float eps)
{
    __shared__ double sh[RED];
    const int c = blockIdx.x;
    const long M = (long)n * hw;
    float mu, is;
    if (train) {
        double s = 0;
        for (long i = threadIdx.x; i < M; i += blockDim.x) s += x[((i / hw) * C + c) * hw + i % hw];
        const double m = block_sum(s, sh) / (double)M;
        double ss = 0;
        for (long i = threadIdx.x; i < M; i += blockDim.x) {
            double d = x[((i / hw) * C + c) * hw + i % hw] - m;
            ss += d * d;
        }
        const double var = block_sum(ss, sh) / (double)M;
        mu = (float)m;
        is = (float)(1.0 / sqrt(var + eps));
        if (threadIdx.x == 0) {
            mean[c] = mu;
            invstd[c] = is;
            double unb = M > 1 ? var * (double)M / (double)(M - 1) : var;
            run_mean[c] = (1 - momentum) * run_mean[c] + momentum * mu;
            run_var[c] = (1 - momentum) * run_var[c] + momentum * (float)unb;
        }
    } else {
        mu = run_mean[c];
        is = 1.0f / sqrtf(run_var[c] + eps);
    }
    const float g = gamma[c], be = beta[c];
    for (long i = threadIdx.x; i < M; i += blockDim.x) {
        long o = ((i / hw) * C + c) * hw + i % hw;
        y[o] = g * (x[o] - mu) * is + be;
    }
}
extern "C" void mg_gpu_bn_fwd(const float *x, float *y, const float *gamma, const float *beta, float *mean,
                              float *invstd, float *run_mean, float *run_var, int n, int c, long hw,
                              int train, float momentum, float eps)
{
    k_bn_fwd<<<c, RED>>>(x, y, gamma, beta, mean, invstd, run_mean, run_var, n, c, hw, train, momentum, eps);
    LAUNCH_CHECK();
}

__global__ void __launch_bounds__(RED) k_bn_bwd(const float *x, const float *dy, float *dx, const float *gamma, const float *mean,
                         const float *invstd, float *dgamma, float *dbeta, int n, int C, long hw)
{
    __shared__ double sh[RED];
    const int c = blockIdx.x;
    const long M = (long)n * hw;
    const float mu = mean[c], is = invstd[c];
    double a = 0, b = 0;
    for (long i = threadIdx.x; i < M; i += blockDim.x) {
        long o = ((i / hw) * C + c) * hw + i % hw;
        a += dy[o];
        b += (double)dy[o] * (x[o] - mu) * is;
    }
    const double sdy = block_sum(a, sh), sdyx = block_sum(b, sh);
    if (threadIdx.x == 0) {
        dgamma[c] += (float)sdyx;
        dbeta[c] += (float)sdy;
    }
    if (!dx) return;
    const double k = gamma[c] * is / (double)M;
    for (long i = threadIdx.x; i < M; i += blockDim.x) {
        long o = ((i / hw) * C + c) * hw + i % hw;
        double xh = (x[o] - mu) * is;
        dx[o] += (float)(k * ((double)M * dy[o] - sdy - xh * sdyx));
    }
}
extern "C" void mg_gpu_bn_bwd(const float *x, const float *dy, float *dx, const float *gamma, const float *mean,
                              const float *invstd, float *dgamma, float *dbeta, int n, int c, long hw)
{
    k_bn_bwd<<<c, RED>>>(x, dy, dx, gamma, mean, invstd, dgamma, dbeta, n, c, hw);
    LAUNCH_CHECK();
}

/* ---------------- linear (row-major y = x W^T + b, as column-major GEMMs) ---------------- */
__global__ void k_bias_fill(float *y, const float *b, long n, int out)
{
    GRID_LOOP(i, n * out) y[i] = b[i % out];
}
__global__ void k_bias_grad(const float *dy, float *db, int n, int out)
{
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < out; o += gridDim.x * blockDim.x) {
        double s = 0;
        for (int i = 0; i < n; i++) s += dy[(long)i * out + o];
        db[o] += (float)s;
    }
}
extern "C" void mg_gpu_linear_forward(const float *wt, const float *b, const float *x, float *y, int n,
                                      int in, int out)
{
    const float one = 1.0f;
    k_bias_fill<<<blocks_for((long)n * out), TPB>>>(y, b, n, out);
    LAUNCH_CHECK();
    /* y^T (out x n) = W (out x in) x^T; W row-major is W^T column-major */
    CKBLAS(cublasSgemm(g_blas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, wt, in, x, in, &one, y, out));
}
extern "C" void mg_gpu_linear_backward(const float *wt, const float *x, const float *dy, float *dx,
                                       float *dw, float *db, int n, int in, int out)
{
    const float one = 1.0f;
    /* dW^T (in x out) += x^T (in x n) dy (n x out) */
    CKBLAS(cublasSgemm(g_blas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x, in, dy, out, &one, dw, in));
    k_bias_grad<<<blocks_for(out), TPB>>>(dy, db, n, out);
    LAUNCH_CHECK();
    /* dx^T (in x n) += W^T (in x out) dy^T (out x n) */
    if (dx) CKBLAS(cublasSgemm(g_blas, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, wt, in, dy, out, &one, dx, in));
}

/* ---------------- Adam, clipping ---------------- */
__global__ void k_adam(float *w, const float *g, float *m, float *v, long n, float lr, float b1, float b2,
                       float c1, float c2, float eps)
{
    GRID_LOOP(j, n) {
        float gj = g[j];
        m[j] = b1 * m[j] + (1.0f - b1) * gj;
        v[j] = b2 * v[j] + (1.0f - b2) * gj * gj;
        float mh = m[j] / c1, vh = v[j] / c2;
        w[j] -= lr * mh / (sqrtf(vh) + eps);
    }
}
extern "C" void mg_gpu_adam_flat(float *w, const float *g, float *m, float *v, long n, float lr, float b1,
                                 float b2, float c1, float c2, float eps)
{
    k_adam<<<blocks_for(n), TPB>>>(w, g, m, v, n, lr, b1, b2, c1, c2, eps);
    LAUNCH_CHECK();
}
__global__ void k_clip(float *w, long n, float c)
{
    GRID_LOOP(j, n) w[j] = w[j] > c ? c : w[j] < -c ? -c : w[j];
}
extern "C" void mg_gpu_clip_flat(float *w, long n, float c)
{
    k_clip<<<blocks_for(n), TPB>>>(w, n, c);
    LAUNCH_CHECK();
}

/* ---------------- SENSE operator on cuFFT ----------------
 * Centred FFT: F x = fftshift(fft(ifftshift(x))) / sqrt(HW). The buffer `tmp`
 * holds coil data in unshifted FFT order: element (i, j) of tmp corresponds
 * to the centred position ((i + H/2) % H, (j + W/2) % W) before the transform
 * (ifftshift) and, after it, to the same centred position (fftshift). */
struct mg_gpu_sense {
    int n, C, H, W;
    cufftHandle plan;
    float2 *tmp; /* n x C x H x W */
};

extern "C" mg_gpu_sense *mg_gpu_sense_create(int n, int C, int H, int W)
{
    mg_gpu_sense *s = (mg_gpu_sense *)calloc(1, sizeof *s);
    if (!s) abort();
    s->n = n; s->C = C; s->H = H; s->W = W;
    int dims[2] = {H, W};
    CKFFT(cufftPlanMany(&s->plan, 2, dims, NULL, 1, H * W, NULL, 1, H * W, CUFFT_C2C, n * C));
    s->tmp = (float2 *)mg_gpu_alloc((size_t)n * C * H * W * 2);
    return s;
}

extern "C" void mg_gpu_sense_free(mg_gpu_sense *s)
{
    if (!s) return;
    cufftDestroy(s->plan);
    mg_gpu_free(s->tmp);
    free(s);
}

__device__ __forceinline__ long centred(long i, long j, int H, int W)
{
    return ((i + H / 2) % H) * W + (j + W / 2) % W;
}

/* tmp[s][c][i, j] = sens[s][c][p] * x[s][p], p the centred position of (i, j) */
__global__ void k_sens_shift(const float *x, const float2 *sens, float2 *tmp, int n, int C, int H, int W)
{
    const long hw = (long)H * W;
    GRID_LOOP(t, (long)n * C * hw) {
        long s = t / (C * hw), q = t % hw, i = q / W, j = q % W;
        long p = centred(i, j, H, W);
        float xr = x[2 * s * hw + p], xi = x[(2 * s + 1) * hw + p];
        float2 sv = sens[t - q + p];
        tmp[t] = make_float2(sv.x * xr - sv.y * xi, sv.x * xi + sv.y * xr);
    }
}

/* After the forward FFT (scale applied here), before the inverse:
 * mode 0: tmp = M (scale tmp - ku)          (DC residual)
 * mode 1: tmp = M scale tmp; dku += coef tmp (A g, and its ku gradient)
 * mode 2: tmp = M ku                         (adjoint of ku alone) */
__global__ void k_kspace(float2 *tmp, const float2 *ku, const float *mask, float2 *dku, const float *coef,
                         int mode, float scale, int n, int C, int H, int W)
{
    const long hw = (long)H * W;
    GRID_LOOP(t, (long)n * C * hw) {
        long s = t / (C * hw), q = t % hw, i = q / W, j = q % W;
        long p = centred(i, j, H, W);
        float m = mask[s * H + p / W];
        float2 v;
        if (mode == 2) {
            float2 k = ku[t - q + p];
            v = make_float2(m * k.x, m * k.y);
        } else {
            float2 z = tmp[t];
            v = make_float2(m * scale * z.x, m * scale * z.y);
            if (mode == 0) {
                float2 k = ku[t - q + p];
                v = make_float2(v.x - m * k.x, v.y - m * k.y);
            } else if (dku) {
                float cf = coef ? coef[0] : 1.0f;
                dku[t - q + p].x += cf * v.x;
                dku[t - q + p].y += cf * v.y;
            }
        }
        tmp[t] = v;
    }
}

/* Copy A g (centred order) out: ksp[s][c][p] = tmp[s][c][i, j] */
__global__ void k_unshift(const float2 *tmp, float2 *ksp, int n, int C, int H, int W)
{
    const long hw = (long)H * W;
    GRID_LOOP(t, (long)n * C * hw) {
        long q = t % hw, i = q / W, j = q % W;
        ksp[t - q + centred(i, j, H, W)] = tmp[t];
    }
}

/* After the inverse FFT: a = scale * sum_c conj(sens_c) tmp_c at every centred
 * pixel p, then
 * mode 0: r = a, y = x - lam a   (DC forward; r may be NULL)
 * mode 1: y += x - lam a         (DC backward: x = g, y = dx)
 * mode 2: y = a                  (adjoint) */
__global__ void k_combine(const float2 *tmp, const float2 *sens, const float *x, const float *lam, float *r,
                          float *y, int mode, float scale, int n, int C, int H, int W)
{
    const long hw = (long)H * W;
    GRID_LOOP(t, (long)n * hw) {
        long s = t / hw, p = t % hw, pi = p / W, pj = p % W;
        /* the unshifted index q with centred(q) = p */
        long q = ((pi - H / 2 + H) % H) * W + (pj - W / 2 + W) % W;
        float ar = 0, ai = 0;
        for (int c = 0; c < C; c++) {
            long base = ((long)s * C + c) * hw;
            float2 sv = sens[base + p], z = tmp[base + q];
            ar += sv.x * z.x + sv.y * z.y;
            ai += sv.x * z.y - sv.y * z.x;
        }
        ar *= scale;
        ai *= scale;
        long o = 2 * s * hw + p;
        if (mode == 2) {
            y[o] = ar;
            y[o + hw] = ai;
        } else {
            float l = lam ? lam[0] : 1.0f;
            if (mode == 0) {
                if (r) {
                    r[o] = ar;
                    r[o + hw] = ai;
                }
                y[o] = x[o] - l * ar;
                y[o + hw] = x[o + hw] - l * ai;
            } else {
                y[o] += x[o] - l * ar;
                y[o + hw] += x[o + hw] - l * ai;
            }
        }
    }
}

static float sense_scale(const mg_gpu_sense *s) { return (float)(1.0 / sqrt((double)s->H * s->W)); }
static long sense_n(const mg_gpu_sense *s) { return (long)s->n * s->C * s->H * s->W; }

extern "C" void mg_gpu_sense_adjoint(mg_gpu_sense *s, const float *ku, const float *sens, const float *mask,
                                     float *y)
{
    const long N = sense_n(s);
    k_kspace<<<blocks_for(N), TPB>>>(s->tmp, (const float2 *)ku, mask, NULL, NULL, 2, 1.0f, s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
    CKFFT(cufftExecC2C(s->plan, (cufftComplex *)s->tmp, (cufftComplex *)s->tmp, CUFFT_INVERSE));
    k_combine<<<blocks_for((long)s->n * s->H * s->W), TPB>>>(s->tmp, (const float2 *)sens, NULL, NULL, NULL, y, 2,
                                                           sense_scale(s), s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
}

extern "C" void mg_gpu_sense_forward(mg_gpu_sense *s, const float *x, const float *sens, const float *mask,
                                     float *ksp)
{
    const long N = sense_n(s);
    k_sens_shift<<<blocks_for(N), TPB>>>(x, (const float2 *)sens, s->tmp, s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
    CKFFT(cufftExecC2C(s->plan, (cufftComplex *)s->tmp, (cufftComplex *)s->tmp, CUFFT_FORWARD));
    k_kspace<<<blocks_for(N), TPB>>>(s->tmp, NULL, mask, NULL, NULL, 1, sense_scale(s), s->n, s->C, s->H, s->W);
    k_unshift<<<blocks_for(N), TPB>>>(s->tmp, (float2 *)ksp, s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
}

extern "C" void mg_gpu_dc_forward(mg_gpu_sense *s, const float *x, const float *ku, const float *sens,
                                  const float *mask, const float *lam, float *r, float *y)
{
    const long N = sense_n(s);
    const float sc = sense_scale(s);
    k_sens_shift<<<blocks_for(N), TPB>>>(x, (const float2 *)sens, s->tmp, s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
    CKFFT(cufftExecC2C(s->plan, (cufftComplex *)s->tmp, (cufftComplex *)s->tmp, CUFFT_FORWARD));
    k_kspace<<<blocks_for(N), TPB>>>(s->tmp, (const float2 *)ku, mask, NULL, NULL, 0, sc, s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
    CKFFT(cufftExecC2C(s->plan, (cufftComplex *)s->tmp, (cufftComplex *)s->tmp, CUFFT_INVERSE));
    k_combine<<<blocks_for((long)s->n * s->H * s->W), TPB>>>(s->tmp, (const float2 *)sens, x, lam, r, y, 0, sc,
                                                           s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
}

extern "C" void mg_gpu_dc_backward(mg_gpu_sense *s, const float *g, const float *sens, const float *mask,
                                   const float *lam, float *dx, float *dku)
{
    const long N = sense_n(s);
    const float sc = sense_scale(s);
    k_sens_shift<<<blocks_for(N), TPB>>>(g, (const float2 *)sens, s->tmp, s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
    CKFFT(cufftExecC2C(s->plan, (cufftComplex *)s->tmp, (cufftComplex *)s->tmp, CUFFT_FORWARD));
    k_kspace<<<blocks_for(N), TPB>>>(s->tmp, NULL, mask, (float2 *)dku, lam, 1, sc, s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
    if (!dx) return;
    CKFFT(cufftExecC2C(s->plan, (cufftComplex *)s->tmp, (cufftComplex *)s->tmp, CUFFT_INVERSE));
    k_combine<<<blocks_for((long)s->n * s->H * s->W), TPB>>>(s->tmp, (const float2 *)sens, g, lam, NULL, dx, 1, sc,
                                                           s->n, s->C, s->H, s->W);
    LAUNCH_CHECK();
}

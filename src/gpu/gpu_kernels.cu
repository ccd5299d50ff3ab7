/* CUDA behind src/gpu/gpu_kernels.h, part 1: device and memory, and the
 * cuDNN convolutions (the other layers: gpu_layers.cu). Semantics are those
 * of the CPU functions in src/nn and src/mri (tests/test_gpu.c compares
 * them). */
#include "gpu_internal.cuh"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <cufft.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- device state ---------------- */
static int g_ready = 0, g_tf32 = 1;
static char g_name[512];
static cudnnHandle_t g_dnn;
cublasHandle_t mg_gpu_blas;
static void *g_ws;          /* cuDNN workspace, grown on demand */
static size_t g_ws_size;
double *mg_gpu_red;       /* reduction results (host-visible copies go through it) */
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
    CKBLAS(cublasCreate(&mg_gpu_blas));
    const char *fp = getenv("MRGAN_GPU_FP32");
    if (fp && *fp && strcmp(fp, "0")) g_tf32 = 0;
    CKBLAS(cublasSetMathMode(mg_gpu_blas, g_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
    CK(cudaMalloc(&mg_gpu_red, 64 * sizeof(double)));
    g_ready = 1;
    return 0;
}

extern "C" const char *mg_gpu_name(void) { return g_name; }

extern "C" void mg_gpu_set_tf32(int on)
{
    g_tf32 = on != 0;
    if (g_ready) CKBLAS(cublasSetMathMode(mg_gpu_blas, g_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
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
    cudaFree(mg_gpu_red);
    g_live -= g_ws_size;
    g_ws = NULL;
    g_ws_size = 0;
    cudnnDestroy(g_dnn);
    cublasDestroy(mg_gpu_blas);
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

/* ---------------- convolution (cuDNN) ---------------- */
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
    conv_plan *plan; /* one per input shape met, kept (mixed-shape training meets dozens) */
    int nplan, cap;
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
    free(g->plan);
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
    if (g->nplan == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 4;
        g->plan = (conv_plan *)realloc(g->plan, (size_t)g->cap * sizeof *g->plan);
        if (!g->plan) abort();
    }
    conv_plan *p = &g->plan[g->nplan++];
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


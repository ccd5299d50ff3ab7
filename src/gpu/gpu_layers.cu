/* The CUDA layers other than convolutions (gpu_kernels.h): elementwise ops,
 * reductions, batch norm, linear, Adam and clipping, and the SENSE operator
 * on cuFFT. Device state and convolutions: gpu_kernels.cu. */
#include "gpu_internal.cuh"

#include <math.h>
#include <string.h>

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
    k_reduce<<<1, RED>>>(x, t, n, kind, mg_gpu_red);
    LAUNCH_CHECK();
    double r;
    CK(cudaMemcpy(&r, mg_gpu_red, sizeof r, cudaMemcpyDeviceToHost));
    return r;
}
extern "C" double mg_gpu_sum(const float *x, long n) { return reduce(x, NULL, n, 0); }
extern "C" double mg_gpu_mse_forward(const float *x, const float *t, long n) { return reduce(x, t, n, 1) / (double)n; }
extern "C" double mg_gpu_sumsq(const float *x, long n) { return reduce(x, x, n, 2); }
extern "C" double mg_gpu_std(const float *x, long n)
{
    if (n <= 0) return 0;
    k_reduce<<<1, RED>>>(x, NULL, n, 0, mg_gpu_red);
    k_reduce<<<1, RED>>>(x, NULL, n, 3, mg_gpu_red);
    LAUNCH_CHECK();
    double r[2];
    CK(cudaMemcpy(r, mg_gpu_red, sizeof r, cudaMemcpyDeviceToHost));
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
    CKBLAS(cublasSgemm(mg_gpu_blas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, wt, in, x, in, &one, y, out));
}
extern "C" void mg_gpu_linear_backward(const float *wt, const float *x, const float *dy, float *dx,
                                       float *dw, float *db, int n, int in, int out)
{
    const float one = 1.0f;
    /* dW^T (in x out) += x^T (in x n) dy (n x out) */
    CKBLAS(cublasSgemm(mg_gpu_blas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x, in, dy, out, &one, dw, in));
    k_bias_grad<<<blocks_for(out), TPB>>>(dy, db, n, out);
    LAUNCH_CHECK();
    /* dx^T (in x n) += W^T (in x out) dy^T (out x n) */
    if (dx) CKBLAS(cublasSgemm(mg_gpu_blas, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, wt, in, dy, out, &one, dx, in));
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

extern "C" int mg_gpu_sense_shape_is(const mg_gpu_sense *s, int n, int C, int H, int W)
{
    return s->n == n && s->C == C && s->H == H && s->W == W;
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

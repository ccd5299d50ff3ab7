/* This CPU's arithmetic peak, measured (mrgan bench's reference; docs/results.md):
 * every OpenMP thread runs independent chains of fused multiply-adds on the
 * widest vectors the CPU has (AVX-512, else AVX2+FMA, else scalar), and for
 * bf16 the AVX512-BF16 dot-product instruction (vdpbf16ps: 32 products and
 * sums per instruction). Registers only, no memory traffic: an upper bound
 * that no convolution reaches. */
#include "core.h"

#include <immintrin.h>
#include <omp.h>

enum { ACC = 12, ITERS = 4000000 };

__attribute__((target("avx512f"))) static double fma_avx512(void)
{
    __m512 a[ACC], x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < ACC; i++) a[i] = _mm512_set1_ps((float)i);
    for (long t = 0; t < ITERS; t++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
    }
    __m512 s = a[0];
    for (int i = 1; i < ACC; i++) s = _mm512_add_ps(s, a[i]);
    return (double)_mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static double fma_avx2(void)
{
    __m256 a[ACC], x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < ACC; i++) a[i] = _mm256_set1_ps((float)i);
    for (long t = 0; t < ITERS; t++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
    }
    __m256 s = a[0];
    for (int i = 1; i < ACC; i++) s = _mm256_add_ps(s, a[i]);
    float v[8];
    _mm256_storeu_ps(v, s);
    return (double)(v[0] + v[7]);
}

__attribute__((target("avx512f,avx512bf16"))) static double dp_bf16(void)
{
    __m512 a[ACC];
    __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
    for (int i = 0; i < ACC; i++) a[i] = _mm512_set1_ps((float)i);
    for (long t = 0; t < ITERS; t++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++) a[i] = _mm512_dpbf16_ps(a[i], x, x);
    }
    __m512 s = a[0];
    for (int i = 1; i < ACC; i++) s = _mm512_add_ps(s, a[i]);
    return (double)_mm512_reduce_add_ps(s);
}

/* GFLOP/s of kernel k (flops per call f) on every thread at once */
static double run(double (*k)(void), double flops_per_thread)
{
    const int T = omp_get_max_threads();
    volatile double sink = 0;
    double best = 0;
    for (int rep = 0; rep < 2; rep++) {
        const double t0 = mg_now();
#pragma omp parallel reduction(+ : sink)
        sink += k();
        const double dt = mg_now() - t0;
        const double g = flops_per_thread * T / dt / 1e9;
        if (g > best) best = g;
    }
    (void)sink;
    return best;
}

double mg_peak_fp32_gflops(const char **how)
{
    if (__builtin_cpu_supports("avx512f")) {
        *how = "AVX-512 FMA";
        return run(fma_avx512, 2.0 * 16 * ACC * (double)ITERS);
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *how = "AVX2 FMA";
        return run(fma_avx2, 2.0 * 8 * ACC * (double)ITERS);
    }
    *how = "none";
    return 0;
}

double mg_peak_bf16_gflops(const char **how)
{
    if (__builtin_cpu_supports("avx512bf16")) {
        *how = "AVX512-BF16 dot products";
        return run(dp_bf16, 2.0 * 32 * ACC * (double)ITERS);
    }
    *how = "none";
    return 0;
}

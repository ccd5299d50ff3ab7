/* Private to the direct convolution kernels (conv_direct.c for plain
 * layouts, conv_direct_blk.c for oneDNN's blocked nChw16c): 16-float
 * vectors, the target clones, zero-padded row copies, the bias gradient of
 * a plain dy. */
#ifndef MRGAN_CONV_DIRECT_IMPL_H
#define MRGAN_CONV_DIRECT_IMPL_H

#include "conv_direct.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));
#define MAXO 4 /* output channels a kernel keeps in registers at once */

/* F(NO, ...) with NO = n for n = 1..3 and MAXO otherwise, as a compile-time
 * constant: the always-inline kernels keep their NO accumulators in registers */
#define BY_NO(n, F, ...)                      \
    do {                                      \
        switch (n) {                          \
        case 1: F(1, __VA_ARGS__); break;     \
        case 2: F(2, __VA_ARGS__); break;     \
        case 3: F(3, __VA_ARGS__); break;     \
        default: F(MAXO, __VA_ARGS__); break; \
        }                                     \
    } while (0)

/* every tap (ky, kx) of output pixel (i, j) whose input pixel (ii, jj) lies
 * inside the h x w image; the statement after it is the body */
#define FOR_TAPS_INSIDE(i, j, k, pad, h, w)                              \
    for (int ky = 0, ii = (i) - (pad); ky < (k); ky++, ii++)             \
        if (ii >= 0 && ii < (h))                                         \
            for (int kx = 0, jj = (j) - (pad); kx < (k); kx++, jj++)     \
                if (jj >= 0 && jj < (w))

/* where the m-th 16-float chunk of a run of L >= 16 floats starts: 16 m,
 * the last one at L - 16 (overlapping the one before when 16 does not divide L) */
static inline int chunk_at(int m, int L) { return 16 * m < L - 16 ? 16 * m : L - 16; }
/* how many such chunks a run of L floats has */
static inline int nchunks(int L) { return (L + 15) / 16; }

static inline v16 ld(const float *p) { return *(const v16u *)p; }
static inline void st(float *p, v16 v) { *(v16u *)p = v; }
static inline v16 bcast(float f)
{
    v16 v;
    for (int q = 0; q < 16; q++) v[q] = f;
    return v;
}

/* leaky'(act) * a over the 16 lanes at act (the LeakyReLU's output: same
 * sign as its input for slope > 0) */
typedef int v16i __attribute__((vector_size(64)));
static inline v16 leaky_mask(v16 a, const float *act, float slope)
{
    const v16i pos = ld(act) > 0; /* -1 in the lanes where act > 0: a select, not a branch per lane */
    return (v16)(((v16i)a & pos) | ((v16i)(a * slope) & ~pos));
}

/* dst[q] = row[j0 + q] for q < len, zero where j0 + q is outside [0, w) */
static inline void padded_copy(float *dst, const float *row, int j0, int len, int w)
{
    const int a = j0 < 0 ? -j0 : 0;                          /* leading zeros */
    const int e = j0 + len > w ? w - j0 : len;               /* end of the copied part */
    memset(dst, 0, sizeof(float) * (size_t)(a < len ? a : len));
    if (e > a) memcpy(dst + a, row + j0 + a, sizeof(float) * (size_t)(e - a));
    if (e < len) memset(dst + (e > a ? e : a), 0, sizeof(float) * (size_t)(len - (e > a ? e : a)));
}

/* db[o] += sum of dy over samples and pixels (double) */
static inline void bias_grad(const float *dy, float *db, int n, int cout, long ohw)
{
    for (int o = 0; o < cout; o++) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            const float *g = dy + ((long)i * cout + o) * ohw;
            for (long p = 0; p < ohw; p++) s += g[p];
        }
        db[o] += (float)s;
    }
}

#endif

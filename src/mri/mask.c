/* Undersampling masks over phase-encode lines. */
#include "mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

long mg_mask_center_start(long n, long center) { return (n - center + 1) / 2; }

long mg_mask_count(const float *mask, long n)
{
    long k = 0;
    for (long i = 0; i < n; i++) k += mask[i] != 0.0f;
    return k;
}

int mg_mask_check(const float *mask, long n, const char *name)
{
    for (long i = 0; i < n; i++)
        if (mask[i] != 0.0f && mask[i] != 1.0f) {
            mg_set_error("%s: mask value %g at line %ld is not 0 or 1", name, (double)mask[i], i);
            return -1;
        }
    if (mg_mask_count(mask, n) == 0) {
        mg_set_error("%s: mask samples no phase-encode line", name);
        return -1;
    }
    return 0;
}

static int check_common(long n, double accel, const char *what)
{
    if (n < 2) {
        mg_set_error("%s mask: need at least 2 phase-encode lines, got %ld", what, n);
        return -1;
    }
    if (!(accel >= 1.0) || !isfinite(accel)) {
        mg_set_error("%s mask: acceleration must be >= 1, got %g", what, accel);
        return -1;
    }
    if (accel > (double)n) {
        mg_set_error("%s mask: acceleration %g is larger than the %ld lines", what, accel, n);
        return -1;
    }
    return 0;
}

static void set_center(float *mask, long n, long center)
{
    long c0 = mg_mask_center_start(n, center);
    for (long i = c0; i < c0 + center; i++) mask[i] = 1.0f;
}

int mg_mask_vd(float *mask, long n, double accel, long center, uint64_t seed)
{
    if (check_common(n, accel, "variable-density")) return -1;
    if (center < 0 || center > n) {
        mg_set_error("variable-density mask: %ld centre lines do not fit in %ld lines", center, n);
        return -1;
    }
    long target = lround((double)n / accel);
    if (target < center) {
        mg_set_error("variable-density mask: R=%g keeps %ld lines, fewer than the %ld centre lines",
                     accel, target, center);
        return -1;
    }
    memset(mask, 0, sizeof(float) * (size_t)n);
    set_center(mask, n, center);
    long k_out = target - center;
    if (k_out == 0) return 0;

    /* Linear fall-off: r = 0 next to the centre block, r -> 1 at the edge
     * (the outermost line keeps a small positive weight, so any count up to
     * all lines is reachable). */
    const long c0 = mg_mask_center_start(n, center);
    const double mid = (double)c0 + 0.5 * (double)(center - 1);
    const double half = 0.5 * (double)n - 0.5 * (double)center + 1.0;
    double *w = mg_malloc_array((size_t)n, sizeof(double));
    double *p = mg_malloc_array((size_t)n, sizeof(double));
    for (long i = 0; i < n; i++) {
        if (mask[i] != 0.0f) { w[i] = 0; continue; }
        double d = fabs((double)i - mid) - 0.5 * (double)center;
        double r = d / half;
        if (r < 0) r = 0;
        if (r > 1) r = 1;
        w[i] = 1.0 - r + 1e-3;
    }
    /* Find p0 so that sum_i min(1, p0 * w_i) = k_out (bisection). */
    double lo = 0, hi = 1;
    for (;;) {
        double s = 0;
        for (long i = 0; i < n; i++) s += fmin(1.0, hi * w[i]);
        if (s >= (double)k_out) break;
        hi *= 2;
    }
    for (int it = 0; it < 200; it++) {
        double m = 0.5 * (lo + hi), s = 0;
        for (long i = 0; i < n; i++) s += fmin(1.0, m * w[i]);
        if (s < (double)k_out) lo = m;
        else hi = m;
    }
    double sum = 0;
    for (long i = 0; i < n; i++) sum += (p[i] = fmin(1.0, hi * w[i]));
    /* Systematic sampling: line i is taken when floor(S_i + u) > floor(S_{i-1} + u);
     * each line has inclusion probability exactly p_i and the count is sum p. */
    mg_rng rng;
    mg_rng_seed(&rng, seed);
    double u = mg_rng_uniform(&rng), S = 0;
    long got = 0;
    for (long i = 0; i < n; i++) {
        if (p[i] <= 0) continue;
        double before = floor(S + u);
        S += p[i] * ((double)k_out / sum);
        if (floor(S + u) > before) {
            mask[i] = 1.0f;
            got++;
        }
    }
    /* Guard against rounding at the final boundary: fix up to the exact count
     * (add the most probable missing lines / drop the least probable ones). */
    while (got != k_out) {
        long best = -1;
        for (long i = 0; i < n; i++) {
            if (w[i] == 0) continue;
            int want = got < k_out ? mask[i] == 0.0f : mask[i] != 0.0f;
            if (!want) continue;
            if (best < 0 || (got < k_out ? p[i] > p[best] : p[i] < p[best])) best = i;
        }
        if (best < 0) break;
        mask[best] = got < k_out ? 1.0f : 0.0f;
        got += got < k_out ? 1 : -1;
    }
    free(w);
    free(p);
    return 0;
}

static int center_lines(long n, double cf, const char *what, long *out)
{
    if (!(cf >= 0.0 && cf <= 1.0)) {
        mg_set_error("%s mask: centre fraction must be in [0, 1], got %g", what, cf);
        return -1;
    }
    *out = lround((double)n * cf);
    return 0;
}

int mg_mask_random(float *mask, long n, double accel, double center_fraction, uint64_t seed)
{
    long low;
    if (check_common(n, accel, "random") || center_lines(n, center_fraction, "random", &low))
        return -1;
    memset(mask, 0, sizeof(float) * (size_t)n);
    double prob = low < n ? ((double)n / accel - (double)low) / (double)(n - low) : 0.0;
    if (prob < 0) {
        mg_set_error("random mask: centre fraction %g already exceeds 1/R = %g", center_fraction,
                     1.0 / accel);
        return -1;
    }
    mg_rng rng;
    mg_rng_seed(&rng, seed);
    for (long i = 0; i < n; i++)
        if (mg_rng_uniform(&rng) < prob) mask[i] = 1.0f;
    set_center(mask, n, low);
    return 0;
}

int mg_mask_equispaced(float *mask, long n, double accel, double center_fraction, uint64_t seed)
{
    long low;
    if (check_common(n, accel, "equispaced") ||
        center_lines(n, center_fraction, "equispaced", &low))
        return -1;
    long step = lround(accel);
    memset(mask, 0, sizeof(float) * (size_t)n);
    mg_rng rng;
    mg_rng_seed(&rng, seed);
    long offset = (long)(mg_rng_uniform(&rng) * (double)step);
    for (long i = offset; i < n; i += step) mask[i] = 1.0f;
    set_center(mask, n, low);
    return 0;
}

int mg_mask_make(int type, float *mask, long n, double accel, long center, double center_frac,
                 uint64_t seed)
{
    double cf = center_frac >= 0 ? center_frac : (double)center / (double)n;
    if (type == MG_MASK_VD) return mg_mask_vd(mask, n, accel, center, seed);
    if (type == MG_MASK_RANDOM) return mg_mask_random(mask, n, accel, cf, seed);
    if (type == MG_MASK_EQUISPACED) return mg_mask_equispaced(mask, n, accel, cf, seed);
    mg_set_error("unknown mask type %d", type);
    return -1;
}

long mg_acquired_lines(const cfloat *k, long C, long H, long W, long lo, long hi, float *acq)
{
    long n = 0;
    for (long y = 0; y < H; y++) {
        acq[y] = 0.0f;
        if (y < lo || y >= hi) continue;
        for (long c = 0; c < C && acq[y] == 0.0f; c++)
            for (long x = 0; x < W; x++)
                if (k[(c * H + y) * W + x] != 0.0f) {
                    acq[y] = 1.0f;
                    break;
                }
        n += acq[y] != 0.0f;
    }
    return n;
}

int mg_mask_make_acquired(int type, float *mask, const float *acq, long n, double accel, long center,
                          double center_frac, uint64_t seed)
{
    long na = 0;
    if (acq)
        for (long i = 0; i < n; i++) na += acq[i] != 0.0f;
    if (!acq || na == n) return mg_mask_make(type, mask, n, accel, center, center_frac, seed);
    if (na == 0) {
        mg_set_error("no acquired phase-encode lines to undersample");
        return -1;
    }
    /* the mask of the na acquired lines, placed on them, its centre block
     * rotated (within the acquired lines) onto the lines it would cover
     * without padding, so that the calibration lines stay at the k-space
     * centre when the padding is not symmetric */
    float *m = mg_malloc_array((size_t)na, sizeof(float));
    long *pos = mg_malloc_array((size_t)na, sizeof(long));
    double cf = center_frac >= 0 ? center_frac : (double)center / (double)na;
    if (mg_mask_make(type, m, na, accel, center, cf, seed)) {
        free(m);
        free(pos);
        return -1;
    }
    long k = 0, want = -1;
    const long c0 = mg_mask_center_start(n, center);
    for (long i = 0; i < n; i++)
        if (acq[i] != 0.0f) {
            if (i == c0) want = k;
            pos[k++] = i;
        }
    const long shift = want >= 0 ? want - mg_mask_center_start(na, center) : 0;
    for (long i = 0; i < n; i++) mask[i] = 0.0f;
    for (long j = 0; j < na; j++) mask[pos[((j + shift) % na + na) % na]] = m[j];
    free(m);
    free(pos);
    return 0;
}

uint64_t mg_mask_slice_seed(uint64_t seed, long slice)
{
    return mg_seed_mix(seed, (uint64_t)slice, 0x6d61736bULL);
}

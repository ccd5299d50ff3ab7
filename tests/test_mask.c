/* Sampling masks: exact net R, centre block, reproducibility, seeds, and the
 * linear density fall-off measured over many draws. */
#include "testutil.h"
#include "mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_vd_exact_count(void **state)
{
    (void)state;
    const struct { long n; double R; long c, want; } cases[] = {
        {256, 4, 12, 64}, {128, 4, 12, 32}, {230, 4, 12, 58}, {180, 4, 12, 45},
        {100, 3, 10, 33}, {64, 8, 8, 8},    {256, 2, 12, 128}, {256, 1, 12, 256}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        float *m = mg_malloc_array((size_t)cases[t].n, sizeof(float));
        for (uint64_t seed = 0; seed < 50; seed++) {
            assert_int_equal(mg_mask_vd(m, cases[t].n, cases[t].R, cases[t].c, seed), 0);
            long k = mg_mask_count(m, cases[t].n);
            if (k != cases[t].want)
                fail_msg("n=%ld R=%g: %ld lines, want %ld", cases[t].n, cases[t].R, k, cases[t].want);
            assert_int_equal(mg_mask_check(m, cases[t].n, "test"), 0);
        }
        free(m);
    }
}

static void test_vd_center_block(void **state)
{
    (void)state;
    float m[256];
    assert_int_equal(mg_mask_center_start(256, 12), 122);
    assert_int_equal(mg_mask_vd(m, 256, 4, 12, 9), 0);
    for (int i = 122; i <= 133; i++) assert_true(m[i] == 1.0f);
    /* odd sizes follow the same (n - c + 1) / 2 rule */
    assert_int_equal(mg_mask_center_start(181, 12), 85);
}

static void test_vd_seeds(void **state)
{
    (void)state;
    float a[256], b[256];
    assert_int_equal(mg_mask_vd(a, 256, 4, 12, 42), 0);
    assert_int_equal(mg_mask_vd(b, 256, 4, 12, 42), 0);
    assert_memory_equal(a, b, sizeof a); /* reproducible */
    int distinct = 0;
    for (uint64_t s = 1; s <= 20; s++) {
        assert_int_equal(mg_mask_vd(b, 256, 4, 12, 42 + s), 0);
        distinct += memcmp(a, b, sizeof a) != 0;
    }
    assert_int_equal(distinct, 20); /* every other seed gives another mask */
}

/* Inclusion frequency over 4000 seeds falls linearly with the distance from
 * the centre block: a least-squares line fits it with R^2 > 0.95 and a
 * negative slope, and it adds up to the drawn line count. */
static void test_vd_linear_density(void **state)
{
    (void)state;
    const long n = 256, c = 12, draws = 4000;
    double freq[256] = {0};
    float m[256];
    for (long s = 0; s < draws; s++) {
        assert_int_equal(mg_mask_vd(m, n, 4, c, 1000 + (uint64_t)s), 0);
        for (long i = 0; i < n; i++) freq[i] += m[i];
    }
    double sum = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    long k = 0;
    long c0 = mg_mask_center_start(n, c);
    for (long i = 0; i < n; i++) {
        freq[i] /= (double)draws;
        if (i >= c0 && i < c0 + c) continue;
        sum += freq[i];
        double d = i < c0 ? (double)(c0 - i) : (double)(i - (c0 + c - 1));
        sx += d; sy += freq[i]; sxx += d * d; sxy += d * freq[i]; syy += freq[i] * freq[i];
        k++;
    }
    assert_true(fabs(sum - 52.0) < 1e-9);
    double slope = (k * sxy - sx * sy) / (k * sxx - sx * sx);
    double r2 = pow(k * sxy - sx * sy, 2) / ((k * sxx - sx * sx) * (k * syy - sy * sy));
    if (!(slope < 0 && r2 > 0.95)) fail_msg("slope %g r2 %g", slope, r2);
}

static void test_vd_errors(void **state)
{
    (void)state;
    float m[64];
    assert_int_equal(mg_mask_vd(m, 64, 0.5, 12, 1), -1);
    assert_non_null(strstr(mg_error(), "acceleration"));
    assert_int_equal(mg_mask_vd(m, 64, 100, 12, 1), -1);   /* R larger than the lines */
    assert_int_equal(mg_mask_vd(m, 64, 8, 12, 1), -1);     /* 8 lines < 12 centre lines */
    assert_int_equal(mg_mask_vd(m, 64, NAN, 12, 1), -1);
    assert_int_equal(mg_mask_vd(m, 64, 4, 65, 1), -1);
    for (int i = 0; i < 64; i++) m[i] = 0;
    assert_int_equal(mg_mask_check(m, 64, "empty"), -1);  /* empty mask */
    m[3] = 0.5f;
    assert_int_equal(mg_mask_check(m, 64, "frac"), -1);
}

static void test_random_mask(void **state)
{
    (void)state;
    const long n = 320;
    float m[320];
    double total = 0;
    long low = lround(n * 0.08);
    long c0 = mg_mask_center_start(n, low);
    for (uint64_t s = 0; s < 400; s++) {
        assert_int_equal(mg_mask_random(m, n, 4, 0.08, s), 0);
        for (long i = c0; i < c0 + low; i++) assert_true(m[i] == 1.0f);
        total += (double)mg_mask_count(m, n);
    }
    /* expected count n/R exactly (low + p (n - low)); std of the mean ~0.4 */
    assert_true(fabs(total / 400.0 - n / 4.0) < 2.0);
}

static void test_equispaced_mask(void **state)
{
    (void)state;
    const long n = 200;
    float m[200];
    assert_int_equal(mg_mask_equispaced(m, n, 4, 0.08, 3), 0);
    long low = lround(n * 0.08), c0 = mg_mask_center_start(n, low);
    long first = -1;
    for (long i = 0; i < n; i++)
        if (m[i] != 0.0f && (i < c0 || i >= c0 + low)) { first = i; break; }
    assert_true(first >= 0 && first < 4);
    for (long i = 0; i < n; i++) {
        int in_center = i >= c0 && i < c0 + low;
        int on_grid = (i - first) % 4 == 0 && i >= first;
        assert_int_equal(m[i] != 0.0f, in_center || on_grid);
    }
}

/* Masks over acquired lines: padding never sampled, R counts acquired lines
 * exactly, the centre block on the k-space centre even for uneven padding,
 * and the plain mask when every line was acquired. */
static void test_mask_acquired(void **state)
{
    (void)state;
    const long n = 396, c = 12;
    float acq[396], m[396], m2[396];
    for (long i = 0; i < n; i++) acq[i] = i >= 10 && i < 394; /* 10 padded lines below, 2 above */
    for (int type = 0; type < 3; type++)
        for (uint64_t seed = 1; seed <= 20; seed++) {
            assert_int_equal(mg_mask_make_acquired(type, m, acq, n, 4.0, c, -1, seed), 0);
            long k = 0;
            for (long i = 0; i < n; i++) {
                if (acq[i] == 0.0f) assert_true(m[i] == 0.0f);
                k += m[i] != 0.0f;
            }
            assert_int_equal(k, type == 0 ? 96 : k); /* 384 acquired / 4 */
            if (type == 0) /* the same centre lines as without padding */
                for (long i = mg_mask_center_start(n, c); i < mg_mask_center_start(n, c) + c; i++)
                    assert_true(m[i] == 1.0f);
        }
    for (long i = 0; i < n; i++) acq[i] = 1.0f;
    assert_int_equal(mg_mask_make_acquired(MG_MASK_VD, m, acq, n, 4.0, c, -1, 7), 0);
    assert_int_equal(mg_mask_make(MG_MASK_VD, m2, n, 4.0, c, -1, 7), 0);
    assert_memory_equal(m, m2, sizeof m);
    for (long i = 0; i < n; i++) acq[i] = 0.0f;
    assert_int_equal(mg_mask_make_acquired(MG_MASK_VD, m, acq, n, 4.0, c, -1, 7), -1);
}

/* the acquired lines of k-space: inside the range and not zero in every coil */
static void test_acquired_lines(void **state)
{
    (void)state;
    const long C = 2, H = 8, W = 4;
    cfloat k[2 * 8 * 4] = {0};
    float acq[8];
    for (long y = 0; y < H; y++)
        if (y != 3) k[(1 * H + y) * W + 2] = 1.0f; /* line 3 empty in both coils */
    assert_int_equal(mg_acquired_lines(k, C, H, W, 1, 7, acq), 5); /* 1, 2, 4, 5, 6 */
    const float want[8] = {0, 1, 1, 0, 1, 1, 1, 0};
    assert_memory_equal(acq, want, sizeof want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_acquired), cmocka_unit_test(test_acquired_lines),
        cmocka_unit_test(test_vd_exact_count),   cmocka_unit_test(test_vd_center_block),
        cmocka_unit_test(test_vd_seeds),         cmocka_unit_test(test_vd_linear_density),
        cmocka_unit_test(test_vd_errors),        cmocka_unit_test(test_random_mask),
        cmocka_unit_test(test_equispaced_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

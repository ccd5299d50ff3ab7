/* Adjoint tests <Ax, y> = <x, A^H y> for S, M, F and A = M F S, and the
 * forward model against a direct computation. */
#include "testutil.h"
#include "fft/fft.h"
#include "mri/mri.h"

#include <math.h>
#include <stdlib.h>

#define C 4
#define H 12
#define W 10
#define N (H * W)

static void setup_maps(cfloat *sens, mg_rng *r) { tu_randn_c(sens, C * N, r); }

static void test_adjoint_S(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 1);
    cfloat sens[C * N], x[N], y[C * N], Sx[C * N], Shy[N];
    setup_maps(sens, &r);
    tu_randn_c(x, N, &r);
    tu_randn_c(y, C * N, &r);
    mg_sens_apply(x, sens, Sx, C, H, W);
    mg_sens_adjoint(y, sens, Shy, C, H, W);
    assert_true(tu_reldiff(tu_dot(Sx, y, C * N), tu_dot(x, Shy, N)) < 1e-5);
}

static void test_adjoint_M(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 2);
    float mask[H];
    for (int i = 0; i < H; i++) mask[i] = (i % 3) == 0;
    cfloat x[C * N], y[C * N], Mx[C * N], My[C * N];
    tu_randn_c(x, C * N, &r);
    tu_randn_c(y, C * N, &r);
    for (int i = 0; i < C * N; i++) Mx[i] = x[i], My[i] = y[i];
    mg_mask_apply(Mx, mask, C, H, W);
    mg_mask_apply(My, mask, C, H, W);
    assert_true(tu_reldiff(tu_dot(Mx, y, C * N), tu_dot(x, My, C * N)) < 1e-5);
    /* M zeroes exactly the unsampled lines */
    for (int c = 0; c < C; c++)
        for (int yy = 0; yy < H; yy++)
            for (int xx = 0; xx < W; xx++) {
                cfloat v = Mx[(c * H + yy) * W + xx];
                if (mask[yy] == 0.0f) assert_true(v == 0.0f);
                else assert_true(v == x[(c * H + yy) * W + xx]);
            }
}

static void test_adjoint_A(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 3);
    float mask[H];
    assert_int_equal(mg_mask_vd(mask, H, 2.0, 4, 5), 0);
    cfloat sens[C * N], x[N], y[C * N], Ax[C * N], Ahy[N];
    setup_maps(sens, &r);
    tu_randn_c(x, N, &r);
    tu_randn_c(y, C * N, &r);
    mg_sense_forward(x, sens, mask, Ax, C, H, W);
    mg_sense_adjoint(y, sens, mask, Ahy, NULL, C, H, W);
    double rd = tu_reldiff(tu_dot(Ax, y, C * N), tu_dot(x, Ahy, N));
    if (rd > 1e-5) fail_msg("A adjoint mismatch %g", rd);
    /* also without a mask (A = F S), and the zero-filled recon equals A^H */
    mg_sense_forward(x, sens, NULL, Ax, C, H, W);
    mg_sense_adjoint(y, sens, NULL, Ahy, NULL, C, H, W);
    assert_true(tu_reldiff(tu_dot(Ax, y, C * N), tu_dot(x, Ahy, N)) < 1e-5);
    cfloat zf[N];
    mg_zerofill(y, sens, NULL, zf, C, H, W);
    for (int i = 0; i < N; i++) assert_true(cabsf(zf[i] - Ahy[i]) <= 1e-5f * (1 + cabsf(Ahy[i])));
}

/* The operator object: adjoint, normal = A^H A, residual = A^H (A x - y),
 * and the data term, each against the plain functions' composition */
static void test_sense_op(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 7);
    float mask[H];
    assert_int_equal(mg_mask_vd(mask, H, 2.0, 4, 3), 0);
    cfloat sens[C * N], x[N], y[C * N], Ax[C * N], Ahy[N], AhAx[N], nx[N], res[N], work[C * N];
    setup_maps(sens, &r);
    tu_randn_c(x, N, &r);
    tu_randn_c(y, C * N, &r);
    mg_sense_op op;
    mg_sense_op_init(&op, sens, mask, C, H, W, work);
    mg_sense_op_forward(&op, x, Ax);
    mg_sense_op_adjoint(&op, y, Ahy);
    assert_true(tu_reldiff(tu_dot(Ax, y, C * N), tu_dot(x, Ahy, N)) < 1e-5);
    mg_sense_op_adjoint(&op, Ax, AhAx);
    mg_sense_op_normal(&op, x, nx);
    for (int i = 0; i < N; i++) assert_true(cabsf(nx[i] - AhAx[i]) <= 1e-5f * (1 + cabsf(AhAx[i])));
    /* <x, A^H A x> = ||A x||^2, real and >= 0 */
    double complex q = tu_dot(x, nx, N);
    double ax = tu_norm(Ax, C * N);
    assert_true(fabs(creal(q) - ax * ax) < 1e-4 * ax * ax && fabs(cimag(q)) < 1e-4 * ax * ax);
    mg_sense_op_residual(&op, x, y, res);
    for (int i = 0; i < N; i++)
        assert_true(cabsf(res[i] - (AhAx[i] - Ahy[i])) <= 1e-4f * (1 + cabsf(AhAx[i]) + cabsf(Ahy[i])));
    double d = 0;
    for (int i = 0; i < C * N; i++) d += pow(cabsf(Ax[i] - y[i]), 2); /* A x is 0 on unsampled lines */
    assert_true(fabs(mg_sense_op_data_term(&op, x, y) - 0.5 * d) < 1e-4 * d);
    mg_sense_op_free(&op);
}

/* Two map sets (soft SENSE): adjoint test, normal = A^H A, the forward as
 * the sum of the one-set forwards, residual and data term; zero filling
 * with sets and their combination (root-sum-of-squares, set 1's phase) */
static void test_sense_op_sets(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 9);
    float mask[H];
    assert_int_equal(mg_mask_vd(mask, H, 2.0, 4, 5), 0);
    static cfloat sens[2 * C * N], x[2 * N], y[C * N], Ax[C * N], A0[C * N], A1[C * N], Ahy[2 * N], AhAx[2 * N],
        nx[2 * N], res[2 * N], work[C * N], zf[N], comb[N];
    setup_maps(sens, &r);
    setup_maps(sens + C * N, &r);
    tu_randn_c(x, 2 * N, &r);
    tu_randn_c(y, C * N, &r);
    mg_sense_op op;
    mg_sense_op_init_sets(&op, sens, 2, mask, C, H, W, work);
    mg_sense_op_forward(&op, x, Ax);
    mg_sense_forward(x, sens, mask, A0, C, H, W);
    mg_sense_forward(x + N, sens + C * N, mask, A1, C, H, W);
    for (int i = 0; i < C * N; i++) assert_true(cabsf(Ax[i] - A0[i] - A1[i]) <= 1e-5f * (1 + cabsf(Ax[i])));
    mg_sense_op_adjoint(&op, y, Ahy);
    assert_true(tu_reldiff(tu_dot(Ax, y, C * N), tu_dot(x, Ahy, 2 * N)) < 1e-5);
    mg_sense_op_adjoint(&op, Ax, AhAx);
    mg_sense_op_normal(&op, x, nx);
    for (int i = 0; i < 2 * N; i++) assert_true(cabsf(nx[i] - AhAx[i]) <= 1e-5f * (1 + cabsf(AhAx[i])));
    mg_sense_op_residual(&op, x, y, res);
    for (int i = 0; i < 2 * N; i++)
        assert_true(cabsf(res[i] - (AhAx[i] - Ahy[i])) <= 1e-4f * (1 + cabsf(AhAx[i]) + cabsf(Ahy[i])));
    double d = 0;
    for (int i = 0; i < C * N; i++) d += pow(cabsf(Ax[i] - y[i]), 2);
    assert_true(fabs(mg_sense_op_data_term(&op, x, y) - 0.5 * d) < 1e-4 * d);
    mg_zerofill_sets(y, sens, 2, mask, zf, C, H, W);
    mg_sense_op_adjoint(&op, y, Ahy);
    mg_sets_combine(Ahy, 2, N, comb);
    for (int i = 0; i < N; i++) {
        const double want = sqrt(pow(cabsf(Ahy[i]), 2) + pow(cabsf(Ahy[N + i]), 2));
        assert_true(fabs(cabsf(comb[i]) - want) <= 1e-5 * (1 + want));
        assert_true(cabsf(zf[i] - comb[i]) <= 1e-5f * (1 + cabsf(comb[i])));
        if (cabsf(Ahy[i]) > 1e-3f) assert_true(fabs(cargf(comb[i]) - cargf(Ahy[i])) < 1e-3 || fabs(fabs(cargf(comb[i]) - cargf(Ahy[i])) - 2 * M_PI) < 1e-3);
    }
    mg_sense_op_free(&op);
}

/* A x and A^H y by direct DFTs (double precision) for h rows: the closed form */
static double complex dft_phase(int k, int n, int len, int sign)
{
    return cexp(sign * 2 * M_PI * I * (double)((k - len / 2) * (n - len / 2)) / len);
}
static void direct_A(const cfloat *sens, const float *mask, const cfloat *x, double complex *k, int h)
{
    const int n = h * W;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < h; ky++)
            for (int kx = 0; kx < W; kx++) {
                double complex s = 0;
                if (mask[ky] != 0.0f)
                    for (int yy = 0; yy < h; yy++)
                        for (int xx = 0; xx < W; xx++)
                            s += (double complex)sens[c * n + yy * W + xx] * x[yy * W + xx] *
                                 dft_phase(ky, yy, h, -1) * dft_phase(kx, xx, W, -1);
                k[(c * h + ky) * W + kx] = s / sqrt((double)n);
            }
}
static void direct_AH(const cfloat *sens, const float *mask, const double complex *k, double complex *x, int h)
{
    const int n = h * W;
    for (int yy = 0; yy < h; yy++)
        for (int xx = 0; xx < W; xx++) {
            double complex a = 0;
            for (int c = 0; c < C; c++) {
                double complex s = 0;
                for (int ky = 0; ky < h; ky++)
                    if (mask[ky] != 0.0f)
                        for (int kx = 0; kx < W; kx++)
                            s += k[(c * h + ky) * W + kx] * dft_phase(ky, yy, h, 1) * dft_phase(kx, xx, W, 1);
                a += conj((double complex)sens[c * n + yy * W + xx]) * s;
            }
            x[yy * W + xx] = a / sqrt((double)n);
        }
}

/* Forward model against a direct DFT of s_c * x with the mask. */
static void test_forward_direct(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 4);
    float mask[H];
    for (int i = 0; i < H; i++) mask[i] = (i % 2) == 0 || i == H / 2;
    cfloat sens[C * N], x[N], Ax[C * N];
    double complex k[C * N];
    setup_maps(sens, &r);
    tu_randn_c(x, N, &r);
    mg_sense_forward(x, sens, mask, Ax, C, H, W);
    direct_A(sens, mask, x, k, H);
    double e = 0, nr = 0;
    for (int i = 0; i < C * N; i++) e += pow(cabs(k[i] - Ax[i]), 2), nr += pow(cabs(k[i]), 2);
    assert_true(sqrt(e / nr) < 1e-5);
}

/* The phase-encode-only path (sense_pe.c): A^H A x and A^H (A x - y)
 * against direct DFTs, for H/2 even and odd (the centring's signs differ);
 * where it does not fit (odd H, no mask) */
static void test_sense_pe(void **state)
{
    (void)state;
    const int hs[2] = {H, H - 2};
    for (int v = 0; v < 2; v++) {
        const int h = hs[v], n = h * W;
        mg_rng r;
        mg_rng_seed(&r, 12 + (uint64_t)v);
        float mask[H];
        assert_int_equal(mg_mask_vd(mask, h, 2.0, 4, 8), 0);
        static cfloat sens[C * N], x[N], y[C * N], hyb[C * N], t[C * N], work[C * N], res[N], nx[N];
        static double complex k[C * N], want[N], ahy[N], yd[C * N];
        tu_randn_c(sens, (size_t)(C * n), &r);
        tu_randn_c(x, (size_t)n, &r);
        tu_randn_c(y, (size_t)(C * n), &r); /* unmasked: the data term must mask it */
        assert_true(mg_sense_pe_fits(h, mask));
        assert_false(mg_sense_pe_fits(h + 1, mask));
        assert_false(mg_sense_pe_fits(h, NULL));
        mg_sense_pe_data(y, mask, C, h, W, work, hyb);
        mg_sense_pe_residual(sens, mask, hyb, x, res, t, C, h, W);
        mg_sense_pe_residual(sens, mask, NULL, x, nx, t, C, h, W);
        direct_A(sens, mask, x, k, h);
        direct_AH(sens, mask, k, want, h); /* A^H A x */
        for (int i = 0; i < C * n; i++) yd[i] = y[i];
        direct_AH(sens, mask, yd, ahy, h);
        double e1 = 0, e2 = 0, n1 = 0, n2 = 0;
        for (int i = 0; i < n; i++) {
            e1 += pow(cabs(nx[i] - want[i]), 2), n1 += pow(cabs(want[i]), 2);
            e2 += pow(cabs(res[i] - (want[i] - ahy[i])), 2), n2 += pow(cabs(want[i] - ahy[i]), 2);
        }
        print_message("H %d: phase-encode path vs direct DFTs: normal %.2e, residual %.2e\n", h, sqrt(e1 / n1),
                      sqrt(e2 / n2));
        assert_true(sqrt(e1 / n1) < 1e-5 && sqrt(e2 / n2) < 1e-5);
        /* the operator object takes this path for its normal (two sets keep the 2D FFTs: test_sense_op_sets) */
        mg_sense_op op;
        mg_sense_op_init(&op, sens, mask, C, h, W, work);
        mg_sense_op_normal(&op, x, nx);
        for (int i = 0; i < n; i++) assert_true(cabs(nx[i] - want[i]) <= 1e-5 * (1 + cabs(want[i])));
        mg_sense_op_free(&op);
    }
}

/* With unit-norm maps and full sampling, mf = S^H F^-1 F S m = m. */
static void test_fully_sampled_identity(void **state)
{
    (void)state;
    const long h = 32, w = 32, c = 8, n = h * w;
    cfloat *sens = mg_malloc_array((size_t)(c * n), sizeof(cfloat));
    cfloat *k = mg_malloc_array((size_t)(c * n), sizeof(cfloat));
    cfloat m[32 * 32], mf[32 * 32];
    mg_rng r;
    mg_rng_seed(&r, 5);
    tu_randn_c(m, (size_t)n, &r);
    mg_birdcage_maps(sens, c, h, w, 1.5, 0.3);
    for (long i = 0; i < n; i++) {
        double a = 0;
        for (long j = 0; j < c; j++) a += pow(cabsf(sens[j * n + i]), 2);
        assert_true(fabs(a - 1.0) < 1e-5);
    }
    mg_simulate_kspace(m, sens, c, h, w, 0.0, &r, k);
    mg_zerofill(k, sens, NULL, mf, c, h, w);
    for (long i = 0; i < n; i++) assert_true(cabsf(mf[i] - m[i]) < 1e-4f);
    free(sens);
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adjoint_S),      cmocka_unit_test(test_adjoint_M),
        cmocka_unit_test(test_adjoint_A),      cmocka_unit_test(test_forward_direct),
        cmocka_unit_test(test_fully_sampled_identity), cmocka_unit_test(test_sense_op),
        cmocka_unit_test(test_sense_op_sets),   cmocka_unit_test(test_sense_pe),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mg_fft_cleanup();
    return rc;
}

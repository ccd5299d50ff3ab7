/* Classical reconstructions: wavelets against the closed-form db2 filter
 * and perfect reconstruction; TV operator adjoint; FISTA/ISTA objective
 * behaviour and the l1 optimality conditions; ADMM; bart-style scaling;
 * ARC's hybrid application against direct k-space convolution. */
#include "testutil.h"
#include "fft/fft.h"
#include "metrics/metrics.h"
#include "mri/mri.h"
#include "recon/recon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* CG on a Hermitian positive definite 6x6 system M = B^H B + I with a known
 * solution: exact (to float precision) after n iterations; the warm start
 * at the solution stays there */
enum { CGN = 6 };
static double complex cgm[CGN][CGN];
static void cg_apply(void *ctx, const cfloat *in, cfloat *out)
{
    (void)ctx;
    for (int i = 0; i < CGN; i++) {
        double complex s = 0;
        for (int j = 0; j < CGN; j++) s += cgm[i][j] * in[j];
        out[i] = (cfloat)s;
    }
}

static void test_cg(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 11);
    cfloat bm[CGN * CGN], xt[CGN], b[CGN], x[CGN];
    tu_randn_c(bm, CGN * CGN, &r);
    tu_randn_c(xt, CGN, &r);
    for (int i = 0; i < CGN; i++)
        for (int j = 0; j < CGN; j++) {
            double complex s = i == j;
            for (int k = 0; k < CGN; k++) s += conj((double complex)bm[k * CGN + i]) * bm[k * CGN + j];
            cgm[i][j] = s;
        }
    cg_apply(NULL, xt, b);
    for (int i = 0; i < CGN; i++) x[i] = 0;
    assert_int_equal(mg_cg(cg_apply, NULL, b, x, CGN, CGN), CGN);
    for (int i = 0; i < CGN; i++) assert_true(cabsf(x[i] - xt[i]) < 1e-3f * (1 + cabsf(xt[i])));
    /* fewer iterations: an error that shrinks in M's norm (what CG minimises) */
    double prev = 1e30;
    for (int it = 1; it <= 3; it++) {
        cfloat q[CGN], e[CGN];
        for (int i = 0; i < CGN; i++) x[i] = 0;
        assert_int_equal(mg_cg(cg_apply, NULL, b, x, CGN, it), it);
        for (int i = 0; i < CGN; i++) e[i] = x[i] - xt[i];
        cg_apply(NULL, e, q);
        const double rn = creal(tu_dot(e, q, CGN));
        assert_true(rn < prev);
        prev = rn;
    }
}

static void test_wavelet_pr_and_orthonormal(void **state)
{
    (void)state;
    const int types[3] = {MG_WAV_HAAR, MG_WAV_DB2, MG_WAV_DB4};
    const long H = 32, W = 48, n = H * W;
    cfloat x[32 * 48], y[32 * 48], wx[32 * 48], wy[32 * 48], tmp[48];
    mg_rng r;
    mg_rng_seed(&r, 2);
    tu_randn_c(x, (size_t)n, &r);
    tu_randn_c(y, (size_t)n, &r);
    for (int t = 0; t < 3; t++) {
        mg_wavelet w;
        assert_int_equal(mg_wavelet_init(&w, types[t], 3), 0);
        memcpy(wx, x, sizeof x);
        mg_wavelet_forward(&w, wx, H, W, tmp);
        assert_true(fabs(tu_norm(wx, (size_t)n) / tu_norm(x, (size_t)n) - 1) < 1e-5); /* isometry */
        memcpy(wy, y, sizeof y);
        mg_wavelet_inverse(&w, wy, H, W, tmp); /* adjoint = inverse */
        assert_true(tu_reldiff(tu_dot(wx, y, (size_t)n), tu_dot(x, wy, (size_t)n)) < 1e-5);
        mg_wavelet_inverse(&w, wx, H, W, tmp);
        for (long i = 0; i < n; i++) wx[i] -= x[i];
        assert_true(tu_norm(wx, (size_t)n) / tu_norm(x, (size_t)n) < 1e-5); /* perfect reconstruction */
    }
    assert_int_equal(mg_wavelet_levels(256, 256), 5);
    assert_int_equal(mg_wavelet_levels(180, 230), 1);
}

/* One level on one row against db2 written from its closed form
 * h = ((1+sqrt3), (3+sqrt3), (3-sqrt3), (1-sqrt3)) / (4 sqrt2); a linear ramp
 * has zero detail coefficients away from the periodic wrap (2 vanishing moments). */
static void test_wavelet_db2_closed_form(void **state)
{
    (void)state;
    const double s3 = sqrt(3.0), d = 4 * sqrt(2.0);
    const double h[4] = {(1 + s3) / d, (3 + s3) / d, (3 - s3) / d, (1 - s3) / d};
    const long H = 2, W = 16;
    cfloat x[32], tmp[16];
    mg_rng r;
    mg_rng_seed(&r, 3);
    for (int i = 0; i < 32; i++) x[i] = (float)mg_rng_normal(&r);
    x[16] = 0; /* make row 1 differ */
    cfloat row[16];
    memcpy(row, x, sizeof row);
    mg_wavelet w;
    mg_wavelet_init(&w, MG_WAV_DB2, 1);
    /* only the row transform: use a one-row "image" of height... emulate with H=2
     * and compare after undoing the column step analytically: columns of 2 pixels
     * with db2 mix rows, so test on a 1D line directly instead */
    cfloat line[2 * 16];
    memcpy(line, row, sizeof row);
    memcpy(line + 16, row, sizeof row); /* identical rows: column detail = 0, column approx = sqrt2 * row */
    mg_wavelet_forward(&w, line, H, W, tmp);
    for (long i = 0; i < W / 2; i++) {
        double a = 0, g = 0;
        for (int k = 0; k < 4; k++) {
            a += h[k] * crealf(row[(2 * i + k) % W]);
            g += ((k % 2) ? -1 : 1) * h[3 - k] * crealf(row[(2 * i + k) % W]);
        }
        /* column pass over two identical rows multiplies by (h0+h2)+(h1+h3) = sqrt2 */
        assert_true(fabs(crealf(line[i]) - sqrt(2.0) * a) < 1e-5);
        assert_true(fabs(crealf(line[W / 2 + i]) - sqrt(2.0) * g) < 1e-5);
        assert_true(cabsf(line[16 + i]) < 1e-5);
    }
    for (int i = 0; i < 16; i++) line[i] = line[16 + i] = (float)i;
    mg_wavelet_forward(&w, line, H, W, tmp);
    for (long i = 0; i < W / 2 - 2; i++) assert_true(cabsf(line[W / 2 + i]) < 1e-4);
    (void)x;
}

static void test_tv_adjoint(void **state)
{
    (void)state;
    const long H = 9, W = 7, n = H * W;
    cfloat x[63], g[126], y[126], gy[63];
    mg_rng r;
    mg_rng_seed(&r, 4);
    tu_randn_c(x, (size_t)n, &r);
    tu_randn_c(y, (size_t)(2 * n), &r);
    mg_grad_forward(x, g, H, W);
    mg_grad_adjoint(y, gy, H, W);
    assert_true(tu_reldiff(tu_dot(g, y, (size_t)(2 * n)), tu_dot(x, gy, (size_t)n)) < 1e-5);
    /* direct: TV of a unit step along x is H (one jump per row, circular: two) */
    for (long i = 0; i < n; i++) x[i] = (i % W) < 3 ? 1.0f : 0.0f;
    assert_true(fabs(mg_tv_norm(x, H, W) - 2.0 * H) < 1e-5);
}

/* phantom data: 32x32, 4 coils, R=4 mask with 6 centre lines */
typedef struct {
    cfloat m[32 * 32], sens[4 * 32 * 32], k[4 * 32 * 32];
    float mask[32];
} prob;

static void make_prob(prob *p, double noise)
{
    mg_rng r;
    mg_rng_seed(&r, 5);
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) {
            double X = (x - 16) / 12.0, Y = (y - 16) / 13.0;
            double v = X * X + Y * Y < 1 ? 0.8 : 0.0;
            if ((X - 0.3) * (X - 0.3) + Y * Y < 0.1) v = 0.3;
            if (fabs(X + 0.3) < 0.1 && fabs(Y) < 0.5) v = 1.0;
            p->m[y * 32 + x] = (float)v;
        }
    mg_birdcage_maps(p->sens, 4, 32, 32, 1.5, 0.1);
    mg_simulate_kspace(p->m, p->sens, 4, 32, 32, noise, &r, p->k);
    mg_mask_vd(p->mask, 32, 4.0, 6, 3);
}

static double nmse_vs_truth(const cfloat *a, const cfloat *m)
{
    mg_nmse_acc acc = {0, 0};
    mg_nmse_add_mag(&acc, m, a, 32 * 32);
    return mg_nmse_value(&acc);
}

static void test_fista_ista_objective(void **state)
{
    (void)state;
    static prob p;
    make_prob(&p, 0.01);
    double obj_ista[60], obj_fista[60];
    cfloat img[32 * 32];
    mg_cs_opts o;
    mg_cs_defaults(&o, MG_REG_WAVELET);
    o.randshift = 0;
    o.scale = 1.0f;
    o.lambda = 0.01f;
    o.iters = 60;
    o.momentum = 0;
    o.objective = obj_ista;
    mg_cs_recon(p.k, p.sens, p.mask, 4, 32, 32, &o, img);
    for (int i = 1; i < 60; i++) /* ISTA with step < 2/L is monotone */
        if (obj_ista[i] > obj_ista[i - 1] * (1 + 1e-6)) fail_msg("ISTA objective rose at %d: %g -> %g", i, obj_ista[i - 1], obj_ista[i]);
    o.momentum = 1;
    o.objective = obj_fista;
    mg_cs_recon(p.k, p.sens, p.mask, 4, 32, 32, &o, img);
    assert_true(obj_fista[59] <= obj_ista[59]); /* FISTA converges faster */
}

/* The l1-wavelet solution satisfies its optimality conditions: with
 * g = Psi A^H (y - A x) and w = Psi x, g_i = lambda w_i / |w_i| where w_i != 0
 * and |g_i| <= lambda where w_i = 0. */
/* Two map sets whose second is zero give the one-set reconstruction (both
 * regularisers): the set images are solved jointly, set by set */
static void test_cs_sets(void **state)
{
    (void)state;
    static prob p;
    static cfloat sens2[2 * 4 * 32 * 32];
    make_prob(&p, 0.01);
    memcpy(sens2, p.sens, sizeof p.sens);
    for (int reg = MG_REG_WAVELET; reg <= MG_REG_TV; reg++) {
        cfloat a[32 * 32], b[32 * 32];
        mg_cs_opts o;
        mg_cs_defaults(&o, reg);
        o.iters = 10;
        mg_cs_recon(p.k, p.sens, p.mask, 4, 32, 32, &o, a);
        o.sets = 2;
        mg_cs_recon(p.k, sens2, p.mask, 4, 32, 32, &o, b);
        double e = 0, r = 0;
        for (int i = 0; i < 32 * 32; i++) e += pow(cabsf(a[i] - b[i]), 2), r += pow(cabsf(a[i]), 2);
        if (!(sqrt(e / r) < 1e-4)) fail_msg("reg %d: two sets (second zero) differ from one by %g", reg, sqrt(e / r));
    }
}

static void test_fista_optimality(void **state)
{
    (void)state;
    static prob p;
    make_prob(&p, 0.01);
    cfloat x[1024], w[1024], g[1024], k[4 * 1024], tmp[32];
    mg_cs_opts o;
    mg_cs_defaults(&o, MG_REG_WAVELET);
    o.randshift = 0;
    o.scale = 1.0f;
    o.lambda = 0.01f;
    o.iters = 3000;
    mg_cs_recon(p.k, p.sens, p.mask, 4, 32, 32, &o, x);
    mg_sense_forward(x, p.sens, p.mask, k, 4, 32, 32);
    for (int i = 0; i < 4 * 1024; i++) k[i] = p.k[i] - k[i];
    mg_sense_adjoint(k, p.sens, p.mask, g, NULL, 4, 32, 32);
    mg_wavelet wv;
    mg_wavelet_init(&wv, MG_WAV_DB2, 2); /* 32 -> levels as the solver: min(4, while >= 8*2) */
    int L = 0;
    while (L < 4 && (32 >> (L + 1)) >= 8) L++;
    mg_wavelet_init(&wv, MG_WAV_DB2, L);
    memcpy(w, x, sizeof x);
    mg_wavelet_forward(&wv, w, 32, 32, tmp);
    mg_wavelet_forward(&wv, g, 32, 32, tmp);
    double worst_zero = 0, worst_nz = 0;
    int nz = 0;
    for (int i = 0; i < 1024; i++) {
        if (cabsf(w[i]) < 1e-6f) worst_zero = fmax(worst_zero, cabsf(g[i]) / o.lambda);
        else {
            nz++;
            worst_nz = fmax(worst_nz, cabsf(g[i] - o.lambda * w[i] / cabsf(w[i])) / o.lambda);
        }
    }
    print_message("KKT: %d non-zero coefficients, max |g|/lambda on zeros %.4f, max deviation on non-zeros %.4f\n",
                  nz, worst_zero, worst_nz);
    assert_true(nz > 10 && nz < 1000);
    assert_true(worst_zero <= 1.01 && worst_nz < 0.05);
}

static void test_cs_beats_zerofill(void **state)
{
    (void)state;
    static prob p;
    make_prob(&p, 0.005);
    cfloat zf[1024], img[1024];
    mg_zerofill(p.k, p.sens, p.mask, zf, 4, 32, 32);
    double nz = nmse_vs_truth(zf, p.m);
    for (int reg = 0; reg < 2; reg++) {
        mg_cs_opts o;
        mg_cs_defaults(&o, reg);
        double obj[30];
        o.objective = obj;
        mg_cs_recon(p.k, p.sens, p.mask, 4, 32, 32, &o, img);
        double nc = nmse_vs_truth(img, p.m);
        print_message("%s: NMSE %.5f vs zero-filled %.5f; objective %g -> %g\n", reg ? "TV" : "wavelet", nc, nz, obj[0], obj[29]);
        assert_true(nc < 0.7 * nz);
        assert_true(obj[29] < obj[0]);
    }
}

/* ADMM-TV: longer runs do not end higher, and the result is no worse in
 * objective than the zero-filled image */
static void test_admm_tv_converges(void **state)
{
    (void)state;
    static prob p;
    make_prob(&p, 0.01);
    cfloat img[1024], zf[1024];
    double o30[30], o200[200];
    mg_cs_opts o;
    mg_cs_defaults(&o, MG_REG_TV);
    o.scale = 1.0f;
    o.lambda = 0.01f;
    o.objective = o30;
    mg_cs_recon(p.k, p.sens, p.mask, 4, 32, 32, &o, img);
    o.iters = 200;
    o.objective = o200;
    mg_cs_recon(p.k, p.sens, p.mask, 4, 32, 32, &o, img);
    mg_zerofill(p.k, p.sens, p.mask, zf, 4, 32, 32);
    cfloat k[4 * 1024];
    mg_sense_forward(zf, p.sens, p.mask, k, 4, 32, 32);
    double dz = 0;
    for (int i = 0; i < 4 * 1024; i++) dz += pow(cabsf(k[i] - p.k[i] * p.mask[(i / 32) % 32]), 2);
    double obj_zf = 0.5 * dz + o.lambda * mg_tv_norm(zf, 32, 32);
    assert_true(o200[199] <= o30[29] * (1 + 1e-3));
    assert_true(o30[29] < obj_zf);
    /* the tail of a long run is flat: converged */
    assert_true(fabs(o200[199] - o200[149]) < 1e-3 * o200[199]);
}

static void test_scaling(void **state)
{
    (void)state;
    /* a constant image of value 3 on one coil: the scale is 3 */
    const long H = 64, W = 64;
    cfloat *img = mg_malloc_array((size_t)(H * W), sizeof(cfloat)), *k = mg_malloc_array((size_t)(H * W), sizeof(cfloat));
    cfloat one[64 * 64];
    for (long i = 0; i < H * W; i++) img[i] = 3.0f, one[i] = 1.0f;
    mg_rng r;
    mg_rng_seed(&r, 1);
    mg_simulate_kspace(img, one, 1, H, W, 0.0, &r, k);
    float mask[64];
    mg_mask_vd(mask, 64, 4.0, 12, 1);
    assert_true(fabsf(mg_cs_scaling(k, mask, 1, H, W) - 3.0f) < 1e-3f);
    free(img);
    free(k);
}

static void test_arc_hybrid_equals_kspace(void **state)
{
    (void)state;
    const long C = 3, H = 10, W = 12;
    const int dy[3] = {-2, 1, 3}, nd = 3, h = 2, taps = 5;
    cfloat k[3 * 10 * 12], hyb[3 * 10 * 12], wts[3 * 3 * 5 * 3], a[36], b[36];
    mg_rng r;
    mg_rng_seed(&r, 6);
    tu_randn_c(k, (size_t)(C * H * W), &r);
    tu_randn_c(wts, (size_t)(C * nd * taps * C), &r);
    memcpy(hyb, k, sizeof k);
    mg_fft1c(hyb, C * H, W, MG_FFT_INVERSE);
    mg_arc_apply_kspace(k, wts, dy, nd, h, C, H, W, 4, a);
    mg_arc_apply_hybrid(hyb, wts, dy, nd, h, C, H, W, 4, b);
    mg_fft1c(b, C, W, MG_FFT_FORWARD);
    for (int i = 0; i < 36; i++)
        if (cabsf(a[i] - b[i]) > 1e-4f * (1 + cabsf(a[i]))) fail_msg("entry %d: %g%+gi vs %g%+gi", i, crealf(a[i]), cimagf(a[i]), crealf(b[i]), cimagf(b[i]));
}

static void test_arc_recovers(void **state)
{
    (void)state;
    static prob p;
    make_prob(&p, 0.0);
    cfloat out[4 * 1024], img[1024], zf[1024];
    mg_arc_opts o;
    mg_arc_defaults(&o);
    o.acs = 12;
    o.lambda = 1e-4f; /* noise-free data need little regularisation */
    /* nothing missing: output equals input exactly */
    float full[32];
    for (int i = 0; i < 32; i++) full[i] = 1.0f;
    assert_int_equal(mg_arc(p.k, full, 4, 32, 32, &o, out), 0);
    assert_memory_equal(out, p.k, sizeof out);
    /* uniform R=2 outside a 12-line centre: ARC recovers the image far better than zero filling */
    float m2[32];
    for (int i = 0; i < 32; i++) m2[i] = (i % 2 == 0) || (i >= 10 && i < 22);
    assert_int_equal(mg_arc(p.k, m2, 4, 32, 32, &o, out), 0);
    for (int c = 0; c < 4; c++) /* acquired lines kept exactly */
        for (int y = 0; y < 32; y += 2) assert_memory_equal(out + (c * 32 + y) * 32, p.k + (c * 32 + y) * 32, 32 * sizeof(cfloat));
    mg_zerofill(out, p.sens, NULL, img, 4, 32, 32);
    mg_zerofill(p.k, p.sens, m2, zf, 4, 32, 32);
    double na = nmse_vs_truth(img, p.m), nz = nmse_vs_truth(zf, p.m);
    print_message("ARC R=2: NMSE %.2e vs zero-filled %.2e\n", na, nz);
    assert_true(na < 0.05 * nz);
    /* ARC is linear: k-space x 1e-20 or x 1e19 gives the same lines, scaled
     * (the float normal equations used to lose them at the small end) */
    static cfloat ks[4 * 1024], outs[4 * 1024];
    const double sc[2] = {1e-20, 1e19};
    for (int j = 0; j < 2; j++) {
        for (int i = 0; i < 4 * 1024; i++) ks[i] = (cfloat)((double complex)p.k[i] * sc[j]);
        assert_int_equal(mg_arc(ks, m2, 4, 32, 32, &o, outs), 0);
        double e = 0, r = 0;
        for (int i = 0; i < 4 * 1024; i++) {
            e += pow(cabs((double complex)outs[i] / sc[j] - out[i]), 2);
            r += pow(cabsf(out[i]), 2);
        }
        if (!(sqrt(e / r) < 1e-5)) fail_msg("ARC at scale %g: NRMSE %g against scale 1", sc[j], sqrt(e / r));
    }
    /* calibration lines must be sampled */
    m2[16] = 0;
    assert_int_equal(mg_arc(p.k, m2, 4, 32, 32, &o, out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cg),
        cmocka_unit_test(test_wavelet_pr_and_orthonormal),
        cmocka_unit_test(test_wavelet_db2_closed_form),
        cmocka_unit_test(test_tv_adjoint),
        cmocka_unit_test(test_fista_ista_objective),
        cmocka_unit_test(test_fista_optimality),
        cmocka_unit_test(test_cs_sets),
        cmocka_unit_test(test_cs_beats_zerofill),
        cmocka_unit_test(test_admm_tv_converges),
        cmocka_unit_test(test_scaling),
        cmocka_unit_test(test_arc_hybrid_equals_kspace),
        cmocka_unit_test(test_arc_recovers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mg_fft_cleanup();
    return rc;
}

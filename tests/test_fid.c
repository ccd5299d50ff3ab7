/* FID / KID and the Inception-v3 pieces, each against an independent
 * reference: FIPS 180-2 SHA-256 vectors, direct convolution loops, PyTorch's
 * documented bilinear result, closed forms of Tr sqrt(AB), and a KID worked
 * by hand. The whole network against PyTorch is tests/cli_fid_torch.sh
 * (optional: needs Debian's python3-torch). */
#include "testutil.h"
#include "io/io.h"
#include "metrics/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_sha256(void **state)
{
    (void)state;
    char h[65];
    mg_sha256("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    mg_sha256("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    mg_sha256(m, strlen(m), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a' through the file reader (crosses its 64 KiB buffer) */
    char *dir = tu_tmpdir(), *p = tu_path(dir, "a.bin");
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 1000000; i++) fputc('a', f);
    fclose(f);
    assert_int_equal(mg_sha256_file(p, h), 0);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    tu_rmdir(dir);
    free(p);
    free(dir);
}

/* direct loops: out[o,y,x] = b[o] + sum w[o,c,dy,dx] in[c, y*s-p+dy, x*s-p+dx] */
static void conv_direct(const float *in, int cin, int h, int w, const float *wt, const float *b, int cout, int kh,
                        int kw, int sh, int sw, int ph, int pw, int relu, float *out)
{
    const int oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
    for (int o = 0; o < cout; o++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double s = b ? b[o] : 0;
                for (int c = 0; c < cin; c++)
                    for (int dy = 0; dy < kh; dy++)
                        for (int dx = 0; dx < kw; dx++) {
                            int yy = y * sh - ph + dy, xx = x * sw - pw + dx;
                            if (yy >= 0 && yy < h && xx >= 0 && xx < w)
                                s += (double)wt[((o * cin + c) * kh + dy) * kw + dx] * in[(c * h + yy) * w + xx];
                        }
                out[(o * oh + y) * ow + x] = (float)(relu && s < 0 ? 0 : s);
            }
}

static void test_conv(void **state)
{
    (void)state;
    /* cin cout kh kw sh sw ph pw: the shapes Inception uses */
    const int cfg[][8] = {{3, 5, 3, 3, 2, 2, 0, 0}, {4, 3, 1, 7, 1, 1, 0, 3}, {4, 6, 7, 1, 1, 1, 3, 0},
                          {5, 4, 1, 1, 1, 1, 0, 0}, {2, 3, 5, 5, 1, 1, 2, 2}, {3, 2, 3, 3, 1, 1, 1, 1}};
    mg_rng r;
    mg_rng_seed(&r, 3);
    for (size_t t = 0; t < sizeof cfg / sizeof cfg[0]; t++) {
        const int *c = cfg[t], h = 11, w = 9;
        const int oh = (h + 2 * c[6] - c[2]) / c[4] + 1, ow = (w + 2 * c[7] - c[3]) / c[5] + 1;
        const int nin = c[0] * h * w, nw = c[1] * c[0] * c[2] * c[3], nout = c[1] * oh * ow;
        float *in = malloc(sizeof(float) * nin), *wt = malloc(sizeof(float) * nw), b[8];
        float *o1 = malloc(sizeof(float) * nout), *o2 = malloc(sizeof(float) * nout);
        for (int i = 0; i < nin; i++) in[i] = (float)mg_rng_normal(&r);
        for (int i = 0; i < nw; i++) wt[i] = (float)mg_rng_normal(&r);
        for (int i = 0; i < c[1]; i++) b[i] = (float)mg_rng_normal(&r);
        for (int relu = 0; relu < 2; relu++) {
            int a, bb;
            mg_inc_conv(in, c[0], h, w, wt, b, c[1], c[2], c[3], c[4], c[5], c[6], c[7], relu, o1, &a, &bb);
            assert_int_equal(a, oh);
            assert_int_equal(bb, ow);
            conv_direct(in, c[0], h, w, wt, b, c[1], c[2], c[3], c[4], c[5], c[6], c[7], relu, o2);
            for (int i = 0; i < nout; i++) assert_true(fabsf(o1[i] - o2[i]) < 1e-4f * (1 + fabsf(o2[i])));
        }
        free(in); free(wt); free(o1); free(o2);
    }
}

static void test_pool(void **state)
{
    (void)state;
    /* 3 x 3 image 1..9 */
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[9];
    int oh, ow;
    /* average, stride 1, padding 1, count_include_pad = False: the corner
     * averages its 4 real pixels (1+2+4+5)/4, the centre all 9 */
    mg_inc_pool(in, 1, 3, 3, 3, 1, 1, 0, out, &oh, &ow);
    assert_int_equal(oh, 3);
    assert_true(fabsf(out[0] - 3.0f) < 1e-6f);
    assert_true(fabsf(out[1] - 3.5f) < 1e-6f); /* (1+2+3+4+5+6)/6 */
    assert_true(fabsf(out[4] - 5.0f) < 1e-6f);
    assert_true(fabsf(out[8] - 7.0f) < 1e-6f);
    /* max, stride 1, padding 1: padding never wins even for negative input */
    float neg[9];
    for (int i = 0; i < 9; i++) neg[i] = -in[i];
    mg_inc_pool(neg, 1, 3, 3, 3, 1, 1, 1, out, &oh, &ow);
    assert_true(out[0] == -1.0f && out[8] == -5.0f && out[4] == -1.0f);
    /* max 3x3 stride 2 without padding on 5 x 5: 2 x 2 output */
    float big[25];
    for (int i = 0; i < 25; i++) big[i] = (float)((i * 7) % 11);
    mg_inc_pool(big, 1, 5, 5, 3, 2, 0, 1, out, &oh, &ow);
    assert_int_equal(oh, 2);
    assert_int_equal(ow, 2);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++) {
            float m = -1;
            for (int dy = 0; dy < 3; dy++)
                for (int dx = 0; dx < 3; dx++) m = fmaxf(m, big[(2 * y + dy) * 5 + 2 * x + dx]);
            assert_true(out[y * 2 + x] == m);
        }
}

/* torch.nn.functional.interpolate([[0, 1], [2, 3]], size 4, bilinear,
 * align_corners=False), as printed in PyTorch's documentation */
static void test_resize(void **state)
{
    (void)state;
    const float in[4] = {0, 1, 2, 3};
    const float want[16] = {0.00f, 0.25f, 0.75f, 1.00f, 0.50f, 0.75f, 1.25f, 1.50f,
                            1.50f, 1.75f, 2.25f, 2.50f, 2.00f, 2.25f, 2.75f, 3.00f};
    float out[16];
    mg_inc_resize_bilinear(in, 2, 2, out, 4, 4);
    for (int i = 0; i < 16; i++) assert_true(fabsf(out[i] - want[i]) < 1e-6f);
    /* halving averages pixel pairs: source points 0.5 and 2.5 */
    const float row[4] = {1, 3, 5, 9};
    float half[2];
    mg_inc_resize_bilinear(row, 1, 4, half, 1, 2);
    assert_true(fabsf(half[0] - 2.0f) < 1e-6f && fabsf(half[1] - 7.0f) < 1e-6f);
}

static void random_spd(double *a, int d, mg_rng *r)
{
    double *g = malloc(sizeof(double) * d * d);
    for (int i = 0; i < d * d; i++) g[i] = mg_rng_normal(r);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += g[i * d + k] * g[j * d + k];
            a[i * d + j] = s + (i == j ? 0.1 : 0);
        }
    free(g);
}

static void test_trace_sqrt(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 5);
    /* 2 x 2: for M = AB (2 x 2, eigenvalues >= 0) Tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)) */
    for (int t = 0; t < 5; t++) {
        double A[4], B[4], M[4];
        random_spd(A, 2, &r);
        random_spd(B, 2, &r);
        M[0] = A[0] * B[0] + A[1] * B[2];
        M[1] = A[0] * B[1] + A[1] * B[3];
        M[2] = A[2] * B[0] + A[3] * B[2];
        M[3] = A[2] * B[1] + A[3] * B[3];
        double want = sqrt(M[0] + M[3] + 2 * sqrt(M[0] * M[3] - M[1] * M[2]));
        assert_true(fabs(mg_trace_sqrt_product(A, B, 2) - want) < 1e-9 * want);
    }
    /* diagonal: sum sqrt(a_i b_i) */
    double A[25] = {0}, B[25] = {0}, want = 0;
    for (int i = 0; i < 5; i++) {
        A[i * 6] = i + 1.0;
        B[i * 6] = 2.0 * i + 0.5;
        want += sqrt(A[i * 6] * B[i * 6]);
    }
    assert_true(fabs(mg_trace_sqrt_product(A, B, 5) - want) < 1e-10);
    /* A = B: Tr sqrt(A^2) = Tr A; singular A (rank 2 of 6) too */
    double S[36], g[12];
    random_spd(S, 6, &r);
    double tr = 0;
    for (int i = 0; i < 6; i++) tr += S[i * 7];
    assert_true(fabs(mg_trace_sqrt_product(S, S, 6) - tr) < 1e-8 * tr);
    for (int i = 0; i < 12; i++) g[i] = mg_rng_normal(&r);
    tr = 0;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            S[i * 6 + j] = g[i] * g[j] + g[6 + i] * g[6 + j];
            if (i == j) tr += S[i * 7];
        }
    assert_true(fabs(mg_trace_sqrt_product(S, S, 6) - tr) < 1e-6 * tr);
}

static void test_frechet_and_kid(void **state)
{
    (void)state;
    mg_rng r;
    mg_rng_seed(&r, 9);
    const int n = 40, d = 6;
    float *a = malloc(sizeof(float) * n * d), *b = malloc(sizeof(float) * n * d);
    for (int i = 0; i < n * d; i++) a[i] = (float)mg_rng_normal(&r);
    /* the same set: 0; the same set shifted by v: |v|^2 (covariance unchanged) */
    assert_true(fabs(mg_fid_distance(a, n, a, n, d)) < 1e-6);
    double v2 = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) b[i * d + j] = a[i * d + j] + 0.5f * (float)j;
    for (int j = 0; j < d; j++) v2 += 0.25 * j * j;
    assert_true(fabs(mg_fid_distance(b, n, a, n, d) - v2) < 1e-4 * v2);
    /* scaled by 2: covariance 4 S, Tr(S + 4S - 2 * 2S) = Tr S, plus the mean term |mu|^2 */
    double trs = 0, mu2 = 0;
    for (int j = 0; j < d; j++) {
        double m = 0, s = 0;
        for (int i = 0; i < n; i++) m += a[i * d + j];
        m /= n;
        for (int i = 0; i < n; i++) s += (a[i * d + j] - m) * (a[i * d + j] - m);
        trs += s / (n - 1);
        mu2 += m * m;
    }
    for (int i = 0; i < n * d; i++) b[i] = 2 * a[i];
    assert_true(fabs(mg_fid_distance(b, n, a, n, d) - (trs + mu2)) < 1e-4 * trs);
    /* fewer images than features (the low-rank route) = the d x d route */
    {
        const int m1 = 5, m2 = 7, D = 30;
        float *x = malloc(sizeof(float) * m1 * D), *y = malloc(sizeof(float) * m2 * D);
        for (int i = 0; i < m1 * D; i++) x[i] = (float)mg_rng_normal(&r);
        for (int i = 0; i < m2 * D; i++) y[i] = (float)(0.7 * mg_rng_normal(&r) + 0.2);
        double *mx = calloc(D, sizeof(double)), *my = calloc(D, sizeof(double));
        double *cx = calloc(D * D, sizeof(double)), *cy = calloc(D * D, sizeof(double));
        for (int i = 0; i < m1; i++)
            for (int j = 0; j < D; j++) mx[j] += x[i * D + j] / (double)m1;
        for (int i = 0; i < m2; i++)
            for (int j = 0; j < D; j++) my[j] += y[i * D + j] / (double)m2;
        for (int a = 0; a < D; a++)
            for (int b2 = 0; b2 < D; b2++) {
                for (int i = 0; i < m1; i++) cx[a * D + b2] += (x[i * D + a] - mx[a]) * (x[i * D + b2] - mx[b2]) / (m1 - 1);
                for (int i = 0; i < m2; i++) cy[a * D + b2] += (y[i * D + a] - my[a]) * (y[i * D + b2] - my[b2]) / (m2 - 1);
            }
        double full = mg_frechet(mx, cx, my, cy, D), low = mg_fid_distance(x, m1, y, m2, D);
        assert_true(fabs(full - low) < 1e-8 * fabs(full));
        free(x); free(y); free(mx); free(my); free(cx); free(cy);
    }
    /* KID by hand, d = 1, X = Y = {0, 1}, k(a, b) = (ab + 1)^3:
     * k(0,0) = k(0,1) = 1, k(1,1) = 8; XX off-diagonal mean 1, YY 1,
     * XY mean (1 + 1 + 1 + 8) / 4 = 2.75: 1 + 1 - 2 * 2.75 = -3.5 */
    const float x[2] = {0, 1};
    assert_true(fabs(mg_kid(x, 2, x, 2, 1) - (-3.5)) < 1e-12);
    free(a);
    free(b);
}

static char *random_weights(const char *dir, int drop_one)
{
    char *p = tu_path(dir, drop_one ? "bad.safetensors" : "inc.safetensors");
    assert_int_equal(tu_inception_weights(p, drop_one), 0);
    return p;
}

static void test_network(void **state)
{
    (void)state;
    /* 4 full Inception-v3 passes (23 GFLOP): over 20 minutes under memcheck;
     * its pieces are covered by the tests above (scripts/valgrind.sh) */
    if (getenv("MRGAN_UNDER_VALGRIND")) skip();
    char *dir = tu_tmpdir();
    assert_int_equal(mg_fid_layer_count(), 94);
    char *p = random_weights(dir, 0);
    mg_fid_model m;
    assert_int_equal(mg_fid_load(p, &m), 0);
    assert_int_equal(strlen(m.sha256), 64);
    /* two 40 x 36 images: features finite, >= 0 (ReLU, then an average) and
     * not all equal; an image scaled past vmax clips to the same features */
    const long H = 40, W = 36, n = H * W;
    float *img = malloc(sizeof(float) * 3 * n);
    mg_rng r;
    mg_rng_seed(&r, 4);
    for (long i = 0; i < n; i++) img[i] = (float)mg_rng_uniform(&r);
    for (long i = 0; i < n; i++) img[n + i] = (float)(i % W) / W;
    for (long i = 0; i < n; i++) img[2 * n + i] = 3.0f * img[n + i]; /* clipped at vmax 1 */
    float *f;
    assert_int_equal(mg_fid_features(&m, img, 3, H, W, 1.0, &f), 0);
    double diff = 0;
    for (int j = 0; j < MG_FID_DIM; j++) {
        assert_true(isfinite(f[j]) && f[j] >= 0.0f);
        diff += fabs(f[j] - f[MG_FID_DIM + j]);
    }
    assert_true(diff > 1e-3);
    /* clipping: 3x image, vmax 1 -> min(1, 3v); vs the same thing computed
     * before (v -> min(1, 3v)) */
    float *g;
    for (long i = 0; i < n; i++) img[i] = fminf(1.0f, img[2 * n + i]);
    assert_int_equal(mg_fid_features(&m, img, 1, H, W, 1.0, &g), 0);
    for (int j = 0; j < MG_FID_DIM; j++) assert_true(fabsf(g[j] - f[2 * MG_FID_DIM + j]) < 1e-5f * (1 + f[j]));
    free(f);
    free(g);
    free(img);
    mg_fid_free(&m);
    /* a file missing one tensor, and one that is not Inception weights */
    char *bad = random_weights(dir, 1);
    assert_int_equal(mg_fid_load(bad, &m), -1);
    assert_non_null(strstr(mg_error(), "Mixed_7c.branch_pool.bn.running_var is missing"));
    char *other = tu_path(dir, "other.safetensors");
    float one = 1;
    mg_st_tensor t1 = {"x", 1, {1}, &one};
    assert_int_equal(mg_st_write(other, &t1, 1, NULL, 0), 0);
    assert_int_equal(mg_fid_load(other, &m), -1);
    assert_non_null(strstr(mg_error(), "not converted Inception-v3 FID weights"));
    tu_rmdir(dir);
    free(p); free(bad); free(other); free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sha256), cmocka_unit_test(test_conv),
                                       cmocka_unit_test(test_pool), cmocka_unit_test(test_resize),
                                       cmocka_unit_test(test_trace_sqrt), cmocka_unit_test(test_frechet_and_kid),
                                       cmocka_unit_test(test_network)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

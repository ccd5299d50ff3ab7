#include "testutil.h"
#include "io/io.h"
#include "metrics/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tu_randn_c(cfloat *x, size_t n, mg_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        double re = mg_rng_normal(rng), im = mg_rng_normal(rng);
        x[i] = (float)re + I * (float)im;
    }
}

double complex tu_dot(const cfloat *x, const cfloat *y, size_t n)
{
    double complex s = 0;
    for (size_t i = 0; i < n; i++) s += conj((double complex)x[i]) * (double complex)y[i];
    return s;
}

double tu_norm(const cfloat *x, size_t n) { return sqrt(creal(tu_dot(x, x, n))); }

double tu_reldiff(double complex a, double complex b)
{
    double m = fmax(cabs(a), cabs(b));
    return cabs(a - b) / (m > 1e-30 ? m : 1e-30);
}

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/mrgan-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    if (!d) {
        perror("mkdtemp");
        exit(2);
    }
    return mg_strdup(d);
}

void tu_rmdir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = mg_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* every BasicConv2d of pytorch-fid's network with random weights (He-scaled
 * convolutions, batch-norm scales and variances in [0.5, 1.5), small shifts) */
int tu_inception_weights(const char *path, int drop_one)
{
    int n = mg_fid_layer_count();
    mg_st_tensor *t = calloc((size_t)(5 * n), sizeof *t);
    char **names = calloc((size_t)(5 * n), sizeof(char *));
    float **data = calloc((size_t)(5 * n), sizeof(float *));
    mg_rng r;
    mg_rng_seed(&r, 11);
    int k = 0;
    static const char *suf[5] = {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"};
    for (int i = 0; i < n; i++) {
        const char *nm;
        int cin, cout, kh, kw;
        mg_fid_layer_info(i, &nm, &cin, &cout, &kh, &kw);
        for (int j = 0; j < 5; j++) {
            if (drop_one && i == n - 1 && j == 4) continue;
            long sz = j == 0 ? (long)cout * cin * kh * kw : cout;
            names[k] = malloc(strlen(nm) + 20);
            sprintf(names[k], "%s.%s", nm, suf[j]);
            data[k] = malloc(sizeof(float) * (size_t)sz);
            const double fan = (double)cin * kh * kw;
            for (long q = 0; q < sz; q++)
                data[k][q] = j == 0 ? (float)(mg_rng_normal(&r) * sqrt(2.0 / fan))
                             : j == 1 || j == 4 ? (float)(0.5 + mg_rng_uniform(&r))
                                                : (float)(0.1 * mg_rng_normal(&r));
            t[k].name = names[k];
            t[k].ndim = j == 0 ? 4 : 1;
            t[k].shape[0] = cout;
            if (j == 0) t[k].shape[1] = cin, t[k].shape[2] = kh, t[k].shape[3] = kw;
            t[k].data = data[k];
            k++;
        }
    }
    const char *meta[] = {"format", "mrgan-fid-inception-v3"};
    int rc = mg_st_write(path, t, k, meta, 1);
    for (int i = 0; i < k; i++) free(names[i]), free(data[i]);
    free(names);
    free(data);
    free(t);
    return rc;
}

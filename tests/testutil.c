#include "testutil.h"

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

/* Helpers shared by the unit tests (cmocka). */
#ifndef MRGAN_TESTUTIL_H
#define MRGAN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

/* Random complex vector with N(0,1) parts. */
void tu_randn_c(cfloat *x, size_t n, mg_rng *rng);
/* <x, y> = sum conj(x_i) y_i in double precision. */
double complex tu_dot(const cfloat *x, const cfloat *y, size_t n);
double tu_norm(const cfloat *x, size_t n);
/* relative difference |a - b| / max(|a|, |b|, tiny) */
double tu_reldiff(double complex a, double complex b);
/* A fresh temporary directory (removed by tu_rmdir). Caller frees. */
char *tu_tmpdir(void);
void tu_rmdir(const char *dir);
char *tu_path(const char *dir, const char *name);
/* random Inception-v3 FID weights (format mrgan-fid-inception-v3); drop_one
 * leaves out the last layer's running_var */
int tu_inception_weights(const char *path, int drop_one);

#endif

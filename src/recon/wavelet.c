/* Orthonormal periodic Daubechies wavelets. */
#include "recon.h"

#include <math.h>
#include <string.h>

int mg_wavelet_init(mg_wavelet *w, int type, int levels)
{
    static const double haar[2] = {0.70710678118654752, 0.70710678118654752};
    static const double db2[4] = {0.48296291314453414, 0.83651630373780772, 0.22414386804201339,
                                  -0.12940952255126038};
    static const double db4[8] = {0.23037781330889650, 0.71484657055291565, 0.63088076792985890,
                                  -0.02798376941685985, -0.18703481171909308, 0.03084138183556076,
                                  0.03288301166688520, -0.01059740178506903};
    const double *h;
    switch (type) {
    case MG_WAV_HAAR: h = haar; w->len = 2; break;
    case MG_WAV_DB2: h = db2; w->len = 4; break;
    case MG_WAV_DB4: h = db4; w->len = 8; break;
    default: mg_set_error("unknown wavelet %d", type); return -1;
    }
    if (levels < 1 || levels > 10) {
        mg_set_error("wavelet levels must be 1..10, got %d", levels);
        return -1;
    }
    w->type = type;
    w->levels = levels;
    for (int k = 0; k < w->len; k++) {
        w->lo[k] = h[k];
        w->hi[k] = ((k % 2) ? -1.0 : 1.0) * h[w->len - 1 - k]; /* quadrature mirror */
    }
    return 0;
}

int mg_wavelet_levels(long H, long W)
{
    int L = 0;
    while (L < 6 && H % (2L << L) == 0 && W % (2L << L) == 0 && H >> (L + 1) >= 8 && W >> (L + 1) >= 8) L++;
    return L;
}

/* one level along a strided line of n samples: a[i] = sum h[k] x[2i+k], d[i] = sum g[k] x[2i+k] */
static void analyse(const mg_wavelet *w, cfloat *x, long n, long stride, cfloat *tmp)
{
    const long m = n / 2;
    for (long i = 0; i < m; i++) {
        cfloat a = 0, d = 0;
        for (int k = 0; k < w->len; k++) {
            cfloat v = x[((2 * i + k) % n) * stride];
            a += (float)w->lo[k] * v;
            d += (float)w->hi[k] * v;
        }
        tmp[i] = a;
        tmp[m + i] = d;
    }
    for (long i = 0; i < n; i++) x[i * stride] = tmp[i];
}

static void synthesise(const mg_wavelet *w, cfloat *x, long n, long stride, cfloat *tmp)
{
    const long m = n / 2;
    for (long i = 0; i < n; i++) tmp[i] = 0;
    for (long i = 0; i < m; i++) {
        cfloat a = x[i * stride], d = x[(m + i) * stride];
        for (int k = 0; k < w->len; k++) tmp[(2 * i + k) % n] += (float)w->lo[k] * a + (float)w->hi[k] * d;
    }
    for (long i = 0; i < n; i++) x[i * stride] = tmp[i];
}

void mg_wavelet_forward(const mg_wavelet *w, cfloat *x, long H, long W, cfloat *tmp)
{
    long h = H, wd = W;
    for (int l = 0; l < w->levels; l++) {
        for (long y = 0; y < h; y++) analyse(w, x + y * W, wd, 1, tmp);
        for (long c = 0; c < wd; c++) analyse(w, x + c, h, W, tmp);
        h /= 2;
        wd /= 2;
    }
}

void mg_wavelet_inverse(const mg_wavelet *w, cfloat *x, long H, long W, cfloat *tmp)
{
    for (int l = w->levels - 1; l >= 0; l--) {
        long h = H >> l, wd = W >> l;
        for (long c = 0; c < wd; c++) synthesise(w, x + c, h, W, tmp);
        for (long y = 0; y < h; y++) synthesise(w, x + y * W, wd, 1, tmp);
    }
}

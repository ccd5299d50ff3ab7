/* Plain-loop convolution: the reference the oneDNN path is tested against. */
#include "nn.h"

void mg_conv2d_ref_forward(const float *x, const float *wt, const float *b, float *y, int n,
                           int cin, int cout, int h, int w, int k, int stride, int pad)
{
    const int oh = mg_conv_out(h, k, stride, pad), ow = mg_conv_out(w, k, stride, pad);
    for (int s = 0; s < n; s++)
        for (int o = 0; o < cout; o++)
            for (int yy = 0; yy < oh; yy++)
                for (int xx = 0; xx < ow; xx++) {
                    double acc = b ? b[o] : 0.0;
                    for (int i = 0; i < cin; i++)
                        for (int ky = 0; ky < k; ky++) {
                            int iy = yy * stride - pad + ky;
                            if (iy < 0 || iy >= h) continue;
                            for (int kx = 0; kx < k; kx++) {
                                int ix = xx * stride - pad + kx;
                                if (ix < 0 || ix >= w) continue;
                                acc += (double)x[((s * cin + i) * h + iy) * w + ix] *
                                       wt[((o * cin + i) * k + ky) * k + kx];
                            }
                        }
                    y[((s * cout + o) * oh + yy) * ow + xx] = (float)acc;
                }
}

void mg_conv2d_ref_backward(const float *x, const float *wt, const float *dy, float *dx, float *dw,
                            float *db, int n, int cin, int cout, int h, int w, int k, int stride,
                            int pad)
{
    const int oh = mg_conv_out(h, k, stride, pad), ow = mg_conv_out(w, k, stride, pad);
    for (int s = 0; s < n; s++)
        for (int o = 0; o < cout; o++)
            for (int yy = 0; yy < oh; yy++)
                for (int xx = 0; xx < ow; xx++) {
                    float g = dy[((s * cout + o) * oh + yy) * ow + xx];
                    if (db) db[o] += g;
                    for (int i = 0; i < cin; i++)
                        for (int ky = 0; ky < k; ky++) {
                            int iy = yy * stride - pad + ky;
                            if (iy < 0 || iy >= h) continue;
                            for (int kx = 0; kx < k; kx++) {
                                int ix = xx * stride - pad + kx;
                                if (ix < 0 || ix >= w) continue;
                                long xi = ((long)(s * cin + i) * h + iy) * w + ix;
                                long wi = ((long)(o * cin + i) * k + ky) * k + kx;
                                if (dx) dx[xi] += g * wt[wi];
                                if (dw) dw[wi] += g * x[xi];
                            }
                        }
                }
}

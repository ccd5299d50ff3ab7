/* Augmentation of training samples: flips and rotations. */
#include "train.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_rotate_image(const cfloat *in, cfloat *out, int H, int W, int flip, double deg)
{
    const double a = deg * M_PI / 180.0, ca = cos(a), sa = sin(a);
    const double cy = 0.5 * (H - 1), cx = 0.5 * (W - 1);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            /* output pixel -> source position (inverse rotation), then flip */
            double dy = y - cy, dx = x - cx;
            double sy = cy + ca * dy + sa * dx, sx = cx - sa * dy + ca * dx;
            if (flip) sx = (W - 1) - sx;
            int y0 = (int)floor(sy), x0 = (int)floor(sx);
            double fy = sy - y0, fx = sx - x0;
            cfloat v = 0;
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) {
                    int yy = y0 + j, xx = x0 + i;
                    if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                    double wgt = (j ? fy : 1 - fy) * (i ? fx : 1 - fx);
                    v += (float)wgt * in[(long)yy * W + xx];
                }
            out[(long)y * W + x] = v;
        }
}

void mg_augment(cfloat *k, cfloat *sens, int flip, double deg, cfloat *work, int C, int H, int W)
{
    const long hw = (long)H * W;
    memcpy(work, k, sizeof(cfloat) * (size_t)(C * hw));
    mg_fft2c(work, C, H, W, MG_FFT_INVERSE);
    cfloat *tmp = mg_malloc_array((size_t)hw, sizeof(cfloat));
    for (int c = 0; c < C; c++) {
        mg_rotate_image(work + c * hw, tmp, H, W, flip, deg);
        memcpy(work + c * hw, tmp, sizeof(cfloat) * (size_t)hw);
        mg_rotate_image(sens + c * hw, tmp, H, W, flip, deg);
        memcpy(sens + c * hw, tmp, sizeof(cfloat) * (size_t)hw);
    }
    free(tmp);
    memcpy(k, work, sizeof(cfloat) * (size_t)(C * hw));
    mg_fft2c(k, C, H, W, MG_FFT_FORWARD);
}

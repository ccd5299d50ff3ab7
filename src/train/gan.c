/* The GAN maths of the training step, shared by the CPU and GPU steps
 * (paper Sec. 3.2 and Alg. 1; docs/gan.md). */
#include "step.h"

#include <string.h>

double mg_gan_critic_grad(const float *d, int B, int Bg, double beta, int real, float *g)
{
    const float inv = (float)(1.0 / beta), c = (real ? -inv : inv) / (float)Bg;
    double s = 0;
    for (int i = 0; i < B; i++) {
        s += d[i];
        g[i] = c;
    }
    return s;
}

double mg_gan_adv_grad(const float *d, int B, int Bg, double beta, float *g)
{
    return mg_gan_critic_grad(d, B, Bg, beta, 1, g); /* -1/(beta Bg): the same sign as the critic's real term */
}

double mg_gan_adv_loss(double sum_d, int Bg, double beta)
{
    return -(double)(float)(1.0 / beta) * sum_d / Bg; /* 1/beta in float, as the gradients take it */
}

double mg_gan_mse_grad(const float *out, const float *target, float *dout, long n, int P)
{
    memset(dout, 0, sizeof(float) * (size_t)n);
    mg_mse_backward(out, target, dout, n, 2.0f / (float)P);
    return 2.0 * mg_mse_forward(out, target, n) / P;
}

/* an H x W plane into the centre of a zero ch x cw one (ch >= H, cw >= W) */
static void pad_plane(const float *src, int H, int W, float *dst, int ch, int cw)
{
    if (ch == H && cw == W) {
        memcpy(dst, src, sizeof(float) * (size_t)H * (size_t)W);
        return;
    }
    const int oy = (ch - H) / 2, ox = (cw - W) / 2;
    memset(dst, 0, sizeof(float) * (size_t)ch * (size_t)cw);
    for (int y = 0; y < H; y++) memcpy(dst + (long)(y + oy) * cw + ox, src + (long)y * W, sizeof(float) * (size_t)W);
}

void mg_gan_critic_input(mg_batch *b, const float *mag)
{
    const long chw = (long)b->ch * b->cw;
    for (int i = 0; i < b->B; i++) {
        float *dst = b->cin_buf + (long)i * b->cin * chw;
        if (b->cin == 2) {
            pad_plane(b->mzmag + i * b->hw, b->H, b->W, dst, b->ch, b->cw);
            dst += chw;
        }
        pad_plane(mag + i * b->hw, b->H, b->W, dst, b->ch, b->cw);
    }
}

void mg_gan_image_grad(mg_batch *b)
{
    const long chw = (long)b->ch * b->cw;
    for (int i = 0; i < b->B; i++) /* the image channel's gradient, its centre H x W (the padding's adjoint) */
        mg_center_crop(b->dcin + ((long)i * b->cin + b->cin - 1) * chw, b->ch, b->cw, b->dmag + i * b->hw, b->H, b->W,
                       sizeof(float));
}

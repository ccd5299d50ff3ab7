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

void mg_gan_critic_input(mg_batch *b, const float *mag)
{
    for (int i = 0; i < b->B; i++) {
        float *dst = b->cin_buf + (long)i * b->cin * b->hw;
        if (b->cin == 2) {
            memcpy(dst, b->mzmag + i * b->hw, sizeof(float) * (size_t)b->hw);
            dst += b->hw;
        }
        memcpy(dst, mag + i * b->hw, sizeof(float) * (size_t)b->hw);
    }
}

void mg_gan_image_grad(mg_batch *b)
{
    for (int i = 0; i < b->B; i++)
        memcpy(b->dmag + i * b->hw, b->dcin + ((long)i * b->cin + b->cin - 1) * b->hw, sizeof(float) * (size_t)b->hw);
}

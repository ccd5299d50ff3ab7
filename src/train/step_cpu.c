/* The training step on the CPU (step.h): the critic step and the generator
 * step of the four modes, data-parallel over MPI ranks. */
#include "step.h"
#include "train.h"

#include <math.h>
#include <string.h>

/* Sum every rank's gradients (each already carries its 1/Bg share), in one
 * all-reduce over the packed buffer. */
static void allreduce_grads(mg_step *s, mg_params *ps)
{
    if (s->P < 2) return;
    long o = 0;
    for (int i = 0; i < ps->n; i++) {
        memcpy(s->gbuf + o, ps->p[i]->g, sizeof(float) * (size_t)ps->p[i]->size);
        o += ps->p[i]->size;
    }
    mg_dist_sum_f(s->gbuf, o);
    o = 0;
    for (int i = 0; i < ps->n; i++) {
        memcpy(ps->p[i]->g, s->gbuf + o, sizeof(float) * (size_t)ps->p[i]->size);
        o += ps->p[i]->size;
    }
}

/* population std over the whole global batch (mg_std with one process) */
static double dist_std(const mg_step *s, const float *x, long n)
{
    if (s->P < 2) return mg_std(x, n);
    double a[2] = {0, (double)n};
    for (long i = 0; i < n; i++) a[0] += x[i];
    mg_dist_sum_d(a, 2);
    const double m = a[0] / a[1];
    double ss = 0;
    for (long i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    mg_dist_sum_d(&ss, 1);
    return sqrt(ss / a[1]);
}

/* D on |img| (with the condition): outputs in b->dval, returns their sum;
 * backward of the gradient coefficients the GAN maths set in b->dgrad */
static double critic_pass(mg_step *s, mg_batch *b, const float *img, int real, float *dx)
{
    mg_cmag_forward(img, b->mag, b->B, b->hw);
    mg_gan_critic_input(b, b->mag);
    mg_critic_forward(s->critic, b->cin_buf, b->dval, b->B, 1);
    double sum = real >= 0 ? mg_gan_critic_grad(b->dval, b->B, s->Bg, s->agb->beta, real, b->dgrad)
                           : mg_gan_adv_grad(b->dval, b->B, s->Bg, s->agb->beta, b->dgrad);
    mg_critic_backward(s->critic, b->dgrad, dx);
    return sum;
}

static void cpu_critic_step(mg_step *s, mg_batch *b, mg_step_log *lg)
{
    mg_dcinet_forward(s->net, b->ku, b->sens, b->mask, b->out, b->B, b->C, b->H, b->W);
    mg_params_zero_grad(&s->critic->params);
    /* real and fake batches pass separately (batch norm statistics per batch) */
    const double dr = critic_pass(s, b, b->target, 1, NULL);
    const double df = critic_pass(s, b, b->out, 0, NULL);
    allreduce_grads(s, &s->critic->params);
    mg_adam_step(s->adam_d, &s->critic->params);
    mg_clip_weights(&s->critic->params, s->clip);
    double w = dr - df;
    mg_dist_sum_d(&w, 1);
    lg->w_est = w / s->Bg;
}

static void cpu_generator_step(mg_step *s, mg_batch *b, mg_step_log *lg)
{
    mg_dcinet_forward(s->net, b->ku, b->sens, b->mask, b->out, b->B, b->C, b->H, b->W);
    const long nimg = (long)b->B * 2 * b->hw;
    double mse = s->loss == MG_LOSS_MAGNITUDE ? mg_mag_mse_grad(b->out, b->target, b->dout, b->B, b->hw, s->P)
                 : s->loss == MG_LOSS_NMSE    ? mg_mag_nmse_grad(b->out, b->target, b->dout, b->B, b->hw, s->P)
                                              : mg_gan_mse_grad(b->out, b->target, b->dout, nimg, s->P); /* g_mse */
    mg_dist_sum_d(&mse, 1);
    lg->mse = mse;
    lg->gan = 0;
    if (s->critic) {
        memset(b->dcin, 0, sizeof(float) * (size_t)(b->B * b->cin) * (size_t)b->ch * (size_t)b->cw);
        double df = critic_pass(s, b, b->out, -1, b->dcin);
        mg_dist_sum_d(&df, 1);
        lg->gan = mg_gan_adv_loss(df, s->Bg, s->agb->beta);
        mg_gan_image_grad(b);
        memset(b->ggan, 0, sizeof(float) * (size_t)nimg);
        mg_cmag_backward(b->out, b->dmag, b->ggan, b->B, b->hw);
        lg->std_gan = dist_std(s, b->ggan, nimg);
        lg->std_mse = dist_std(s, b->dout, nimg);
        for (long i = 0; i < nimg; i++) b->dout[i] += b->ggan[i];
        if (s->agb_on) mg_agb_update(s->agb, lg->std_gan, lg->std_mse);
    }
    mg_params_zero_grad(&s->net->params);
    mg_dcinet_backward(s->net, b->dout, NULL);
    allreduce_grads(s, &s->net->params);
    lg->gnorm = mg_clip_grad_norm(&s->net->params, s->grad_clip);
    mg_adam_step(s->adam, &s->net->params);
    lg->loss = lg->mse + lg->gan;
}

static void cpu_infer(mg_step *s, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int C, int H,
                      int W)
{
    mg_dcinet_forward(s->net, ku, sens, mask, out, 1, C, H, W);
}

static void nothing(mg_step *s) { (void)s; }

void mg_step_cpu(mg_step *s)
{
    s->name = "CPU";
    s->critic_step = cpu_critic_step;
    s->generator_step = cpu_generator_step;
    s->infer = cpu_infer;
    s->sync = nothing;
    s->finish = nothing;
    s->release = nothing;
    s->dev = NULL;
}

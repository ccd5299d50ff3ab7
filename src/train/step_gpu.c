/* The training step on a CUDA device (step.h; GPU build mrgan-gpu only,
 * step_nogpu.c otherwise). The twin of step_cpu.c, function for function:
 * samples are prepared on the host (augmentation, masks, scaling) and
 * uploaded; the networks, the SENSE operator and the complex loss run on the
 * device. Batches may change shape from step to step (the device buffers are
 * sized for the largest). A few small things are done on the host, with the
 * CPU step's own functions, so that both steps compute them alike: the
 * critic's input (the condition, and zero padding of the magnitudes to the
 * critic's size) and its gradient's crop, the magnitude losses (`--loss
 * magnitude`, `nmse`: the output image comes down, its gradient goes up),
 * and the scaling of `--grad-clip` (the gradients come down and go back up
 * scaled, at the steps it clips; their norm is reduced on the device). One
 * process (no MPI ranks). */
#include "step.h"
#include "train.h"
#include "../gpu/gpu.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    mg_gpu_dcinet *gnet;
    mg_gpu_critic *gcrit;
    float *ku, *sens, *mask, *target, *out, *dout, *ggan, *mag, *dmag, *cin, *dcin, *dval, *dgrad;
    float *grads; /* host copy of the generator's gradients (clipping) */
} dev_state;

static void upload_batch(dev_state *d, const mg_batch *b)
{
    mg_gpu_upload(d->ku, (const float *)b->ku, (size_t)b->B * (size_t)b->n * 2);
    mg_gpu_upload(d->sens, (const float *)b->sens, (size_t)b->B * (size_t)b->n * 2);
    mg_gpu_upload(d->mask, b->mask, (size_t)b->B * (size_t)b->H);
    mg_gpu_upload(d->target, b->target, (size_t)b->B * 2 * (size_t)b->hw);
}

/* D on |img| (with the condition): |img| on the device, the critic's input
 * on the host (mg_gan_critic_input: condition, padding), D on the device;
 * the GAN maths' gradient coefficients; backward (critic_pass of the CPU) */
static double critic_pass(mg_step *s, dev_state *d, mg_batch *b, const float *img, int real, float *dx)
{
    mg_gpu_cmag_forward(img, d->mag, b->B, b->hw);
    mg_gpu_download(b->mag, d->mag, (size_t)b->B * (size_t)b->hw);
    mg_gan_critic_input(b, b->mag);
    mg_gpu_upload(d->cin, b->cin_buf, (size_t)b->B * (size_t)b->cin * (size_t)b->ch * (size_t)b->cw);
    mg_gpu_critic_forward(d->gcrit, d->cin, d->dval, b->B, 1);
    mg_gpu_download(b->dval, d->dval, (size_t)b->B);
    double sum = real >= 0 ? mg_gan_critic_grad(b->dval, b->B, s->Bg, s->agb->beta, real, b->dgrad)
                           : mg_gan_adv_grad(b->dval, b->B, s->Bg, s->agb->beta, b->dgrad);
    mg_gpu_upload(d->dgrad, b->dgrad, (size_t)b->B);
    mg_gpu_critic_backward(d->gcrit, d->dgrad, dx);
    return sum;
}

static void gpu_critic_step(mg_step *s, mg_batch *b, mg_step_log *lg)
{
    dev_state *d = s->dev;
    upload_batch(d, b);
    mg_gpu_dcinet_forward(d->gnet, d->ku, d->sens, d->mask, d->out, b->B, b->C, b->H, b->W);
    mg_gpu_params *cp = mg_gpu_critic_params(d->gcrit);
    mg_gpu_params_zero_grad(cp);
    const double dr = critic_pass(s, d, b, d->target, 1, NULL);
    const double df = critic_pass(s, d, b, d->out, 0, NULL);
    mg_gpu_adam_step(s->adam_d, cp);
    mg_gpu_clip_weights(cp, s->clip);
    lg->w_est = (dr - df) / s->Bg;
}

/* the generator's gradient norm (reduced on the device), and its scaling to
 * max_norm when above (on the host, at the steps it clips; mg_clip_grad_norm
 * of the CPU, on the one packed gradient array) */
static double clip_grad_norm(mg_gpu_params *gp, float *host, double max_norm)
{
    const double norm = sqrt(mg_gpu_sumsq(gp->g, gp->total));
    if (max_norm > 0 && norm > max_norm) {
        mg_gpu_download(host, gp->g, (size_t)gp->total);
        const float f = (float)(max_norm / norm);
        for (long j = 0; j < gp->total; j++) host[j] *= f;
        mg_gpu_upload(gp->g, host, (size_t)gp->total);
    }
    return norm;
}

static void gpu_generator_step(mg_step *s, mg_batch *b, mg_step_log *lg)
{
    dev_state *d = s->dev;
    upload_batch(d, b);
    mg_gpu_dcinet_forward(d->gnet, d->ku, d->sens, d->mask, d->out, b->B, b->C, b->H, b->W);
    const long nimg = (long)b->B * 2 * b->hw;
    if (s->loss == MG_LOSS_COMPLEX) {
        mg_gpu_zero(d->dout, (size_t)nimg); /* mg_gan_mse_grad with one process */
        mg_gpu_mse_backward(d->out, d->target, d->dout, nimg, 2.0f);
        lg->mse = 2.0 * mg_gpu_mse_forward(d->out, d->target, nimg);
    } else { /* the magnitude losses on the host (loss_magnitude.c) */
        mg_gpu_download(b->out, d->out, (size_t)nimg);
        lg->mse = s->loss == MG_LOSS_NMSE ? mg_mag_nmse_grad(b->out, b->target, b->dout, b->B, b->hw, 1)
                                          : mg_mag_mse_grad(b->out, b->target, b->dout, b->B, b->hw, 1);
        mg_gpu_upload(d->dout, b->dout, (size_t)nimg);
    }
    lg->gan = 0;
    if (s->critic) {
        const size_t ncin = (size_t)b->B * (size_t)b->cin * (size_t)b->ch * (size_t)b->cw;
        mg_gpu_zero(d->dcin, ncin);
        const double df = critic_pass(s, d, b, d->out, -1, d->dcin);
        lg->gan = mg_gan_adv_loss(df, s->Bg, s->agb->beta);
        mg_gpu_download(b->dcin, d->dcin, ncin);
        mg_gan_image_grad(b); /* the image channel's centre, on the host */
        mg_gpu_upload(d->dmag, b->dmag, (size_t)b->B * (size_t)b->hw);
        mg_gpu_zero(d->ggan, (size_t)nimg);
        mg_gpu_cmag_backward(d->out, d->dmag, d->ggan, b->B, b->hw);
        lg->std_gan = mg_gpu_std(d->ggan, nimg);
        lg->std_mse = mg_gpu_std(d->dout, nimg);
        mg_gpu_add(d->dout, d->ggan, nimg);
        if (s->agb_on) mg_agb_update(s->agb, lg->std_gan, lg->std_mse);
    }
    mg_gpu_params *gp = mg_gpu_dcinet_params(d->gnet);
    mg_gpu_params_zero_grad(gp);
    mg_gpu_dcinet_backward(d->gnet, d->dout, NULL);
    lg->gnorm = clip_grad_norm(gp, d->grads, s->grad_clip);
    mg_gpu_adam_step(s->adam, gp);
    lg->loss = lg->mse + lg->gan;
}

static void gpu_infer(mg_step *s, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int C, int H,
                      int W)
{
    dev_state *d = s->dev;
    mg_gpu_dcinet_infer(d->gnet, ku, sens, mask, out, 1, C, H, W);
}

static void gpu_sync(mg_step *s)
{
    dev_state *d = s->dev;
    mg_gpu_params_download(mg_gpu_dcinet_params(d->gnet));
    if (d->gcrit) mg_gpu_critic_download(d->gcrit);
}

static void gpu_finish(mg_step *s)
{
    (void)s;
    mg_gpu_sync();
}

static void gpu_release(mg_step *s)
{
    dev_state *d = s->dev;
    if (!d) return;
    mg_gpu_dcinet_free(d->gnet);
    mg_gpu_critic_free(d->gcrit);
    float *p[] = {d->ku, d->sens, d->mask, d->target, d->out, d->dout, d->ggan,
                  d->mag, d->dmag, d->cin, d->dcin, d->dval, d->dgrad};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) mg_gpu_free(p[i]);
    free(d->grads);
    free(d);
    s->dev = NULL;
}

/* B, C, H, W: the largest batch (GAN modes: H x W the critic's input size,
 * which holds every slice) */
int mg_step_gpu(mg_step *s, int B, int C, int H, int W, int cin)
{
    const size_t hw = (size_t)H * (size_t)W, n = (size_t)C * hw;
    const size_t img = (size_t)B * 2 * hw, mag = (size_t)B * hw, cinn = (size_t)B * (size_t)(cin ? cin : 1) * hw;
    dev_state *d = mg_calloc(1, sizeof *d);
    d->gnet = mg_gpu_dcinet_create(s->net);
    d->grads = mg_malloc_array((size_t)mg_gpu_dcinet_params(d->gnet)->total, sizeof(float));
    if (s->critic) d->gcrit = mg_gpu_critic_create(s->critic);
    d->ku = mg_gpu_alloc((size_t)B * n * 2);
    d->sens = mg_gpu_alloc((size_t)B * n * 2);
    d->mask = mg_gpu_alloc((size_t)B * (size_t)H);
    d->target = mg_gpu_alloc(img);
    d->out = mg_gpu_alloc(img);
    d->dout = mg_gpu_alloc(img);
    d->ggan = mg_gpu_alloc(img);
    d->mag = mg_gpu_alloc(mag);
    d->dmag = mg_gpu_alloc(mag);
    d->cin = mg_gpu_alloc(cinn);
    d->dcin = mg_gpu_alloc(cinn);
    d->dval = mg_gpu_alloc((size_t)B);
    d->dgrad = mg_gpu_alloc((size_t)B);
    s->name = "GPU";
    s->critic_step = gpu_critic_step;
    s->generator_step = gpu_generator_step;
    s->infer = gpu_infer;
    s->sync = gpu_sync;
    s->finish = gpu_finish;
    s->release = gpu_release;
    s->dev = d;
    return 0;
}

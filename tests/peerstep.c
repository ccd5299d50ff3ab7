/* One MSE training step of mrgan's DCI-Net on given weights and a given
 * sample, for checking the speed peer (bench/peer/peer.py) against mrgan:
 * the same weights and data, the same step, the same update.
 *
 *   peerstep NET.safetensors SAMPLE.safetensors OUT.safetensors
 *
 * SAMPLE holds float32 tensors "ku" and "sens" (C, H, W, 2: complex as
 * re, im), "mask" (H) and "target" (2, H, W). The step is the trainer's
 * (src/train/step_cpu.c, mse mode, batch 1): forward, loss = 2 mean (out -
 * target)^2 over the two planes, backward, Adam (lr 5e-4, betas 0.9, 0.999,
 * eps 1e-8). OUT: "out" (2, H, W), "loss" (1), and for every parameter NAME
 * "grad.NAME" (its gradient) and "new.NAME" (its value after the step). */
#include "models/models.h"
#include "train/step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mg_st_tensor *need(const mg_st_file *f, const char *path, const char *name, long size)
{
    const mg_st_tensor *t = mg_st_find(f, name);
    long n = 1;
    for (int i = 0; t && i < t->ndim; i++) n *= t->shape[i];
    if (!t || (size >= 0 && n != size)) {
        fprintf(stderr, "peerstep: %s: no tensor '%s' of %ld values\n", path, name, size);
        exit(1);
    }
    return t;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: peerstep NET.safetensors SAMPLE.safetensors OUT.safetensors\n");
        return 2;
    }
    mg_dcinet net = {0};
    if (mg_dcinet_load(argv[1], &net)) {
        fprintf(stderr, "peerstep: %s\n", mg_error());
        return 1;
    }
    mg_st_file s;
    if (mg_st_read(argv[2], &s)) {
        fprintf(stderr, "peerstep: %s\n", mg_error());
        return 1;
    }
    const mg_st_tensor *ku = need(&s, argv[2], "ku", -1);
    if (ku->ndim != 4 || ku->shape[3] != 2) {
        fprintf(stderr, "peerstep: %s: ku must be (C, H, W, 2)\n", argv[2]);
        return 1;
    }
    const int C = (int)ku->shape[0], H = (int)ku->shape[1], W = (int)ku->shape[2];
    const long hw = (long)H * W;
    const mg_st_tensor *sens = need(&s, argv[2], "sens", 2 * C * hw);
    const mg_st_tensor *mask = need(&s, argv[2], "mask", H);
    const mg_st_tensor *target = need(&s, argv[2], "target", 2 * hw);
    float *out = malloc(sizeof(float) * 2 * (size_t)hw), *dout = malloc(sizeof(float) * 2 * (size_t)hw);
    if (!out || !dout) abort();
    mg_dcinet_forward(&net, (const cfloat *)ku->data, (const cfloat *)sens->data, mask->data, out, 1, C, H, W);
    float loss = (float)mg_gan_mse_grad(out, target->data, dout, 2 * hw, 1);
    mg_params_zero_grad(&net.params);
    mg_dcinet_backward(&net, dout, NULL);
    /* the gradients before Adam changes the weights */
    const int np = net.params.n, nt = 2 + 2 * np;
    mg_st_tensor *t = calloc((size_t)nt, sizeof *t);
    float **copies = calloc((size_t)np, sizeof *copies);
    if (!t || !copies) abort();
    t[0] = (mg_st_tensor){"out", 3, {2, H, W, 0}, out};
    t[1] = (mg_st_tensor){"loss", 1, {1, 0, 0, 0}, &loss};
    for (int i = 0; i < np; i++) {
        const mg_param *p = net.params.p[i];
        copies[i] = malloc(sizeof(float) * (size_t)p->size);
        if (!copies[i]) abort();
        memcpy(copies[i], p->g, sizeof(float) * (size_t)p->size);
        mg_st_tensor *g = &t[2 + 2 * i], *w = &t[3 + 2 * i];
        g->name = malloc(strlen(p->name) + 6);
        w->name = malloc(strlen(p->name) + 5);
        if (!g->name || !w->name) abort();
        sprintf(g->name, "grad.%s", p->name);
        sprintf(w->name, "new.%s", p->name);
        g->ndim = w->ndim = p->ndim;
        memcpy(g->shape, p->shape, sizeof p->shape);
        memcpy(w->shape, p->shape, sizeof p->shape);
        g->data = copies[i];
        w->data = p->w; /* updated in place below */
    }
    mg_adam adam;
    mg_adam_init(&adam, 5e-4f, 0.9f, 0.999f, 1e-8f);
    mg_adam_step(&adam, &net.params);
    const char *meta[] = {"format", "mrgan-peerstep-1"};
    int rc = mg_st_write(argv[3], t, nt, meta, 1);
    if (rc) fprintf(stderr, "peerstep: %s\n", mg_error());
    for (int i = 0; i < np; i++) {
        free(copies[i]);
        free(t[2 + 2 * i].name);
        free(t[3 + 2 * i].name);
    }
    free(copies);
    free(t);
    free(out);
    free(dout);
    mg_st_free(&s);
    mg_dcinet_free(&net);
    return rc ? 1 : 0;
}

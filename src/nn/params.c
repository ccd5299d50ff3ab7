#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

mg_param *mg_params_add(mg_params *ps, const char *name, int ndim, const long *shape)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 32;
        ps->p = realloc(ps->p, sizeof(mg_param *) * (size_t)ps->cap);
        if (!ps->p) abort();
    }
    mg_param *p = mg_calloc(1, sizeof(mg_param));
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->size = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->size *= shape[i];
    }
    p->w = mg_calloc((size_t)p->size, sizeof(float));
    p->g = mg_calloc((size_t)p->size, sizeof(float));
    p->m = mg_calloc((size_t)p->size, sizeof(float));
    p->v = mg_calloc((size_t)p->size, sizeof(float));
    ps->p[ps->n++] = p;
    return p;
}

mg_param *mg_params_find(const mg_params *ps, const char *name)
{
    for (int i = 0; i < ps->n; i++)
        if (!strcmp(ps->p[i]->name, name)) return ps->p[i];
    return NULL;
}

void mg_params_zero_grad(mg_params *ps)
{
    for (int i = 0; i < ps->n; i++) memset(ps->p[i]->g, 0, sizeof(float) * (size_t)ps->p[i]->size);
}

long mg_params_count(const mg_params *ps)
{
    long n = 0;
    for (int i = 0; i < ps->n; i++) n += ps->p[i]->size;
    return n;
}

void mg_params_free(mg_params *ps)
{
    for (int i = 0; i < ps->n; i++) {
        free(ps->p[i]->w);
        free(ps->p[i]->g);
        free(ps->p[i]->m);
        free(ps->p[i]->v);
        free(ps->p[i]);
    }
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

void mg_adam_init(mg_adam *a, float lr, float beta1, float beta2, float eps)
{
    a->lr = lr;
    a->beta1 = beta1;
    a->beta2 = beta2;
    a->eps = eps;
    a->t = 0;
}

void mg_adam_step(mg_adam *a, mg_params *ps)
{
    a->t++;
    const float b1 = a->beta1, b2 = a->beta2;
    const float c1 = 1.0f - powf(b1, (float)a->t), c2 = 1.0f - powf(b2, (float)a->t);
    const float lr = a->lr, eps = a->eps;
    for (int i = 0; i < ps->n; i++) {
        mg_param *p = ps->p[i];
        for (long j = 0; j < p->size; j++) {
            float g = p->g[j];
            p->m[j] = b1 * p->m[j] + (1.0f - b1) * g;
            p->v[j] = b2 * p->v[j] + (1.0f - b2) * g * g;
            float mh = p->m[j] / c1, vh = p->v[j] / c2;
            p->w[j] -= lr * mh / (sqrtf(vh) + eps);
        }
    }
}

void mg_clip_weights(mg_params *ps, float c)
{
    for (int i = 0; i < ps->n; i++) {
        mg_param *p = ps->p[i];
        for (long j = 0; j < p->size; j++) p->w[j] = p->w[j] > c ? c : p->w[j] < -c ? -c : p->w[j];
    }
}

double mg_clip_grad_norm(mg_params *ps, double max_norm)
{
    double ss = 0;
    for (int i = 0; i < ps->n; i++)
        for (long j = 0; j < ps->p[i]->size; j++) ss += (double)ps->p[i]->g[j] * ps->p[i]->g[j];
    const double norm = sqrt(ss);
    if (max_norm > 0 && norm > max_norm) {
        const float f = (float)(max_norm / norm);
        for (int i = 0; i < ps->n; i++)
            for (long j = 0; j < ps->p[i]->size; j++) ps->p[i]->g[j] *= f;
    }
    return norm;
}

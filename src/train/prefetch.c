/* The batches of a step, prepared ahead on a helper thread (batch.h). */
#include "batch.h"
#include "../fft/fft.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const mg_batch_src *src;
    int nb;          /* critic batches; the generator batch follows */
    mg_batch *bufs;
    long epoch, step;
    const long *plan;
    double seconds;
    int rc;            /* -1: a slice could not be read (err says why) */
    char err[1024];
    pthread_t th;
    int running;
} job;

struct mg_prefetch {
    mg_batch_src src;
    job set[2];
    int cur;
};

static void prepare(job *j)
{
    j->seconds = 0;
    j->rc = 0;
    double s;
    for (int k = 0; k <= j->nb && !j->rc; k++) {
        j->rc = k < j->nb ? mg_batch_fill_critic(j->src, &j->bufs[k], j->epoch, j->step, k, j->plan, &s)
                          : mg_batch_fill_generator(j->src, &j->bufs[k], j->epoch, j->step, j->plan, &s);
        j->seconds += s;
    }
    if (j->rc) snprintf(j->err, sizeof j->err, "%s", mg_error()); /* the error is per thread */
}

static void *prepare_thread(void *p)
{
    prepare(p);
    mg_fft_release_thread(); /* this thread's FFT scratch */
    return NULL;
}

static void wait_job(job *j)
{
    if (!j->running) return;
    pthread_join(j->th, NULL);
    j->running = 0;
}

mg_prefetch *mg_prefetch_create(const mg_batch_src *src, int critic_batches, int B, int C, int H, int W, int cin)
{
    mg_prefetch *p = mg_calloc(1, sizeof *p);
    p->src = *src;
    for (int s = 0; s < 2; s++) {
        job *j = &p->set[s];
        j->src = &p->src;
        j->nb = critic_batches;
        j->bufs = mg_calloc((size_t)critic_batches + 1, sizeof(mg_batch));
        for (int k = 0; k <= critic_batches; k++) mg_batch_alloc(&j->bufs[k], B, C, H, W, cin);
        j->epoch = -1;
    }
    return p;
}

mg_batch *mg_prefetch_step(mg_prefetch *p, long epoch, long step, long steps_per_epoch, const long *plan,
                           double *seconds)
{
    job *cur = &p->set[p->cur];
    wait_job(cur);
    if (cur->epoch != epoch || cur->step != step || cur->plan != plan) {
        cur->epoch = epoch;
        cur->step = step;
        cur->plan = plan;
        prepare(cur);
    }
    *seconds = cur->seconds;
    if (cur->rc) {
        mg_set_error("%s", cur->err);
        cur->epoch = -1;
        return NULL;
    }
    job *next = &p->set[1 - p->cur];
    wait_job(next);
    if (step + 1 < steps_per_epoch) {
        next->epoch = epoch;
        next->step = step + 1;
        next->plan = plan;
        next->running = pthread_create(&next->th, NULL, prepare_thread, next) == 0;
        if (!next->running) next->epoch = -1; /* no thread: filled when needed */
    }
    p->cur = 1 - p->cur;
    return cur->bufs;
}

void mg_prefetch_free(mg_prefetch *p)
{
    if (!p) return;
    for (int s = 0; s < 2; s++) {
        job *j = &p->set[s];
        wait_job(j);
        for (int k = 0; k <= j->nb; k++) mg_batch_free(&j->bufs[k]);
        free(j->bufs);
    }
    free(p);
}

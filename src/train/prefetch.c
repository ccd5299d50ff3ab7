/* The batches of a step, prepared ahead on a helper thread (batch.h). */
#include "batch.h"
#include "../fft/fft.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
    const mg_batch_src *src;
    int nb;          /* critic batches; the generator batch follows */
    mg_batch *bufs;
    long epoch, step;
    const long *perm;
    double seconds;
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
    for (int k = 0; k < j->nb; k++) j->seconds += mg_batch_fill_critic(j->src, &j->bufs[k], j->epoch, j->step, k);
    j->seconds += mg_batch_fill_generator(j->src, &j->bufs[j->nb], j->epoch, j->step, j->perm);
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

mg_batch *mg_prefetch_step(mg_prefetch *p, long epoch, long step, long steps_per_epoch, const long *perm,
                           double *seconds)
{
    job *cur = &p->set[p->cur];
    wait_job(cur);
    if (cur->epoch != epoch || cur->step != step || cur->perm != perm) {
        cur->epoch = epoch;
        cur->step = step;
        cur->perm = perm;
        prepare(cur);
    }
    *seconds = cur->seconds;
    job *next = &p->set[1 - p->cur];
    wait_job(next);
    if (step + 1 < steps_per_epoch) {
        next->epoch = epoch;
        next->step = step + 1;
        next->perm = perm;
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

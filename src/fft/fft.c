#include "fft.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long batch, h, w; /* h == 0: 1D transforms of length w */
    int dir, align, nthreads;
    fftwf_plan plan;
} plan_entry;

#define MAX_PLANS 64
static plan_entry plans[MAX_PLANS];
static int nplans;
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static int fft_threads = 1;
static int threads_ready;

void mg_fft_set_threads(int n)
{
    pthread_mutex_lock(&plan_lock);
    fft_threads = n > 0 ? n : 1;
    pthread_mutex_unlock(&plan_lock);
}

static fftwf_plan get_plan(cfloat *x, long batch, long h, long w, int dir)
{
    int align = fftwf_alignment_of((float *)x);
    pthread_mutex_lock(&plan_lock);
    for (int i = 0; i < nplans; i++) {
        plan_entry *e = &plans[i];
        if (e->batch == batch && e->h == h && e->w == w && e->dir == dir && e->align == align &&
            e->nthreads == fft_threads) {
            fftwf_plan p = e->plan;
            pthread_mutex_unlock(&plan_lock);
            return p;
        }
    }
    if (!threads_ready) {
        fftwf_init_threads();
        threads_ready = 1;
    }
    fftwf_plan_with_nthreads(fft_threads);
    int n2[2] = {(int)h, (int)w}, n1[1] = {(int)w};
    const int rank = h ? 2 : 1;
    const int dist = (int)(h ? h * w : w);
    /* FFTW_ESTIMATE leaves the array untouched, so we may plan on the
     * caller's data; the plan is reused for any array of equal alignment. */
    fftwf_plan p = fftwf_plan_many_dft(rank, h ? n2 : n1, (int)batch, (fftwf_complex *)x, NULL, 1, dist,
                                       (fftwf_complex *)x, NULL, 1, dist,
                                       dir == MG_FFT_FORWARD ? FFTW_FORWARD : FFTW_BACKWARD,
                                       FFTW_ESTIMATE);
    if (nplans == MAX_PLANS) { /* evict the oldest */
        fftwf_destroy_plan(plans[0].plan);
        memmove(plans, plans + 1, sizeof(plan_entry) * (MAX_PLANS - 1));
        nplans--;
    }
    plans[nplans++] = (plan_entry){batch, h, w, dir, align, fft_threads, p};
    pthread_mutex_unlock(&plan_lock);
    return p;
}

void mg_fft_cleanup(void)
{
    pthread_mutex_lock(&plan_lock);
    for (int i = 0; i < nplans; i++) fftwf_destroy_plan(plans[i].plan);
    nplans = 0;
    if (threads_ready) {
        fftwf_cleanup_threads();
        threads_ready = 0;
    }
    pthread_mutex_unlock(&plan_lock);
}

/* circular shift of each image by (sh, sw): out[(i+sh)%h][(j+sw)%w] = in[i][j] */
static void shift2(cfloat *x, cfloat *tmp, long batch, long h, long w, long sh, long sw)
{
    for (long b = 0; b < batch; b++) {
        cfloat *img = x + b * h * w;
        for (long i = 0; i < h; i++)
            for (long j = 0; j < w; j++) tmp[((i + sh) % h) * w + (j + sw) % w] = img[i * w + j];
        memcpy(img, tmp, sizeof(cfloat) * (size_t)(h * w));
    }
}

void mg_fft2c(cfloat *x, long batch, long h, long w, int dir)
{
    fftwf_plan p = get_plan(x, batch, h, w, dir);
    const float scale = (float)(1.0 / sqrt((double)h * (double)w));
    if (h % 2 == 0 && w % 2 == 0) {
        /* For even N, fftshift(fft(ifftshift(x)))[k] = (-1)^(k+N/2) fft((-1)^n x[n])[k]:
         * modulate before and after instead of copying. */
        const float g = ((h / 2 + w / 2) % 2) ? -1.0f : 1.0f;
        for (long b = 0; b < batch; b++) {
            cfloat *img = x + b * h * w;
            for (long i = 0; i < h; i++) {
                float s = (i % 2) ? -scale : scale;
                cfloat *row = img + i * w;
                for (long j = 0; j < w; j += 2) {
                    row[j] *= s;
                    row[j + 1] *= -s;
                }
            }
        }
        fftwf_execute_dft(p, (fftwf_complex *)x, (fftwf_complex *)x);
        for (long b = 0; b < batch; b++) {
            cfloat *img = x + b * h * w;
            for (long i = 0; i < h; i++) {
                float s = (i % 2) ? -g : g;
                cfloat *row = img + i * w;
                for (long j = 0; j < w; j += 2) {
                    row[j] *= s;
                    row[j + 1] *= -s;
                }
            }
        }
        return;
    }
    /* general sizes: explicit shifts. ifftshift moves by -floor(N/2),
     * fftshift by +floor(N/2) (mod N). */
    cfloat *tmp = mg_malloc_array((size_t)(h * w), sizeof(cfloat));
    shift2(x, tmp, batch, h, w, h - h / 2, w - w / 2); /* ifftshift */
    fftwf_execute_dft(p, (fftwf_complex *)x, (fftwf_complex *)x);
    shift2(x, tmp, batch, h, w, h / 2, w / 2); /* fftshift */
    free(tmp);
    size_t n = (size_t)(batch * h * w);
    for (size_t i = 0; i < n; i++) x[i] *= scale;
}

void mg_fft1c(cfloat *x, long rows, long w, int dir)
{
    fftwf_plan p = get_plan(x, rows, 0, w, dir);
    const float scale = (float)(1.0 / sqrt((double)w));
    if (w % 2 == 0) { /* modulation as in mg_fft2c, one axis */
        const float g = ((w / 2) % 2) ? -1.0f : 1.0f;
        for (long r = 0; r < rows; r++) {
            cfloat *row = x + r * w;
            for (long j = 0; j < w; j += 2) {
                row[j] *= scale;
                row[j + 1] *= -scale;
            }
        }
        fftwf_execute_dft(p, (fftwf_complex *)x, (fftwf_complex *)x);
        for (long r = 0; r < rows; r++) {
            cfloat *row = x + r * w;
            for (long j = 0; j < w; j += 2) {
                row[j] *= g;
                row[j + 1] *= -g;
            }
        }
        return;
    }
    cfloat *tmp = mg_malloc_array((size_t)w, sizeof(cfloat));
    shift2(x, tmp, rows, 1, w, 0, w - w / 2);
    fftwf_execute_dft(p, (fftwf_complex *)x, (fftwf_complex *)x);
    shift2(x, tmp, rows, 1, w, 0, w / 2);
    free(tmp);
    for (long i = 0; i < rows * w; i++) x[i] *= scale;
}

#include "fft.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Plans are 1D: `howmany` contiguous transforms of length n. A 2D transform
 * is rows, a cache-blocked transpose, rows again and a transpose back:
 * FFTW_ESTIMATE plans (no timing, so the same algorithms in every run and
 * every MPI rank) of FFTW's own 2D and strided column transforms ran 5-10x
 * slower than this at 256 x 256 (docs/results.md). */
typedef struct {
    long howmany, n;
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

static fftwf_plan get_plan(cfloat *x, long howmany, long n, int dir)
{
    int align = fftwf_alignment_of((float *)x);
    pthread_mutex_lock(&plan_lock);
    for (int i = 0; i < nplans; i++) {
        plan_entry *e = &plans[i];
        if (e->howmany == howmany && e->n == n && e->dir == dir && e->align == align && e->nthreads == fft_threads) {
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
    int n1[1] = {(int)n};
    /* FFTW_ESTIMATE leaves the array untouched, so we may plan on the
     * caller's data; the plan is reused for any array of equal alignment. */
    fftwf_plan p = fftwf_plan_many_dft(1, n1, (int)howmany, (fftwf_complex *)x, NULL, 1, (int)n, (fftwf_complex *)x,
                                       NULL, 1, (int)n, dir == MG_FFT_FORWARD ? FFTW_FORWARD : FFTW_BACKWARD,
                                       FFTW_ESTIMATE);
    if (nplans == MAX_PLANS) { /* evict the oldest */
        fftwf_destroy_plan(plans[0].plan);
        memmove(plans, plans + 1, sizeof(plan_entry) * (MAX_PLANS - 1));
        nplans--;
    }
    plans[nplans++] = (plan_entry){howmany, n, dir, align, fft_threads, p};
    pthread_mutex_unlock(&plan_lock);
    return p;
}

/* per-thread scratch for the transposed images (kept between calls) */
static _Thread_local cfloat *scratch;
static _Thread_local size_t scratch_n;

/* dst (batch x w x h) = transpose of each src image (batch x h x w) */
static void transpose(cfloat *restrict dst, const cfloat *restrict src, long batch, long h, long w)
{
    enum { T = 32 };
#pragma omp parallel for collapse(2) schedule(static) if (batch * h * w >= (1L << 16))
    for (long b = 0; b < batch; b++)
        for (long i0 = 0; i0 < h; i0 += T)
            for (long j0 = 0; j0 < w; j0 += T) {
                const cfloat *s = src + b * h * w;
                cfloat *d = dst + b * h * w;
                const long i1 = i0 + T < h ? i0 + T : h, j1 = j0 + T < w ? j0 + T : w;
                for (long i = i0; i < i1; i++)
                    for (long j = j0; j < j1; j++) d[j * h + i] = s[i * w + j];
            }
}

/* unnormalised, unshifted 2D DFT of each image, in place */
static void dft2(cfloat *x, long batch, long h, long w, int dir)
{
    const size_t n = (size_t)(batch * h * w);
    if (n > scratch_n) {
        free(scratch);
        scratch = mg_malloc_array(n, sizeof(cfloat));
        scratch_n = n;
    }
    fftwf_execute_dft(get_plan(x, batch * h, w, dir), (fftwf_complex *)x, (fftwf_complex *)x);
    transpose(scratch, x, batch, h, w);
    fftwf_execute_dft(get_plan(scratch, batch * w, h, dir), (fftwf_complex *)scratch, (fftwf_complex *)scratch);
    transpose(x, scratch, batch, w, h);
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
    mg_fft_release_thread();
}

void mg_fft_release_thread(void)
{
    free(scratch);
    scratch = NULL;
    scratch_n = 0;
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

/* row r of `rows` rows of even length w (rows of consecutive images alternate
 * with h even): x[r][j] *= s (-1)^(r + j), on the OpenMP team when large */
static void modulate(cfloat *x, long rows, long w, float s)
{
#pragma omp parallel for schedule(static) if (rows * w >= (1L << 16))
    for (long r = 0; r < rows; r++) {
        const float sr = (r % 2) ? -s : s;
        cfloat *row = x + r * w;
        for (long j = 0; j < w; j += 2) {
            row[j] *= sr;
            row[j + 1] *= -sr;
        }
    }
}

void mg_fft2c(cfloat *x, long batch, long h, long w, int dir)
{
    const float scale = (float)(1.0 / sqrt((double)h * (double)w));
    if (h % 2 == 0 && w % 2 == 0) {
        /* For even N, fftshift(fft(ifftshift(x)))[k] = (-1)^(k+N/2) fft((-1)^n x[n])[k]:
         * modulate before and after instead of copying. */
        const float g = ((h / 2 + w / 2) % 2) ? -1.0f : 1.0f;
        modulate(x, batch * h, w, scale);
        dft2(x, batch, h, w, dir);
        modulate(x, batch * h, w, g);
        return;
    }
    /* general sizes: explicit shifts. ifftshift moves by -floor(N/2),
     * fftshift by +floor(N/2) (mod N). */
    cfloat *tmp = mg_malloc_array((size_t)(h * w), sizeof(cfloat));
    shift2(x, tmp, batch, h, w, h - h / 2, w - w / 2); /* ifftshift */
    dft2(x, batch, h, w, dir);
    shift2(x, tmp, batch, h, w, h / 2, w / 2); /* fftshift */
    free(tmp);
    size_t n = (size_t)(batch * h * w);
    for (size_t i = 0; i < n; i++) x[i] *= scale;
}

void mg_dft_rows(cfloat *x, long rows, long n, int dir)
{
    fftwf_execute_dft(get_plan(x, rows, n, dir), (fftwf_complex *)x, (fftwf_complex *)x);
}

void mg_fft1c(cfloat *x, long rows, long w, int dir)
{
    fftwf_plan p = get_plan(x, rows, w, dir);
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

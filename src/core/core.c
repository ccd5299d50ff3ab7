#include "core.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- errors ---- */
static _Thread_local char err_buf[1024];

void mg_set_error(const char *fmt, ...)
{
    /* formatted aside first: the arguments may be mg_error() itself (a
     * prefix added to the current message) */
    char msg[sizeof err_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(err_buf, msg, sizeof err_buf);
    /* keep it one line */
    for (char *c = err_buf; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
}

const char *mg_error(void) { return err_buf[0] ? err_buf : "unknown error"; }

/* ---- allocation ---- */
static _Thread_local const char *alloc_file; /* the file being read, for the message */

const char *mg_alloc_context(const char *path)
{
    const char *old = alloc_file;
    alloc_file = path;
    return old;
}

static void oom(size_t n)
{
    if (alloc_file)
        fprintf(stderr, "mrgan: %s: out of memory allocating %.1f MB for its data\n", alloc_file, (double)n / 1e6);
    else
        fprintf(stderr, "mrgan: out of memory allocating %.1f MB\n", (double)n / 1e6);
    exit(1);
}

void *mg_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *mg_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) oom(count * size);
    return p;
}

int mg_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

void *mg_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

void *mg_malloc_array(size_t count, size_t size)
{
    size_t n;
    if (!mg_mul_size(count, size, &n)) oom(SIZE_MAX);
    return mg_malloc(n);
}

char *mg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = mg_malloc(n);
    memcpy(d, s, n);
    return d;
}

/* ---- RNG ---- */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void mg_rng_seed(mg_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mg_rng_u64(mg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mg_rng_uniform(mg_rng *r) { return (double)(mg_rng_u64(r) >> 11) * 0x1.0p-53; }

double mg_rng_uniform_in(mg_rng *r, double lo, double hi) { return lo + (hi - lo) * mg_rng_uniform(r); }

double mg_rng_normal(mg_rng *r)
{
    double u1 = mg_rng_uniform(r), u2 = mg_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t mg_seed_mix(uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t x = seed ^ 0x6a09e667f3bcc909ULL;
    uint64_t h = splitmix64(&x);
    x = h ^ (a * 0xd1b54a32d192ed03ULL);
    h = splitmix64(&x);
    x = h ^ (b * 0x9e3779b97f4a7c15ULL);
    return splitmix64(&x);
}

/* ---- timing ---- */
double mg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- progress ---- */
void mg_progress_start(mg_progress *p, const char *label, long total, int quiet)
{
    p->label = label;
    p->total = total > 0 ? total : 1;
    p->done = 0;
    p->start = 0;
    p->shown = -1;
    p->t0 = p->last = mg_now();
    const char *ci = getenv("CI");
    p->tty = isatty(STDERR_FILENO) && !(ci && *ci && strcmp(ci, "0") && strcmp(ci, "false"));
    p->quiet = quiet;
    p->extra[0] = 0;
}

static void fmt_time(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0) { snprintf(buf, n, "--:--"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

static void progress_print(mg_progress *p, int final)
{
    double el = mg_now() - p->t0;
    double rate = el > 0 ? (double)(p->done - p->start) / el : 0.0;
    double eta = rate > 0 ? (double)(p->total - p->done) / rate : -1;
    char e1[32], e2[32];
    fmt_time(el, e1, sizeof e1);
    fmt_time(eta, e2, sizeof e2);
    int pct = (int)(100.0 * (double)p->done / (double)p->total);
    if (p->tty) {
        char bar[31];
        int fill = (int)(30.0 * (double)p->done / (double)p->total);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r%s [%s] %3d%% %ld/%ld %.2f it/s %s elapsed %s eta %s%s", p->label, bar, pct,
                p->done, p->total, rate, p->extra, e1, e2, final ? "\n" : "");
    } else {
        fprintf(stderr, "%s: %ld/%ld (%d%%) %.2f it/s %s elapsed %s eta %s\n", p->label, p->done,
                p->total, pct, rate, p->extra, e1, e2);
    }
    fflush(stderr);
    p->shown = p->done;
}

void mg_progress_update(mg_progress *p, long done)
{
    p->done = done;
    if (p->quiet) return;
    double now = mg_now();
    double every = p->tty ? 0.2 : 10.0;
    if (now - p->last >= every) {
        p->last = now;
        progress_print(p, 0);
    }
}

void mg_progress_end(mg_progress *p)
{
    if (p->quiet) return;
    p->done = p->total;
    if (!p->tty && p->shown == p->total) return; /* the final line once */
    progress_print(p, 1);
}

/* ---- atomic output ---- */
char *mg_tmp_path(const char *path)
{
    size_t n = strlen(path) + 48;
    char *t = mg_malloc(n);
    snprintf(t, n, "%s.tmp.%ld", path, (long)getpid());
    return t;
}

int mg_commit_tmp(const char *tmp, const char *path)
{
    if (rename(tmp, path) != 0) {
        mg_set_error("%s: cannot rename temporary file into place: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int mg_finish_tmp(int ok, char *tmp, const char *path, const char *why)
{
    int rc = -1;
    if (ok) rc = mg_commit_tmp(tmp, path);
    else {
        if (why) mg_set_error("%s: %s", path, why);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

char *mg_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = mg_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int mg_has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

long mg_first_nonfinite_c(const cfloat *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(crealf(x[i])) || !isfinite(cimagf(x[i]))) return (long)i;
    return -1;
}

long mg_first_nonfinite_f(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return (long)i;
    return -1;
}

void mg_transpose_c(const cfloat *in, long h, long w, cfloat *out)
{
    for (long y = 0; y < h; y++)
        for (long x = 0; x < w; x++) out[x * h + y] = in[y * w + x];
}

void mg_center_crop(const void *in, long h, long w, void *out, long ch, long cw, size_t elem)
{
    const long y0 = (h - ch) / 2, x0 = (w - cw) / 2;
    const char *a = in;
    char *b = out;
    for (long y = 0; y < ch; y++) memmove(b + (size_t)(y * cw) * elem, a + (size_t)((y + y0) * w + x0) * elem, (size_t)cw * elem);
}

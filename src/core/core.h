/* mrgan core: errors, allocation, RNG, progress, timing, atomic file writes.
 * The lowest layer; includes nothing else from mrgan. */
#ifndef MRGAN_CORE_H
#define MRGAN_CORE_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef float complex cfloat;

/* ---- errors ----
 * Library functions return 0 on success and -1 on failure; on failure they
 * have set a one-line message (naming the file and the problem) that
 * mg_error() returns until the next mg_set_error() (which may take
 * mg_error() among its arguments, to prefix the message). */
void mg_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *mg_error(void);

/* ---- allocation: abort with a message when memory runs out ---- */
void *mg_malloc(size_t n);
void *mg_calloc(size_t count, size_t size);
void *mg_malloc_array(size_t count, size_t size); /* overflow-checked */
void *mg_realloc(void *p, size_t n);
char *mg_strdup(const char *s);

/* The file whose data the next allocations hold (NULL: none), named in the
 * out-of-memory message; returns the previous one, to restore. */
const char *mg_alloc_context(const char *path);

/* Multiply sizes with overflow detection; returns 0 on overflow. */
int mg_mul_size(size_t a, size_t b, size_t *out);

/* ---- random numbers: xoshiro256** seeded by splitmix64 ---- */
typedef struct { uint64_t s[4]; } mg_rng;
void mg_rng_seed(mg_rng *r, uint64_t seed);
uint64_t mg_rng_u64(mg_rng *r);
double mg_rng_uniform(mg_rng *r);          /* [0, 1) */
double mg_rng_uniform_in(mg_rng *r, double lo, double hi); /* [lo, hi) */
double mg_rng_normal(mg_rng *r);           /* N(0, 1) */
/* Derive an independent stream seed from a base seed and indices. */
uint64_t mg_seed_mix(uint64_t seed, uint64_t a, uint64_t b);

/* ---- timing ---- */
double mg_now(void); /* monotonic seconds */

/* ---- progress: a bar with rate and ETA on a terminal, plain periodic
 * lines otherwise (or when CI is set). Writes to stderr. ---- */
typedef struct {
    const char *label;
    long total;
    long done, shown; /* shown: the count of the last line printed (-1: none) */
    long start;       /* done before this process began (a resumed epoch): not in the rate */
    double t0, last;
    int tty;
    int quiet;
    char extra[64]; /* shown after the rate (e.g. the running loss) */
} mg_progress;
void mg_progress_start(mg_progress *p, const char *label, long total, int quiet);
void mg_progress_update(mg_progress *p, long done);
void mg_progress_end(mg_progress *p);

/* ---- atomic output: write to a temporary name beside the target, then
 * rename over it, so an existing file is never left half-written. ---- */
char *mg_tmp_path(const char *path);            /* caller frees */
int mg_commit_tmp(const char *tmp, const char *path); /* rename; -1 + error */
/* The end of every atomic write: when ok, rename tmp over path; otherwise
 * remove tmp and fail with "PATH: why" (why NULL: the error already set).
 * Frees tmp. Returns 0 or -1. */
int mg_finish_tmp(int ok, char *tmp, const char *path, const char *why);

/* text into path, and a copy of a file (files.c); both atomic */
int mg_write_text(const char *path, const char *text);
int mg_copy_file(const char *from, const char *to);
/* 1 when a and b name the same existing file (device and inode) */
int mg_same_file(const char *a, const char *b);
/* An output must not be one of the command's inputs (compared by device and
 * inode, so links and other spellings count; BART's BASE names BASE.cfl and
 * BASE.hdr), nor a directory, nor empty: 0, or -1 with an error. NULL
 * inputs are skipped. */
int mg_check_output(const char *out, const char *const *inputs, int n);
/* An exclusive lock on DIR (flock of DIR/.lock), held until mg_unlock_dir or
 * the process ends: the fd, or -1 with "DIR: in use by another mrgan
 * process" when another holds it. */
int mg_lock_dir(const char *dir);
void mg_unlock_dir(int fd);
/* The number of entries of dir (its .lock not counted) and the first few
 * names, comma-separated, into buf; -1 when dir cannot be read. */
int mg_dir_list(const char *dir, char *buf, size_t n);
/* The files of dir whose names end in one of the nsuf suffixes (hidden
 * names skipped), as "dir/name", sorted by name, appended to *files (*n
 * counts them; free each and the array). 0, or -1 with an error naming dir. */
int mg_dir_files(const char *dir, const char *const *suffixes, int nsuf, char ***files, int *n);
/* split a CSV line in place at commas into at most max fields; returns the count */
int mg_split_fields(char *line, char **fld, int max);

/* ---- small path helpers ---- */
int mg_has_suffix(const char *s, const char *suffix);
char *mg_path_join(const char *dir, const char *name); /* "dir/name", caller frees */

/* ---- numeric checks ---- */
/* Returns index of first non-finite value or -1 when all are finite. */
long mg_first_nonfinite_c(const cfloat *x, size_t n);
long mg_first_nonfinite_f(const float *x, size_t n);
/* The centre ch x cw (ch <= h, cw <= w) of an h x w image of elem-byte
 * values (fastMRI's centre crop: offsets (h - ch) / 2, (w - cw) / 2); out may
 * be in (rows move down in order). */
void mg_center_crop(const void *in, long h, long w, void *out, long ch, long cw, size_t elem);
/* out (w x h) = the transpose of in (h x w); out != in */
void mg_transpose_c(const cfloat *in, long h, long w, cfloat *out);

/* ---- SHA-256 (hex digest, 64 characters + NUL) ---- */
void mg_sha256(const void *data, size_t n, char hex[65]);
int mg_sha256_file(const char *path, char hex[65]);

/* ---- data parallelism over MPI (src/core/dist.c, docs/mpi.md) ----
 * One process (size 1, every call a no-op) unless mrgan was built with MPI
 * and started by mpirun, and mg_dist_init was called. Collectives are over
 * all ranks; every rank must call them in the same order. */
int mg_dist_init(int *argc, char ***argv); /* 0; MPI_Init when under mpirun */
void mg_dist_finalize(void);
int mg_dist_rank(void);
int mg_dist_size(void);
int mg_dist_have_mpi(void); /* built with MPI */
void mg_dist_sum_f(float *x, long n);  /* in-place all-reduce (sum) */
void mg_dist_sum_d(double *x, long n);
int mg_dist_max_i(int v);              /* all-reduce (max) */
void mg_dist_bcast_d(double *x, long n, int root);
void mg_dist_bcast_f(float *x, long n, int root);
void mg_dist_barrier(void);
_Noreturn void mg_dist_abort(int code);
/* seconds spent in collectives since mg_dist_init (the communication share) */
double mg_dist_seconds(void);

/* This CPU's measured arithmetic peak in GFLOP/s over all OpenMP threads
 * (peak.c): fp32 fused multiply-adds on its widest vectors, bf16 dot
 * products (AVX512-BF16); 0 where the instructions are missing. *how names
 * the kernel. */
double mg_peak_fp32_gflops(const char **how);
double mg_peak_bf16_gflops(const char **how);

#endif

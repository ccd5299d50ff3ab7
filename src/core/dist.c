/* Data parallelism over MPI: a thin layer over the few collectives training
 * needs (docs/mpi.md). Without MPI, or when not started by mpirun, this is a
 * single process and every collective is the identity. */
#include "core.h"

#include <stdlib.h>

#ifdef MRGAN_HAVE_MPI
#include <mpi.h>
#endif

static int d_rank = 0, d_size = 1, d_on = 0;
static double d_seconds = 0;

int mg_dist_have_mpi(void)
{
#ifdef MRGAN_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

/* started by a process manager (Open MPI's mpirun, or a PMI/PMIx one) */
static int launched(void)
{
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

int mg_dist_init(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (d_on || !launched()) return 0;
#ifdef MRGAN_HAVE_MPI
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        mg_set_error("MPI_Init failed");
        return -1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &d_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d_size);
    d_on = 1;
    return 0;
#else
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (n && atoi(n) > 1) {
        mg_set_error("started by mpirun with %s processes, but this mrgan was built without MPI "
                     "(install libopenmpi-dev and rebuild)", n);
        return -1;
    }
    return 0;
#endif
}

void mg_dist_finalize(void)
{
#ifdef MRGAN_HAVE_MPI
    if (d_on) MPI_Finalize();
#endif
    d_on = 0, d_rank = 0, d_size = 1;
}

int mg_dist_rank(void) { return d_rank; }
int mg_dist_size(void) { return d_size; }
double mg_dist_seconds(void) { return d_seconds; }

#ifdef MRGAN_HAVE_MPI
#define TIMED(call)                        \
    do {                                   \
        double t0_ = mg_now();             \
        call;                              \
        d_seconds += mg_now() - t0_;       \
    } while (0)
/* MPI counts are int: large arrays go in pieces */
#define CHUNKED(x, n, call_with_ptr_count)                       \
    for (long o_ = 0; o_ < (n); o_ += 1L << 30) {                \
        long c_ = (n) - o_ < (1L << 30) ? (n) - o_ : (1L << 30); \
        call_with_ptr_count((x) + o_, (int)c_);                  \
    }
#endif

void mg_dist_sum_f(float *x, long n)
{
#ifdef MRGAN_HAVE_MPI
    if (d_size < 2) return;
#define SUMF(p, c) MPI_Allreduce(MPI_IN_PLACE, p, c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD)
    TIMED(CHUNKED(x, n, SUMF));
#else
    (void)x, (void)n;
#endif
}

void mg_dist_sum_d(double *x, long n)
{
#ifdef MRGAN_HAVE_MPI
    if (d_size < 2) return;
#define SUMD(p, c) MPI_Allreduce(MPI_IN_PLACE, p, c, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD)
    TIMED(CHUNKED(x, n, SUMD));
#else
    (void)x, (void)n;
#endif
}

int mg_dist_max_i(int v)
{
#ifdef MRGAN_HAVE_MPI
    if (d_size < 2) return v;
    TIMED(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
#endif
    return v;
}

void mg_dist_bcast_d(double *x, long n, int root)
{
#ifdef MRGAN_HAVE_MPI
    if (d_size < 2) return;
#define BCD(p, c) MPI_Bcast(p, c, MPI_DOUBLE, root, MPI_COMM_WORLD)
    TIMED(CHUNKED(x, n, BCD));
#else
    (void)x, (void)n, (void)root;
#endif
}

void mg_dist_bcast_f(float *x, long n, int root)
{
#ifdef MRGAN_HAVE_MPI
    if (d_size < 2) return;
#define BCF(p, c) MPI_Bcast(p, c, MPI_FLOAT, root, MPI_COMM_WORLD)
    TIMED(CHUNKED(x, n, BCF));
#else
    (void)x, (void)n, (void)root;
#endif
}

void mg_dist_barrier(void)
{
#ifdef MRGAN_HAVE_MPI
    if (d_size > 1) TIMED(MPI_Barrier(MPI_COMM_WORLD));
#endif
}

_Noreturn void mg_dist_abort(int code)
{
#ifdef MRGAN_HAVE_MPI
    if (d_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

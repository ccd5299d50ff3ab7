/* The GPU backend's functions in a build without it (plain mrgan; the GPU
 * build links backend.c instead): each says so. */
#include "backend.h"

static int none(void)
{
    mg_set_error("--gpu: this mrgan was built without the GPU backend (needs nvcc and cuDNN; cmake -DMRGAN_CUDA=ON)");
    return -1;
}

int mg_backend_built(void) { return 0; }
int mg_backend_open(int dev)
{
    (void)dev;
    return none();
}
const char *mg_backend_describe(void) { return "no GPU backend"; }
void mg_backend_peak_reset(void) {}
double mg_backend_peak_mb(void) { return 0; }
double mg_backend_time_forward(mg_dcinet *net, const cfloat *ku, const cfloat *sens, const float *mask, int C,
                               int H, int W, int reps, double *with_io)
{
    (void)net, (void)ku, (void)sens, (void)mask, (void)C, (void)H, (void)W, (void)reps, (void)with_io;
    return none();
}
int mg_engine_gpu(mg_engine *e, mg_dcinet *net)
{
    (void)e, (void)net;
    return none();
}

/* The GPU backend's functions (backend.h) in the GPU build. */
#include "backend.h"
#include "gpu.h"

#include <stdio.h>
#include <stdlib.h>

int mg_backend_built(void) { return 1; }

int mg_backend_open(int dev)
{
    if (mg_gpu_init(dev)) {
        mg_set_error("--gpu: %s", mg_error());
        return -1;
    }
    return 0;
}

const char *mg_backend_describe(void)
{
    static char s[320];
    snprintf(s, sizeof s, "%s, %s", mg_gpu_name(), mg_gpu_tf32() ? "TF32 tensor cores" : "strict FP32");
    return s;
}

void mg_backend_peak_reset(void) { mg_gpu_peak_reset(); }
double mg_backend_peak_mb(void) { return (double)mg_gpu_peak_bytes() / 1048576.0; }

double mg_backend_time_forward(mg_dcinet *net, const cfloat *ku, const cfloat *sens, const float *mask, int C,
                               int H, int W, int reps, double *with_io)
{
    const long hw = (long)H * W, n = C * hw;
    mg_gpu_dcinet *g = mg_gpu_dcinet_create(net);
    float *dk = mg_gpu_alloc((size_t)(2 * n)), *ds = mg_gpu_alloc((size_t)(2 * n));
    float *dm = mg_gpu_alloc((size_t)H), *dout = mg_gpu_alloc((size_t)(2 * hw));
    float *out = mg_malloc_array((size_t)(2 * hw), sizeof(float));
    mg_gpu_upload(dk, (const float *)ku, (size_t)(2 * n));
    mg_gpu_upload(ds, (const float *)sens, (size_t)(2 * n));
    mg_gpu_upload(dm, mask, (size_t)H);
    double best = 1e30;
    for (int i = 0; i <= reps; i++) {
        double t = mg_now();
        mg_gpu_dcinet_forward(g, dk, ds, dm, dout, 1, C, H, W);
        mg_gpu_sync();
        t = mg_now() - t;
        if (i > 0 && t < best) best = t;
    }
    *with_io = 1e30; /* host in, host out */
    for (int i = 0; i < reps; i++) {
        double t = mg_now();
        mg_gpu_dcinet_infer(g, ku, sens, mask, out, 1, C, H, W);
        t = mg_now() - t;
        if (t < *with_io) *with_io = t;
    }
    mg_gpu_free(dk); mg_gpu_free(ds); mg_gpu_free(dm); mg_gpu_free(dout);
    mg_gpu_dcinet_free(g);
    free(out);
    return best;
}

static void gpu_infer(mg_engine *e, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int n, int C,
                      int H, int W)
{
    mg_gpu_dcinet_infer(e->dev, ku, sens, mask, out, n, C, H, W);
}

static void gpu_release(mg_engine *e)
{
    mg_gpu_dcinet_free(e->dev);
    e->dev = NULL;
}

int mg_engine_gpu(mg_engine *e, mg_dcinet *net)
{
    e->net = net;
    e->name = "GPU";
    e->infer = gpu_infer;
    e->release = gpu_release;
    e->dev = mg_gpu_dcinet_create(net);
    return 0;
}

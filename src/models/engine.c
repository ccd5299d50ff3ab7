/* DCI-Net inference on the CPU as an engine (models.h). */
#include "models.h"

static void cpu_infer(mg_engine *e, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int n, int C,
                      int H, int W)
{
    mg_dcinet_infer(e->net, ku, sens, mask, out, n, C, H, W);
}

static void cpu_release(mg_engine *e) { (void)e; }

void mg_engine_cpu(mg_engine *e, mg_dcinet *net)
{
    e->net = net;
    e->name = "CPU";
    e->infer = cpu_infer;
    e->release = cpu_release;
    e->dev = NULL;
}

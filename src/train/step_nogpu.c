/* The GPU step in a build without the GPU backend (plain mrgan; the GPU
 * build links step_gpu.c instead). */
#include "step.h"

int mg_step_gpu(mg_step *s, int B, int C, int H, int W, int cin)
{
    (void)s, (void)B, (void)C, (void)H, (void)W, (void)cin;
    mg_set_error("--gpu: this mrgan was built without the GPU backend (needs nvcc and cuDNN; cmake -DMRGAN_CUDA=ON)");
    return -1;
}

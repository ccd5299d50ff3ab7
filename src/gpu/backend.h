/* mrgan gpu: the GPU backend as the rest of mrgan sees it. Every build has
 * these functions: the GPU build (mrgan-gpu) implements them in backend.c;
 * the plain build links backend_none.c, where opening a device fails with
 * "this mrgan was built without the GPU backend". docs/gpu.md. */
#ifndef MRGAN_BACKEND_H
#define MRGAN_BACKEND_H

#include "../core/core.h"
#include "../models/models.h"

/* 1 in the GPU build, 0 in plain mrgan */
int mg_backend_built(void);
/* Open CUDA device dev. 0, or -1 with an error ("--gpu: ..."): no usable
 * device, or a build without the backend. */
int mg_backend_open(int dev);
/* "NAME (sm_90, 79.1 GiB), TF32 tensor cores" of the open device */
const char *mg_backend_describe(void);
/* device memory held at once by mrgan's buffers since the last reset, MB */
void mg_backend_peak_reset(void);
double mg_backend_peak_mb(void);
/* Fastest of reps forwards of net on one slice with the data resident on the
 * device (after a warm-up; synchronised); *with_io: the same with host
 * transfers. -1 with an error without the backend. */
double mg_backend_time_forward(mg_dcinet *net, const cfloat *ku, const cfloat *sens, const float *mask, int C,
                               int H, int W, int reps, double *with_io);
/* DCI-Net inference on the open device (after mg_backend_open) */
int mg_engine_gpu(mg_engine *e, mg_dcinet *net);

#endif

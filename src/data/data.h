/* mrgan data: data sets (docs/data.md). A layer above io (it reads volumes
 * and writes fastMRI-layout files) and below the commands. */
#ifndef MRGAN_DATA_H
#define MRGAN_DATA_H

#include "../core/core.h"
#include "../io/io.h"

#define MG_DEFAULT_VOLUME "/usr/share/mricron/templates/ch2.nii.gz"

/* ---- the simulated data set (simulate_set.c) ---- */
typedef struct {
    const char *input;      /* NIfTI volume (MG_DEFAULT_VOLUME: Colin27 from Debian's mricron-data) */
    long matrix, coils;     /* N x N images (even), coils (128, 8) */
    long stride;            /* every stride-th slice (3) */
    double noise, phase;    /* k-space noise std relative to the volume maximum (0.005); phase amplitude (1 rad) */
    uint64_t seed;          /* (1) */
    int use[3];             /* axial, coronal, sagittal (all) */
    int quiet;
} mg_simulate_opts;
void mg_simulate_defaults(mg_simulate_opts *o);
/* OUTDIR/train.h5, val.h5, test.h5 and simulate.json; counts: slices per
 * split. 0, or -1 with an error naming the file. */
int mg_simulate_dataset(const mg_simulate_opts *o, const char *outdir, long counts[3]);

#endif

/* Shared inside io/ only. */
#ifndef MRGAN_IO_INTERNAL_H
#define MRGAN_IO_INTERNAL_H

#include "io.h"

/* Debian's serial HDF5 (and libismrmrd over it) is not thread-safe: every
 * HDF5 call of io/ runs between these */
void mg_h5_lock(void);
void mg_h5_unlock(void);

/* ISMRMRD raw data (ismrmrd.c): cnt slices from s0 (cnt 0: all; cnt < 0:
 * the shape only) into d, and the header's geometry into hdr. Called with
 * the HDF5 lock held. */
int mg_ismrmrd_read(const char *path, long s0, long cnt, mg_kdata *d, mg_ismrmrd_hdr *hdr);

/* fastMRI-layout HDF5 or ISMRMRD raw data (h5.c), under the HDF5 lock:
 * cnt slices from s0 (cnt 0: all; cnt < 0: the shapes only) */
int mg_h5_read_kdata(const char *path, const mg_read_opts *o, long s0, long cnt, mg_kdata *d);
/* 2D multi-coil k-space from a cfl (cfl.c): [W H 1 C] or any two non-singleton
 * dims among 0..2, coils in dim 3; the layout kept in d->cfl_dims */
int mg_cfl_read_kspace(const char *path, mg_kdata *d);
/* The header's geometry where it describes d's array (field of view,
 * reconSpace, acquired lines), and the readout crop it calls for (kdata.c) */
void mg_kdata_geometry(mg_kdata *d, const mg_ismrmrd_hdr *hdr);
void mg_kdata_crop_header(mg_kdata *d, const mg_ismrmrd_hdr *hdr, const mg_read_opts *o, int shape_only);

#endif

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

#endif

/* Pieces shared by the simulated data set builders (simulate_set.c,
 * simulate_scanner.c): planes of a volume. */
#ifndef MRGAN_DATA_INTERNAL_H
#define MRGAN_DATA_INTERNAL_H

#include "data.h"

/* orientation o: 0 axial, 1 coronal, 2 sagittal; a plane has rows x cols
 * voxels of drow x dcol mm, count planes along the third axis */
typedef struct { long rows, cols, count; double drow, dcol; } mg_plane_geom;
mg_plane_geom mg_plane_geom_of(const mg_volume *v, int o);
/* plane idx of orientation o, superior / anterior up (rows x cols) */
void mg_plane_extract(const mg_volume *v, int o, long idx, float *out);
/* the planes of orientation o whose fraction of voxels above thresh is at
 * least 30 % of the largest fraction: [first, last] (-1 when none) */
void mg_plane_usable(const mg_volume *v, int o, float thresh, long *first, long *last);
/* maps as a method would estimate them (MG_SENS_*) from the 12 centre lines
 * of simulated k-space (ESPIRiT uncropped: unit norm everywhere, as the true
 * maps), stored instead of the true ones (simulate --maps) */
int mg_simulate_estimate_maps(const cfloat *k, long C, long H, long W, int method, cfloat *sens);
/* simulate.json's name of the stored maps (mg_simulate_opts.maps) */
const char *mg_simulate_maps_name(int maps);
/* the q-quantile (0 <= q <= 1) of the voxels > 0 (0 when there are none) */
float mg_volume_quantile(const mg_volume *v, double q);

#endif

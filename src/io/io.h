/* mrgan io: BART cfl/hdr, NIfTI-1, fastMRI-layout HDF5, PNG.
 * Every reader validates what it reads (sizes, shapes, truncation, finite
 * values) and fails with a one-line message naming the file; every writer
 * writes to a temporary name and renames it into place. See docs/formats.md. */
#ifndef MRGAN_IO_H
#define MRGAN_IO_H

#include "../core/core.h"

#define MG_MAX_DIMS 16
/* Largest array a reader accepts (elements); guards against absurd headers.
 * mg_io_max_elements starts at MG_MAX_ELEMENTS; the fuzz harnesses lower it
 * (an HDF5 header may declare a huge data set whose storage is never
 * allocated, which no file-size check can catch). */
#define MG_MAX_ELEMENTS (1L << 32)
extern long mg_io_max_elements;

/* ---- BART cfl/hdr: `base` may name base, base.cfl or base.hdr. dims are
 * BART's (dim 0 fastest); the data are complex float, column-major. ---- */
int mg_cfl_read(const char *base, int *ndim, long dims[MG_MAX_DIMS], cfloat **data);
int mg_cfl_write(const char *base, int ndim, const long *dims, const cfloat *data);

/* ---- NIfTI-1 (.nii, .nii.gz): read any scalar type as float (scaled by
 * scl_slope / scl_inter); dims nx, ny, nz (missing dims are 1). ---- */
typedef struct {
    long nx, ny, nz;
    float dx, dy, dz;
    float *data; /* nx*ny*nz, x fastest */
} mg_volume;
int mg_nifti_read(const char *path, mg_volume *v);
/* Write float32 (or complex64 when cdata != NULL) volume nx x ny x nz. */
int mg_nifti_write(const char *path, long nx, long ny, long nz, const float *data,
                   const cfloat *cdata);
void mg_volume_free(mg_volume *v);

/* ---- multi-slice multi-coil k-space data in memory (internal layout:
 * slices x coils x H x W, phase-encode lines along H). ---- */
typedef struct {
    long nslices, coils, h, w;
    cfloat *kspace;      /* required */
    cfloat *sens;        /* coil maps, same shape as kspace, or NULL */
    float *rss;          /* root-sum-of-squares reference, slices x H x W, or NULL */
    float *mask;         /* sampled phase-encode lines (H values), or NULL */
    int32_t *slice_info; /* slices x 2 (orientation 0/1/2 = axial/coronal/sagittal, index), or NULL */
} mg_kdata;

/* Read k-space by extension: .h5/.hdf5 (fastMRI layout: `kspace`
 * slices x coils x rows x cols with phase encodes along cols, which we
 * transpose so they run along H) or BART cfl (dims [W, H, 1, C], or any
 * two non-singleton dims among 0..2 plus coils in dim 3). */
int mg_kdata_read(const char *path, mg_kdata *d);
/* Write a fastMRI-layout HDF5 file (kspace, sens_maps, reconstruction_rss,
 * mask, slice_info, ismrmrd_header; attributes max, norm, acquisition). */
int mg_kdata_write_h5(const char *path, const mg_kdata *d);
void mg_kdata_free(mg_kdata *d);

/* Coil maps from a cfl file, checked against the k-space shape. */
int mg_sens_read_cfl(const char *path, long coils, long h, long w, cfloat **sens);
/* A mask from cfl (dims [1, H] or [W, H], constant along the readout). */
int mg_mask_read_cfl(const char *path, long h, float **mask);
int mg_mask_write_cfl(const char *path, const float *mask, long h);

/* n images of H x W magnitudes from a cfl stack ([W H] x images in the
 * remaining dims) or a directory of 8-bit grey PNGs of one size (sorted by
 * name; *png = 1). NULL with an error naming the file. Caller frees. */
float *mg_image_set_read(const char *path, long *n, long *H, long *W, int *png);

/* A fastMRI-style reconstruction file: `reconstruction` float32 slices x W x H. */
int mg_h5_write_recon(const char *path, const float *mag, long S, long H, long W);

/* ---- PNG: 8-bit grey magnitude images ----
 * Window [lo, hi] maps to 0..255; hi <= lo selects automatically 0 .. 99.5th
 * percentile of the magnitude. */
int mg_png_write_mag(const char *path, const cfloat *img, long h, long w, float lo, float hi);
int mg_png_write_gray(const char *path, const unsigned char *pix, long h, long w);
int mg_png_write_rgb(const char *path, const unsigned char *rgb, long h, long w); /* 3 bytes per pixel */
/* any PNG, converted to 8-bit grey */
int mg_png_read_gray(const char *path, unsigned char **pix, long *h, long *w);
float mg_auto_window(const cfloat *img, size_t n);

/* ---- images out, by extension: .png (one file per slice, `_NNN` before the
 * extension when there are several), .cfl (dims [W, H] with slices in BART
 * dim 13), .h5 (fastMRI `reconstruction`, magnitude, slices x W x H as the
 * k-space is stored) or .nii/.nii.gz (magnitude, W x H x slices). ---- */
int mg_images_write(const char *path, const cfloat *img, long nslices, long h, long w);

/* ---- safetensors (F32 tensors + string metadata), written atomically ---- */
typedef struct {
    char *name;
    int ndim;
    long shape[4];
    const float *data;
} mg_st_tensor;
typedef struct {
    int n, nmeta;
    mg_st_tensor *t;
    char **meta; /* key, value pairs */
    void *blob;
} mg_st_file;
/* meta: nmeta key/value string pairs, flattened */
int mg_st_write(const char *path, const mg_st_tensor *t, int n, const char *const *meta, int nmeta);
/* Validates the header (offsets, shapes, dtype, coverage) and finite data. */
int mg_st_read(const char *path, mg_st_file *f);
void mg_st_free(mg_st_file *f);
const mg_st_tensor *mg_st_find(const mg_st_file *f, const char *name);
const char *mg_st_meta(const mg_st_file *f, const char *key);

#endif

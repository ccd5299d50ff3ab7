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

/* ---- the ISMRMRD XML header's geometry (ismrmrd_header.c) ----
 * matrix / fov_mm [0] encodedSpace, [1] reconSpace; [.][0] x (readout),
 * [1] y (phase encode), [2] z; 0 where the header does not say. */
typedef struct {
    long matrix[2][3];
    double fov_mm[2][3];
    int has_limits; /* kspace_encoding_step_1 minimum, maximum, center */
    long e1_min, e1_max, e1_center;
} mg_ismrmrd_hdr;
void mg_ismrmrd_header_parse(const char *xml, size_t len, mg_ismrmrd_hdr *h);
/* The acquired phase-encode lines [lo, hi) of n (fastMRI's rule: the limits'
 * centre at n/2) when the header's encoded y is n; returns 1 when that
 * leaves padded lines out, 0 (and [0, n)) otherwise. */
int mg_ismrmrd_acquired_range(const mg_ismrmrd_hdr *h, long n, long *lo, long *hi);

/* ---- multi-slice multi-coil k-space data in memory (internal layout:
 * slices x coils x H x W, phase-encode lines along H). ---- */
typedef struct {
    long nslices, coils, h, w;
    cfloat *kspace;      /* required */
    cfloat *sens;        /* coil maps, same shape as kspace, or NULL */
    float *rss;          /* root-sum-of-squares reference, slices x H x W, or NULL */
    float *mask;         /* sampled phase-encode lines (H values), or NULL */
    int32_t *slice_info; /* slices x 2 (orientation 0/1/2 = axial/coronal/sagittal, index), or NULL */
    /* geometry (0 where unknown): the field of view in mm along W (readout)
     * and H; the reconstruction matrix (reconSpace) as H x W */
    double fov_w_mm, fov_h_mm;
    long recon_h, recon_w;
    long acq_lo, acq_hi;  /* lines the header says were encoded: [acq_lo, acq_hi) (0, h: all) */
    long w_encoded;       /* the readout length before the oversampling crop (0: not cropped) */
    float *rss_crop;      /* a file's reconstruction_rss at reconSpace size (slices x recon_h x recon_w), or NULL */
    int has_sens;         /* the file holds coil maps (set by the probe too) */
    int cfl_dims[2];      /* BART dims of W and H in a cfl input ([W H 1 C]: 0, 1; [1 W H C]: 1, 2): the
                           * layout cfl outputs keep */
    long first_slice;     /* the file's slice that is slice 0 here (mg_kdata_read_slices) */
} mg_kdata;

/* How k-space is read: crop_readout 1 (auto: remove readout oversampling
 * when the header's encodedSpace x is larger than its reconSpace x; inverse
 * FFT along the readout, centre crop, forward FFT) or 0 (none). */
typedef struct {
    int crop_readout;
} mg_read_opts;
#define MG_READ_DEFAULTS ((mg_read_opts){1})

/* Read k-space by extension: .h5/.hdf5 (fastMRI layout: `kspace`
 * slices x coils x rows x cols with phase encodes along cols, which we
 * transpose so they run along H) or BART cfl (dims [W, H, 1, C], or any
 * two non-singleton dims among 0..2 plus coils in dim 3). mg_kdata_read uses
 * MG_READ_DEFAULTS. */
int mg_kdata_read(const char *path, mg_kdata *d);
int mg_kdata_read_opts(const char *path, const mg_read_opts *o, mg_kdata *d);
/* cnt slices from slice s0 of a file (an HDF5 hyperslab: only they are read). */
int mg_kdata_read_slices(const char *path, const mg_read_opts *o, long s0, long cnt, mg_kdata *d);
/* The shape (nslices, coils, h, w after any readout crop), geometry,
 * acquired range, has_sens and mask of a file, without its arrays. */
int mg_kdata_probe(const char *path, const mg_read_opts *o, mg_kdata *d);
/* The ISMRMRD header fastMRI's SliceDataset reads, for d (ismrmrd_header.c):
 * matrices, fields of view (1 mm pixels where d does not say), reconSpace
 * and the encoded lines. */
void mg_ismrmrd_header_format(const mg_kdata *d, char *xml, size_t len);
/* Lines of slice s that were acquired: inside [acq_lo, acq_hi) and not zero
 * in every coil; into acq (H values, 0/1). Returns their count. */
long mg_kdata_acquired(const mg_kdata *d, long s, float *acq);
/* Remove readout oversampling: the centre w2 of the W readout points in
 * image space (k-space, maps and full-size RSS); no-op unless 0 < w2 < W. */
void mg_kdata_crop_readout(mg_kdata *d, long w2);
/* Write a fastMRI-layout HDF5 file (kspace, sens_maps, reconstruction_rss,
 * mask, slice_info, ismrmrd_header; attributes max, norm, acquisition). */
int mg_kdata_write_h5(const char *path, const mg_kdata *d);
void mg_kdata_free(mg_kdata *d);

/* Coil maps from a cfl file, checked against the k-space shape: [W H 1 C]
 * (W, H at any two of dims 0..2, in that order) and, as `bart ecalib`
 * writes by default, map sets in dim 4: all of them are kept (sets x C x H x
 * W) and *sets gets their number, or (sets NULL) set 1 only. */
int mg_sens_read_cfl(const char *path, long coils, long h, long w, cfloat **sens, long *sets);
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
 * Images are shown as bart toimg and fastMRI's imshow show them: PNG rows
 * along W (the readout, BART dim 0), columns along H (the phase-encode
 * lines); mg_images_write and the report transpose the H x W images, the
 * writers below write the rows they are given.
 * Window [lo, hi] maps to 0..255; hi <= lo selects automatically 0 .. 99.5th
 * percentile of the magnitude. */
int mg_png_write_mag(const char *path, const cfloat *img, long h, long w, float lo, float hi);
int mg_png_write_gray(const char *path, const unsigned char *pix, long h, long w);
int mg_png_write_rgb(const char *path, const unsigned char *rgb, long h, long w); /* 3 bytes per pixel */
/* any PNG, converted to 8-bit grey */
int mg_png_read_gray(const char *path, unsigned char **pix, long *h, long *w);
float mg_auto_window(const cfloat *img, size_t n);

/* ---- images out, by extension: .png (one file per slice, `_NNN` before the
 * extension when there are several; rows along W, as bart toimg), .cfl (dims [W, H] with slices in BART
 * dim 13), .h5 (fastMRI `reconstruction`, magnitude, slices x W x H as the
 * k-space is stored) or .nii/.nii.gz (magnitude, W x H x slices). ---- */
int mg_images_write(const char *path, const cfloat *img, long nslices, long h, long w);
/* the same; a .cfl puts W and H at BART dims wh[0], wh[1] (an input's layout) */
int mg_images_write_layout(const char *path, const cfloat *img, long nslices, long h, long w, const int wh[2]);
/* BART dims of a slice's C x H x W array in d's layout (W, H at cfl_dims, C in dim 3) */
void mg_kdata_cfl_layout(const mg_kdata *d, long C, long H, long W, long dims[4]);

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

/* mrgan data: data sets (docs/data.md). A layer above io (it reads volumes
 * and writes fastMRI-layout files) and below the commands. */
#ifndef MRGAN_DATA_H
#define MRGAN_DATA_H

#include "../core/core.h"
#include "../io/io.h"

#include <pthread.h>

#define MG_DEFAULT_VOLUME "/usr/share/mricron/templates/ch2.nii.gz"

/* ---- the simulated data set (simulate_set.c) ---- */
typedef struct {
    const char *input;      /* NIfTI volume (MG_DEFAULT_VOLUME: Colin27 from Debian's mricron-data) */
    long matrix, coils;     /* N x N images (even), coils (128, 8) */
    long stride;            /* every stride-th slice (3) */
    double noise, phase;    /* k-space noise std relative to the volume maximum (0.005); phase amplitude (1 rad) */
    uint64_t seed;          /* (1) */
    int use[3];             /* axial, coronal, sagittal (all) */
    int maps;               /* stored maps: 0 the true (birdcage) ones, MG_SENS_* + 1 estimated from the 12 centre
                             * lines of the simulated k-space (ESPIRiT uncropped) */
    long pe_fold;           /* keep every pe_fold-th phase-encode line: a field of view 1/pe_fold of the head's
                             * along the phase encoding, the image wraps; no true maps stored (1) */
    int quiet;
} mg_simulate_opts;
void mg_simulate_defaults(mg_simulate_opts *o);
/* OUTDIR/train.h5, val.h5, test.h5 and simulate.json; counts: slices per
 * split. 0, or -1 with an error naming the file. */
int mg_simulate_dataset(const mg_simulate_opts *o, const char *outdir, long counts[3]);

/* ---- the scanner-like simulated data set (simulate_scanner.c) ----
 * Volumes split by volume (subject): inputs[s] lists NIfTI files or
 * directories of them for train, val, test. Each volume gives `slices`
 * planes (of the orientations whose voxels are near the finest), acquired
 * with random protocols (a readout length from matrices, a field of view
 * 1.05-1.3 x the head along the readout and 1.05-1.35 x along the phase
 * encoding, or 0.75-0.92 x (wrapped) with probability wrap, both readout
 * directions, mirrored or not; a loop-coil array of a coil count from coils;
 * correlated noise of std log-uniform in [noise_lo, noise_hi]; a tone curve)
 * and per slice a bias field and a phase of several scales. */
typedef struct {
    const char *const *inputs[3];
    long ninputs[3];
    long matrices[8], nmatrices;  /* readout lengths (192, 224, 256) */
    long coils[8], ncoils;        /* coil counts (8, 12, 16) */
    double noise_lo, noise_hi;    /* (0.003, 0.02) relative to the volume's 99.5th percentile */
    long slices;                  /* planes per volume (24) */
    long protocols;               /* series per volume (2; at least one per orientation) */
    double wrap;                  /* probability of a field of view smaller than the head (0.1) */
    double warp;                  /* head deformation per series, displacement mm (0: none; mg_warp) */
    uint64_t seed;
    int maps;                     /* as mg_simulate_opts (wrapped series: none stored unless estimated) */
    int quiet;
} mg_scanner_opts;
void mg_scanner_defaults(mg_scanner_opts *o);
/* OUTDIR/SPLIT/NAME_pK.h5 (one series each) and OUTDIR/simulate.json;
 * counts: slices per split. 0, or -1 with an error naming the file. */
int mg_simulate_scanner(const mg_scanner_opts *o, const char *outdir, long counts[3]);

/* ---- data sets as researchers hold them (dataset.c) ----
 * A split is found under a directory as DIR/SPLIT.h5 (mrgan simulate),
 * DIR/SPLIT.txt (a list of files, one per line, relative to DIR),
 * DIR/multicoil_SPLIT/ *.h5 (fastMRI's release) or DIR/SPLIT/ *.h5; its
 * files may mix matrix sizes and coil counts. Slices are grouped by shape
 * (coils, lines, readout after any oversampling crop). */
typedef struct {
    long C, H, W;
    long n;        /* slices of this shape */
    long *members; /* their indices, ascending */
} mg_shape_group;
typedef struct {
    mg_read_opts ro;     /* readout crop */
    long acs;            /* centre lines for maps that a file lacks (estimated) */
    int sens_method;     /* MG_SENS_* for those maps */
    size_t cache_bytes;  /* slices (k-space and maps) kept in memory after their first read */
} mg_dataset_opts;
typedef struct {
    mg_dataset_opts o;
    int nfiles;
    char **files;
    long n;              /* slices */
    int *file_of, *group_of;
    long *slice_of;
    int ngroups;
    mg_shape_group *groups;
    long max_C, max_H, max_W; /* the largest dimensions over the groups */
    int cropped;         /* files whose readout oversampling is removed */
    /* reading (any thread; one at a time) */
    pthread_mutex_t mu;
    int mu_init;
    cfloat **ck;         /* cached [k-space | maps] per slice, or NULL */
    size_t cache_used;
    double sens_dev;     /* the largest deviation from unit norm of a file's maps (normalised) */
} mg_dataset;
/* Unit-norm maps for every slice of d: its own normalised (*dev: their
 * largest deviation before) or, when it has none, estimated from the `acs`
 * centre lines by `method` (errors name path and the file's slice). */
int mg_kdata_unit_maps(mg_kdata *d, const char *path, long acs, int method, double *dev);
/* The files of `split` under dir (sorted; caller frees with mg_dataset_free_list). */
int mg_dataset_find(const char *dir, const char *split, char ***files, int *nfiles);
void mg_dataset_free_list(char **files, int n);
/* Index the files (their headers only). A file whose mask shows undersampling
 * is refused. On error mg_dataset_close still frees what was built. */
int mg_dataset_open(mg_dataset *ds, char *const *files, int nfiles, const mg_dataset_opts *o);
/* Slice i: k-space and unit-norm maps into buffers of its group's shape. */
int mg_dataset_read(mg_dataset *ds, long i, cfloat *k, cfloat *sens);
/* An in-memory data set of d's slices (d needs maps; copied). */
int mg_dataset_wrap(mg_dataset *ds, const mg_kdata *d);
/* full batches of B slices of one shape: sum over shapes of floor(n / B) */
long mg_dataset_batches(const mg_dataset *ds, int B);
/* "N slices in F files, G shapes (HxW C coils: n, ...)" */
void mg_dataset_describe(const mg_dataset *ds, char *buf, size_t len);
void mg_dataset_close(mg_dataset *ds);

#endif

/* Data sets as researchers hold them (data.h; docs/data.md, "Data sets"):
 * any number of fastMRI-layout HDF5 (or cfl) files with any mix of matrix
 * sizes and coil counts. Opening indexes (file, slice, shape) from each
 * file's header without reading its arrays; slices are read on demand (an
 * HDF5 hyperslab of one slice), their maps normalised or estimated, and kept
 * in a cache of bounded size, so memory does not grow with the tree. */
#include "data.h"
#include "../mri/mri.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void push(char ***v, int *n, char *s)
{
    *v = mg_realloc(*v, sizeof(char *) * (size_t)(*n + 1));
    (*v)[(*n)++] = s;
}

/* the .h5/.hdf5 files of a directory, sorted by name */
static int list_h5(const char *dir, char ***files, int *n)
{
    static const char *const sfx[2] = {".h5", ".hdf5"};
    return mg_dir_files(dir, sfx, 2, files, n);
}

/* a list file: one path per line (relative to the list's directory), '#' comments */
static int read_list(const char *list, const char *dir, char ***files, int *n)
{
    FILE *f = fopen(list, "r");
    if (!f) {
        mg_set_error("%s: cannot open: %s", list, strerror(errno));
        return -1;
    }
    char line[4096];
    long ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        size_t L = strlen(line);
        if (L == sizeof line - 1 && line[L - 1] != '\n') {
            mg_set_error("%s, line %ld: longer than %zu characters", list, ln, sizeof line - 2);
            fclose(f);
            return -1;
        }
        while (L && (line[L - 1] == '\n' || line[L - 1] == '\r' || line[L - 1] == ' ' || line[L - 1] == '\t'))
            line[--L] = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        push(files, n, p[0] == '/' ? mg_strdup(p) : mg_path_join(dir, p));
    }
    fclose(f);
    return 0;
}

/* a split's files were found at p (freed): none is an error */
static int found(int rc, int n, char *p, const char *none)
{
    if (!rc && n == 0) {
        mg_set_error("%s: %s", p, none);
        rc = -1;
    }
    free(p);
    return rc;
}

int mg_dataset_find(const char *dir, const char *split, char ***files, int *nfiles)
{
    *files = NULL;
    *nfiles = 0;
    if (!is_dir(dir)) {
        mg_set_error("%s: not a directory (a data set is a directory: see docs/data.md)", dir);
        return -1;
    }
    char name[64];
    snprintf(name, sizeof name, "%s.h5", split);
    char *p = mg_path_join(dir, name);
    if (is_file(p)) { /* mrgan simulate's layout */
        push(files, nfiles, p);
        return 0;
    }
    free(p);
    snprintf(name, sizeof name, "%s.txt", split);
    p = mg_path_join(dir, name);
    if (is_file(p)) { /* an explicit list */
        const int rc = read_list(p, dir, files, nfiles);
        return found(rc, *nfiles, p, "lists no files");
    }
    free(p);
    const char *pre[2] = {"multicoil_", ""}; /* fastMRI's release, or DIR/SPLIT/ */
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "%s%s", pre[i], split);
        p = mg_path_join(dir, name);
        if (is_dir(p)) {
            const int rc = list_h5(p, files, nfiles);
            return found(rc, *nfiles, p, "holds no .h5 files");
        }
        free(p);
    }
    mg_set_error("%s: no %s split: expected %s.h5, %s.txt (a list of files), multicoil_%s/ or %s/ (docs/data.md)",
                 dir, split, split, split, split, split);
    return -1;
}

void mg_dataset_free_list(char **files, int n)
{
    for (int i = 0; i < n; i++) free(files[i]);
    free(files);
}

static int group_of_shape(mg_dataset *ds, long C, long H, long W)
{
    for (int g = 0; g < ds->ngroups; g++)
        if (ds->groups[g].C == C && ds->groups[g].H == H && ds->groups[g].W == W) return g;
    ds->groups = mg_realloc(ds->groups, sizeof(mg_shape_group) * (size_t)(ds->ngroups + 1));
    ds->groups[ds->ngroups] = (mg_shape_group){C, H, W, 0, NULL};
    return ds->ngroups++;
}

int mg_dataset_open(mg_dataset *ds, char *const *files, int nfiles, const mg_dataset_opts *o)
{
    memset(ds, 0, sizeof *ds);
    ds->o = *o;
    pthread_mutex_init(&ds->mu, NULL);
    ds->mu_init = 1;
    ds->nfiles = nfiles;
    ds->files = mg_calloc((size_t)nfiles, sizeof(char *));
    long cap = 0;
    for (int f = 0; f < nfiles; f++) {
        ds->files[f] = mg_strdup(files[f]);
        mg_kdata d;
        if (mg_kdata_probe(files[f], &o->ro, &d)) return -1;
        if (d.mask && mg_mask_count(d.mask, d.h) < d.h) {
            /* a test/challenge file: its k-space is undersampled */
            long lo = d.acq_lo, hi = d.acq_hi, got = 0;
            for (long y = lo; y < hi; y++) got += d.mask[y] != 0.0f;
            if (got < hi - lo) {
                mg_set_error("%s: undersampled (its 'mask' keeps %ld of %ld lines): a training or validation set "
                             "needs fully sampled k-space", files[f], got, hi - lo);
                mg_kdata_free(&d);
                return -1;
            }
        }
        const int g = group_of_shape(ds, d.coils, d.h, d.w);
        if (ds->n + d.nslices > cap) {
            cap = 2 * (ds->n + d.nslices);
            ds->file_of = mg_realloc(ds->file_of, sizeof(int) * (size_t)cap);
            ds->slice_of = mg_realloc(ds->slice_of, sizeof(long) * (size_t)cap);
            ds->group_of = mg_realloc(ds->group_of, sizeof(int) * (size_t)cap);
        }
        for (long s = 0; s < d.nslices; s++) {
            ds->file_of[ds->n] = f;
            ds->slice_of[ds->n] = s;
            ds->group_of[ds->n] = g;
            ds->n++;
        }
        if (d.w_encoded > 0) ds->cropped++;
        mg_kdata_free(&d);
    }
    for (int g = 0; g < ds->ngroups; g++) {
        mg_shape_group *G = &ds->groups[g];
        for (long i = 0; i < ds->n; i++) G->n += ds->group_of[i] == g;
        G->members = mg_malloc_array((size_t)G->n, sizeof(long));
        long k = 0;
        for (long i = 0; i < ds->n; i++)
            if (ds->group_of[i] == g) G->members[k++] = i;
        ds->max_C = G->C > ds->max_C ? G->C : ds->max_C;
        ds->max_H = G->H > ds->max_H ? G->H : ds->max_H;
        ds->max_W = G->W > ds->max_W ? G->W : ds->max_W;
    }
    ds->ck = mg_calloc((size_t)ds->n, sizeof(cfloat *));
    return 0;
}

int mg_kdata_unit_maps(mg_kdata *d, const char *path, long acs, int method, double *dev)
{
    const long n = d->coils * d->h * d->w;
    *dev = 0;
    if (d->sens) { /* the file's maps: unit norm, as the DC units assume */
        for (long s = 0; s < d->nslices; s++) *dev = fmax(*dev, mg_sens_normalize(d->sens + s * n, d->coils, d->h, d->w, 1e-3));
        return 0;
    }
    d->sens = mg_malloc_array((size_t)(d->nslices * n), sizeof(cfloat));
    for (long s = 0; s < d->nslices; s++)
        if (mg_sens_estimate(d->kspace + s * n, d->coils, d->h, d->w, acs, method, d->sens + s * n)) {
            mg_set_error("%s, slice %ld: %s", path, d->first_slice + s, mg_error());
            return -1;
        }
    return 0;
}

/* read slice i from its file (not cached): k-space and unit-norm maps */
static int read_slice(mg_dataset *ds, long i, cfloat *k, cfloat *sens)
{
    const char *path = ds->files[ds->file_of[i]];
    const long s = ds->slice_of[i];
    mg_kdata d;
    if (mg_kdata_read_slices(path, &ds->o.ro, s, 1, &d)) return -1;
    const mg_shape_group *G = &ds->groups[ds->group_of[i]];
    if (d.coils != G->C || d.h != G->H || d.w != G->W) { /* the file changed since it was indexed */
        mg_set_error("%s, slice %ld: %ld coils %ldx%ld, indexed as %ld coils %ldx%ld (file changed?)", path, s, d.coils,
                     d.h, d.w, G->C, G->H, G->W);
        mg_kdata_free(&d);
        return -1;
    }
    const long n = d.coils * d.h * d.w;
    double dev;
    const int rc = mg_kdata_unit_maps(&d, path, ds->o.acs, ds->o.sens_method, &dev);
    if (!rc) {
        memcpy(k, d.kspace, sizeof(cfloat) * (size_t)n);
        memcpy(sens, d.sens, sizeof(cfloat) * (size_t)n);
        if (dev > ds->sens_dev) ds->sens_dev = dev;
    }
    mg_kdata_free(&d);
    return rc;
}

int mg_dataset_read(mg_dataset *ds, long i, cfloat *k, cfloat *sens)
{
    const mg_shape_group *G = &ds->groups[ds->group_of[i]];
    const long n = G->C * G->H * G->W;
    const size_t bytes = 2 * sizeof(cfloat) * (size_t)n;
    pthread_mutex_lock(&ds->mu);
    int rc = 0;
    if (ds->ck[i]) {
        memcpy(k, ds->ck[i], sizeof(cfloat) * (size_t)n);
        memcpy(sens, ds->ck[i] + n, sizeof(cfloat) * (size_t)n);
    } else {
        rc = read_slice(ds, i, k, sens);
        if (!rc && ds->cache_used + bytes <= ds->o.cache_bytes) { /* kept while the cache has room */
            ds->ck[i] = mg_malloc_array((size_t)(2 * n), sizeof(cfloat));
            memcpy(ds->ck[i], k, sizeof(cfloat) * (size_t)n);
            memcpy(ds->ck[i] + n, sens, sizeof(cfloat) * (size_t)n);
            ds->cache_used += bytes;
        }
    }
    pthread_mutex_unlock(&ds->mu);
    return rc;
}

long mg_dataset_batches(const mg_dataset *ds, int B)
{
    long k = 0;
    for (int g = 0; g < ds->ngroups; g++) k += ds->groups[g].n / B;
    return k;
}

void mg_dataset_describe(const mg_dataset *ds, char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "%ld slices in %d file%s, %d shape%s (", ds->n, ds->nfiles,
                                ds->nfiles == 1 ? "" : "s", ds->ngroups, ds->ngroups == 1 ? "" : "s");
    for (int g = 0; g < ds->ngroups && o < len; g++) {
        const mg_shape_group *G = &ds->groups[g];
        if (g == 6) {
            o += (size_t)snprintf(buf + o, len - o, ", ...");
            break;
        }
        o += (size_t)snprintf(buf + o, len - o, "%s%ldx%ld %ld coils: %ld", g ? ", " : "", G->H, G->W, G->C, G->n);
    }
    if (o < len) o += (size_t)snprintf(buf + o, len - o, ")");
    if (ds->cropped && o < len)
        snprintf(buf + o, len - o, "; readout oversampling removed in %d file%s", ds->cropped,
                 ds->cropped == 1 ? "" : "s");
}

void mg_dataset_close(mg_dataset *ds)
{
    for (int f = 0; f < ds->nfiles; f++) free(ds->files[f]);
    free(ds->files);
    if (ds->ck)
        for (long i = 0; i < ds->n; i++) free(ds->ck[i]);
    free(ds->ck);
    for (int g = 0; g < ds->ngroups; g++) free(ds->groups[g].members);
    free(ds->groups);
    free(ds->file_of);
    free(ds->slice_of);
    free(ds->group_of);
    if (ds->mu_init) pthread_mutex_destroy(&ds->mu);
    memset(ds, 0, sizeof *ds);
}

int mg_dataset_wrap(mg_dataset *ds, const mg_kdata *d)
{
    memset(ds, 0, sizeof *ds);
    if (!d->sens) {
        mg_set_error("an in-memory data set needs coil maps");
        return -1;
    }
    pthread_mutex_init(&ds->mu, NULL);
    ds->mu_init = 1;
    ds->o.cache_bytes = (size_t)-1;
    ds->n = d->nslices;
    const long n = d->coils * d->h * d->w;
    ds->file_of = mg_calloc((size_t)ds->n, sizeof(int));
    ds->slice_of = mg_malloc_array((size_t)ds->n, sizeof(long));
    ds->group_of = mg_calloc((size_t)ds->n, sizeof(int));
    ds->ck = mg_calloc((size_t)ds->n, sizeof(cfloat *));
    ds->ngroups = 1;
    ds->groups = mg_calloc(1, sizeof(mg_shape_group));
    ds->groups[0] = (mg_shape_group){d->coils, d->h, d->w, ds->n, mg_malloc_array((size_t)ds->n, sizeof(long))};
    for (long i = 0; i < ds->n; i++) {
        ds->slice_of[i] = ds->groups[0].members[i] = i;
        ds->ck[i] = mg_malloc_array((size_t)(2 * n), sizeof(cfloat));
        memcpy(ds->ck[i], d->kspace + i * n, sizeof(cfloat) * (size_t)n);
        memcpy(ds->ck[i] + n, d->sens + i * n, sizeof(cfloat) * (size_t)n);
    }
    ds->max_C = d->coils;
    ds->max_H = d->h;
    ds->max_W = d->w;
    ds->cache_used = sizeof(cfloat) * (size_t)(2 * n * ds->n);
    return 0;
}

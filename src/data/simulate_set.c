/* The simulated data set (data.h; docs/data.md): a brain volume becomes
 * multi-coil k-space split by slice blocks into train, val and test files. */
#include "data_internal.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { SPLIT_TRAIN = 0, SPLIT_VAL = 1, SPLIT_TEST = 2, SPLIT_DROP = 3 };
static const char *split_names[3] = {"train", "val", "test"};
static const char *orient_names[3] = {"axial", "coronal", "sagittal"};

/* The chosen slices of each orientation are cut into 10 contiguous segments
 * with roles T T V T T E T T T E (train 70 %, val 10 %, test 20 %). */
static int block_role(long j)
{
    static const int cycle[10] = {0, 0, 1, 0, 0, 2, 0, 0, 0, 2};
    return cycle[j % 10];
}

typedef struct { long n; int *orient; long *index; } slice_list;

static void list_push(slice_list *l, int o, long idx)
{
    l->orient = realloc(l->orient, sizeof(int) * (size_t)(l->n + 1));
    l->index = realloc(l->index, sizeof(long) * (size_t)(l->n + 1));
    if (!l->orient || !l->index) abort(); /* out of memory */
    l->orient[l->n] = o;
    l->index[l->n] = idx;
    l->n++;
}

/* every K-th phase-encode line, times sqrt(K): the image of a field of view
 * 1/K of the original along the phase encoding, the object wrapped (folded
 * copies summed); reference recomputed, maps dropped (none are true now) */
static void fold_pe(mg_kdata *d, long K)
{
    const long S = d->nslices, C = d->coils, H = d->h, W = d->w, H2 = H / K;
    cfloat *k2 = mg_malloc_array((size_t)(S * C * H2 * W), sizeof(cfloat));
    const float g = (float)sqrt((double)K);
    for (long p = 0; p < S * C; p++)
        for (long j = 0; j < H2; j++)
            for (long x = 0; x < W; x++) k2[(p * H2 + j) * W + x] = g * d->kspace[(p * H + K * j) * W + x];
    free(d->kspace);
    free(d->sens);
    d->sens = NULL;
    d->kspace = k2;
    d->h = H2;
    d->fov_h_mm /= (double)K;
    cfloat *work = mg_malloc_array((size_t)(C * H2 * W), sizeof(cfloat));
    for (long s = 0; s < S; s++) mg_rss(d->kspace + s * C * H2 * W, C, H2, W, work, d->rss + s * H2 * W);
    free(work);
}

int mg_simulate_estimate_maps(const cfloat *k, long C, long H, long W, int method, cfloat *sens)
{
    if (method != MG_SENS_ESPIRIT) return mg_sens_estimate(k, C, H, W, 12, method, sens);
    mg_espirit_opts o;
    mg_espirit_defaults(&o);
    o.crop = 0;
    return mg_espirit(k, C, H, W, 12, &o, sens, NULL);
}

static int write_split(const char *path, const mg_volume *v, const slice_list *l, long N, long C,
                       double noise, double phase_amp, uint64_t seed, float vmax, long fold, int maps,
                       mg_progress *pr, long *done)
{
    mg_kdata d = {0};
    d.nslices = l->n;
    d.coils = C;
    d.h = d.w = N;
    const long n = N * N;
    d.kspace = mg_malloc_array((size_t)(l->n * C * n), sizeof(cfloat));
    d.sens = mg_malloc_array((size_t)(l->n * C * n), sizeof(cfloat));
    d.rss = mg_malloc_array((size_t)(l->n * n), sizeof(float));
    d.slice_info = mg_malloc_array((size_t)(2 * l->n), sizeof(int32_t));
    long F = v->nx > v->ny ? v->nx : v->ny;
    if (v->nz > F) F = v->nz;
    d.fov_w_mm = d.fov_h_mm = (double)F * v->dx; /* the square the planes are padded to (isotropic voxels) */
    float *plane = mg_malloc_array((size_t)(F * F), sizeof(float));
    float *square = mg_malloc_array((size_t)(F * F), sizeof(float));
    float *mag = mg_malloc_array((size_t)n, sizeof(float));
    cfloat *img = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *coil = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    for (long s = 0; s < l->n; s++) {
        int o = l->orient[s];
        mg_plane_geom g = mg_plane_geom_of(v, o);
        mg_plane_extract(v, o, l->index[s], plane);
        memset(square, 0, sizeof(float) * (size_t)(F * F));
        /* the plane's rows (superior / anterior first) along W, the readout,
         * so that images show upright as bart toimg and fastMRI show them
         * (io.h); the phase-encode lines run left-right */
        long r0 = (F - g.rows) / 2, c0 = (F - g.cols) / 2;
        for (long r = 0; r < g.rows; r++)
            for (long c = 0; c < g.cols; c++) square[(c + c0) * F + r + r0] = plane[r * g.cols + c] / vmax;
        mg_resample_fourier(square, F, F, mag, N, N);
        mg_rng rng;
        mg_rng_seed(&rng, mg_seed_mix(seed, (uint64_t)o, (uint64_t)l->index[s]));
        for (long i = 0; i < n; i++) img[i] = mag[i];
        mg_random_phase(img, N, N, phase_amp, &rng);
        double rot = 2.0 * M_PI / (double)C * mg_rng_uniform(&rng);
        cfloat *sens = d.sens + s * C * n, *k = d.kspace + s * C * n;
        mg_birdcage_maps(sens, C, N, N, 1.5, rot);
        mg_simulate_kspace(img, sens, C, N, N, noise, &rng, k);
        mg_rss(k, C, N, N, coil, d.rss + s * n);
        if (maps && mg_simulate_estimate_maps(k, C, N, N, maps - 1, sens)) {
            mg_set_error("%s: %s", path, mg_error());
            free(plane), free(square), free(mag), free(img), free(coil);
            mg_kdata_free(&d);
            return -1;
        }
        d.slice_info[2 * s] = o;
        d.slice_info[2 * s + 1] = (int32_t)l->index[s];
        mg_progress_update(pr, ++*done);
    }
    if (fold > 1) fold_pe(&d, fold);
    int rc = mg_kdata_write_h5(path, &d);
    free(plane);
    free(square);
    free(mag);
    free(img);
    free(coil);
    mg_kdata_free(&d);
    return rc;
}

const char *mg_simulate_maps_name(int maps)
{
    return maps == 0 ? "true" : maps - 1 == MG_SENS_WALSH ? "walsh" : maps - 1 == MG_SENS_DIRECT ? "direct" : "espirit";
}

void mg_simulate_defaults(mg_simulate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->input = MG_DEFAULT_VOLUME;
    o->matrix = 128;
    o->coils = 8;
    o->stride = 3;
    o->noise = 0.005;
    o->phase = 1.0;
    o->seed = 1;
    o->use[0] = o->use[1] = o->use[2] = 1;
    o->pe_fold = 1;
}

int mg_simulate_dataset(const mg_simulate_opts *o, const char *outdir, long counts[3])
{
    const char *input = o->input;
    const long N = o->matrix, C = o->coils, stride = o->stride;
    const double noise = o->noise, phase_amp = o->phase;
    const uint64_t seed = o->seed;
    const int *use = o->use, quiet = o->quiet;
    mg_volume v;
    if (mg_nifti_read(input, &v)) return -1;
    int rc = -1;
    slice_list lists[3] = {{0}};
    char *jpath = NULL, *tmp = NULL;
    if (v.nx < 8 || v.ny < 8 || v.nz < 8) {
        mg_set_error("%s: volume %ldx%ldx%ld is too small (need at least 8 voxels per axis)", input, v.nx, v.ny, v.nz);
        goto out;
    }
    if (fabsf(v.dx - v.dy) > 0.01f * v.dx || fabsf(v.dx - v.dz) > 0.01f * v.dx)
        fprintf(stderr, "simulate: warning: %s has voxels %gx%gx%g mm; they are treated as isotropic\n",
                input, (double)v.dx, (double)v.dy, (double)v.dz);
    float vmax = 0;
    for (long i = 0; i < v.nx * v.ny * v.nz; i++) vmax = v.data[i] > vmax ? v.data[i] : vmax;
    if (!(vmax > 0)) {
        mg_set_error("%s: volume is empty (maximum %g)", input, (double)vmax);
        goto out;
    }
    if (mkdir(outdir, 0755) && errno != EEXIST) {
        mg_set_error("%s: cannot create directory: %s", outdir, strerror(errno));
        goto out;
    }

    /* choose slices: usable = head fraction >= 30% of the orientation's peak */
    for (int o = 0; o < 3; o++) {
        if (!use[o]) continue;
        mg_plane_geom g = mg_plane_geom_of(&v, o);
        long first, last;
        mg_plane_usable(&v, o, 0.1f * vmax, &first, &last);
        long nchosen = 0, *chosen = mg_malloc_array((size_t)g.count, sizeof(long));
        for (long i = first; i >= 0 && i <= last; i += stride) chosen[nchosen++] = i;
        int *role = mg_malloc_array((size_t)(nchosen ? nchosen : 1), sizeof(int));
        for (long j = 0; j < nchosen; j++) role[j] = block_role(10 * j / nchosen);
        /* guard: a training slice next to a val/test slice is dropped */
        for (long j = 0; j < nchosen; j++) {
            if (role[j] != SPLIT_TRAIN) continue;
            int near = (j > 0 && (role[j - 1] == SPLIT_VAL || role[j - 1] == SPLIT_TEST)) ||
                       (j + 1 < nchosen && (role[j + 1] == SPLIT_VAL || role[j + 1] == SPLIT_TEST));
            if (near) role[j] = SPLIT_DROP;
        }
        for (long j = 0; j < nchosen; j++)
            if (role[j] != SPLIT_DROP) list_push(&lists[role[j]], o, chosen[j]);
        free(chosen);
        free(role);
    }
    long total = lists[0].n + lists[1].n + lists[2].n;
    for (int s = 0; s < 3; s++)
        if (lists[s].n == 0) {
            mg_set_error("%s: the %s split is empty (volume too small or --stride %ld too large)", input,
                         split_names[s], stride);
            goto out;
        }

    mg_progress pr;
    mg_progress_start(&pr, "simulate", total, quiet);
    long done = 0;
    for (int s = 0; s < 3; s++) {
        size_t len = strlen(outdir) + 16;
        char *path = mg_malloc(len);
        snprintf(path, len, "%s/%s.h5", outdir, split_names[s]);
        int bad = write_split(path, &v, &lists[s], N, C, noise, phase_amp, seed, vmax, o->pe_fold, o->maps, &pr,
                              &done);
        free(path);
        if (bad) goto out;
    }
    mg_progress_end(&pr);

    /* record of what was made */
    jpath = mg_path_join(outdir, "simulate.json");
    tmp = mg_tmp_path(jpath);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        mg_set_error("%s: cannot create: %s", jpath, strerror(errno));
        goto out;
    }
    cJSON *jin = cJSON_CreateString(input); /* the path, JSON-escaped */
    char *qin = cJSON_PrintUnformatted(jin);
    fprintf(f, "{\n  \"input\": %s,\n  \"matrix\": %ld,\n  \"coils\": %ld,\n  \"stride\": %ld,\n"
               "  \"noise\": %g,\n  \"phase\": %g,\n  \"seed\": %llu,\n  \"volume_max\": %g,\n  \"pe_fold\": %ld,\n"
               "  \"maps\": \"%s\",\n"
               "  \"split_rule\": \"chosen slices of each orientation cut into 10 contiguous segments with "
               "roles T T V T T E T T T E; training slices adjacent to val/test slices dropped\",\n",
            qin, N, C, stride, noise, phase_amp, (unsigned long long)seed, (double)vmax, o->pe_fold,
            mg_simulate_maps_name(o->maps));
    cJSON_free(qin);
    cJSON_Delete(jin);
    for (int s = 0; s < 3; s++) {
        fprintf(f, "  \"%s\": [", split_names[s]);
        for (long i = 0; i < lists[s].n; i++)
            fprintf(f, "%s[\"%s\", %ld]", i ? ", " : "", orient_names[lists[s].orient[i]], lists[s].index[i]);
        fprintf(f, "]%s\n", s < 2 ? "," : "");
    }
    fprintf(f, "}\n");
    if (fclose(f)) {
        mg_set_error("%s: write failed", jpath);
        remove(tmp);
        goto out;
    }
    if (mg_commit_tmp(tmp, jpath)) goto out;
    for (int s = 0; s < 3; s++) counts[s] = lists[s].n;
    rc = 0;
out:
    for (int s = 0; s < 3; s++) {
        free(lists[s].orient);
        free(lists[s].index);
    }
    free(tmp);
    free(jpath);
    mg_volume_free(&v);
    return rc;
}

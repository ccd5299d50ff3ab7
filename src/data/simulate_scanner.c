/* The scanner-like simulated data set (data.h; docs/data.md "Looking like
 * scanner data"): many volumes split by volume (subject) into train, val
 * and test; each volume is acquired with a few random protocols (matrix,
 * field of view, readout direction, coil array, noise), each protocol's
 * slices one fastMRI-layout file OUTDIR/SPLIT/NAME_pK.h5. */
#include "data_internal.h"
#include "../fft/fft.h"
#include "../mri/mri.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *split_names[3] = {"train", "val", "test"};

void mg_scanner_defaults(mg_scanner_opts *o)
{
    memset(o, 0, sizeof *o);
    static const long matrices[] = {192, 224, 256};
    static const long coils[] = {8, 12, 16};
    memcpy(o->matrices, matrices, sizeof matrices);
    o->nmatrices = 3;
    memcpy(o->coils, coils, sizeof coils);
    o->ncoils = 3;
    o->noise_lo = 0.003;
    o->noise_hi = 0.02;
    o->slices = 24;
    o->protocols = 2;
    o->wrap = 0.1;
    o->seed = 1;
}

/* one acquisition protocol: what a series of a volume shares */
typedef struct {
    int transpose;       /* plane rows along H (the phase encoding) instead of W */
    int flip;            /* plane columns mirrored */
    long W, H, Hext;     /* readout, phase-encode lines, lines over the head when wrapped (else H) */
    double px;           /* pixel size, mm (square pixels) */
    double shift_w, shift_h; /* field-of-view centre off the head's, mm */
    long C;
    double noise, corr, phase_amp;
    mg_coil_array arr;
    cfloat A[MG_MAX_ARRAY_COILS * MG_MAX_ARRAY_COILS];
    float tone[MG_TONE_KNOTS];
    int warped;          /* the head deformed by wp (--warp) */
    mg_warp wp;
} protocol;

/* the head's bounding box in one orientation's planes (voxels above thresh
 * in any plane), rows [r0, r1] and columns [c0, c1] */
static void head_box(const mg_volume *v, int o, float thresh, long box[4])
{
    mg_plane_geom g = mg_plane_geom_of(v, o);
    float *plane = mg_malloc_array((size_t)(g.rows * g.cols), sizeof(float));
    box[0] = g.rows, box[1] = -1, box[2] = g.cols, box[3] = -1;
    for (long i = 0; i < g.count; i++) {
        mg_plane_extract(v, o, i, plane);
        for (long r = 0; r < g.rows; r++)
            for (long c = 0; c < g.cols; c++)
                if (plane[r * g.cols + c] > thresh) {
                    if (r < box[0]) box[0] = r;
                    if (r > box[1]) box[1] = r;
                    if (c < box[2]) box[2] = c;
                    if (c > box[3]) box[3] = c;
                }
    }
    free(plane);
}

static void make_protocol(protocol *p, const mg_scanner_opts *o, const mg_plane_geom *g, const long box[4],
                          mg_rng *r)
{
    memset(p, 0, sizeof *p);
    /* drawn first and only with --warp, so data sets without it are as before */
    if (o->warp > 0) {
        p->warped = 1;
        mg_warp_random(&p->wp, o->warp, r);
    }
    /* head extents along the plane's rows and columns, mm; the readout runs
     * along the longer one in 3 series of 4 (the phase encoding along the
     * shorter is the faster scan), along the shorter in the others */
    double ext_rows = (double)(box[1] - box[0] + 1) * g->drow, ext_cols = (double)(box[3] - box[2] + 1) * g->dcol;
    int along_longer = mg_rng_uniform(r) < 0.75;
    p->transpose = (ext_cols > ext_rows) == along_longer;
    p->flip = mg_rng_uniform(r) < 0.5;
    /* the extents along the readout (W) and the phase encoding (H) */
    double ext_w = p->transpose ? ext_cols : ext_rows, ext_h = p->transpose ? ext_rows : ext_cols;
    if (p->warped) mg_warp_extent(&p->wp, ext_w, ext_h, &ext_w, &ext_h);
    double fov_w = ext_w * mg_rng_uniform_in(r, 1.05, 1.3);
    int wrap = mg_rng_uniform(r) < o->wrap;
    double fov_h = ext_h * (wrap ? mg_rng_uniform_in(r, 0.75, 0.92) : mg_rng_uniform_in(r, 1.05, 1.35));
    p->W = o->matrices[(long)(mg_rng_uniform(r) * (double)o->nmatrices)];
    p->px = fov_w / (double)p->W;
    p->H = 8 * lround(fov_h / p->px / 8.0);
    if (p->H < 32) p->H = 32;
    p->Hext = p->H;
    if (wrap) {
        long need = 8 * (long)ceil(1.1 * ext_h / p->px / 8.0);
        if (need > p->H) p->Hext = need;
    }
    p->shift_w = 0.03 * fov_w * (2.0 * mg_rng_uniform(r) - 1.0);
    p->shift_h = 0.03 * fov_h * (2.0 * mg_rng_uniform(r) - 1.0);
    p->C = o->coils[(long)(mg_rng_uniform(r) * (double)o->ncoils)];
    mg_coil_array_random(&p->arr, p->C, 0.5 * fmax(ext_w, ext_h), r);
    p->noise = exp(mg_rng_uniform_in(r, log(o->noise_lo), log(o->noise_hi)));
    p->corr = mg_rng_uniform_in(r, 0.0, 0.5);
    mg_noise_mixing_random(p->A, p->C, p->corr, r);
    p->phase_amp = mg_rng_uniform_in(r, 0.3, 1.5);
    mg_tone_curve_random(p->tone, r);
}

/* plane (rows x cols) at fractional (r, c), bilinear; 0 outside */
static float sample_bilinear(const float *plane, long rows, long cols, double r, double c)
{
    const double r0 = floor(r), c0 = floor(c), fr = r - r0, fc = c - c0;
    double acc = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            const long rr = (long)r0 + a, cc = (long)c0 + b;
            if (rr < 0 || rr >= rows || cc < 0 || cc >= cols) continue;
            acc += (a ? fr : 1.0 - fr) * (b ? fc : 1.0 - fc) * (double)plane[rr * cols + cc];
        }
    return (float)acc;
}

/* The magnitude of plane idx on the protocol's grid (Hext x W): the tone
 * curve on the normalised plane, placed on a canvas of the field of view at
 * the source's voxel size, resampled by the spectrum to the matrix. */
static void plane_image(const mg_volume *v, int o, long idx, const mg_plane_geom *g, const long box[4],
                        float vnorm, const protocol *p, float *out)
{
    float *plane = mg_malloc_array((size_t)(g->rows * g->cols), sizeof(float));
    mg_plane_extract(v, o, idx, plane);
    /* source voxel sizes along W and H */
    double dw = p->transpose ? g->dcol : g->drow, dh = p->transpose ? g->drow : g->dcol;
    long cw = lround((double)p->W * p->px / dw), ch = lround((double)p->Hext * p->px / dh);
    if (cw < 2) cw = 2;
    if (ch < 2) ch = 2;
    float *canvas = mg_calloc((size_t)(cw * ch), sizeof(float));
    double crow = 0.5 * (double)(box[0] + box[1]), ccol = 0.5 * (double)(box[2] + box[3]);
    for (long i = 0; i < ch; i++)
        for (long j = 0; j < cw; j++) {
            double yh = ((double)i - 0.5 * (double)ch) * dh + p->shift_h, xw = ((double)j - 0.5 * (double)cw) * dw + p->shift_w;
            /* the source position (the deformed head's with --warp), in
             * fractional plane rows and columns */
            double sw = xw, sh = yh;
            if (p->warped) mg_warp_point(&p->wp, xw, yh, &sw, &sh);
            const double fr = crow + (p->transpose ? sh : sw) / g->drow, fc = ccol + (p->transpose ? sw : sh) / g->dcol;
            float val;
            if (p->warped) {
                /* sampled bilinearly */
                val = sample_bilinear(plane, g->rows, g->cols, fr, p->flip ? (double)(g->cols - 1) - fc : fc);
            } else {
                /* the nearest voxel, as before --warp existed */
                long rr = lround(fr), cc = lround(fc);
                if (p->flip) cc = g->cols - 1 - cc;
                if (rr < 0 || rr >= g->rows || cc < 0 || cc >= g->cols) continue;
                val = plane[rr * g->cols + cc];
            }
            canvas[i * cw + j] = mg_tone_apply(p->tone, val / vnorm);
        }
    mg_resample_fourier(canvas, ch, cw, out, p->Hext, p->W);
    free(canvas);
    free(plane);
}

/* phase: a polynomial, smooth random fields at two scales, and a band-pass
 * of the head's outline (susceptibility near air/tissue boundaries) */
static void slice_phase(const float *mag, long H, long W, double amp, mg_rng *r, cfloat *img)
{
    const long n = H * W;
    float *f = mg_malloc_array((size_t)n, sizeof(float)), *phi = mg_calloc((size_t)n, sizeof(float));
    double a1 = amp * mg_rng_uniform_in(r, 0.2, 1.0), a2 = amp * mg_rng_uniform_in(r, 0.0, 0.4),
           ab = mg_rng_uniform_in(r, 0.0, 1.5);
    mg_random_field(f, H, W, mg_rng_uniform_in(r, 1.5, 3.0), r);
    for (long i = 0; i < n; i++) phi[i] += (float)a1 * f[i];
    mg_random_field(f, H, W, mg_rng_uniform_in(r, 5.0, 10.0), r);
    for (long i = 0; i < n; i++) phi[i] += (float)a2 * f[i];
    float mmax = 0;
    for (long i = 0; i < n; i++) mmax = mag[i] > mmax ? mag[i] : mmax;
    float *m2 = mg_malloc_array((size_t)n, sizeof(float));
    for (long i = 0; i < n; i++) f[i] = m2[i] = mag[i] > 0.08f * mmax ? 1.0f : 0.0f;
    mg_gaussian_smooth(f, H, W, 1.5);
    mg_gaussian_smooth(m2, H, W, 6.0);
    float bmax = 0;
    for (long i = 0; i < n; i++) {
        f[i] -= m2[i];
        bmax = fabsf(f[i]) > bmax ? fabsf(f[i]) : bmax;
    }
    if (bmax > 0)
        for (long i = 0; i < n; i++) phi[i] += (float)ab * f[i] / bmax;
    for (long i = 0; i < n; i++) img[i] = mag[i];
    mg_random_phase(img, H, W, amp, r);
    for (long i = 0; i < n; i++) img[i] *= cexpf(I * phi[i]);
    free(f);
    free(m2);
    free(phi);
}

/* coil images over the head (Hext lines) summed modulo H: the field of view
 * of H lines, the head wrapped along the phase encoding */
static void wrap_rows(const cfloat *ext, long C, long Hext, long H, long W, cfloat *out)
{
    memset(out, 0, sizeof(cfloat) * (size_t)(C * H * W));
    for (long c = 0; c < C; c++)
        for (long i = 0; i < Hext; i++) {
            long j = ((i - Hext / 2 + H / 2) % H + H) % H;
            for (long x = 0; x < W; x++) out[(c * H + j) * W + x] += ext[(c * Hext + i) * W + x];
        }
}

typedef struct { char *path, *name; int split; } vol_entry;

/* the volumes named by one option value: a NIfTI file, or a directory's
 * *.nii and *.nii.gz in name order */
static int expand(const char *p, int split, vol_entry **list, long *n)
{
    struct stat st;
    if (stat(p, &st)) {
        mg_set_error("%s: %s", p, strerror(errno));
        return -1;
    }
    char **names = NULL;
    int k = 0;
    if (S_ISDIR(st.st_mode)) {
        static const char *const sfx[2] = {".nii", ".nii.gz"};
        if (mg_dir_files(p, sfx, 2, &names, &k)) return -1;
        if (!k) {
            mg_set_error("%s: no NIfTI volumes (*.nii, *.nii.gz) in this directory", p);
            return -1;
        }
    } else {
        names = mg_malloc(sizeof(char *));
        names[k++] = mg_strdup(p);
    }
    for (int i = 0; i < k; i++) {
        *list = mg_realloc(*list, sizeof(vol_entry) * (size_t)(*n + 1));
        vol_entry *v = &(*list)[(*n)++];
        v->path = names[i];
        v->split = split;
        const char *b = strrchr(names[i], '/');
        b = b ? b + 1 : names[i];
        v->name = mg_strdup(b);
        char *dot = strstr(v->name, ".nii");
        if (dot) *dot = 0;
        for (char *c = v->name; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
                *c = '_';
    }
    free(names);
    return 0;
}

/* one protocol's slices of one volume into one file */
static int write_series(const char *path, const mg_volume *v, const int *orient, const long *index, long ns,
                        const mg_plane_geom *geoms, long boxes[3][4], float vnorm, const protocol *p, uint64_t seed,
                        int maps, mg_progress *pr, long *done)
{
    const long H = p->H, W = p->W, He = p->Hext, C = p->C, n = H * W, ne = He * W;
    mg_kdata d = {0};
    d.nslices = ns;
    d.coils = C;
    d.h = H;
    d.w = W;
    d.fov_w_mm = (double)W * p->px;
    d.fov_h_mm = (double)H * p->px;
    d.kspace = mg_malloc_array((size_t)(ns * C * n), sizeof(cfloat));
    if (He == H || maps) d.sens = mg_malloc_array((size_t)(ns * C * n), sizeof(cfloat));
    d.rss = mg_malloc_array((size_t)(ns * n), sizeof(float));
    d.slice_info = mg_malloc_array((size_t)(2 * ns), sizeof(int32_t));
    float *mag = mg_malloc_array((size_t)ne, sizeof(float)), *bias = mg_malloc_array((size_t)ne, sizeof(float));
    cfloat *img = mg_malloc_array((size_t)ne, sizeof(cfloat));
    cfloat *sens = mg_malloc_array((size_t)(C * ne), sizeof(cfloat)), *coil = mg_malloc_array((size_t)(C * ne), sizeof(cfloat));
    cfloat *work = mg_malloc_array((size_t)(C * n), sizeof(cfloat));
    int rc = -1;
    for (long s = 0; s < ns; s++) {
        const int o = orient[s];
        mg_rng r;
        mg_rng_seed(&r, mg_seed_mix(seed, (uint64_t)o, (uint64_t)index[s]));
        plane_image(v, o, index[s], &geoms[o], boxes[o], vnorm, p, mag);
        /* bias field: exp of a smooth random field, 5 to 25 % */
        mg_random_field(bias, He, W, mg_rng_uniform_in(&r, 1.0, 2.5), &r);
        const double bs = mg_rng_uniform_in(&r, 0.05, 0.25);
        for (long i = 0; i < ne; i++) mag[i] *= (float)exp(bs * bias[i]);
        slice_phase(mag, He, W, p->phase_amp, &r, img);
        /* the slice's height in the array: planes spaced by their voxel size
         * around the volume's centre, plus a random offset */
        double z = ((double)index[s] - 0.5 * (double)geoms[o].count) *
                       (o == 0 ? (double)v->dz : o == 1 ? (double)v->dy : (double)v->dx) + mg_rng_uniform_in(&r, -15.0, 15.0);
        mg_coil_array_maps(&p->arr, sens, He, W, p->px, p->px, z);
        cfloat *k = d.kspace + s * C * n;
        if (He == H) {
            mg_simulate_kspace_mixed(img, sens, C, H, W, p->noise, p->A, &r, k);
            if (d.sens) memcpy(d.sens + s * C * n, sens, sizeof(cfloat) * (size_t)(C * n));
        } else {
            mg_sens_apply(img, sens, coil, C, He, W);
            wrap_rows(coil, C, He, H, W, k);
            mg_fft2c(k, C, H, W, MG_FFT_FORWARD);
            mg_kspace_add_noise(k, C, n, p->noise, p->A, &r);
        }
        mg_rss(k, C, H, W, work, d.rss + s * n);
        if (maps && mg_simulate_estimate_maps(k, C, H, W, maps - 1, d.sens + s * C * n)) {
            mg_set_error("%s: %s", path, mg_error());
            goto out;
        }
        d.slice_info[2 * s] = o;
        d.slice_info[2 * s + 1] = (int32_t)index[s];
        mg_progress_update(pr, ++*done);
    }
    rc = mg_kdata_write_h5(path, &d);
out:
    free(mag), free(bias), free(img), free(sens), free(coil), free(work);
    mg_kdata_free(&d);
    return rc;
}

static void json_protocol(cJSON *arr, const char *file, const protocol *p, long ns)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "file", file);
    cJSON_AddNumberToObject(j, "slices", (double)ns);
    cJSON_AddNumberToObject(j, "lines", (double)p->H);
    cJSON_AddNumberToObject(j, "readout", (double)p->W);
    cJSON_AddNumberToObject(j, "pixel_mm", p->px);
    cJSON_AddNumberToObject(j, "lines_over_head", (double)p->Hext);
    cJSON_AddBoolToObject(j, "wrapped", p->Hext > p->H);
    cJSON_AddBoolToObject(j, "rows_along_phase_encoding", p->transpose);
    cJSON_AddBoolToObject(j, "mirrored", p->flip);
    cJSON_AddNumberToObject(j, "coils", (double)p->C);
    cJSON_AddNumberToObject(j, "noise", p->noise);
    cJSON_AddNumberToObject(j, "noise_correlation", p->corr);
    cJSON_AddNumberToObject(j, "phase", p->phase_amp);
    if (p->warped) {
        cJSON *w = cJSON_AddObjectToObject(j, "warp");
        cJSON_AddNumberToObject(w, "rotation_deg", atan2(p->wp.s, p->wp.c) * 180.0 / M_PI);
        cJSON_AddNumberToObject(w, "scale_readout", p->wp.sx);
        cJSON_AddNumberToObject(w, "scale_phase_encoding", p->wp.sy);
        cJSON_AddNumberToObject(w, "displacement_mm", p->wp.amp);
    }
    cJSON *t = cJSON_CreateArray();
    for (int i = 0; i < MG_TONE_KNOTS; i++) cJSON_AddItemToArray(t, cJSON_CreateNumber((double)p->tone[i]));
    cJSON_AddItemToObject(j, "tone_curve", t);
    cJSON_AddItemToArray(arr, j);
}

/* one volume: its slices, protocols and files */
/* FNV-1a of the volume's name: a volume's draws depend on the seed and its
 * name only, not on which other volumes are in the data set */
static uint64_t name_key(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int simulate_volume(const mg_scanner_opts *o, const char *outdir, const vol_entry *e, cJSON *jvols,
                           mg_progress *pr, long *done, long *count)
{
    const uint64_t vkey = name_key(e->name);
    mg_volume v;
    if (mg_nifti_read(e->path, &v)) return -1;
    int rc = -1;
    int *orient = NULL;
    long *index = NULL, ns = 0;
    if (v.nx < 8 || v.ny < 8 || v.nz < 8) {
        mg_set_error("%s: volume %ldx%ldx%ld is too small (need at least 8 voxels per axis)", e->path, v.nx, v.ny, v.nz);
        goto out;
    }
    /* intensities: the 99.5th percentile of the voxels above zero is 1 */
    float vnorm = mg_volume_quantile(&v, 0.995);
    if (!(vnorm > 0)) {
        mg_set_error("%s: volume is empty (no voxel above zero)", e->path);
        goto out;
    }
    /* orientations: planes whose voxels are at most 1.5 x the finest voxel
     * on both axes (the acquisition plane of a 2D scan; all three of an
     * isotropic volume) */
    double dmin = fmin(v.dx, fmin(v.dy, v.dz));
    mg_plane_geom geoms[3];
    long boxes[3][4];
    int use[3], nuse = 0;
    for (int k = 0; k < 3; k++) {
        geoms[k] = mg_plane_geom_of(&v, k);
        use[k] = geoms[k].drow <= 1.5 * dmin && geoms[k].dcol <= 1.5 * dmin;
        if (use[k]) {
            head_box(&v, k, 0.1f * vnorm, boxes[k]);
            nuse++;
        }
    }
    orient = mg_malloc_array((size_t)o->slices + 3, sizeof(int));
    index = mg_malloc_array((size_t)o->slices + 3, sizeof(long));
    for (int k = 0; k < 3; k++) {
        if (!use[k]) continue;
        long first, last, want = (o->slices + nuse - 1) / nuse;
        mg_plane_usable(&v, k, 0.1f * vnorm, &first, &last);
        if (first < 0) continue;
        long avail = last - first + 1;
        if (want > avail) want = avail;
        for (long j = 0; j < want && ns < o->slices; j++) {
            orient[ns] = k;
            index[ns++] = first + (long)(((double)j + 0.5) * (double)avail / (double)want);
        }
    }
    if (ns == 0) {
        mg_set_error("%s: no plane holds enough of the head", e->path);
        goto out;
    }
    /* protocols: each orientation's slices in contiguous runs, one series
     * (file) per run; the head's extent, and so the field of view, is the
     * orientation's */
    long pk = 0;
    for (long a = 0; a < ns;) {
        long b = a;
        while (b < ns && orient[b] == orient[a]) b++;
        long per = (o->protocols + nuse - 1) / nuse;
        if (per > b - a) per = b - a;
        for (long q = 0; q < per; q++, pk++) {
            long s0 = a + (b - a) * q / per, s1 = a + (b - a) * (q + 1) / per;
            mg_rng r;
            mg_rng_seed(&r, mg_seed_mix(o->seed, 1000003u * vkey, (uint64_t)pk));
            protocol *p = mg_malloc(sizeof *p);
            make_protocol(p, o, &geoms[orient[s0]], boxes[orient[s0]], &r);
            char file[512], *dir = mg_path_join(outdir, split_names[e->split]);
            snprintf(file, sizeof file, "%s_p%ld.h5", e->name, pk + 1);
            char *path = mg_path_join(dir, file);
            int bad = mkdir(dir, 0755) && errno != EEXIST;
            if (bad) mg_set_error("%s: cannot create directory: %s", dir, strerror(errno));
            else bad = write_series(path, &v, orient + s0, index + s0, s1 - s0, geoms, boxes, vnorm, p,
                                    mg_seed_mix(o->seed, vkey, (uint64_t)pk), o->maps, pr, done);
            if (!bad) json_protocol(jvols, file, p, s1 - s0);
            free(dir), free(path), free(p);
            if (bad) goto out;
        }
        a = b;
    }
    *count += ns;
    rc = 0;
out:
    free(orient);
    free(index);
    mg_volume_free(&v);
    return rc;
}

int mg_simulate_scanner(const mg_scanner_opts *o, const char *outdir, long counts[3])
{
    vol_entry *vols = NULL;
    long nv = 0;
    int rc = -1;
    char *jpath = NULL;
    cJSON *root = cJSON_CreateObject(), *splits[3];
    for (int s = 0; s < 3; s++)
        for (long i = 0; i < o->ninputs[s]; i++)
            if (expand(o->inputs[s][i], s, &vols, &nv)) goto out;
    for (int s = 0; s < 3; s++) {
        long k = 0;
        for (long i = 0; i < nv; i++) k += vols[i].split == s;
        if (!k) {
            mg_set_error("%s: the %s split has no volumes (give --%s)", outdir, split_names[s], split_names[s]);
            goto out;
        }
    }
    /* a volume in two splits would leak test subjects into training */
    for (long i = 0; i < nv; i++)
        for (long j = i + 1; j < nv; j++)
            if (!strcmp(vols[i].name, vols[j].name)) {
                mg_set_error("%s: volume named twice (%s and %s): each volume belongs to one split", vols[i].path,
                             vols[i].path, vols[j].path);
                goto out;
            }
    if (mkdir(outdir, 0755) && errno != EEXIST) {
        mg_set_error("%s: cannot create directory: %s", outdir, strerror(errno));
        goto out;
    }
    for (int s = 0; s < 3; s++) splits[s] = cJSON_AddArrayToObject(root, split_names[s]);
    mg_progress pr;
    mg_progress_start(&pr, "simulate", nv * o->slices, o->quiet);
    long done = 0;
    counts[0] = counts[1] = counts[2] = 0;
    for (long i = 0; i < nv; i++) {
        cJSON *jv = cJSON_CreateObject();
        cJSON_AddStringToObject(jv, "volume", vols[i].path);
        cJSON *jp = cJSON_AddArrayToObject(jv, "series");
        cJSON_AddItemToArray(splits[vols[i].split], jv);
        if (simulate_volume(o, outdir, &vols[i], jp, &pr, &done, &counts[vols[i].split])) goto out;
    }
    mg_progress_end(&pr);
    cJSON_AddStringToObject(root, "look", "scanner");
    cJSON *jm = cJSON_AddArrayToObject(root, "matrices"), *jc = cJSON_AddArrayToObject(root, "coils");
    for (long i = 0; i < o->nmatrices; i++) cJSON_AddItemToArray(jm, cJSON_CreateNumber((double)o->matrices[i]));
    for (long i = 0; i < o->ncoils; i++) cJSON_AddItemToArray(jc, cJSON_CreateNumber((double)o->coils[i]));
    cJSON_AddNumberToObject(root, "noise_lo", o->noise_lo);
    cJSON_AddNumberToObject(root, "noise_hi", o->noise_hi);
    cJSON_AddNumberToObject(root, "slices_per_volume", (double)o->slices);
    cJSON_AddNumberToObject(root, "protocols_per_volume", (double)o->protocols);
    cJSON_AddNumberToObject(root, "wrap", o->wrap);
    cJSON_AddNumberToObject(root, "warp_mm", o->warp);
    cJSON_AddNumberToObject(root, "seed", (double)o->seed);
    cJSON_AddStringToObject(root, "maps", mg_simulate_maps_name(o->maps));
    cJSON_AddStringToObject(root, "split_rule", "by volume, as given by --train, --val and --test");
    jpath = mg_path_join(outdir, "simulate.json");
    char *text = cJSON_Print(root);
    rc = mg_write_text(jpath, text);
    cJSON_free(text);
out:
    for (long i = 0; i < nv; i++) free(vols[i].path), free(vols[i].name);
    free(vols);
    free(jpath);
    cJSON_Delete(root);
    return rc;
}

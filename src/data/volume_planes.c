/* Planes of a brain volume for the simulators (data_internal.h). */
#include "data_internal.h"

#include <stdlib.h>
#include <string.h>

mg_plane_geom mg_plane_geom_of(const mg_volume *v, int o)
{
    if (o == 0) return (mg_plane_geom){v->ny, v->nx, v->nz, v->dy, v->dx};
    if (o == 1) return (mg_plane_geom){v->nz, v->nx, v->ny, v->dz, v->dx};
    return (mg_plane_geom){v->nz, v->ny, v->nx, v->dz, v->dy};
}

void mg_plane_extract(const mg_volume *v, int o, long idx, float *out)
{
    mg_plane_geom g = mg_plane_geom_of(v, o);
    for (long r = 0; r < g.rows; r++)
        for (long c = 0; c < g.cols; c++) {
            long x, y, z;
            if (o == 0) { x = c; y = g.rows - 1 - r; z = idx; }
            else if (o == 1) { x = c; y = idx; z = g.rows - 1 - r; }
            else { x = idx; y = c; z = g.rows - 1 - r; }
            out[r * g.cols + c] = v->data[(z * v->ny + y) * v->nx + x];
        }
}

void mg_plane_usable(const mg_volume *v, int o, float thresh, long *first, long *last)
{
    mg_plane_geom g = mg_plane_geom_of(v, o);
    float *plane = mg_malloc_array((size_t)(g.rows * g.cols), sizeof(float));
    double *frac = mg_malloc_array((size_t)g.count, sizeof(double));
    double best = 0;
    for (long i = 0; i < g.count; i++) {
        mg_plane_extract(v, o, i, plane);
        long k = 0;
        for (long p = 0; p < g.rows * g.cols; p++) k += plane[p] > thresh;
        frac[i] = (double)k / (double)(g.rows * g.cols);
        if (frac[i] > best) best = frac[i];
    }
    *first = *last = -1;
    for (long i = 0; i < g.count; i++)
        if (best > 0 && frac[i] >= 0.3 * best) {
            if (*first < 0) *first = i;
            *last = i;
        }
    free(plane);
    free(frac);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float mg_volume_quantile(const mg_volume *v, double q)
{
    const long n = v->nx * v->ny * v->nz;
    long m = 0;
    for (long i = 0; i < n; i++) m += v->data[i] > 0;
    if (m == 0) return 0;
    float *a = mg_malloc_array((size_t)m, sizeof(float));
    m = 0;
    for (long i = 0; i < n; i++)
        if (v->data[i] > 0) a[m++] = v->data[i];
    qsort(a, (size_t)m, sizeof(float), cmp_float);
    long k = (long)(q * (double)(m - 1));
    float r = a[k < 0 ? 0 : k >= m ? m - 1 : k];
    free(a);
    return r;
}

/* Receive arrays of circular loop coils and their sensitivities by the law
 * of Biot and Savart (docs/data.md "Coil arrays"). Positions are in mm in
 * the scanner frame: z along B0 and along the array's cylinder axis, the
 * image plane z = const with the image centre on the axis. */
#include "mri.h"

#include <math.h>
#include <string.h>

enum { LOOP_SEGMENTS = 48 };

static void cross(const double a[3], const double b[3], double c[3])
{
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

static void normalize3(double v[3])
{
    double s = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    for (int i = 0; i < 3; i++) v[i] /= s;
}

/* two unit vectors spanning the loop's plane (perpendicular to n) */
static void loop_basis(const double n[3], double u[3], double v[3])
{
    double t[3] = {0, 0, 1};
    if (fabs(n[2]) > 0.9) t[0] = 1, t[2] = 0;
    cross(n, t, u);
    normalize3(u);
    cross(n, u, v);
}

void mg_loop_field(const double c[3], const double n_in[3], double a, const double r[3], double B[3])
{
    double n[3] = {n_in[0], n_in[1], n_in[2]}, u[3], v[3];
    normalize3(n);
    loop_basis(n, u, v);
    B[0] = B[1] = B[2] = 0;
    /* midpoint rule on LOOP_SEGMENTS arcs: B = sum dl x (r - p) / |r - p|^3 */
    const double dt = 2.0 * M_PI / LOOP_SEGMENTS;
    for (int s = 0; s < LOOP_SEGMENTS; s++) {
        double t = ((double)s + 0.5) * dt, ct = cos(t), st = sin(t);
        double p[3], dl[3], d[3], x[3];
        for (int i = 0; i < 3; i++) {
            p[i] = c[i] + a * (ct * u[i] + st * v[i]);
            dl[i] = a * dt * (-st * u[i] + ct * v[i]);
            d[i] = r[i] - p[i];
        }
        double d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        double inv3 = 1.0 / (d2 * sqrt(d2));
        cross(dl, d, x);
        for (int i = 0; i < 3; i++) B[i] += x[i] * inv3;
    }
}

void mg_coil_array_random(mg_coil_array *arr, long C, double head_radius_mm, mg_rng *rng)
{
    memset(arr, 0, sizeof *arr);
    arr->C = C > MG_MAX_ARRAY_COILS ? MG_MAX_ARRAY_COILS : C;
    /* rings of at most 8 loops stacked along z; loops about a quarter of the
     * circumference per ring wide, so neighbours overlap a little as in
     * real arrays */
    long rings = (arr->C + 7) / 8;
    double R = head_radius_mm * (1.12 + 0.2 * mg_rng_uniform(rng)); /* cylinder radius */
    double tilt = 0.15 * (2.0 * mg_rng_uniform(rng) - 1.0);          /* array axis tilt, rad */
    double rot = 2.0 * M_PI * mg_rng_uniform(rng);
    long k = 0;
    for (long ring = 0; ring < rings; ring++) {
        long inring = arr->C / rings + (ring < arr->C % rings);
        double spacing = 2.0 * M_PI / (double)inring;
        double a0 = R * sin(fmin(spacing, 2.0) * 0.55); /* loop radius from the arc it covers */
        double zc = ((double)ring - 0.5 * (double)(rings - 1)) * 1.6 * a0;
        for (long j = 0; j < inring; j++, k++) {
            double ang = rot + spacing * ((double)j + 0.3 * (ring & 1)) + 0.15 * spacing * (2.0 * mg_rng_uniform(rng) - 1.0);
            double Rj = R * (1.0 + 0.05 * (2.0 * mg_rng_uniform(rng) - 1.0));
            double zj = zc + 0.1 * a0 * (2.0 * mg_rng_uniform(rng) - 1.0);
            mg_coil_loop *l = &arr->loop[k];
            l->radius = a0 * (1.0 + 0.15 * (2.0 * mg_rng_uniform(rng) - 1.0));
            l->centre[0] = Rj * cos(ang);
            l->centre[1] = Rj * sin(ang);
            l->centre[2] = zj + tilt * Rj * sin(ang);
            /* normal: radial, tilted with the axis */
            l->normal[0] = cos(ang);
            l->normal[1] = sin(ang);
            l->normal[2] = -tilt * sin(ang);
        }
    }
}

void mg_coil_array_maps(const mg_coil_array *arr, cfloat *sens, long H, long W, double px_h_mm, double px_w_mm,
                        double z_mm)
{
    const long C = arr->C, n = H * W;
#pragma omp parallel for collapse(2) schedule(static)
    for (long c = 0; c < C; c++)
        for (long y = 0; y < H; y++) {
            const mg_coil_loop *l = &arr->loop[c];
            for (long x = 0; x < W; x++) {
                double r[3] = {((double)x - 0.5 * (double)W) * px_w_mm, ((double)y - 0.5 * (double)H) * px_h_mm, z_mm};
                double B[3];
                mg_loop_field(l->centre, l->normal, l->radius, r, B);
                /* receive sensitivity with B0 along z: the transverse field
                 * as Bx - i By */
                sens[c * n + y * W + x] = (float)B[0] - I * (float)B[1];
            }
        }
    mg_sens_normalize(sens, C, H, W, 0.0);
}

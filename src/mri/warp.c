/* A random smooth deformation of the image plane, for anatomical variety
 * in the simulator (docs/data.md "Anatomy"): an in-plane rotation, a scale
 * of each axis, and a displacement field that is a sum of a few plane
 * waves of long wavelength. Positions in mm about the field of view's
 * centre; mg_warp_point gives, for an output position, the source
 * position to sample (the inverse map). */
#include "mri.h"

#include <math.h>

void mg_warp_random(mg_warp *w, double amp_mm, mg_rng *r)
{
    const double th = mg_rng_uniform_in(r, -12.0, 12.0) * M_PI / 180.0;
    w->c = cos(th), w->s = sin(th);
    w->sx = mg_rng_uniform_in(r, 0.9, 1.1), w->sy = mg_rng_uniform_in(r, 0.9, 1.1);
    w->amp = amp_mm;
    /* wavelengths from max(60, 12 amp) mm: each component's gradient stays
     * below 2 pi / 12 (about 0.52), so the map never folds */
    const double lmin = fmax(60.0, 12.0 * amp_mm), lmax = 2.5 * lmin;
    double sum[2] = {0, 0};
    for (int m = 0; m < MG_WARP_MODES; m++) {
        const double dir = mg_rng_uniform_in(r, 0.0, 2.0 * M_PI), k = 2.0 * M_PI / mg_rng_uniform_in(r, lmin, lmax);
        w->kx[m] = k * cos(dir), w->ky[m] = k * sin(dir);
        w->ph[m] = mg_rng_uniform_in(r, 0.0, 2.0 * M_PI);
        for (int a = 0; a < 2; a++) {
            w->wt[a][m] = mg_rng_uniform_in(r, -1.0, 1.0);
            sum[a] += fabs(w->wt[a][m]);
        }
    }
    /* the weights of each component sum to 1 in magnitude: each component
     * of the displacement is at most amp */
    for (int a = 0; a < 2; a++)
        for (int m = 0; m < MG_WARP_MODES; m++) w->wt[a][m] /= sum[a] > 0 ? sum[a] : 1.0;
}

void mg_warp_point(const mg_warp *w, double x, double y, double *sx, double *sy)
{
    /* undo the scale, then the rotation: the head appears rotated by the
     * angle and stretched by (sx, sy) */
    const double u = x / w->sx, v = y / w->sy;
    double px = w->c * u + w->s * v, py = -w->s * u + w->c * v;
    for (int m = 0; m < MG_WARP_MODES; m++) {
        const double wave = sin(w->kx[m] * x + w->ky[m] * y + w->ph[m]);
        px += w->amp * w->wt[0][m] * wave;
        py += w->amp * w->wt[1][m] * wave;
    }
    *sx = px, *sy = py;
}

void mg_warp_extent(const mg_warp *w, double ext_x, double ext_y, double *out_x, double *out_y)
{
    /* the head's box grown by the displacement (at most amp along each
     * axis) on both sides, rotated by the angle, scaled */
    const double c = fabs(w->c), s = fabs(w->s), ex = ext_x + 2.0 * w->amp, ey = ext_y + 2.0 * w->amp;
    *out_x = w->sx * (c * ex + s * ey);
    *out_y = w->sy * (s * ex + c * ey);
}

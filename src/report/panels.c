/* The report's Fig. 4 panels: reference and every method in one window,
 * a zoomed region, error maps (report_int.h). */
#include "report_int.h"
#include "../metrics/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- Fig. 4: panels ---------------- */

unsigned char mg_report_to8(double v, double hi)
{
    double t = hi > 0 ? v / hi : 0;
    return (unsigned char)lround(255.0 * (t < 0 ? 0 : t > 1 ? 1 : t));
}

/* the S x S box (S = N/4) whose reference has the most gradient energy */
void mg_report_auto_roi(const float *m, long H, long W, int *rx, int *ry, int *rs)
{
    int S = (int)((H < W ? H : W) / 4);
    if (S < 4) S = (int)(H < W ? H : W);
    double best = -1;
    for (int y = 0; y + S <= H; y += S / 4 > 0 ? S / 4 : 1)
        for (int x = 0; x + S <= W; x += S / 4 > 0 ? S / 4 : 1) {
            double e = 0;
            for (int j = y; j < y + S - 1; j++)
                for (int i = x; i < x + S - 1; i++) {
                    double gx = m[j * W + i + 1] - m[j * W + i], gy = m[(j + 1) * W + i] - m[j * W + i];
                    e += gx * gx + gy * gy;
                }
            if (e > best) best = e, *rx = x, *ry = y;
        }
    *rs = S;
}

int mg_report_fig4(report *r, long s, int rx, int ry, int rs, char *file, size_t fn)
{
    const long H = r->H, W = r->W, n = H * W;
    /* tiles at least 192 pixels wide (small test images are enlarged) */
    const int b = W >= 192 ? 1 : (int)((192 + W - 1) / W), Wt = (int)W * b, Ht = (int)H * b;
    const int ts = Wt >= 240 ? 2 : 1, maxch = Wt / (6 * ts);
    const int M = r->nm + 1, gap = 8, top = 8 + 7 * ts + 6, lab = 14;
    const int zoom = Wt / rs > 1 ? Wt / rs : 1, zh = rs * zoom;
    const int cw = Wt + gap, CH = top + Ht + gap + zh + gap + Ht + lab;
    pl_canvas c = pl_new(M * cw + gap, CH + gap);
    const pl_rgb black = {0, 0, 0}, roi = {230, 60, 20};
    const cfloat *ref = r->ref + s * n;
    float *m = mg_malloc_array((size_t)n, sizeof(float));
    for (long i = 0; i < n; i++) m[i] = cabsf(ref[i]);
    const double hi = mg_auto_window(ref, (size_t)n);
    unsigned char *g = mg_malloc((size_t)n), *z = mg_malloc((size_t)rs * rs);
    for (int k = 0; k < M; k++) {
        const cfloat *x = k == 0 ? ref : r->img[k - 1] + s * n;
        const int x0 = gap + k * cw;
        char label[96];
        snprintf(label, sizeof label, "%.*s", maxch, k == 0 ? "reference" : r->names[k - 1]);
        pl_text(&c, x0, 8, label, ts, black);
        for (long i = 0; i < n; i++) g[i] = mg_report_to8(cabsf(x[i]), hi);
        pl_gray(&c, x0, top, g, (int)H, (int)W, b);
        pl_box(&c, x0 + rx * b, top + ry * b, rs * b, rs * b, roi, 1);
        for (int j = 0; j < rs; j++)
            for (int i = 0; i < rs; i++) z[j * rs + i] = g[(ry + j) * W + rx + i];
        pl_gray(&c, x0, top + Ht + gap, z, rs, rs, zoom);
        /* error map |x - ref| x5 in the same window */
        const int ye = top + Ht + gap + zh + gap;
        for (long i = 0; i < n; i++) g[i] = k == 0 ? 0 : mg_report_to8(5.0 * fabs(cabsf(x[i]) - m[i]), hi);
        pl_gray(&c, x0, ye, g, (int)H, (int)W, b);
        if (k > 0) {
            mg_nmse_acc acc = {0, 0};
            mg_nmse_add_mag(&acc, ref, x, (size_t)n);
            snprintf(label, sizeof label, "NMSE %.2fE-3", mg_nmse_value(&acc) * 1e3);
        } else {
            snprintf(label, sizeof label, "ERROR X5 BELOW");
        }
        pl_text(&c, x0, ye + Ht + 4, label, 1, black);
    }
    snprintf(file, fn, "fig4_slice_%03ld.png", s);
    char *p = mg_path_join(r->out, file);
    int rc = pl_write(&c, p);
    free(p);
    pl_free(&c);
    free(m);
    free(g);
    free(z);
    return rc;
}


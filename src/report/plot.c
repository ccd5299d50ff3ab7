/* Figures for 'mrgan report': an RGB canvas, a 5x7 bitmap font, line plots
 * with ticks, and image tiles. Written as PNG (no plotting library: the
 * report must build from Debian's C libraries alone). */
#include "plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 5x7 glyphs, rows top to bottom, bit 4 = leftmost column */
static const struct {
    char c;
    unsigned char r[7];
} font[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}}, {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}}, {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}}, {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}}, {' ', {0, 0, 0, 0, 0, 0, 0}},
};

static const unsigned char *glyph(char c)
{
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++)
        if (font[i].c == c) return font[i].r;
    return font[sizeof font / sizeof font[0] - 1].r; /* unknown: blank */
}

pl_canvas pl_new(int w, int h)
{
    pl_canvas c = {w, h, mg_malloc_array((size_t)w * (size_t)h * 3, 1)};
    memset(c.rgb, 255, (size_t)w * (size_t)h * 3);
    return c;
}

void pl_free(pl_canvas *c)
{
    free(c->rgb);
    c->rgb = NULL;
}

void pl_pixel(pl_canvas *c, int x, int y, pl_rgb col)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    unsigned char *p = c->rgb + 3 * ((size_t)y * c->w + x);
    p[0] = col.r, p[1] = col.g, p[2] = col.b;
}

void pl_fill(pl_canvas *c, int x, int y, int w, int h, pl_rgb col)
{
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++) pl_pixel(c, i, j, col);
}

int pl_text_width(const char *s, int scale) { return (int)strlen(s) * 6 * scale - scale; }

void pl_text(pl_canvas *c, int x, int y, const char *s, int scale, pl_rgb col)
{
    for (; *s; s++, x += 6 * scale) {
        const unsigned char *g = glyph(*s);
        for (int r = 0; r < 7; r++)
            for (int k = 0; k < 5; k++)
                if (g[r] & (0x10 >> k)) pl_fill(c, x + k * scale, y + r * scale, scale, scale, col);
    }
}

/* vertical text, reading bottom to top (y axis titles) */
static void text_up(pl_canvas *c, int x, int y, const char *s, int scale, pl_rgb col)
{
    for (; *s; s++, y -= 6 * scale) {
        const unsigned char *g = glyph(*s);
        for (int r = 0; r < 7; r++)
            for (int k = 0; k < 5; k++)
                if (g[r] & (0x10 >> k)) pl_fill(c, x + r * scale, y - k * scale - scale, scale, scale, col);
    }
}

void pl_line(pl_canvas *c, double x0, double y0, double x1, double y1, pl_rgb col, int thick)
{
    const double len = fmax(fabs(x1 - x0), fabs(y1 - y0));
    const int n = (int)ceil(len) + 1;
    for (int i = 0; i <= n; i++) {
        double t = n ? (double)i / n : 0;
        int x = (int)lround(x0 + t * (x1 - x0)), y = (int)lround(y0 + t * (y1 - y0));
        pl_fill(c, x - thick / 2, y - thick / 2, thick, thick, col);
    }
}

void pl_gray(pl_canvas *c, int x, int y, const unsigned char *g, int h, int w, int zoom)
{
    for (int j = 0; j < h * zoom; j++)
        for (int i = 0; i < w * zoom; i++) {
            unsigned char v = g[(j / zoom) * w + i / zoom];
            pl_pixel(c, x + i, y + j, (pl_rgb){v, v, v});
        }
}

void pl_box(pl_canvas *c, int x, int y, int w, int h, pl_rgb col, int thick)
{
    pl_fill(c, x, y, w, thick, col);
    pl_fill(c, x, y + h - thick, w, thick, col);
    pl_fill(c, x, y, thick, h, col);
    pl_fill(c, x + w - thick, y, thick, h, col);
}

int pl_write(const pl_canvas *c, const char *path) { return mg_png_write_rgb(path, c->rgb, c->h, c->w); }

/* ---------------- line plots ---------------- */

static double nice_step(double range, int want)
{
    double raw = range / want, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void fmt_tick(char *b, size_t n, double v)
{
    snprintf(b, n, "%.3g", fabs(v) < 1e-12 ? 0.0 : v);
}

const pl_rgb pl_palette[8] = {{31, 119, 180}, {214, 39, 40},  {44, 160, 44},  {255, 127, 14},
                              {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};

int pl_plot(const char *path, const char *title, const char *xlabel, const char *ylabel, const pl_series *s,
            int ns, int logy)
{
    const int W = 740, H = 440, L = 110, R = 20, T = 40, B = 60, S = 2;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++) {
            double y = s[k].y[i];
            if (!isfinite(y) || (logy && y <= 0)) continue;
            if (logy) y = log10(y);
            x0 = fmin(x0, s[k].x[i]), x1 = fmax(x1, s[k].x[i]);
            y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
    if (!isfinite(x0) || !isfinite(y0)) {
        mg_set_error("%s: nothing to plot", path);
        return -1;
    }
    if (x1 == x0) x0 -= 1, x1 += 1;
    if (y1 == y0) y0 -= 0.5 * (fabs(y0) + 1e-3), y1 += 0.5 * (fabs(y1) + 1e-3);
    const double pad = 0.05 * (y1 - y0);
    y0 -= pad, y1 += pad;
    pl_canvas c = pl_new(W, H);
    const pl_rgb black = {0, 0, 0}, grid = {225, 225, 225};
    const int pw = W - L - R, ph = H - T - B;
#define PX(v) (L + (int)lround(((v) - x0) / (x1 - x0) * pw))
#define PY(v) (T + ph - (int)lround(((v) - y0) / (y1 - y0) * ph))
    char b[32];
    /* y ticks: nice steps, or decades (and 2, 5) on a log axis */
    if (logy) {
        /* decades and 2, 5 times them; all of 1..9 when that gives fewer than 2 */
        static const int sets[2][9] = {{1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
        static const int setn[2] = {3, 9};
        int pass = 0, count = 0;
        for (;; pass++) {
            count = 0;
            for (int e = (int)floor(y0) - 1; e <= (int)ceil(y1); e++)
                for (int q = 0; q < setn[pass]; q++) {
                    double v = e + log10(sets[pass][q]);
                    count += v >= y0 && v <= y1;
                }
            if (count >= 2 || pass == 1) break;
        }
        if (count < 2) { /* less than a factor 1.5 of range: linear steps of the values */
            const double a = pow(10, y0), z = pow(10, y1), st = nice_step(z - a, 4);
            for (double v = ceil(a / st) * st; v <= z; v += st) {
                int py = PY(log10(v));
                pl_fill(&c, L, py, pw, 1, grid);
                fmt_tick(b, sizeof b, v);
                pl_text(&c, L - 6 - pl_text_width(b, S), py - 7, b, S, black);
            }
        }
        for (int e = (int)floor(y0) - 1; count >= 2 && e <= (int)ceil(y1); e++)
            for (int q = 0; q < setn[pass]; q++) {
                double v = e + log10(sets[pass][q]);
                if (v < y0 || v > y1) continue;
                int py = PY(v);
                pl_fill(&c, L, py, pw, 1, grid);
                snprintf(b, sizeof b, "%.3g", sets[pass][q] * pow(10, e));
                pl_text(&c, L - 6 - pl_text_width(b, S), py - 7, b, S, black);
            }
    } else {
        double st = nice_step(y1 - y0, 5);
        for (double v = ceil(y0 / st) * st; v <= y1; v += st) {
            int py = PY(v);
            pl_fill(&c, L, py, pw, 1, grid);
            fmt_tick(b, sizeof b, v);
            pl_text(&c, L - 6 - pl_text_width(b, S), py - 7, b, S, black);
        }
    }
    double st = nice_step(x1 - x0, 6);
    if (st < 1 && x1 - x0 >= 1) st = 1;
    for (double v = ceil(x0 / st) * st; v <= x1 + 1e-9; v += st) {
        int px = PX(v);
        pl_fill(&c, px, T, 1, ph, grid);
        fmt_tick(b, sizeof b, v);
        pl_text(&c, px - pl_text_width(b, S) / 2, T + ph + 8, b, S, black);
    }
    pl_box(&c, L, T, pw + 1, ph + 1, black, 1);
    for (int k = 0; k < ns; k++) {
        double lx = NAN, ly = NAN;
        for (int i = 0; i < s[k].n; i++) {
            double y = s[k].y[i];
            if (!isfinite(y) || (logy && y <= 0)) continue;
            if (logy) y = log10(y);
            double px = PX(s[k].x[i]), py = PY(y);
            if (isfinite(lx)) pl_line(&c, lx, ly, px, py, s[k].col, 2);
            if (s[k].n < 60) pl_fill(&c, (int)px - 2, (int)py - 2, 5, 5, s[k].col);
            lx = px, ly = py;
        }
        /* legend, top right */
        int tx = L + pw - 10 - pl_text_width(s[k].label, S), ty = T + 10 + 20 * k;
        pl_fill(&c, tx - 26, ty + 5, 18, 4, s[k].col);
        pl_text(&c, tx, ty, s[k].label, S, black);
    }
    pl_text(&c, (W - pl_text_width(title, S)) / 2, 12, title, S, black);
    pl_text(&c, L + (pw - pl_text_width(xlabel, S)) / 2, H - 22, xlabel, S, black);
    text_up(&c, 8, T + (ph + pl_text_width(ylabel, S)) / 2, ylabel, S, black);
#undef PX
#undef PY
    int rc = pl_write(&c, path);
    pl_free(&c);
    return rc;
}

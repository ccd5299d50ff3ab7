/* Figures for 'mrgan report' (plot.c): an RGB canvas with a 5x7 bitmap font
 * (digits, letters shown upper case, . - + : ( ) / % = , _), lines, grey
 * image tiles, and line plots with ticks and a legend, written as PNG. */
#ifndef MRGAN_PLOT_H
#define MRGAN_PLOT_H

#include "../io/io.h"

typedef struct {
    int w, h;
    unsigned char *rgb;
} pl_canvas;
typedef struct {
    unsigned char r, g, b;
} pl_rgb;
typedef struct {
    const char *label;
    const double *x, *y; /* non-finite y values are skipped */
    int n;
    pl_rgb col;
} pl_series;

extern const pl_rgb pl_palette[8];

pl_canvas pl_new(int w, int h); /* white */
void pl_free(pl_canvas *c);
void pl_pixel(pl_canvas *c, int x, int y, pl_rgb col);
void pl_fill(pl_canvas *c, int x, int y, int w, int h, pl_rgb col);
void pl_box(pl_canvas *c, int x, int y, int w, int h, pl_rgb col, int thick);
void pl_line(pl_canvas *c, double x0, double y0, double x1, double y1, pl_rgb col, int thick);
/* text with its top-left corner at (x, y); glyphs 5x7 pixels times scale */
void pl_text(pl_canvas *c, int x, int y, const char *s, int scale, pl_rgb col);
int pl_text_width(const char *s, int scale);
/* grey image (h x w bytes) at (x, y), each pixel zoom x zoom */
void pl_gray(pl_canvas *c, int x, int y, const unsigned char *g, int h, int w, int zoom);
int pl_write(const pl_canvas *c, const char *path);
/* a 720 x 440 line plot; logy: logarithmic y axis (values <= 0 skipped) */
int pl_plot(const char *path, const char *title, const char *xlabel, const char *ylabel, const pl_series *s,
            int ns, int logy);

#endif

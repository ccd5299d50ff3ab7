/* Private to src/report: the state of one report and shared helpers. */
#ifndef MRGAN_REPORT_INT_H
#define MRGAN_REPORT_INT_H

#include "report.h"
#include "plot.h"

#include <stdio.h>

#define MAXM 32
extern const char *const mg_report_crit[5]; /* reader-study criteria */

typedef struct {
    const char *run, *evald, *out;
    int nm;
    char *names[MAXM];
    cfloat *img[MAXM]; /* [ns][H][W] */
    cfloat *ref;
    long ns, H, W;
    char table_html[65536];
} report;

/* a whole file, NUL-terminated (NULL when it cannot be read); *len its size */
char *mg_report_slurp(const char *path, size_t *len);
/* <img> with OUT/file's PNG inlined; -1 with an error */
int mg_report_img(const report *r, FILE *f, const char *file, const char *alt);
void mg_report_escape(FILE *f, const char *s);
void mg_report_escape_buf(const char *s, char *out, size_t n); /* the same into a buffer */
/* 8-bit grey of magnitude v in the window [0, hi] */
unsigned char mg_report_to8(double v, double hi);
/* a text file written atomically: open PATH's temporary (NULL with an error),
 * then close and rename it (0, or -1 with an error; frees tmp) */
FILE *mg_report_open(const char *path, char **tmp);
int mg_report_close(FILE *f, char *tmp, const char *path);
/* give up such a file: close and remove the temporary (f may be NULL) */
void mg_report_abort(FILE *f, char *tmp);

/* panels.c: Fig. 4 of slice s with the zoom box (rx, ry, rs), file name into file */
int mg_report_fig4(report *r, long s, int rx, int ry, int rs, char *file, size_t fn);
void mg_report_auto_roi(const float *m, long H, long W, int *rx, int *ry, int *rs);
/* reader.c: the blinded study (reader.html, reader_key.csv); Table 3 from
 * exported scores into OUT/table3.md/.csv and html (its method count in *nm) */
int mg_report_reader_study(report *r, int nslices, uint64_t seed);
int mg_report_table3(report *r, const char *const *files, int nf, char *html, size_t hn);

#endif

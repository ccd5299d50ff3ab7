/* mrgan report: a self-contained HTML page and PNG figures from a training
 * run and an evaluation (docs/report.md): panels with zoomed regions and
 * error maps (paper Fig. 4), validation NMSE/FID per epoch (Fig. 3), beta
 * per epoch (Fig. 9), the tables, and a blinded reader study (Table 3).
 * The top layer's library: it reads runs (train/runlog.h) and evaluations. */
#ifndef MRGAN_REPORT_H
#define MRGAN_REPORT_H

#include "../core/core.h"

typedef struct {
    const char *run;          /* run directory (metrics.csv, config.json) */
    const char *evald;        /* mrgan eval's OUTDIR (NULL: RUN/eval) */
    const char *out;          /* output directory (NULL: RUN/report) */
    const char *slices;       /* test slices for the panels, "a,b,c" (NULL: three spread over the split) */
    const char *roi;          /* "X,Y,S" (NULL: the S = N/4 box with the most reference edges) */
    int nreader;              /* slices per method in the reader study (6) */
    uint64_t seed;            /* reader study shuffle (1) */
    const char *const *scores; /* exported reader scores: Table 3 */
    int nscores;
} mg_report_opts;
void mg_report_defaults(mg_report_opts *o);
/* Writes OUT/index.html, the figures, reader.html and reader_key.csv (and
 * table3.md/.csv with scores). *index: the page's path (caller frees).
 * 0, or -1 with an error naming the file. */
int mg_report_build(const mg_report_opts *o, char **index);

#endif

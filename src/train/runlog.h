/* mrgan train: the run log RUN/metrics.csv, defined once (runlog.c): one
 * row per training step and one per epoch, columns found by their header
 * names when read (by the trainer on --resume and by mrgan report).
 * docs/training.md lists the columns. */
#ifndef MRGAN_RUNLOG_H
#define MRGAN_RUNLOG_H

#include <stddef.h>

enum {
    MG_LOG_EPOCH, MG_LOG_STEP, MG_LOG_LOSS, MG_LOG_VAL_NMSE, MG_LOG_SECONDS, MG_LOG_MSE, MG_LOG_GAN,
    MG_LOG_W_EST, MG_LOG_STD_GAN, MG_LOG_STD_MSE, MG_LOG_GMA, MG_LOG_PMA, MG_LOG_BETA, MG_LOG_VAL_FID,
    MG_LOG_NCOL
};
typedef struct {
    char kind;              /* 's' a step, 'e' an epoch */
    double v[MG_LOG_NCOL];  /* NAN: the field is empty */
} mg_log_row;

/* a row of kind with every field empty */
void mg_log_row_init(mg_log_row *r, char kind);
/* the header line ("kind,epoch,...\n") and a row's line, with its newline */
const char *mg_log_header(void);
void mg_log_format(const mg_log_row *r, char *buf, size_t n);
/* Appends a row to path (the header first when the file does not exist). */
int mg_log_append(const char *path, const mg_log_row *r);
/* Every complete row of path (columns by the header's names; a column the
 * file lacks reads as empty). *rows: caller frees. -1 with an error when the
 * file cannot be read or has no header. */
int mg_log_read(const char *path, mg_log_row **rows, long *n);
/* After a hard stop the log may hold rows past the checkpoint, or half a
 * row: keep the header and the step rows up to global step `step` and the
 * epoch rows up to `epoch`. A missing file is fine. */
int mg_log_trim(const char *path, long step, long epoch);
/* The sum and count of the training losses of epoch `epoch`'s step rows up
 * to global step `step` (a resumed epoch's mean covers its whole epoch). */
int mg_log_epoch_loss(const char *path, long epoch, long step, double *sum, long *n);

#endif

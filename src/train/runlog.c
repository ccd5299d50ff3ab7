/* The run log metrics.csv (runlog.h). */
#include "runlog.h"
#include "../core/core.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    const char *name, *fmt;
} cols[MG_LOG_NCOL] = {
    [MG_LOG_EPOCH] = {"epoch", "%.0f"},     [MG_LOG_STEP] = {"step", "%.0f"},
    [MG_LOG_LOSS] = {"loss", "%.8g"},       [MG_LOG_VAL_NMSE] = {"val_nmse", "%.8g"},
    [MG_LOG_SECONDS] = {"seconds", "%.4f"}, [MG_LOG_MSE] = {"mse", "%.8g"},
    [MG_LOG_GAN] = {"gan", "%.8g"},         [MG_LOG_W_EST] = {"w_est", "%.8g"},
    [MG_LOG_STD_GAN] = {"std_gan", "%.6g"}, [MG_LOG_STD_MSE] = {"std_mse", "%.6g"},
    [MG_LOG_GMA] = {"gma", "%.6g"},         [MG_LOG_PMA] = {"pma", "%.6g"},
    [MG_LOG_BETA] = {"beta", "%.6g"},       [MG_LOG_VAL_FID] = {"val_fid", "%.6g"},
};

void mg_log_row_init(mg_log_row *r, char kind)
{
    r->kind = kind;
    for (int i = 0; i < MG_LOG_NCOL; i++) r->v[i] = NAN;
}

const char *mg_log_header(void)
{
    static char h[256];
    if (!h[0]) {
        size_t o = (size_t)snprintf(h, sizeof h, "kind");
        for (int i = 0; i < MG_LOG_NCOL; i++) o += (size_t)snprintf(h + o, sizeof h - o, ",%s", cols[i].name);
        snprintf(h + o, sizeof h - o, "\n");
    }
    return h;
}

void mg_log_format(const mg_log_row *r, char *buf, size_t n)
{
    size_t o = (size_t)snprintf(buf, n, "%s", r->kind == 'e' ? "epoch" : "step");
    for (int i = 0; i < MG_LOG_NCOL && o < n; i++) {
        o += (size_t)snprintf(buf + o, n - o, ",");
        if (isfinite(r->v[i]) && o < n) o += (size_t)snprintf(buf + o, n - o, cols[i].fmt, r->v[i]);
    }
    if (o < n) snprintf(buf + o, n - o, "\n");
}

int mg_log_append(const char *path, const mg_log_row *r)
{
    struct stat st;
    const int fresh = stat(path, &st) != 0;
    char line[1024];
    mg_log_format(r, line, sizeof line);
    FILE *f = fopen(path, "a");
    if (!f || (fresh && fputs(mg_log_header(), f) < 0) || fputs(line, f) < 0 || fclose(f) != 0) {
        mg_set_error("%s: cannot append: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int mg_log_read(const char *path, mg_log_row **rows, long *n)
{
    *rows = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        mg_set_error("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char line[2048], *fld[64];
    int map[64], nf = 0; /* file column -> our column (-1: unknown) */
    long cap = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') break; /* a torn last line */
        line[len - 1] = 0;
        int k = mg_split_fields(line, fld, 64);
        if (!strcmp(fld[0], "kind")) {
            nf = k;
            for (int i = 0; i < k; i++) {
                map[i] = -1;
                for (int c = 0; c < MG_LOG_NCOL; c++)
                    if (!strcmp(fld[i], cols[c].name)) map[i] = c;
            }
            continue;
        }
        if (!nf || (strcmp(fld[0], "step") && strcmp(fld[0], "epoch"))) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            *rows = mg_realloc(*rows, sizeof(mg_log_row) * (size_t)cap);
        }
        mg_log_row *r = &(*rows)[(*n)++];
        mg_log_row_init(r, fld[0][0] == 'e' ? 'e' : 's');
        for (int i = 1; i < k && i < nf; i++)
            if (map[i] >= 0 && fld[i][0]) r->v[map[i]] = atof(fld[i]);
    }
    fclose(f);
    if (!nf) {
        free(*rows);
        *rows = NULL;
        *n = 0;
        mg_set_error("%s: no metrics.csv header (is this a run directory of 'mrgan train'?)", path);
        return -1;
    }
    return 0;
}

int mg_log_trim(const char *path, long step, long epoch)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    mg_log_row *rows;
    long n;
    if (mg_log_read(path, &rows, &n)) return -1;
    char *tmp = mg_tmp_path(path);
    FILE *f = fopen(tmp, "w");
    int ok = f && fputs(mg_log_header(), f) >= 0;
    char line[1024];
    for (long i = 0; ok && i < n; i++) {
        const mg_log_row *r = &rows[i];
        if (r->kind == 's' ? r->v[MG_LOG_STEP] > (double)step : r->v[MG_LOG_EPOCH] > (double)epoch) continue;
        mg_log_format(r, line, sizeof line);
        ok = fputs(line, f) >= 0;
    }
    if (f && fclose(f) != 0) ok = 0;
    free(rows);
    return mg_finish_tmp(ok, tmp, path, ok ? NULL : strerror(errno));
}

int mg_log_epoch_loss(const char *path, long epoch, long step, double *sum, long *n)
{
    *sum = 0;
    *n = 0;
    mg_log_row *rows;
    long nr;
    if (mg_log_read(path, &rows, &nr)) return -1;
    for (long i = 0; i < nr; i++)
        if (rows[i].kind == 's' && rows[i].v[MG_LOG_EPOCH] == (double)epoch && rows[i].v[MG_LOG_STEP] <= (double)step &&
            isfinite(rows[i].v[MG_LOG_LOSS])) {
            *sum += rows[i].v[MG_LOG_LOSS];
            (*n)++;
        }
    free(rows);
    return 0;
}

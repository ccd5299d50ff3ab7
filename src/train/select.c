/* Model selection (paper B.3; docs/gan.md): the epoch whose validation
 * NMSE (and FID, when given) z-scores sum lowest, from select_start on. */
#include "trainer.h"

#include <math.h>
#include <stdlib.h>

static void zscore(const double *x, int n, int start, double *z)
{
    double m = 0, s = 0;
    int k = n - start;
    for (int i = start; i < n; i++) m += x[i];
    m /= k;
    for (int i = start; i < n; i++) s += (x[i] - m) * (x[i] - m);
    s = sqrt(s / k);
    for (int i = start; i < n; i++) z[i] += s > 0 ? (x[i] - m) / s : 0.0;
}

int mg_select_epoch(const double *nmse, const double *fid, int n, int start)
{
    if (n <= 0) return -1;
    if (start < 0) start = 0;
    if (start >= n) start = n - 1;
    double z[4096];
    if (n > 4096) return -1;
    for (int i = 0; i < n; i++) z[i] = 0;
    zscore(nmse, n, start, z);
    if (fid) zscore(fid, n, start, z);
    int best = start;
    for (int i = start; i < n; i++)
        if (z[i] < z[best]) best = i;
    return best;
}

int mg_trainer_select_start(const trainer *t)
{
    return t->cfg.select_start >= 0 ? t->cfg.select_start : t->cfg.epochs / 3;
}

char *mg_trainer_epoch_file(const trainer *t, long epoch)
{
    char nm[64];
    snprintf(nm, sizeof nm, "epoch_%03ld.safetensors", epoch);
    return mg_path_join(t->p_epochs, nm);
}

int mg_trainer_update_best(trainer *t, long *best_epoch)
{
    int start = mg_trainer_select_start(t);
    if (t->nval <= start) return 0;
    /* NMSE and FID z-scores together when every epoch in the window has an FID */
    int all_fid = t->has_fid;
    for (long i = start; all_fid && i < t->nval; i++) all_fid = isfinite(t->fid_series[i]);
    int e = mg_select_epoch(t->val_series, all_fid ? t->fid_series : NULL, (int)t->nval, start);
    *best_epoch = e + 1;
    char *src = mg_trainer_epoch_file(t, e + 1);
    int rc = mg_copy_file(src, t->p_best);
    free(src);
    return rc;
}

void mg_trainer_read_series(trainer *t)
{
    mg_log_row *rows;
    long n;
    if (mg_log_read(t->p_csv, &rows, &n)) return;
    for (long i = 0; i < n; i++) {
        const long ep = (long)rows[i].v[MG_LOG_EPOCH];
        if (rows[i].kind != 'e' || ep < 1 || ep > t->cfg.epochs) continue;
        t->val_series[ep - 1] = rows[i].v[MG_LOG_VAL_NMSE];
        t->fid_series[ep - 1] = rows[i].v[MG_LOG_VAL_FID];
        if (ep > t->nval) t->nval = ep;
    }
    free(rows);
}

/* The evaluation protocol (recon.h; docs/report.md, docs/metrics.md): the
 * undersampled slices of a fully sampled split through a method, compared
 * with the fully sampled SENSE-combined reference on magnitudes, or with
 * fastMRI's root-sum-of-squares reference at its reconSpace size (the
 * reconstructions centre-cropped to it), fastMRI style, the split as one
 * volume. `mrgan eval` and the trainer's validation both run it. */
#include "recon.h"
#include "../io/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *orient_name(int o) { return o == 0 ? "axial" : o == 1 ? "coronal" : o == 2 ? "sagittal" : "-"; }

static void mag(const cfloat *z, float *m, long n)
{
    for (long i = 0; i < n; i++) m[i] = cabsf(z[i]);
}

/* the RSS reference of slice s at ch x cw: the file's reconstruction_rss
 * when it has that size, else its full-size RSS, else the RSS of the fully
 * sampled coil images */
static void rss_reference(mg_eval *e, long s, float *out, cfloat *work)
{
    const mg_kdata *d = e->data;
    const long C = d->coils, H = d->h, W = d->w, n = H * W, ch = e->ch, cw = e->cw;
    if (d->rss_crop && d->recon_h == ch && d->recon_w == cw) {
        memcpy(out, d->rss_crop + s * ch * cw, sizeof(float) * (size_t)(ch * cw));
        return;
    }
    if (d->rss) {
        mg_center_crop(d->rss + s * n, H, W, out, ch, cw, sizeof(float));
        return;
    }
    float *full = mg_malloc_array((size_t)n, sizeof(float));
    mg_rss(d->kspace + s * C * n, C, H, W, work, full);
    mg_center_crop(full, H, W, out, ch, cw, sizeof(float));
    free(full);
}

int mg_eval_prepare(mg_eval *e)
{
    const mg_kdata *d = e->data;
    const long C = d->coils, H = d->h, W = d->w, n = H * W, ns = e->s1 - e->s0;
    /* the compared size: the image, or (RSS) the reconSpace centre */
    e->ch = H;
    e->cw = W;
    e->ref_note = "SENSE combination S^H F^-1 k of the fully sampled k-space";
    if (e->ref_rss) {
        if (d->recon_h > 0 && d->recon_w > 0) {
            e->ch = d->recon_h < H ? d->recon_h : H;
            e->cw = d->recon_w < W ? d->recon_w : W;
        }
        e->ref_note = d->rss_crop && d->recon_h == e->ch && d->recon_w == e->cw
                          ? "the file's reconstruction_rss"
                          : "root-sum-of-squares of the fully sampled coil images, centre-cropped";
    }
    const long cn = e->ch * e->cw;
    e->ref = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    e->rmag = mg_malloc_array((size_t)(ns * cn), sizeof(float));
    e->xmag = mg_malloc_array((size_t)(ns * cn), sizeof(float));
    cfloat *work = e->ref_rss ? mg_malloc_array((size_t)(C * n), sizeof(cfloat)) : NULL;
    const long S = e->sets > 1 ? e->sets : 1;
    e->sens = mg_malloc_array((size_t)(S * C * n), sizeof(cfloat));
    e->masks = mg_malloc_array((size_t)(ns * H), sizeof(float));
    float *acq = mg_malloc_array((size_t)H, sizeof(float));
    e->vmax = 0;
    e->sampled = e->acquired = 0;
    for (long s = e->s0; s < e->s1; s++) {
        const float *m = e->slice(e->ctx, s, e->sens);
        if (!m) {
            free(acq);
            return -1;
        }
        memcpy(e->masks + (s - e->s0) * H, m, sizeof(float) * (size_t)H);
        e->acquired += mg_kdata_acquired(d, s, acq);
        for (long y = 0; y < H; y++) e->sampled += m[y] != 0.0f && acq[y] != 0.0f;
        if (!e->ref_rss) {
            mg_zerofill_sets(d->kspace + s * C * n, e->sens, S, NULL, e->ref + (s - e->s0) * n, C, H, W);
        } else { /* the reference magnitudes, also as complex images (ref holds ns x cn of them) */
            float *r = e->rmag + (s - e->s0) * cn;
            rss_reference(e, s, r, work);
            for (long i = 0; i < cn; i++) e->ref[(s - e->s0) * cn + i] = r[i];
        }
    }
    free(acq);
    free(work);
    if (!e->ref_rss) mag(e->ref, e->rmag, ns * n);
    for (long i = 0; i < ns * cn; i++) e->vmax = e->rmag[i] > e->vmax ? e->rmag[i] : e->vmax;
    if (!(e->vmax > 0) || !isfinite(e->vmax)) {
        mg_set_error("%s: the fully sampled reference of slices %ld..%ld is %s: the metrics are undefined",
                     e->path ? e->path : "input", e->s0, e->s1 - 1, e->vmax > 0 ? "not finite" : "all zero");
        return -1;
    }
    if (e->fid && mg_fid_features(e->fid, e->rmag, ns, e->ch, e->cw, e->vmax, &e->fref)) return -1;
    return 0;
}

/* one line of the per-slice CSV */
static void per_slice_line(mg_eval *e, const char *name, long s, double nmse, double psnr, double ssim, double hfen,
                           double dt)
{
    const mg_kdata *d = e->data;
    const int o = d->slice_info ? d->slice_info[2 * s] : -1;
    const long idx = d->slice_info ? d->slice_info[2 * s + 1] : s;
    if (e->cap - e->len < 256) {
        e->cap = e->cap ? 2 * e->cap : 1 << 16;
        e->lines = mg_realloc(e->lines, e->cap);
        if (e->len == 0) e->lines[0] = 0;
    }
    /* a slice without signal has no NMSE or HFEN: an empty field, never nan */
    char v[4][32];
    const double x[4] = {nmse, psnr, ssim, hfen};
    for (int i = 0; i < 4; i++) {
        if (isfinite(x[i])) snprintf(v[i], sizeof v[i], i == 0 ? "%.8g" : "%.6g", x[i]);
        else v[i][0] = 0;
    }
    e->len += (size_t)snprintf(e->lines + e->len, e->cap - e->len, "%s,%ld,%s,%ld,%s,%s,%s,%s,%.5f\n", name, s,
                               orient_name(o), idx, v[0], v[1], v[2], v[3], dt);
}

int mg_eval_method(mg_eval *e, mg_method *m, mg_eval_row *row, cfloat *img)
{
    const mg_kdata *d = e->data;
    const long C = d->coils, H = d->h, W = d->w, n = H * W, ns = e->s1 - e->s0;
    memset(row, 0, sizeof *row);
    snprintf(row->name, sizeof row->name, "%s", m->name);
    mg_progress pr;
    mg_progress_start(&pr, m->name, ns, e->quiet);
    mg_nmse_acc acc = {0, 0};
    mg_hfen_acc hacc = {0, 0};
    double ssum = 0, tsum = 0;
    for (long s = e->s0; s < e->s1; s++) {
        const long i = s - e->s0;
        const float *mk = e->slice(e->ctx, s, e->sens);
        if (!mk) return -1;
        double t0 = mg_now();
        if (mg_method_slice(m, d->kspace + s * C * n, e->sens, mk, img + i * n, s)) return -1;
        double dt = mg_now() - t0; /* the method alone: checks and metrics are not its time */
        if (mg_first_nonfinite_c(img + i * n, (size_t)n) >= 0) {
            mg_set_error("%s: %s, slice %ld: the reconstruction is not finite", e->path ? e->path : "input", m->name, s);
            return -1;
        }
        tsum += dt;
        const long ch = e->ch, cw = e->cw, cn = ch * cw;
        cfloat *xi = img + i * cn; /* the compared image, in place (the centre crop when ch x cw is smaller) */
        if (cn < n) mg_center_crop(img + i * n, H, W, xi, ch, cw, sizeof(cfloat));
        const float *g = e->rmag + i * cn;
        float *x = e->xmag + i * cn;
        mag(xi, x, cn);
        mg_nmse_acc a1 = {0, 0};
        mg_nmse_add_f(&a1, g, x, (size_t)cn);
        mg_nmse_add_f(&acc, g, x, (size_t)cn);
        mg_progress_update(&pr, i + 1);
        if (e->nmse_only) continue;
        mg_hfen_acc h1 = {0, 0};
        mg_hfen_add(&h1, g, x, ch, cw);
        mg_hfen_add(&hacc, g, x, ch, cw);
        const double ss = mg_ssim(g, x, ch, cw, e->vmax);
        ssum += ss;
        if (e->per_slice) per_slice_line(e, m->name, s, mg_nmse_value(&a1), mg_psnr(g, x, cn, e->vmax), ss,
                                         mg_hfen_value(&h1), dt);
    }
    mg_progress_end(&pr);
    row->nmse = mg_nmse_value(&acc);
    row->psnr = mg_psnr(e->rmag, e->xmag, ns * e->ch * e->cw, e->vmax);
    row->ssim = ssum / (double)ns;
    row->hfen = mg_hfen_value(&hacc);
    row->secs = tsum / (double)ns;
    if (!isfinite(row->nmse) || (!e->nmse_only && (!isfinite(row->ssim) || !isfinite(row->hfen)))) {
        mg_set_error("%s: %s: a metric is not finite (NMSE %g, SSIM %g, HFEN %g)", e->path ? e->path : "input", m->name,
                     row->nmse, row->ssim, row->hfen);
        return -1;
    }
    if (e->fid) {
        float *fx = NULL;
        if (mg_fid_features(e->fid, e->xmag, ns, e->ch, e->cw, e->vmax, &fx)) return -1;
        row->fid = mg_fid_distance(fx, ns, e->fref, ns, MG_FID_DIM);
        row->kid = mg_kid(fx, ns, e->fref, ns, MG_FID_DIM);
        row->has_fid = 1;
        free(fx);
    }
    return 0;
}

void mg_eval_free(mg_eval *e)
{
    free(e->ref);
    free(e->rmag);
    free(e->xmag);
    free(e->sens);
    free(e->masks);
    free(e->fref);
    free(e->lines);
    e->ref = NULL, e->rmag = e->xmag = e->masks = e->fref = NULL, e->sens = NULL, e->lines = NULL;
}

/* text written atomically to dir/name */
static int write_file(const char *dir, const char *name, const char *text)
{
    char *p = mg_path_join(dir, name);
    int rc = mg_write_text(p, text);
    free(p);
    return rc;
}

int mg_eval_write(const mg_eval *e, const mg_eval_row *rows, int nr, const char *outdir, const char *title,
                  const char *footnote, char **table_md)
{
    size_t cap = 4096 + (size_t)nr * 256 + strlen(title) + strlen(footnote), o = 0, oc = 0;
    char *md = mg_malloc(cap), *csv = mg_malloc(cap);
    o += (size_t)snprintf(md + o, cap - o, "%s\n\n| method | NMSE x1e3 | PSNR dB | SSIM | HFEN | FID | KID x1e3 | s/slice |\n"
                                           "|---|---|---|---|---|---|---|---|\n", title);
    /* units in the names; nmse, ssim, hfen, fid and kid are plain numbers (not x1e3) */
    oc += (size_t)snprintf(csv + oc, cap - oc, "method,nmse,psnr_db,ssim,hfen,fid,kid,seconds_per_slice\n");
    for (int r = 0; r < nr; r++) {
        const mg_eval_row *R = &rows[r];
        char f1[32] = "n/a", f2[32] = "n/a", c1[32] = "", c2[32] = "";
        if (R->has_fid) {
            snprintf(f1, sizeof f1, "%.2f", R->fid);
            snprintf(f2, sizeof f2, "%.2f", R->kid * 1e3);
            snprintf(c1, sizeof c1, "%.6g", R->fid);
            snprintf(c2, sizeof c2, "%.6g", R->kid);
        }
        o += (size_t)snprintf(md + o, cap - o, "| %s | %.2f | %.2f | %.4f | %.4f | %s | %s | %.3f |\n", R->name,
                              R->nmse * 1e3, R->psnr, R->ssim, R->hfen, f1, f2, R->secs);
        oc += (size_t)snprintf(csv + oc, cap - oc, "%s,%.10g,%.10g,%.10g,%.10g,%s,%s,%.5f\n", R->name, R->nmse, R->psnr,
                               R->ssim, R->hfen, c1, c2, R->secs);
    }
    o += (size_t)snprintf(md + o, cap - o, "\n%s\n", footnote);
    const char *hdr = "method,slice,orientation,index,nmse,psnr_db,ssim,hfen,seconds\n";
    char *ps = mg_malloc(strlen(hdr) + e->len + 1);
    strcpy(ps, hdr);
    if (e->lines) strcat(ps, e->lines);
    int rc = write_file(outdir, "per_slice.csv", ps) || write_file(outdir, "table.md", md) ||
             write_file(outdir, "table.csv", csv) ? -1 : 0;
    free(ps);
    free(csv);
    if (table_md && !rc) *table_md = md;
    else free(md);
    return rc;
}

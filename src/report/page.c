/* The report page (report.h): inputs, figures and index.html. */
#include "report_int.h"
#include "../train/runlog.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void mg_report_defaults(mg_report_opts *o)
{
    memset(o, 0, sizeof *o);
    o->nreader = 6;
    o->seed = 1;
}

char *mg_report_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, r;
    char *b = mg_malloc(cap + 1);
    while ((r = fread(b + n, 1, cap - n, f)) > 0)
        if ((n += r) == cap) b = mg_realloc(b, (cap *= 2) + 1);
    fclose(f);
    b[n] = 0;
    if (len) *len = n;
    return b;
}

static void b64(FILE *f, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        fputc(t[v >> 18 & 63], f);
        fputc(t[v >> 12 & 63], f);
        fputc(i + 1 < n ? t[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? t[v & 63] : '=', f);
    }
}

/* the HTML entity of c, or NULL when c stands as it is */
static const char *entity(char c)
{
    return c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '"' ? "&quot;" : NULL;
}

void mg_report_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        const char *e = entity(*s);
        if (e) fputs(e, f);
        else fputc(*s, f);
    }
}

void mg_report_escape_buf(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (; *s && o + 7 < n; s++) {
        const char *e = entity(*s);
        if (e) o += (size_t)snprintf(out + o, n - o, "%s", e);
        else out[o++] = *s;
    }
    out[o] = 0;
}

int mg_report_img(const report *r, FILE *f, const char *file, const char *alt)
{
    char *p = mg_path_join(r->out, file);
    size_t n;
    char *d = mg_report_slurp(p, &n);
    if (!d) {
        mg_set_error("%s: cannot read back", p);
        free(p);
        return -1;
    }
    fprintf(f, "<img class=\"fig\" alt=\"%s\" src=\"data:image/png;base64,", alt);
    b64(f, (unsigned char *)d, n);
    fputs("\">\n", f);
    free(d);
    free(p);
    return 0;
}

FILE *mg_report_open(const char *path, char **tmp)
{
    *tmp = mg_tmp_path(path);
    FILE *f = fopen(*tmp, "w");
    if (!f) {
        mg_set_error("%s: cannot write: %s", path, strerror(errno));
        free(*tmp);
        *tmp = NULL;
    }
    return f;
}

int mg_report_close(FILE *f, char *tmp, const char *path)
{
    int ok = !ferror(f);
    ok &= fclose(f) == 0;
    return mg_finish_tmp(ok, tmp, path, "write failed");
}

void mg_report_abort(FILE *f, char *tmp)
{
    if (f) fclose(f);
    if (tmp) remove(tmp);
    free(tmp);
}

/* ---------------- training curves ---------------- */
typedef struct {
    int n;
    double *epoch, *loss, *val, *beta, *fid;
} curves;

static int read_curves(const char *path, curves *c)
{
    memset(c, 0, sizeof *c);
    mg_log_row *rows;
    long n;
    if (mg_log_read(path, &rows, &n)) return -1;
    const size_t sz = sizeof(double) * (size_t)(n ? n : 1);
    c->epoch = mg_malloc(sz), c->loss = mg_malloc(sz), c->val = mg_malloc(sz);
    c->beta = mg_malloc(sz), c->fid = mg_malloc(sz);
    for (long i = 0; i < n; i++) {
        if (rows[i].kind != 'e') continue;
        c->epoch[c->n] = rows[i].v[MG_LOG_EPOCH];
        c->loss[c->n] = rows[i].v[MG_LOG_LOSS];
        c->val[c->n] = rows[i].v[MG_LOG_VAL_NMSE];
        c->beta[c->n] = rows[i].v[MG_LOG_BETA];
        c->fid[c->n] = rows[i].v[MG_LOG_VAL_FID];
        c->n++;
    }
    free(rows);
    if (c->n == 0) {
        mg_set_error("%s: no finished epoch yet", path);
        return -1;
    }
    return 0;
}

static void free_curves(curves *c)
{
    free(c->epoch);
    free(c->loss);
    free(c->val);
    free(c->beta);
    free(c->fid);
}

/* ---------------- eval images ---------------- */

static int load_eval(report *r)
{
    char *pj = mg_path_join(r->evald, "eval.json");
    char *txt = mg_report_slurp(pj, NULL), *idir = mg_path_join(r->evald, "images"), *p = NULL;
    cJSON *js = txt ? cJSON_Parse(txt) : NULL;
    int rc = -1;
    const cJSON *ms = js ? cJSON_GetObjectItemCaseSensitive(js, "methods") : NULL;
    if (!txt) {
        mg_set_error("%s: cannot open (run 'mrgan eval ... %s' first, or give --eval)", pj, r->evald);
        goto out;
    }
    if (!cJSON_IsArray(ms) || cJSON_GetArraySize(ms) < 1) {
        mg_set_error("%s: no methods list", pj);
        goto out;
    }
    long dims[MG_MAX_DIMS];
    int nd;
    p = mg_path_join(idir, "reference.cfl");
    if (mg_cfl_read(p, &nd, dims, &r->ref)) goto out;
    r->W = dims[0], r->H = dims[1], r->ns = 1;
    for (int i = 2; i < MG_MAX_DIMS; i++) r->ns *= dims[i];
    free(p);
    p = NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, ms)
    {
        if (!cJSON_IsString(m) || r->nm == MAXM || !m->valuestring[0] || m->valuestring[0] == '.' ||
            strchr(m->valuestring, '/')) {
            mg_set_error("%s: bad methods list", pj);
            goto out;
        }
        char nm[96];
        snprintf(nm, sizeof nm, "%s.cfl", m->valuestring);
        p = mg_path_join(idir, nm);
        long d2[MG_MAX_DIMS];
        if (mg_cfl_read(p, &nd, d2, &r->img[r->nm])) goto out;
        r->names[r->nm++] = mg_strdup(m->valuestring);
        long n2 = 1;
        for (int i = 2; i < MG_MAX_DIMS; i++) n2 *= d2[i];
        if (d2[0] != r->W || d2[1] != r->H || n2 != r->ns) {
            mg_set_error("%s: %ldx%ld x %ld images, but the reference is %ldx%ld x %ld", p, d2[0], d2[1], n2, r->W,
                         r->H, r->ns);
            goto out;
        }
        free(p);
        p = NULL;
    }
    { /* shown as the PNGs of io.h: rows along W (bart toimg, fastMRI's imshow) */
        const long n = r->H * r->W;
        cfloat *t = mg_malloc_array((size_t)n, sizeof(cfloat));
        for (int k = -1; k < r->nm; k++) {
            cfloat *a = k < 0 ? r->ref : r->img[k];
            for (long s = 0; s < r->ns; s++) {
                mg_transpose_c(a + s * n, r->H, r->W, t);
                memcpy(a + s * n, t, sizeof(cfloat) * (size_t)n);
            }
        }
        free(t);
        const long h = r->H;
        r->H = r->W;
        r->W = h;
    }
    rc = 0;
out:
    cJSON_Delete(js);
    free(txt);
    free(idir);
    free(pj);
    free(p);
    return rc;
}

/* the table as HTML, from table.csv (header row, then one row per method) */
static int table_from_csv(report *r)
{
    char *p = mg_path_join(r->evald, "table.csv");
    char *txt = mg_report_slurp(p, NULL);
    if (!txt) {
        mg_set_error("%s: cannot open", p);
        free(p);
        return -1;
    }
    static const char *hdr[] = {"method", "NMSE x1e3", "PSNR dB", "SSIM", "HFEN", "FID", "KID x1e3", "s / slice"};
    size_t o = 0, cap = sizeof r->table_html;
    o += (size_t)snprintf(r->table_html + o, cap - o, "<table id=\"results\"><tr>");
    for (int i = 0; i < 8; i++) o += (size_t)snprintf(r->table_html + o, cap - o, "<th>%s</th>", hdr[i]);
    o += (size_t)snprintf(r->table_html + o, cap - o, "</tr>\n");
    char *save = NULL;
    int first = 1;
    for (char *line = strtok_r(txt, "\n", &save); line && o < cap - 512; line = strtok_r(NULL, "\n", &save)) {
        if (first) {
            first = 0;
            continue;
        }
        char *f[8] = {0};
        int k = mg_split_fields(line, f, 8);
        if (k < 8) continue;
        double v[8];
        for (int i = 1; i < 8; i++) v[i] = *f[i] ? atof(f[i]) : NAN;
        char fid[32], kid[32], name[400];
        mg_report_escape_buf(f[0], name, 61 * 6);
        snprintf(fid, sizeof fid, isfinite(v[5]) ? "%.2f" : "n/a", v[5]);
        snprintf(kid, sizeof kid, isfinite(v[6]) ? "%.2f" : "n/a", v[6] * 1e3);
        o += (size_t)snprintf(r->table_html + o, cap - o,
                              "<tr><td>%s</td><td>%.2f</td><td>%.2f</td><td>%.4f</td><td>%.4f</td><td>%s</td><td>%s</td>"
                              "<td>%.3f</td></tr>\n",
                              name, v[1] * 1e3, v[2], v[3], v[4], fid, kid, v[7]);
    }
    snprintf(r->table_html + o, cap - o, "</table>\n");
    free(txt);
    free(p);
    return 0;
}


/* the test slices of the panels: o->slices, or three spread over the split */
static int choose_slices(const mg_report_opts *o, const report *r, long *sl, int *nsl)
{
    *nsl = 0;
    if (!o->slices) {
        const int k = r->ns < 3 ? (int)r->ns : 3;
        for (int i = 0; i < k; i++) sl[(*nsl)++] = (long)((i + 0.5) * (double)r->ns / k);
        return 0;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", o->slices);
    for (char *t = strtok(buf, ","); t && *nsl < 16; t = strtok(NULL, ",")) {
        char *end;
        long v = strtol(t, &end, 10);
        if (*t == 0 || *end || v < 0 || v >= r->ns) {
            mg_set_error("option --slices: '%s' is not a slice 0..%ld", t, r->ns - 1);
            return -1;
        }
        sl[(*nsl)++] = v;
    }
    return 0;
}

/* Fig. 3 (validation NMSE, FID, training loss) and Fig. 9 (beta) */
static int curve_figures(const report *r, const curves *cv, int have_beta, int have_fid)
{
    static const struct {
        const char *file, *title, *ylab, *label;
        int log;
    } f[4] = {{"fig3_val_nmse.png", "VALIDATION NMSE PER EPOCH", "NMSE", "validation NMSE", 1},
              {"fig3_train_loss.png", "TRAINING LOSS PER EPOCH", "LOSS", "training loss", 1},
              {"fig9_beta.png", "AGB BALANCE BETA PER EPOCH", "BETA", "beta", 0},
              {"fig3_val_fid.png", "VALIDATION FID PER EPOCH", "FID", "validation FID", 0}};
    const double *y[4] = {cv->val, cv->loss, cv->beta, cv->fid};
    const int want[4] = {1, 1, have_beta, have_fid};
    for (int i = 0; i < 4; i++) {
        if (!want[i]) continue;
        pl_series s = {f[i].label, cv->epoch, y[i], cv->n, pl_palette[i]};
        char *p = mg_path_join(r->out, f[i].file);
        int bad = pl_plot(p, f[i].title, "EPOCH", f[i].ylab, &s, 1, f[i].log);
        free(p);
        if (bad) return -1;
    }
    return 0;
}

static int figure(const report *r, FILE *f, const char *file, const char *alt, const char *caption)
{
    fputs("<figure>", f);
    if (mg_report_img(r, f, file, alt)) return -1;
    fprintf(f, "<figcaption>%s</figcaption></figure>\n", caption);
    return 0;
}

/* index.html */
static int write_page(const report *r, const long *sl, int nsl, char figs[][64], int have_beta, int have_fid,
                      const char *t3, const char *cfg, const char *path)
{
    char *tmp;
    FILE *f = mg_report_open(path, &tmp);
    if (!f) return -1;
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mrgan report</title>\n<style>\n"
          "body{font-family:sans-serif;margin:24px;max-width:1400px}table{border-collapse:collapse;margin:8px 0}"
          "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}td:first-child{text-align:left}"
          "img.fig{max-width:100%;border:1px solid #ddd;margin:6px 0}figcaption{color:#444;margin-bottom:18px}\n"
          "</style></head>\n<body>\n<h1>mrgan report: ",
          f);
    mg_report_escape(f, r->run);
    fputs("</h1>\n<h2>Evaluation</h2>\n<p>", f);
    char *emd = mg_path_join(r->evald, "table.md");
    char *md = mg_report_slurp(emd, NULL);
    if (md) { /* the first line of table.md describes the split and the masks */
        char *nl = strchr(md, '\n');
        if (nl) *nl = 0;
        mg_report_escape(f, md);
    }
    free(md);
    free(emd);
    fputs("</p>\n", f);
    fputs(r->table_html, f);
    fprintf(f, "<p>Per-slice values: <code>%s/per_slice.csv</code>.</p>\n", r->evald);
    fputs("<h2>Reconstructions (cf. paper Fig. 4)</h2>\n", f);
    int bad = 0;
    for (int i = 0; i < nsl && !bad; i++) {
        char cap[256];
        snprintf(cap, sizeof cap, "Test slice %ld: reference and each method (same window, the reference's 99.5th "
                                  "percentile); the box is shown enlarged below; bottom: |x - reference| x5.", sl[i]);
        bad = figure(r, f, figs[i], figs[i], cap);
    }
    fputs("<h2>Training (cf. paper Fig. 3 and Fig. 9)</h2>\n", f);
    bad = bad || figure(r, f, "fig3_val_nmse.png", "validation NMSE",
                        "Validation NMSE per epoch (fixed masks, fastMRI volume NMSE).");
    if (have_fid)
        bad = bad || figure(r, f, "fig3_val_fid.png", "validation FID",
                            "Validation FID per epoch (reconstructions vs references of the validation split; "
                            "train --fid-weights).");
    else
        fputs("<p>No FID per epoch: the run was trained without <code>--fid-weights</code>.</p>\n", f);
    bad = bad || figure(r, f, "fig3_train_loss.png", "training loss",
                        "Training loss per epoch (MSE, plus the adversarial term in GAN modes).");
    if (have_beta)
        bad = bad || figure(r, f, "fig9_beta.png", "beta",
                            "AGB balance beta per epoch (the fixed 1/lambda in wgan/cwgan).");
    else
        fputs("<p>No beta: this run trained with MSE only.</p>\n", f);
    fputs("<h2>Reader study (cf. paper Table 3)</h2>\n<p><a href=\"reader.html\">reader.html</a>: blinded, shuffled "
          "images to score; export the CSV and pass it back with <code>mrgan report --scores FILE</code>.</p>\n",
          f);
    if (t3[0]) fputs(t3, f);
    if (cfg) {
        fputs("<h2>Run configuration</h2>\n<pre>", f);
        mg_report_escape(f, cfg);
        fputs("</pre>\n", f);
    }
    fputs("<script>\n/* for tests: how many figures decoded */\nwindow.addEventListener('load',()=>{"
          "const im=[...document.images];document.body.dataset.figures=im.filter(i=>i.complete&&i.naturalWidth>0).length"
          "+'/'+im.length;});\n</script>\n</body></html>\n",
          f);
    if (bad) {
        mg_report_abort(f, tmp);
        return -1;
    }
    return mg_report_close(f, tmp, path);
}

int mg_report_build(const mg_report_opts *o, char **index)
{
    static report R; /* large (the table's HTML); one report at a time */
    report *r = &R;
    memset(r, 0, sizeof *r);
    r->run = o->run;
    char *dflt_eval = mg_path_join(o->run, "eval"), *dflt_out = mg_path_join(o->run, "report");
    r->evald = o->evald ? o->evald : dflt_eval;
    r->out = o->out ? o->out : dflt_out;
    char *pcsv = mg_path_join(o->run, "metrics.csv"), *pcfg = mg_path_join(o->run, "config.json"), *cfg = NULL;
    char *pkey = mg_path_join(r->out, "reader_key.csv"), *ph = mg_path_join(r->out, "index.html");
    static char t3[32768];
    t3[0] = 0;
    curves cv = {0};
    int rc = -1, lock = -1;
    if (read_curves(pcsv, &cv) || load_eval(r) || table_from_csv(r)) goto out;
    if (mkdir(r->out, 0755) && errno != EEXIST) {
        mg_set_error("%s: cannot create: %s", r->out, strerror(errno));
        goto out;
    }
    if ((lock = mg_lock_dir(r->out)) < 0) goto out;
    /* panels */
    long sl[16];
    int nsl, rx = 0, ry = 0, rs = 0;
    if (choose_slices(o, r, sl, &nsl)) goto out;
    if (o->roi && (sscanf(o->roi, "%d,%d,%d", &rx, &ry, &rs) != 3 || rs < 4 || rx < 0 || ry < 0 || rx + rs > r->W ||
                   ry + rs > r->H)) {
        mg_set_error("option --roi: '%s' is not X,Y,S inside the %ldx%ld image (S >= 4)", o->roi, r->W, r->H);
        goto out;
    }
    char figs[16][64];
    for (int i = 0; i < nsl; i++) {
        if (!o->roi) {
            const long n = r->H * r->W;
            float *m = mg_malloc_array((size_t)n, sizeof(float));
            for (long j = 0; j < n; j++) m[j] = cabsf(r->ref[sl[i] * n + j]);
            mg_report_auto_roi(m, r->H, r->W, &rx, &ry, &rs);
            free(m);
        }
        if (mg_report_fig4(r, sl[i], rx, ry, rs, figs[i], sizeof figs[i])) goto out;
    }
    /* curves; beta is logged in every mode but means something only in the GAN modes */
    cfg = mg_report_slurp(pcfg, NULL);
    cJSON *cj = cfg ? cJSON_Parse(cfg) : NULL;
    const cJSON *mode = cj ? cJSON_GetObjectItemCaseSensitive(cj, "mode") : NULL;
    int have_beta = cJSON_IsString(mode) && strcmp(mode->valuestring, "mse") != 0, have_fid = 0;
    cJSON_Delete(cj);
    for (int i = 0; have_beta && i < cv.n; i++) have_beta = isfinite(cv.beta[i]);
    for (int i = 0; i < cv.n; i++) have_fid |= isfinite(cv.fid[i]);
    if (curve_figures(r, &cv, have_beta, have_fid)) goto out;
    /* reader study and Table 3; scores refer to the key they were made with: keep an existing study */
    struct stat kst;
    if (!(o->nscores > 0 && stat(pkey, &kst) == 0) && mg_report_reader_study(r, o->nreader, o->seed)) goto out;
    if (o->nscores && mg_report_table3(r, o->scores, o->nscores, t3, sizeof t3) < 0) goto out;
    if (write_page(r, sl, nsl, figs, have_beta, have_fid, t3, cfg, ph)) goto out;
    *index = ph;
    ph = NULL;
    rc = 0;
out:
    mg_unlock_dir(lock);
    free(ph);
    free(pkey);
    free(cfg);
    free(pcfg);
    free(pcsv);
    free(dflt_eval);
    free(dflt_out);
    for (int i = 0; i < r->nm; i++) free(r->img[i]), free(r->names[i]);
    free(r->ref);
    free_curves(&cv);
    return rc;
}

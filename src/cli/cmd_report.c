/* mrgan report: a self-contained HTML page and PNG figures from a training
 * run and an evaluation: panels with zoomed regions and error maps (paper
 * Fig. 4), validation NMSE per epoch (Fig. 3), beta per epoch (Fig. 9), the
 * tables, and a blinded reader study (Table 3). */
#include "cli.h"
#include "train/runlog.h"
#include "plot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *help =
    "usage: mrgan report [options] RUN\n"
    "\n"
    "Writes RUN/report/ (or --out DIR): index.html, a self-contained page (every\n"
    "figure embedded) with\n"
    "  - the evaluation table (NMSE x1e3, PSNR, SSIM, HFEN, FID, KID, time),\n"
    "  - fig4_slice_NNN.png: reference and every method side by side, a zoomed\n"
    "    region of interest, and error maps |x - reference| (x5),\n"
    "  - fig3_val_nmse.png, fig3_val_fid.png: validation NMSE and FID (runs trained\n"
    "    with --fid-weights) per epoch; fig3_train_loss.png,\n"
    "  - fig9_beta.png: the AGB balance beta per epoch (GAN runs),\n"
    "and reader.html, a blinded reader study: the methods' images of some test\n"
    "slices in a shuffled order under random codes, each scored 1-5 for\n"
    "sharpness, SNR, contrast, artifacts and overall quality, exported as CSV by\n"
    "the page; reader_key.csv (codes -> method, slice) stays out of the page.\n"
    "'--scores' turns exported CSVs into table3.md / table3.csv (mean and SD per\n"
    "method and criterion), with the existing reader_key.csv (the study is not\n"
    "regenerated then).\n"
    "\n"
    "  --eval DIR        output of 'mrgan eval' (default RUN/eval)\n"
    "  --out DIR         where to write (default RUN/report)\n"
    "  --slices LIST     test slices for the panels, comma-separated indices into\n"
    "                    the evaluated slices (default: 3 spread over the split)\n"
    "  --roi X,Y,S       zoomed region: top-left corner and size in pixels\n"
    "                    (default: the S = N/4 box with the most reference edges)\n"
    "  --reader N        slices per method in the reader study (default 6)\n"
    "  --seed S          shuffle of the reader study (default 1)\n"
    "  --scores FILE     a reader's exported scores (repeatable): Table 3\n"
    "  -q, --quiet       no progress output\n"
    "  -h, --help        this text\n";

#define MAXM 32
static const char *CRIT[5] = {"sharpness", "snr", "contrast", "artifacts", "overall"};

typedef struct {
    const char *cmd, *run, *evald, *out;
    int nm;
    char *names[MAXM];
    cfloat *img[MAXM]; /* [ns][H][W] */
    cfloat *ref;
    long ns, H, W;
    char table_html[65536];
    int has_eval;
} report;

static char *slurp(const char *path, size_t *len)
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

/* <img> with the PNG inlined */
static void img_tag(const report *r, FILE *f, const char *file, const char *alt)
{
    char *p = mg_path_join(r->out, file);
    size_t n;
    char *d = slurp(p, &n);
    if (!d) cli_fail(r->cmd, "%s: cannot read back", p);
    fprintf(f, "<img class=\"fig\" alt=\"%s\" src=\"data:image/png;base64,", alt);
    b64(f, (unsigned char *)d, n);
    fputs("\">\n", f);
    free(d);
    free(p);
}

static void html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

/* ---------------- training curves ---------------- */

typedef struct {
    int n;
    double *epoch, *loss, *val, *beta, *fid;
} curves;

static void read_curves(const char *cmd, const char *path, curves *c)
{
    memset(c, 0, sizeof *c);
    mg_log_row *rows;
    long n;
    if (mg_log_read(path, &rows, &n)) cli_fail_lib(cmd);
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

static void load_eval(report *r)
{
    char *pj = mg_path_join(r->evald, "eval.json");
    char *txt = slurp(pj, NULL);
    if (!txt) cli_fail(r->cmd, "%s: cannot open (run 'mrgan eval ... %s' first, or give --eval)", pj, r->evald);
    cJSON *js = cJSON_Parse(txt);
    const cJSON *ms = js ? cJSON_GetObjectItemCaseSensitive(js, "methods") : NULL;
    if (!cJSON_IsArray(ms) || cJSON_GetArraySize(ms) < 1) cli_fail(r->cmd, "%s: no methods list", pj);
    char *idir = mg_path_join(r->evald, "images");
    long dims[MG_MAX_DIMS];
    int nd;
    char *pr = mg_path_join(idir, "reference.cfl");
    if (mg_cfl_read(pr, &nd, dims, &r->ref)) cli_fail_lib(r->cmd);
    r->W = dims[0], r->H = dims[1], r->ns = 1;
    for (int i = 2; i < MG_MAX_DIMS; i++) r->ns *= dims[i];
    free(pr);
    const cJSON *m;
    cJSON_ArrayForEach(m, ms)
    {
        if (!cJSON_IsString(m) || r->nm == MAXM) cli_fail(r->cmd, "%s: bad methods list", pj);
        char nm[96];
        snprintf(nm, sizeof nm, "%s.cfl", m->valuestring);
        char *p = mg_path_join(idir, nm);
        long d2[MG_MAX_DIMS];
        if (mg_cfl_read(p, &nd, d2, &r->img[r->nm])) cli_fail_lib(r->cmd);
        long n2 = 1;
        for (int i = 2; i < MG_MAX_DIMS; i++) n2 *= d2[i];
        if (d2[0] != r->W || d2[1] != r->H || n2 != r->ns)
            cli_fail(r->cmd, "%s: %ldx%ld x %ld images, but the reference is %ldx%ld x %ld", p, d2[0], d2[1], n2, r->W,
                     r->H, r->ns);
        r->names[r->nm++] = mg_strdup(m->valuestring);
        free(p);
    }
    cJSON_Delete(js);
    free(txt);
    free(idir);
    free(pj);
    r->has_eval = 1;
}

/* the table as HTML, from table.csv (header row, then one row per method) */
static void table_from_csv(report *r)
{
    char *p = mg_path_join(r->evald, "table.csv");
    char *txt = slurp(p, NULL);
    if (!txt) cli_fail(r->cmd, "%s: cannot open", p);
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
        char fid[32], kid[32];
        snprintf(fid, sizeof fid, isfinite(v[5]) ? "%.2f" : "n/a", v[5]);
        snprintf(kid, sizeof kid, isfinite(v[6]) ? "%.2f" : "n/a", v[6] * 1e3);
        o += (size_t)snprintf(r->table_html + o, cap - o,
                              "<tr><td>%.60s</td><td>%.2f</td><td>%.2f</td><td>%.4f</td><td>%.4f</td><td>%s</td><td>%s</td>"
                              "<td>%.3f</td></tr>\n",
                              f[0], v[1] * 1e3, v[2], v[3], v[4], fid, kid, v[7]);
    }
    snprintf(r->table_html + o, cap - o, "</table>\n");
    free(txt);
    free(p);
}

/* ---------------- Fig. 4: panels ---------------- */

static unsigned char to8(double v, double hi)
{
    double t = hi > 0 ? v / hi : 0;
    return (unsigned char)lround(255.0 * (t < 0 ? 0 : t > 1 ? 1 : t));
}

/* the S x S box (S = N/4) whose reference has the most gradient energy */
static void auto_roi(const float *m, long H, long W, int *rx, int *ry, int *rs)
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

static int fig4(report *r, long s, int rx, int ry, int rs, char *file, size_t fn)
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
        for (long i = 0; i < n; i++) g[i] = to8(cabsf(x[i]), hi);
        pl_gray(&c, x0, top, g, (int)H, (int)W, b);
        pl_box(&c, x0 + rx * b, top + ry * b, rs * b, rs * b, roi, 1);
        for (int j = 0; j < rs; j++)
            for (int i = 0; i < rs; i++) z[j * rs + i] = g[(ry + j) * W + rx + i];
        pl_gray(&c, x0, top + Ht + gap, z, rs, rs, zoom);
        /* error map |x - ref| x5 in the same window */
        const int ye = top + Ht + gap + zh + gap;
        for (long i = 0; i < n; i++) g[i] = k == 0 ? 0 : to8(5.0 * fabs(cabsf(x[i]) - m[i]), hi);
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

/* ---------------- the reader study ---------------- */

static void reader_study(report *r, int nslices, uint64_t seed)
{
    const long n = r->H * r->W;
    const int M = r->nm + 1; /* the reference is scored too, as a hidden control */
    if (nslices > r->ns) nslices = (int)r->ns;
    const int N = nslices * M;
    int *order = mg_malloc_array((size_t)N, sizeof(int));
    for (int i = 0; i < N; i++) order[i] = i;
    mg_rng rng;
    mg_rng_seed(&rng, mg_seed_mix(seed, 0, 0x72656164ULL));
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(mg_rng_uniform(&rng) * (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    char *pk = mg_path_join(r->out, "reader_key.csv"), *ph = mg_path_join(r->out, "reader.html"), *tk, *th;
    FILE *fk = cli_open_tmp(r->cmd, pk, &tk), *fh = cli_open_tmp(r->cmd, ph, &th);
    fprintf(fk, "item,method,slice\n");
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mrgan reader study</title>\n<style>\n"
          "body{font-family:sans-serif;margin:20px;max-width:1100px}.item{display:flex;gap:20px;margin:16px 0;"
          "padding:12px;border:1px solid #ccc}.item img{width:320px;image-rendering:pixelated}"
          "table{border-collapse:collapse}td,th{padding:2px 6px}.done{background:#eef8ee}\n</style></head>\n"
          "<body>\n<h1>Reader study</h1>\n<p>Score every image from 1 (poor) to 5 (excellent) for each criterion. "
          "Images are shown in a random order under random codes; the methods are not named. Answers are kept in "
          "this browser until you export them.</p>\n<p>Reader: <input id=\"reader\" value=\"reader1\"> "
          "<button id=\"export\">Export CSV</button> <span id=\"progress\"></span></p>\n",
          fh);
    int slices_step = nslices > 0 ? (int)(r->ns / nslices) : 1;
    if (slices_step < 1) slices_step = 1;
    unsigned char *g = mg_malloc((size_t)n);
    for (int q = 0; q < N; q++) {
        const int k = order[q] % M, si = order[q] / M;
        const long s = (long)si * slices_step;
        char code[16];
        snprintf(code, sizeof code, "R%03d", q + 1);
        fprintf(fk, "%s,%s,%ld\n", code, k == 0 ? "reference" : r->names[k - 1], s);
        const cfloat *ref = r->ref + s * n, *x = k == 0 ? ref : r->img[k - 1] + s * n;
        const double hi = mg_auto_window(ref, (size_t)n);
        for (long i = 0; i < n; i++) g[i] = to8(cabsf(x[i]), hi);
        char tmpname[32];
        snprintf(tmpname, sizeof tmpname, ".reader_%s.png", code);
        char *pp = mg_path_join(r->out, tmpname);
        if (mg_png_write_gray(pp, g, r->H, r->W)) cli_fail_lib(r->cmd);
        fprintf(fh, "<div class=\"item\" data-item=\"%s\"><div><b>%s</b><br>", code, code);
        img_tag(r, fh, tmpname, code);
        remove(pp);
        free(pp);
        fputs("</div><table><tr><th></th><th>1</th><th>2</th><th>3</th><th>4</th><th>5</th></tr>\n", fh);
        for (int cr = 0; cr < 5; cr++) {
            fprintf(fh, "<tr><td>%s</td>", CRIT[cr]);
            for (int v = 1; v <= 5; v++)
                fprintf(fh, "<td><input type=\"radio\" name=\"%s_%s\" value=\"%d\"></td>", code, CRIT[cr], v);
            fputs("</tr>\n", fh);
        }
        fputs("</table></div>\n", fh);
    }
    free(g);
    fputs("<script>\n"
          "const crit=['sharpness','snr','contrast','artifacts','overall'];\n"
          "const items=[...document.querySelectorAll('.item')].map(d=>d.dataset.item);\n"
          "const store='mrgan-reader-'+location.pathname;\n"
          "let saved={};try{saved=JSON.parse(localStorage.getItem(store)||'{}');}catch(e){}\n"
          "for(const [k,v] of Object.entries(saved)){const e=document.querySelector(`input[name=\"${k}\"][value=\"${v}\"]`);if(e)e.checked=true;}\n"
          "function update(){let done=0;for(const it of items){const ok=crit.every(c=>document.querySelector(`input[name=\"${it}_${c}\"]:checked`));"
          "document.querySelector(`[data-item=\"${it}\"]`).classList.toggle('done',ok);done+=ok;}"
          "document.getElementById('progress').textContent=done+' of '+items.length+' images scored';document.body.dataset.scored=done;}\n"
          "document.addEventListener('change',e=>{if(e.target.type==='radio'){saved[e.target.name]=e.target.value;"
          "try{localStorage.setItem(store,JSON.stringify(saved));}catch(e){}update();}});\n"
          "function csv(){const r=document.getElementById('reader').value.replace(/[,\\n]/g,' ');let s='reader,item,'+crit.join(',')+'\\n';"
          "for(const it of items){s+=r+','+it;for(const c of crit){const e=document.querySelector(`input[name=\"${it}_${c}\"]:checked`);s+=','+(e?e.value:'');}s+='\\n';}return s;}\n"
          "document.getElementById('export').onclick=()=>{const a=document.createElement('a');"
          "a.href=URL.createObjectURL(new Blob([csv()],{type:'text/csv'}));a.download='reader_scores_'+document.getElementById('reader').value+'.csv';a.click();};\n"
          "window.mrganReaderCSV=csv;update();\n"
          "/* test hook (tests/cli_report_chromium.sh): reader.html#selftest scores item i, criterion j\n"
          "   with ((i + j) mod 5) + 1 and shows the export in <pre id=selftest> */\n"
          "if(location.hash==='#selftest'){items.forEach((it,i)=>crit.forEach((c,j)=>{"
          "document.querySelector(`input[name=\"${it}_${c}\"][value=\"${(i+j)%5+1}\"]`).click();}));"
          "const pre=document.createElement('pre');pre.id='selftest';pre.textContent=csv();document.body.appendChild(pre);}\n"
          "</script>\n</body></html>\n",
          fh);
    cli_close_tmp(r->cmd, fk, tk, pk);
    cli_close_tmp(r->cmd, fh, th, ph);
    free(pk);
    free(ph);
    free(order);
}

/* Table 3 from exported scores and the key */
static int table3(report *r, const char **files, int nf, char *html, size_t hn)
{
    char *pk = mg_path_join(r->out, "reader_key.csv");
    char *key = slurp(pk, NULL);
    if (!key) cli_fail(r->cmd, "%s: cannot open (the reader study's key)", pk);
    /* items: code -> method index */
    static char codes[4096][16];
    int meth[4096], nk = 0;
    char mnames[MAXM + 1][64];
    int nmn = 0;
    char *save = NULL;
    for (char *line = strtok_r(key, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char c[16], m[64];
        if (sscanf(line, "%15[^,],%63[^,],", c, m) != 2 || !strcmp(c, "item") || nk == 4096) continue;
        int k = -1;
        for (int i = 0; i < nmn; i++)
            if (!strcmp(mnames[i], m)) k = i;
        if (k < 0 && nmn <= MAXM) snprintf(mnames[k = nmn++], 64, "%s", m);
        if (k < 0) continue;
        snprintf(codes[nk], 16, "%s", c);
        meth[nk++] = k;
    }
    double sum[MAXM + 1][5] = {{0}}, sq[MAXM + 1][5] = {{0}};
    long cnt[MAXM + 1][5] = {{0}};
    for (int f = 0; f < nf; f++) {
        char *txt = slurp(files[f], NULL);
        if (!txt) cli_fail(r->cmd, "%s: cannot open", files[f]);
        char *sv = NULL;
        int line_no = 0;
        for (char *line = strtok_r(txt, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
            if (line_no++ == 0) {
                if (strncmp(line, "reader,item,sharpness,snr,contrast,artifacts,overall", 52))
                    cli_fail(r->cmd, "%s: not a reader-study export (header '%.60s')", files[f], line);
                continue;
            }
            char *fld[7] = {0};
            int k = mg_split_fields(line, fld, 7);
            if (k < 7) cli_fail(r->cmd, "%s, line %d: expected 7 fields", files[f], line_no);
            int it = -1;
            for (int i = 0; i < nk; i++)
                if (!strcmp(codes[i], fld[1])) it = i;
            if (it < 0) cli_fail(r->cmd, "%s, line %d: item '%s' is not in %s", files[f], line_no, fld[1], pk);
            for (int c = 0; c < 5; c++) {
                if (!*fld[2 + c]) continue; /* not scored */
                int v = atoi(fld[2 + c]);
                if (v < 1 || v > 5) cli_fail(r->cmd, "%s, line %d: score '%s' is not 1-5", files[f], line_no, fld[2 + c]);
                sum[meth[it]][c] += v;
                sq[meth[it]][c] += (double)v * v;
                cnt[meth[it]][c]++;
            }
        }
        free(txt);
    }
    char *pm = mg_path_join(r->out, "table3.md"), *pc = mg_path_join(r->out, "table3.csv"), *tm, *tc;
    FILE *fm = cli_open_tmp(r->cmd, pm, &tm), *fc = cli_open_tmp(r->cmd, pc, &tc);
    fprintf(fm, "Reader study (%d file(s); mean +- SD of the 1-5 scores)\n\n| method | sharpness | SNR | contrast | "
                "artifacts | overall | n |\n|---|---|---|---|---|---|---|\n", nf);
    fprintf(fc, "method,criterion,mean,sd,n\n");
    size_t o = (size_t)snprintf(html, hn, "<table id=\"table3\"><tr><th>method</th><th>sharpness</th><th>SNR</th>"
                                          "<th>contrast</th><th>artifacts</th><th>overall</th></tr>\n");
    for (int m = 0; m < nmn; m++) {
        fprintf(fm, "| %s |", mnames[m]);
        o += (size_t)snprintf(html + o, hn - o, "<tr><td>%s</td>", mnames[m]);
        for (int c = 0; c < 5; c++) {
            double mu = cnt[m][c] ? sum[m][c] / cnt[m][c] : NAN;
            double sd = cnt[m][c] > 1 ? sqrt(fmax(0, (sq[m][c] - cnt[m][c] * mu * mu) / (cnt[m][c] - 1))) : NAN;
            fprintf(fm, " %.2f +- %.2f |", mu, sd);
            fprintf(fc, "%s,%s,%.4f,%.4f,%ld\n", mnames[m], CRIT[c], mu, sd, cnt[m][c]);
            o += (size_t)snprintf(html + o, hn - o, "<td>%.2f &plusmn; %.2f</td>", mu, sd);
        }
        fprintf(fm, " %ld |\n", cnt[m][4]);
        o += (size_t)snprintf(html + o, hn - o, "</tr>\n");
    }
    snprintf(html + o, hn - o, "</table>\n");
    cli_close_tmp(r->cmd, fm, tm, pm);
    cli_close_tmp(r->cmd, fc, tc, pc);
    free(pm); free(pc); free(pk); free(key);
    return nmn;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"eval", 1, 0, 'e'},  {"out", 1, 0, 'o'},    {"slices", 1, 0, 's'},
                                         {"roi", 1, 0, 'r'},   {"reader", 1, 0, 'n'}, {"seed", 1, 0, 'S'},
                                         {"scores", 1, 0, 'c'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    report R;
    memset(&R, 0, sizeof R);
    R.cmd = "report";
    const char *slices = NULL, *roi = NULL, *scores[64];
    int nreader = 6, quiet = 0, nsc = 0, c;
    uint64_t seed = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'e': R.evald = optarg; break;
        case 'o': R.out = optarg; break;
        case 's': slices = optarg; break;
        case 'r': roi = optarg; break;
        case 'n': nreader = (int)cli_long(R.cmd, "--reader", optarg, 1, 1000); break;
        case 'S': seed = cli_seed(R.cmd, "--seed", optarg); break;
        case 'c':
            if (nsc == 64) cli_fail(R.cmd, "option --scores: at most 64 files");
            scores[nsc++] = optarg;
            break;
        case 'q': quiet = 1; break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(R.cmd, "bad option (see 'mrgan report --help')");
        }
    }
    if (argc - optind != 1) cli_fail(R.cmd, "expected one run directory (see 'mrgan report --help')");
    R.run = argv[optind];
    char *dflt_eval = mg_path_join(R.run, "eval"), *dflt_out = mg_path_join(R.run, "report");
    if (!R.evald) R.evald = dflt_eval;
    if (!R.out) R.out = dflt_out;
    char *pcsv = mg_path_join(R.run, "metrics.csv");
    curves cv;
    read_curves(R.cmd, pcsv, &cv);
    if (cv.n == 0) cli_fail(R.cmd, "%s: no finished epoch yet", pcsv);
    load_eval(&R);
    table_from_csv(&R);
    if (mkdir(R.out, 0755) && errno != EEXIST) cli_fail(R.cmd, "%s: cannot create: %s", R.out, strerror(errno));

    /* panels */
    long sl[16];
    int nsl = 0;
    if (slices) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", slices);
        for (char *t = strtok(buf, ","); t && nsl < 16; t = strtok(NULL, ","))
            sl[nsl++] = cli_long(R.cmd, "--slices", t, 0, R.ns - 1);
    } else {
        const int k = R.ns < 3 ? (int)R.ns : 3;
        for (int i = 0; i < k; i++) sl[nsl++] = (long)((i + 0.5) * (double)R.ns / k);
    }
    int rx = 0, ry = 0, rs = 0;
    if (roi) {
        if (sscanf(roi, "%d,%d,%d", &rx, &ry, &rs) != 3 || rs < 4 || rx < 0 || ry < 0 || rx + rs > R.W || ry + rs > R.H)
            cli_fail(R.cmd, "option --roi: '%s' is not X,Y,S inside the %ldx%ld image (S >= 4)", roi, R.W, R.H);
    }
    char figs[16][64];
    for (int i = 0; i < nsl; i++) {
        if (!roi) {
            const long n = R.H * R.W;
            float *m = mg_malloc_array((size_t)n, sizeof(float));
            for (long j = 0; j < n; j++) m[j] = cabsf(R.ref[sl[i] * n + j]);
            auto_roi(m, R.H, R.W, &rx, &ry, &rs);
            free(m);
        }
        if (fig4(&R, sl[i], rx, ry, rs, figs[i], sizeof figs[i])) cli_fail_lib(R.cmd);
    }
    /* curves */
    char *p3 = mg_path_join(R.out, "fig3_val_nmse.png"), *pl = mg_path_join(R.out, "fig3_train_loss.png"), *p9 = mg_path_join(R.out, "fig9_beta.png");
    pl_series s1 = {"validation NMSE", cv.epoch, cv.val, cv.n, pl_palette[0]};
    if (pl_plot(p3, "VALIDATION NMSE PER EPOCH", "EPOCH", "NMSE", &s1, 1, 1)) cli_fail_lib(R.cmd);
    pl_series s2 = {"training loss", cv.epoch, cv.loss, cv.n, pl_palette[1]};
    if (pl_plot(pl, "TRAINING LOSS PER EPOCH", "EPOCH", "LOSS", &s2, 1, 1)) cli_fail_lib(R.cmd);
    /* beta is logged in every mode; it means something only in the GAN modes */
    char *pcfg = mg_path_join(R.run, "config.json");
    char *cfg = slurp(pcfg, NULL);
    free(pcfg);
    cJSON *cj = cfg ? cJSON_Parse(cfg) : NULL;
    const cJSON *mode = cj ? cJSON_GetObjectItemCaseSensitive(cj, "mode") : NULL;
    int have_beta = cJSON_IsString(mode) && strcmp(mode->valuestring, "mse") != 0;
    cJSON_Delete(cj);
    for (int i = 0; have_beta && i < cv.n; i++) have_beta = isfinite(cv.beta[i]);
    pl_series s3 = {"beta", cv.epoch, cv.beta, cv.n, pl_palette[2]};
    int have_fid = 0;
    for (int i = 0; i < cv.n; i++) have_fid |= isfinite(cv.fid[i]);
    char *pf = mg_path_join(R.out, "fig3_val_fid.png");
    pl_series s4 = {"validation FID", cv.epoch, cv.fid, cv.n, pl_palette[3]};
    if (have_fid && pl_plot(pf, "VALIDATION FID PER EPOCH", "EPOCH", "FID", &s4, 1, 0)) cli_fail_lib(R.cmd);
    if (have_beta && pl_plot(p9, "AGB BALANCE BETA PER EPOCH", "EPOCH", "BETA", &s3, 1, 0)) cli_fail_lib(R.cmd);
    /* reader study and Table 3 */
    /* scores refer to the key they were made with: keep an existing study */
    char *pkey = mg_path_join(R.out, "reader_key.csv");
    struct stat kst;
    if (!(nsc > 0 && stat(pkey, &kst) == 0)) reader_study(&R, nreader, seed);
    free(pkey);
    static char t3[32768];
    t3[0] = 0;
    if (nsc) table3(&R, scores, nsc, t3, sizeof t3);

    /* the page */
    char *ph = mg_path_join(R.out, "index.html"), *th;
    FILE *f = cli_open_tmp(R.cmd, ph, &th);
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mrgan report</title>\n<style>\n"
          "body{font-family:sans-serif;margin:24px;max-width:1400px}table{border-collapse:collapse;margin:8px 0}"
          "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}td:first-child{text-align:left}"
          "img.fig{max-width:100%;border:1px solid #ddd;margin:6px 0}figcaption{color:#444;margin-bottom:18px}\n"
          "</style></head>\n<body>\n<h1>mrgan report: ",
          f);
    html_escape(f, R.run);
    fputs("</h1>\n", f);
    fputs("<h2>Evaluation</h2>\n<p>", f);
    char *emd = mg_path_join(R.evald, "table.md");
    char *md = slurp(emd, NULL);
    if (md) { /* the first line of table.md describes the split and the masks */
        char *nl = strchr(md, '\n');
        if (nl) *nl = 0;
        html_escape(f, md);
    }
    fputs("</p>\n", f);
    fputs(R.table_html, f);
    fprintf(f, "<p>Per-slice values: <code>%s/per_slice.csv</code>.</p>\n", R.evald);
    fputs("<h2>Reconstructions (cf. paper Fig. 4)</h2>\n", f);
    for (int i = 0; i < nsl; i++) {
        fprintf(f, "<figure>");
        img_tag(&R, f, figs[i], figs[i]);
        fprintf(f, "<figcaption>Test slice %ld: reference and each method (same window, the reference's 99.5th "
                   "percentile); the box is shown enlarged below; bottom: |x - reference| x5.</figcaption></figure>\n",
                sl[i]);
    }
    fputs("<h2>Training (cf. paper Fig. 3 and Fig. 9)</h2>\n<figure>", f);
    img_tag(&R, f, "fig3_val_nmse.png", "validation NMSE");
    fputs("<figcaption>Validation NMSE per epoch (fixed masks, fastMRI volume NMSE).</figcaption></figure>\n", f);
    if (have_fid) {
        fputs("<figure>", f);
        img_tag(&R, f, "fig3_val_fid.png", "validation FID");
        fputs("<figcaption>Validation FID per epoch (reconstructions vs references of the validation split; "
              "train --fid-weights).</figcaption></figure>\n",
              f);
    } else {
        fputs("<p>No FID per epoch: the run was trained without <code>--fid-weights</code>.</p>\n", f);
    }
    fputs("<figure>", f);
    img_tag(&R, f, "fig3_train_loss.png", "training loss");
    fputs("<figcaption>Training loss per epoch (MSE, plus the adversarial term in GAN modes).</figcaption></figure>\n", f);
    if (have_beta) {
        fputs("<figure>", f);
        img_tag(&R, f, "fig9_beta.png", "beta");
        fputs("<figcaption>AGB balance beta per epoch (the fixed 1/lambda in wgan/cwgan).</figcaption></figure>\n", f);
    } else {
        fputs("<p>No beta: this run trained with MSE only.</p>\n", f);
    }
    fputs("<h2>Reader study (cf. paper Table 3)</h2>\n<p><a href=\"reader.html\">reader.html</a>: blinded, shuffled "
          "images to score; export the CSV and pass it back with <code>mrgan report --scores FILE</code>.</p>\n",
          f);
    if (t3[0]) fputs(t3, f);
    if (cfg) {
        fputs("<h2>Run configuration</h2>\n<pre>", f);
        html_escape(f, cfg);
        fputs("</pre>\n", f);
    }
    fputs("<script>\n/* for tests: how many figures decoded */\nwindow.addEventListener('load',()=>{"
          "const im=[...document.images];document.body.dataset.figures=im.filter(i=>i.complete&&i.naturalWidth>0).length"
          "+'/'+im.length;});\n</script>\n</body></html>\n",
          f);
    cli_close_tmp(R.cmd, f, th, ph);
    if (!quiet) printf("report: %s (figures %s/*.png, reader study %s/reader.html)\n", ph, R.out, R.out);
    free(ph); free(emd); free(md); free(cfg);
    free(p3); free(pl); free(p9); free(pf); free(pcsv); free(dflt_eval); free(dflt_out);
    for (int i = 0; i < R.nm; i++) free(R.img[i]), free(R.names[i]);
    free(R.ref);
    free_curves(&cv);
    return 0;
}

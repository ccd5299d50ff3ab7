/* The report's blinded reader study and its Table 3 (paper Table 3;
 * report_int.h). */
#include "report_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const mg_report_crit[5] = {"sharpness", "snr", "contrast", "artifacts", "overall"};

/* ---------------- the reader study ---------------- */

int mg_report_reader_study(report *r, int nslices, uint64_t seed)
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
    char *pk = mg_path_join(r->out, "reader_key.csv"), *ph = mg_path_join(r->out, "reader.html"), *tk = NULL, *th = NULL;
    FILE *fk = mg_report_open(pk, &tk), *fh = fk ? mg_report_open(ph, &th) : NULL;
    int rc = -1;
    unsigned char *g = NULL;
    if (!fh) goto out;
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
    g = mg_malloc((size_t)n);
    for (int q = 0; q < N; q++) {
        const int k = order[q] % M, si = order[q] / M;
        const long s = (long)si * slices_step;
        char code[16];
        snprintf(code, sizeof code, "R%03d", q + 1);
        fprintf(fk, "%s,%s,%ld\n", code, k == 0 ? "reference" : r->names[k - 1], s);
        const cfloat *ref = r->ref + s * n, *x = k == 0 ? ref : r->img[k - 1] + s * n;
        const double hi = mg_auto_window(ref, (size_t)n);
        for (long i = 0; i < n; i++) g[i] = mg_report_to8(cabsf(x[i]), hi);
        char tmpname[32];
        snprintf(tmpname, sizeof tmpname, ".reader_%s.png", code);
        char *pp = mg_path_join(r->out, tmpname);
        fprintf(fh, "<div class=\"item\" data-item=\"%s\"><div><b>%s</b><br>", code, code);
        int bad = mg_png_write_gray(pp, g, r->H, r->W) || mg_report_img(r, fh, tmpname, code);
        remove(pp);
        free(pp);
        if (bad) goto out;
        fputs("</div><table><tr><th></th><th>1</th><th>2</th><th>3</th><th>4</th><th>5</th></tr>\n", fh);
        for (int cr = 0; cr < 5; cr++) {
            fprintf(fh, "<tr><td>%s</td>", mg_report_crit[cr]);
            for (int v = 1; v <= 5; v++)
                fprintf(fh, "<td><input type=\"radio\" name=\"%s_%s\" value=\"%d\"></td>", code, mg_report_crit[cr], v);
            fputs("</tr>\n", fh);
        }
        fputs("</table></div>\n", fh);
    }
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
    rc = 0;
out:
    if (rc) { /* a failed study writes neither file */
        mg_report_abort(fh, th);
        mg_report_abort(fk, tk);
    } else if (mg_report_close(fh, th, ph) | mg_report_close(fk, tk, pk)) {
        rc = -1;
    }
    free(g);
    free(pk);
    free(ph);
    free(order);
    return rc;
}

/* Table 3 from exported scores and the key */
int mg_report_table3(report *r, const char *const *files, int nf, char *html, size_t hn)
{
    char *pk = mg_path_join(r->out, "reader_key.csv");
    char *key = mg_report_slurp(pk, NULL), *txt = NULL;
    int rc = -1;
    if (!key) {
        mg_set_error("%s: cannot open (the reader study's key)", pk);
        free(pk);
        return -1;
    }
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
        txt = mg_report_slurp(files[f], NULL);
        if (!txt) {
            mg_set_error("%s: cannot open", files[f]);
            goto out;
        }
        char *sv = NULL;
        int line_no = 0;
        for (char *line = strtok_r(txt, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
            if (line_no++ == 0) {
                if (strncmp(line, "reader,item,sharpness,snr,contrast,artifacts,overall", 52)) {
                    mg_set_error("%s: not a reader-study export (header '%.60s')", files[f], line);
                    goto out;
                }
                continue;
            }
            char *fld[7] = {0};
            int k = mg_split_fields(line, fld, 7);
            if (k < 7) {
                mg_set_error("%s, line %d: expected 7 fields", files[f], line_no);
                goto out;
            }
            int it = -1;
            for (int i = 0; i < nk; i++)
                if (!strcmp(codes[i], fld[1])) it = i;
            if (it < 0) {
                mg_set_error("%s, line %d: item '%s' is not in %s", files[f], line_no, fld[1], pk);
                goto out;
            }
            for (int c = 0; c < 5; c++) {
                if (!*fld[2 + c]) continue; /* not scored */
                int v = atoi(fld[2 + c]);
                if (v < 1 || v > 5) {
                    mg_set_error("%s, line %d: score '%s' is not 1-5", files[f], line_no, fld[2 + c]);
                    goto out;
                }
                sum[meth[it]][c] += v;
                sq[meth[it]][c] += (double)v * v;
                cnt[meth[it]][c]++;
            }
        }
        free(txt);
        txt = NULL;
    }
    char *pm = mg_path_join(r->out, "table3.md"), *pc = mg_path_join(r->out, "table3.csv"), *tm = NULL, *tc = NULL;
    FILE *fm = mg_report_open(pm, &tm), *fc = fm ? mg_report_open(pc, &tc) : NULL;
    if (!fc) {
        mg_report_abort(fm, tm);
        free(pm), free(pc);
        goto out;
    }
    fprintf(fm, "Reader study (%d file(s); mean +- SD of the 1-5 scores)\n\n| method | sharpness | SNR | contrast | "
                "artifacts | overall | n |\n|---|---|---|---|---|---|---|\n", nf);
    fprintf(fc, "method,criterion,mean,sd,n\n");
    size_t o = (size_t)snprintf(html, hn, "<table id=\"table3\"><tr><th>method</th><th>sharpness</th><th>SNR</th>"
                                          "<th>contrast</th><th>artifacts</th><th>overall</th></tr>\n");
    for (int m = 0; m < nmn; m++) {
        fprintf(fm, "| %s |", mnames[m]);
        char esc[400];
        mg_report_escape_buf(mnames[m], esc, sizeof esc);
        o += (size_t)snprintf(html + o, hn - o, "<tr><td>%s</td>", esc);
        for (int c = 0; c < 5; c++) {
            double mu = cnt[m][c] ? sum[m][c] / cnt[m][c] : NAN;
            double sd = cnt[m][c] > 1 ? sqrt(fmax(0, (sq[m][c] - cnt[m][c] * mu * mu) / (cnt[m][c] - 1))) : NAN;
            fprintf(fm, " %.2f +- %.2f |", mu, sd);
            fprintf(fc, "%s,%s,%.4f,%.4f,%ld\n", mnames[m], mg_report_crit[c], mu, sd, cnt[m][c]);
            o += (size_t)snprintf(html + o, hn - o, "<td>%.2f &plusmn; %.2f</td>", mu, sd);
        }
        fprintf(fm, " %ld |\n", cnt[m][4]);
        o += (size_t)snprintf(html + o, hn - o, "</tr>\n");
    }
    snprintf(html + o, hn - o, "</table>\n");
    rc = mg_report_close(fm, tm, pm) | mg_report_close(fc, tc, pc) ? -1 : 0;
    free(pm);
    free(pc);
out:
    free(txt);
    free(pk);
    free(key);
    return rc ? -1 : nmn;
}


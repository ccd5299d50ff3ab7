/* DCI-Net weights from a safetensors checkpoint (models.h): the generator
 * part of train/checkpoint.c's files, for inference without train/. */
#include "models.h"
#include "../io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int meta_long(const mg_st_file *f, const char *path, const char *key, long *out)
{
    const char *s = mg_st_meta(f, key);
    char *end;
    if (!s || (*out = strtol(s, &end, 10), end == s || *end)) {
        mg_set_error("%s: checkpoint metadata '%s' missing or malformed", path, key);
        return -1;
    }
    return 0;
}

int mg_st_load_into(const mg_st_file *f, const char *path, const char *name, float *dst, long size)
{
    const mg_st_tensor *t = mg_st_find(f, name);
    long n = 1;
    if (t)
        for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    if (!t || n != size) {
        mg_set_error("%s: tensor '%s' %s", path, name, t ? "has the wrong size" : "is missing");
        return -1;
    }
    memcpy(dst, t->data, sizeof(float) * (size_t)size);
    return 0;
}

int mg_params_load(const mg_st_file *f, const char *path, mg_params *ps, int state)
{
    for (int pass = 0; pass < (state ? 3 : 1); pass++)
        for (int i = 0; i < ps->n; i++) {
            mg_param *p = ps->p[i];
            char nm[160];
            snprintf(nm, sizeof nm, "%s%s", pass == 0 ? "" : pass == 1 ? "adam.m." : "adam.v.", p->name);
            if (mg_st_load_into(f, path, nm, pass == 0 ? p->w : pass == 1 ? p->m : p->v, p->size)) return -1;
        }
    return 0;
}

/* the format and the architecture (blocks, growth, kernels) of a checkpoint */
static int read_arch(const mg_st_file *f, const char *path, long *b, long *g, long *k)
{
    const char *fmt = mg_st_meta(f, "format");
    if (!fmt || strcmp(fmt, MG_CKPT_FORMAT)) {
        mg_set_error("%s: not an mrgan DCI-Net checkpoint (format '%s')", path, fmt ? fmt : "none");
        return -1;
    }
    return meta_long(f, path, "blocks", b) || meta_long(f, path, "growth", g) || meta_long(f, path, "kernels", k)
               ? -1
               : 0;
}

/* the checkpoint's LeakyReLU slope, in [0, 1) */
static int read_slope(const mg_st_file *f, const char *path, float *slope)
{
    const char *sl = mg_st_meta(f, "slope");
    char *end;
    if (!sl || (*slope = strtof(sl, &end), end == sl || *end)) {
        mg_set_error("%s: checkpoint metadata 'slope' missing or malformed", path);
        return -1;
    }
    if (!(*slope >= 0.0f && *slope < 1.0f)) {
        mg_set_error("%s: LeakyReLU slope '%s' is not in [0, 1)", path, sl);
        return -1;
    }
    return 0;
}

/* a network that exists already must have the checkpoint's slope: the
 * weights were trained for that activation */
static int same_slope(const char *path, float slope, const mg_dcinet *net)
{
    if (slope == net->cfg.slope) return 0;
    mg_set_error("%s: checkpoint's LeakyReLU slope is %g but the run's is %g", path, (double)slope,
                 (double)net->cfg.slope);
    return -1;
}

int mg_dcinet_load_from(const mg_st_file *f, const char *path, mg_dcinet *net, int state)
{
    long b, g, k;
    float slope;
    if (read_arch(f, path, &b, &g, &k) || read_slope(f, path, &slope)) return -1;
    if (b < 1 || b > 1000 || g < 0 || g > 1000 || k < 1 || k > 100000) {
        mg_set_error("%s: implausible architecture (%ld blocks, growth %ld, %ld kernels)", path, b, g, k);
        return -1;
    }
    if (net->params.n == 0) {
        /* Before allocating a network from the header, make sure the file
         * holds every conv weight of that shape: a crafted header cannot
         * make us allocate more than the file itself carries. */
        for (long i = 0; i < 3 * b; i++) {
            long blk = i / 3, cin = i % 3 == 0 ? 2 * (1 + (blk < g ? blk : g)) : k, cout = i % 3 == 2 ? 2 : k;
            char nm[64];
            snprintf(nm, sizeof nm, "block%ld.conv%ld.weight", blk, i % 3 + 1);
            const mg_st_tensor *tw = mg_st_find(f, nm);
            if (!tw || tw->ndim != 4 || tw->shape[0] != cout || tw->shape[1] != cin || tw->shape[2] != 5 ||
                tw->shape[3] != 5) {
                mg_set_error("%s: tensor %s is missing or not %ldx%ldx5x5 (%ldI-%ldG-%ldK)", path, nm, cout, cin,
                             b, g, k);
                return -1;
            }
        }
        mg_dcinet_cfg cfg = {(int)b, (int)g, (int)k, slope};
        mg_dcinet_init(net, &cfg, 0);
    } else if (net->cfg.blocks != b || net->cfg.growth != g || net->cfg.kernels != k) {
        mg_set_error("%s: checkpoint is %ldI-%ldG-%ldK but the run is %dI-%dG-%dK", path, b, g, k,
                     net->cfg.blocks, net->cfg.growth, net->cfg.kernels);
        return -1;
    } else if (same_slope(path, slope, net)) {
        return -1;
    }
    if (mg_params_load(f, path, &net->params, state)) return -1;
    return 0;
}

/* A tensor of the checkpoint into the leading corner of p (a network of at
 * least the checkpoint's kernels): a 4D weight [fo, fi, kh, kw] goes to
 * outputs < fo and inputs < fi of p's [no, ni, kh, kw]; the weights from the
 * inputs >= fi to the outputs < fo are zero (the new channels do not reach
 * the old ones), the outputs >= fo keep p's initialisation; a 1D tensor
 * (bias, lambda) fills p's first entries. The file's tensor must have the
 * shape of want, the same parameter of the network the header describes. */
static int load_embedded(const mg_st_file *f, const char *path, mg_param *p, const mg_param *want)
{
    const mg_st_tensor *t = mg_st_find(f, p->name);
    int ok = t && want && t->ndim == want->ndim && (p->ndim == 1 || p->ndim == 4);
    for (int d = 0; ok && d < want->ndim; d++) ok = t->shape[d] == want->shape[d];
    if (!ok) {
        mg_set_error("%s: tensor '%s' %s", path, p->name, t ? "does not fit the checkpoint's network" : "is missing");
        return -1;
    }
    const float *src = t->data;
    if (p->ndim == 1) {
        memcpy(p->w, src, sizeof(float) * (size_t)t->shape[0]);
        return 0;
    }
    const long fo = t->shape[0], fi = t->shape[1], ni = p->shape[1], kk = p->shape[2] * p->shape[3];
    for (long o = 0; o < fo; o++) {
        memcpy(p->w + o * ni * kk, src + o * fi * kk, sizeof(float) * (size_t)(fi * kk));
        memset(p->w + (o * ni + fi) * kk, 0, sizeof(float) * (size_t)((ni - fi) * kk));
    }
    return 0;
}

int mg_dcinet_load_grown(const char *path, mg_dcinet *net, int *from_blocks, int *from_kernels)
{
    mg_st_file f;
    if (mg_st_read(path, &f)) return -1;
    int rc = -1;
    long b, g, k;
    float slope;
    mg_dcinet ref; /* the network the header describes: the shape of each tensor */
    memset(&ref, 0, sizeof ref);
    if (read_arch(&f, path, &b, &g, &k) || read_slope(&f, path, &slope) || same_slope(path, slope, net)) goto out;
    if (g != net->cfg.growth || k < 1 || k > net->cfg.kernels || b < 1 || b > net->cfg.blocks) {
        mg_set_error("%s: checkpoint is %ldI-%ldG-%ldK and the run %dI-%dG-%dK: an initial checkpoint needs the "
                     "run's growth and at most its blocks and kernels",
                     path, b, g, k, net->cfg.blocks, net->cfg.growth, net->cfg.kernels);
        goto out;
    }
    mg_dcinet_cfg cfg = net->cfg;
    cfg.blocks = (int)b, cfg.kernels = (int)k;
    mg_dcinet_init(&ref, &cfg, 0);
    for (int i = 0; i < net->params.n; i++) {
        mg_param *p = net->params.p[i];
        int blk = -1;
        if (sscanf(p->name, "block%d.", &blk) != 1 || blk < 0) {
            mg_set_error("%s: no block for parameter '%s'", path, p->name);
            goto out;
        }
        if (blk < b) {
            if (load_embedded(&f, path, p, mg_params_find(&ref.params, p->name))) goto out;
        } else if (strstr(p->name, ".dc.lambda") || strstr(p->name, ".conv3.")) {
            /* an appended block starts as the identity: y_b = y_{b-1} - 0 r_b + 0 */
            memset(p->w, 0, sizeof(float) * (size_t)p->size);
        }
    }
    *from_blocks = (int)b;
    *from_kernels = (int)k;
    rc = 0;
out:
    mg_dcinet_free(&ref);
    mg_st_free(&f);
    return rc;
}

int mg_dcinet_load(const char *path, mg_dcinet *net)
{
    mg_st_file f;
    if (mg_st_read(path, &f)) return -1;
    int rc = mg_dcinet_load_from(&f, path, net, 0);
    mg_st_free(&f);
    return rc;
}

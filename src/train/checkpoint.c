/* Checkpoints: DCI-Net weights, Adam moments and the training position in a
 * safetensors file (metadata holds the architecture and the position). */
#include "train.h"

#include <stdlib.h>
#include <string.h>

#define CKPT_FORMAT "mrgan-dcinet-1"

int mg_checkpoint_save(const char *path, const mg_dcinet *net, const mg_train_pos *pos,
                       const char *config_json, int with_adam)
{
    const mg_params *ps = &net->params;
    int nt = ps->n * (with_adam ? 3 : 1);
    mg_st_tensor *t = mg_calloc((size_t)nt, sizeof(mg_st_tensor));
    char **names = mg_calloc((size_t)nt, sizeof(char *));
    int k = 0;
    for (int pass = 0; pass < (with_adam ? 3 : 1); pass++)
        for (int i = 0; i < ps->n; i++) {
            const mg_param *p = ps->p[i];
            size_t len = strlen(p->name) + 16;
            names[k] = mg_malloc(len);
            snprintf(names[k], len, "%s%s", pass == 0 ? "" : pass == 1 ? "adam.m." : "adam.v.", p->name);
            t[k].name = names[k];
            t[k].ndim = p->ndim;
            memcpy(t[k].shape, p->shape, sizeof p->shape);
            t[k].data = pass == 0 ? p->w : pass == 1 ? p->m : p->v;
            k++;
        }
    char v[8][64];
    snprintf(v[0], 64, "%d", net->cfg.blocks);
    snprintf(v[1], 64, "%d", net->cfg.growth);
    snprintf(v[2], 64, "%d", net->cfg.kernels);
    snprintf(v[3], 64, "%.9g", (double)net->cfg.slope);
    snprintf(v[4], 64, "%ld %ld %ld %ld", pos ? pos->epoch : 0, pos ? pos->step_in_epoch : 0,
             pos ? pos->global_step : 0, pos ? pos->adam_t : 0);
    snprintf(v[5], 64, "%.17g %ld", pos ? pos->best_val : -1.0, pos ? pos->best_epoch : -1);
    const char *meta[] = {"format", CKPT_FORMAT, "blocks", v[0], "growth", v[1], "kernels", v[2],
                          "slope", v[3], "position", v[4], "best", v[5],
                          "config", config_json ? config_json : "{}"};
    int rc = mg_st_write(path, t, nt, meta, 8);
    for (int i = 0; i < nt; i++) free(names[i]);
    free(names);
    free(t);
    return rc;
}

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

int mg_checkpoint_load(const char *path, mg_dcinet *net, mg_train_pos *pos)
{
    mg_st_file f;
    if (mg_st_read(path, &f)) return -1;
    int rc = -1;
    const char *fmt = mg_st_meta(&f, "format");
    if (!fmt || strcmp(fmt, CKPT_FORMAT)) {
        mg_set_error("%s: not an mrgan DCI-Net checkpoint (format '%s')", path, fmt ? fmt : "none");
        goto out;
    }
    long b, g, k;
    if (meta_long(&f, path, "blocks", &b) || meta_long(&f, path, "growth", &g) ||
        meta_long(&f, path, "kernels", &k))
        goto out;
    const char *sl = mg_st_meta(&f, "slope");
    if (b < 1 || b > 1000 || g < 0 || g > 1000 || k < 1 || k > 100000 || !sl) {
        mg_set_error("%s: implausible architecture (%ld blocks, growth %ld, %ld kernels)", path, b, g, k);
        goto out;
    }
    if (net->params.n == 0) {
        mg_dcinet_cfg cfg = {(int)b, (int)g, (int)k, strtof(sl, NULL)};
        mg_dcinet_init(net, &cfg, 0);
    } else if (net->cfg.blocks != b || net->cfg.growth != g || net->cfg.kernels != k) {
        mg_set_error("%s: checkpoint is %ldI-%ldG-%ldK but the run is %dI-%dG-%dK", path, b, g, k,
                     net->cfg.blocks, net->cfg.growth, net->cfg.kernels);
        goto out;
    }
    for (int pass = 0; pass < (pos ? 3 : 1); pass++)
        for (int i = 0; i < net->params.n; i++) {
            mg_param *p = net->params.p[i];
            char nm[128];
            snprintf(nm, sizeof nm, "%s%s", pass == 0 ? "" : pass == 1 ? "adam.m." : "adam.v.", p->name);
            const mg_st_tensor *t = mg_st_find(&f, nm);
            long size = 1;
            if (t)
                for (int d = 0; d < t->ndim; d++) size *= t->shape[d];
            if (!t || size != p->size) {
                mg_set_error("%s: tensor '%s' %s", path, nm, t ? "has the wrong size" : "is missing");
                goto out;
            }
            memcpy(pass == 0 ? p->w : pass == 1 ? p->m : p->v, t->data, sizeof(float) * (size_t)size);
        }
    if (pos) {
        const char *ps = mg_st_meta(&f, "position"), *bs = mg_st_meta(&f, "best");
        if (!ps || sscanf(ps, "%ld %ld %ld %ld", &pos->epoch, &pos->step_in_epoch, &pos->global_step,
                          &pos->adam_t) != 4 ||
            !bs || sscanf(bs, "%lf %ld", &pos->best_val, &pos->best_epoch) != 2) {
            mg_set_error("%s: checkpoint has no training position", path);
            goto out;
        }
    }
    rc = 0;
out:
    mg_st_free(&f);
    return rc;
}

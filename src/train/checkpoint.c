/* Checkpoints: DCI-Net weights and, for resuming, Adam moments, the
 * position, the critic and the AGB state, in a safetensors file (the
 * metadata holds the architecture, the position and the run's config). */
#include "train.h"

#include <stdlib.h>
#include <string.h>

#define CKPT_FORMAT "mrgan-dcinet-1"

typedef struct {
    mg_st_tensor *t;
    char **names;
    int n, cap;
} tlist;

static void add(tlist *l, const char *prefix, const char *name, int ndim, const long *shape, const float *data)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->t = realloc(l->t, sizeof(mg_st_tensor) * (size_t)l->cap);
        l->names = realloc(l->names, sizeof(char *) * (size_t)l->cap);
        if (!l->t || !l->names) abort();
    }
    size_t len = strlen(prefix) + strlen(name) + 1;
    l->names[l->n] = mg_malloc(len);
    snprintf(l->names[l->n], len, "%s%s", prefix, name);
    mg_st_tensor *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    t->name = l->names[l->n - 1];
    t->ndim = ndim;
    memcpy(t->shape, shape, sizeof(long) * (size_t)ndim);
    t->data = data;
}

static void add_params(tlist *l, const mg_params *ps, int state)
{
    for (int pass = 0; pass < (state ? 3 : 1); pass++)
        for (int i = 0; i < ps->n; i++) {
            const mg_param *p = ps->p[i];
            add(l, pass == 0 ? "" : pass == 1 ? "adam.m." : "adam.v.", p->name, p->ndim, p->shape,
                pass == 0 ? p->w : pass == 1 ? p->m : p->v);
        }
}

int mg_checkpoint_save(const char *path, const mg_dcinet *net, const mg_critic *critic,
                       const mg_train_pos *pos, const char *config_json, int state)
{
    tlist l = {0};
    add_params(&l, &net->params, state);
    char bn_names[8][48];
    if (critic && state) {
        add_params(&l, &critic->params, 1);
        for (int i = 0; i < 4; i++) {
            long c = critic->bn[i].c;
            snprintf(bn_names[2 * i], 48, "critic.bn%d.running_mean", i);
            snprintf(bn_names[2 * i + 1], 48, "critic.bn%d.running_var", i);
            add(&l, "", bn_names[2 * i], 1, &c, critic->bn[i].run_mean);
            add(&l, "", bn_names[2 * i + 1], 1, &c, critic->bn[i].run_var);
        }
    }
    char v[8][96];
    snprintf(v[0], 96, "%d", net->cfg.blocks);
    snprintf(v[1], 96, "%d", net->cfg.growth);
    snprintf(v[2], 96, "%d", net->cfg.kernels);
    snprintf(v[3], 96, "%.9g", (double)net->cfg.slope);
    snprintf(v[4], 96, "%ld %ld %ld %ld %ld", pos ? pos->epoch : 0, pos ? pos->step_in_epoch : 0,
             pos ? pos->global_step : 0, pos ? pos->adam_t : 0, pos ? pos->adam_t_critic : 0);
    snprintf(v[5], 96, "%.17g %.17g %.17g %ld", pos ? pos->beta : 0.0, pos ? pos->gma : 0.0,
             pos ? pos->pma : 0.0, pos ? pos->agb_events : 0);
    snprintf(v[6], 96, "%d %d", critic && state ? critic->cin : 0, critic && state ? critic->ch : 0);
    const char *meta[] = {"format", CKPT_FORMAT, "blocks", v[0], "growth", v[1], "kernels", v[2],
                          "slope", v[3], "position", v[4], "agb", v[5], "critic", v[6],
                          "config", config_json ? config_json : "{}"};
    int rc = mg_st_write(path, l.t, l.n, meta, 9);
    for (int i = 0; i < l.n; i++) free(l.names[i]);
    free(l.names);
    free(l.t);
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

static int load_into(const mg_st_file *f, const char *path, const char *name, float *dst, long size)
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

static int load_params(const mg_st_file *f, const char *path, mg_params *ps, int state)
{
    for (int pass = 0; pass < (state ? 3 : 1); pass++)
        for (int i = 0; i < ps->n; i++) {
            mg_param *p = ps->p[i];
            char nm[160];
            snprintf(nm, sizeof nm, "%s%s", pass == 0 ? "" : pass == 1 ? "adam.m." : "adam.v.", p->name);
            if (load_into(f, path, nm, pass == 0 ? p->w : pass == 1 ? p->m : p->v, p->size)) return -1;
        }
    return 0;
}

int mg_checkpoint_load(const char *path, mg_dcinet *net, mg_critic *critic, mg_train_pos *pos)
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
        /* Before allocating a network from the header, make sure the file
         * holds every conv weight of that shape: a crafted header cannot
         * make us allocate more than the file itself carries. */
        for (long i = 0; i < 3 * b; i++) {
            long blk = i / 3, cin = i % 3 == 0 ? 2 * (1 + (blk < g ? blk : g)) : k, cout = i % 3 == 2 ? 2 : k;
            char nm[64];
            snprintf(nm, sizeof nm, "block%ld.conv%ld.weight", blk, i % 3 + 1);
            const mg_st_tensor *tw = mg_st_find(&f, nm);
            if (!tw || tw->ndim != 4 || tw->shape[0] != cout || tw->shape[1] != cin || tw->shape[2] != 5 ||
                tw->shape[3] != 5) {
                mg_set_error("%s: tensor %s is missing or not %ldx%ldx5x5 (%ldI-%ldG-%ldK)", path, nm, cout, cin,
                             b, g, k);
                goto out;
            }
        }
        float slope = strtof(sl, NULL);
        if (!(slope >= 0.0f && slope < 1.0f)) {
            mg_set_error("%s: LeakyReLU slope '%s' is not in [0, 1)", path, sl);
            goto out;
        }
        mg_dcinet_cfg cfg = {(int)b, (int)g, (int)k, slope};
        mg_dcinet_init(net, &cfg, 0);
    } else if (net->cfg.blocks != b || net->cfg.growth != g || net->cfg.kernels != k) {
        mg_set_error("%s: checkpoint is %ldI-%ldG-%ldK but the run is %dI-%dG-%dK", path, b, g, k,
                     net->cfg.blocks, net->cfg.growth, net->cfg.kernels);
        goto out;
    }
    if (load_params(&f, path, &net->params, pos != NULL)) goto out;
    if (critic) {
        int cin = 0, ch = 0;
        const char *cs = mg_st_meta(&f, "critic");
        if (!cs || sscanf(cs, "%d %d", &cin, &ch) != 2 || cin != critic->cin || ch != critic->ch) {
            mg_set_error("%s: checkpoint has no critic of %d input channel(s) and width %d", path,
                         critic->cin, critic->ch);
            goto out;
        }
        if (load_params(&f, path, &critic->params, 1)) goto out;
        for (int i = 0; i < 4; i++) {
            char nm[64];
            snprintf(nm, sizeof nm, "critic.bn%d.running_mean", i);
            if (load_into(&f, path, nm, critic->bn[i].run_mean, critic->bn[i].c)) goto out;
            snprintf(nm, sizeof nm, "critic.bn%d.running_var", i);
            if (load_into(&f, path, nm, critic->bn[i].run_var, critic->bn[i].c)) goto out;
        }
    }
    if (pos) {
        const char *ps = mg_st_meta(&f, "position"), *as = mg_st_meta(&f, "agb");
        if (!ps || sscanf(ps, "%ld %ld %ld %ld %ld", &pos->epoch, &pos->step_in_epoch, &pos->global_step,
                          &pos->adam_t, &pos->adam_t_critic) != 5 ||
            !as || sscanf(as, "%lf %lf %lf %ld", &pos->beta, &pos->gma, &pos->pma, &pos->agb_events) != 4) {
            mg_set_error("%s: checkpoint has no training position", path);
            goto out;
        }
    }
    rc = 0;
out:
    mg_st_free(&f);
    return rc;
}

/* Checkpoints: DCI-Net weights and, for resuming, Adam moments, the
 * position, the critic and the AGB state, in a safetensors file (the
 * metadata holds the architecture, the position and the run's config). */
#include "train.h"

#include <stdlib.h>
#include <string.h>


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
    char v[8][160];
    snprintf(v[0], 96, "%d", net->cfg.blocks);
    snprintf(v[1], 96, "%d", net->cfg.growth);
    snprintf(v[2], 96, "%d", net->cfg.kernels);
    snprintf(v[3], 96, "%.9g", (double)net->cfg.slope);
    snprintf(v[4], 96, "%ld %ld %ld %ld %ld", pos ? pos->epoch : 0, pos ? pos->step_in_epoch : 0,
             pos ? pos->global_step : 0, pos ? pos->adam_t : 0, pos ? pos->adam_t_critic : 0);
    const mg_agb a0 = {0}, *a = pos ? &pos->agb : &a0;
    snprintf(v[5], 160, "%.17g %.17g %.17g %ld %ld %.17g %d", a->beta, a->gma, a->pma, a->events, a->steps, a->ratio,
             a->calibrate);
    snprintf(v[6], 96, "%d %d", critic && state ? critic->cin : 0, critic && state ? critic->ch : 0);
    const char *meta[] = {"format", MG_CKPT_FORMAT, "blocks", v[0], "growth", v[1], "kernels", v[2],
                          "slope", v[3], "position", v[4], "agb", v[5], "critic", v[6],
                          "config", config_json ? config_json : "{}"};
    int rc = mg_st_write(path, l.t, l.n, meta, 9);
    for (int i = 0; i < l.n; i++) free(l.names[i]);
    free(l.names);
    free(l.t);
    return rc;
}

/* "beta gma pma events [steps ratio calibrate]" into a (initialised from the
 * run's configuration): checkpoints from before the calibrated ratio have
 * the first four and keep the configured ratio */
static int agb_read(const char *s, mg_agb *a)
{
    long steps;
    double ratio;
    int cal;
    int n = sscanf(s, "%lf %lf %lf %ld %ld %lf %d", &a->beta, &a->gma, &a->pma, &a->events, &steps, &ratio, &cal);
    if (n == 4) return 0;
    if (n != 7 || steps < 0 || (cal != 0 && cal != 1)) return -1;
    a->steps = steps;
    a->ratio = ratio;
    a->calibrate = cal;
    return 0;
}

int mg_checkpoint_load(const char *path, mg_dcinet *net, mg_critic *critic, mg_train_pos *pos)
{
    mg_st_file f;
    if (mg_st_read(path, &f)) return -1;
    int rc = -1;
    if (mg_dcinet_load_from(&f, path, net, pos != NULL)) goto out;
    if (critic) {
        int cin = 0, ch = 0;
        const char *cs = mg_st_meta(&f, "critic");
        if (!cs || sscanf(cs, "%d %d", &cin, &ch) != 2 || cin != critic->cin || ch != critic->ch) {
            mg_set_error("%s: checkpoint has no critic of %d input channel(s) and width %d", path,
                         critic->cin, critic->ch);
            goto out;
        }
        if (mg_params_load(&f, path, &critic->params, 1)) goto out;
        for (int i = 0; i < 4; i++) {
            char nm[64];
            snprintf(nm, sizeof nm, "critic.bn%d.running_mean", i);
            if (mg_st_load_into(&f, path, nm, critic->bn[i].run_mean, critic->bn[i].c)) goto out;
            snprintf(nm, sizeof nm, "critic.bn%d.running_var", i);
            if (mg_st_load_into(&f, path, nm, critic->bn[i].run_var, critic->bn[i].c)) goto out;
        }
    }
    if (pos) {
        const char *ps = mg_st_meta(&f, "position"), *as = mg_st_meta(&f, "agb");
        if (!ps || sscanf(ps, "%ld %ld %ld %ld %ld", &pos->epoch, &pos->step_in_epoch, &pos->global_step,
                          &pos->adam_t, &pos->adam_t_critic) != 5 ||
            !as || agb_read(as, &pos->agb)) {
            mg_set_error("%s: checkpoint has no training position", path);
            goto out;
        }
    }
    rc = 0;
out:
    mg_st_free(&f);
    return rc;
}

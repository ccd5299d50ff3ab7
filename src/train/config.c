/* Training configuration: defaults and config.json (read back by --resume). */
#include "train.h"
#include "../mri/mri.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_train_defaults(mg_train_cfg *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->mode, sizeof c->mode, "mse");
    c->net = (mg_dcinet_cfg){5, 5, 16, 0.2f};
    c->epochs = 50;
    c->batch = 1;
    c->gpu = -1;
    c->lr = 5e-4f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->accel = 4.0;
    c->center = 12;
    c->mask_type = MG_MASK_VD;
    c->augment = 1;
    c->max_rot_deg = 20.0;
    c->seed = 1;
    c->eval_seed = 1;
    c->critic_ch = 64;
    c->critic_steps = 1;
    c->critic_lr = 5e-4f;
    c->clip = 0.01f;
    c->gan_lambda = 100.0;
    c->agb_beta0 = 10.0;
    c->agb_ma = 0.99;
    c->agb_ratio = 10.0; /* 0: calibrated (docs/gan.md) */
    c->agb_warmup = 100;
    c->agb_rate = 0.1;
    c->select_start = -1;
    c->grid = 4;
    c->crop_readout = 1;
    c->sens_method = MG_SENS_WALSH;
    c->cache_mb = 512;
}

/* numeric fields: name, pointer kind, offset, accepted range (as the
 * command line's options; a config.json outside it is refused) */
enum { F_INT, F_FLOAT, F_DOUBLE, F_LONG };
typedef struct { const char *key; int kind; size_t off; double lo, hi; } field;
#define FLD(k, kind, m, lo, hi) {k, kind, offsetof(mg_train_cfg, m), lo, hi}
static const field fields[] = {
    FLD("blocks", F_INT, net.blocks, 1, 200), FLD("growth", F_INT, net.growth, 0, 200),
    FLD("kernels", F_INT, net.kernels, 1, 1024), FLD("slope", F_FLOAT, net.slope, 0, 0.999),
    FLD("epochs", F_INT, epochs, 1, 1000000), FLD("batch", F_INT, batch, 1, 4096),
    FLD("lr", F_FLOAT, lr, 1e-9, 1.0), FLD("beta1", F_FLOAT, beta1, 0, 0.9999),
    FLD("beta2", F_FLOAT, beta2, 0, 0.999999), FLD("accel", F_DOUBLE, accel, 1, 1e6),
    FLD("center", F_LONG, center, 0, 1 << 16), FLD("mask_type", F_INT, mask_type, 0, 2),
    FLD("augment", F_INT, augment, 0, 1), FLD("max_rot_deg", F_DOUBLE, max_rot_deg, 0, 180),
    FLD("save_every", F_INT, save_every, 0, 1000000), FLD("critic_ch", F_INT, critic_ch, 1, 512),
    FLD("critic_steps", F_INT, critic_steps, 1, 100), FLD("critic_lr", F_FLOAT, critic_lr, 1e-9, 1.0),
    FLD("clip", F_FLOAT, clip, 1e-6, 10.0), FLD("gan_lambda", F_DOUBLE, gan_lambda, 1e-6, 1e9),
    FLD("agb_beta0", F_DOUBLE, agb_beta0, 1e-6, 1e9), FLD("agb_ma", F_DOUBLE, agb_ma, 0, 0.999999),
    FLD("agb_ratio", F_DOUBLE, agb_ratio, 0, 1e9), FLD("agb_rate", F_DOUBLE, agb_rate, 1e-6, 10.0),
    FLD("select_start", F_INT, select_start, -1, 1000000), FLD("grid", F_INT, grid, 0, 64),
    FLD("crop_readout", F_INT, crop_readout, 0, 1), FLD("sens_method", F_INT, sens_method, 0, 2),
    FLD("precision", F_INT, precision, 0, 1), FLD("agb_warmup", F_LONG, agb_warmup, 1, 1000000),
    FLD("lr_decay", F_INT, lr_decay, 0, 1), FLD("grad_clip", F_FLOAT, grad_clip, 0, 1e9),
    FLD("loss", F_INT, loss, 0, 2),
};
#define NFIELDS (int)(sizeof fields / sizeof fields[0])
#define NREQUIRED 15 /* the first 15 exist in every run's config.json */

char *mg_train_config_json(const mg_train_cfg *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", c->mode);
    for (int i = 0; i < NFIELDS; i++) {
        const char *p = (const char *)c + fields[i].off;
        double v = fields[i].kind == F_INT ? *(const int *)p
                   : fields[i].kind == F_FLOAT ? *(const float *)p
                   : fields[i].kind == F_LONG ? (double)*(const long *)p
                                              : *(const double *)p;
        cJSON_AddNumberToObject(o, fields[i].key, v);
    }
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    cJSON_AddStringToObject(o, "seed", seed);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->eval_seed);
    cJSON_AddStringToObject(o, "eval_seed", seed);
    if (c->init || c->init_rec[0]) cJSON_AddStringToObject(o, "init", c->init ? c->init : c->init_rec);
    if (c->fid_weights[0]) cJSON_AddStringToObject(o, "fid_weights", c->fid_weights);
    if (c->data[0]) cJSON_AddStringToObject(o, "data", c->data);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

int mg_train_config_read(const char *path, mg_train_cfg *c)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mg_set_error("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *o = cJSON_Parse(buf);
    const cJSON *mode = o ? cJSON_GetObjectItemCaseSensitive(o, "mode") : NULL;
    const cJSON *seed = o ? cJSON_GetObjectItemCaseSensitive(o, "seed") : NULL;
    const cJSON *eseed = o ? cJSON_GetObjectItemCaseSensitive(o, "eval_seed") : NULL;
    int bad = !cJSON_IsString(mode) || !cJSON_IsString(seed) || !cJSON_IsString(eseed);
    mg_train_cfg d;
    mg_train_defaults(&d);
    for (int i = 0; !bad && i < NFIELDS; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, fields[i].key);
        if (!e && i >= NREQUIRED) continue; /* newer option: keep the default */
        if (!cJSON_IsNumber(e)) {
            bad = 1;
            break;
        }
        /* written as %.17g, a float field reads back a hair off its range's
         * float ends: compare with a relative slack */
        const double v = e->valuedouble, slack = 1e-6 * fabs(fields[i].hi);
        if (!(v >= fields[i].lo - slack && v <= fields[i].hi + slack)) {
            mg_set_error("%s: %s = %g is outside [%g, %g]", path, fields[i].key, v, fields[i].lo, fields[i].hi);
            cJSON_Delete(o);
            return -1;
        }
        char *p = (char *)&d + fields[i].off;
        if (fields[i].kind == F_INT) *(int *)p = (int)e->valuedouble;
        else if (fields[i].kind == F_FLOAT) *(float *)p = (float)e->valuedouble;
        else if (fields[i].kind == F_LONG) *(long *)p = (long)e->valuedouble;
        else *(double *)p = e->valuedouble;
    }
    if (bad) {
        mg_set_error("%s: malformed run configuration", path);
        cJSON_Delete(o);
        return -1;
    }
    const char *m = mode->valuestring;
    if (strcmp(m, "mse") && strcmp(m, "wgan") && strcmp(m, "cwgan") && strcmp(m, "cwgan-agb")) {
        mg_set_error("%s: mode '%.20s' is not one of mse, wgan, cwgan, cwgan-agb", path, m);
        cJSON_Delete(o);
        return -1;
    }
    snprintf(d.mode, sizeof d.mode, "%s", m);
    d.seed = strtoull(seed->valuestring, NULL, 10);
    d.eval_seed = strtoull(eseed->valuestring, NULL, 10);
    d.max_steps = c->max_steps;
    d.quiet = c->quiet;
    d.gpu = c->gpu;
    d.cache_mb = c->cache_mb;
    d.init = NULL; /* only used when a run starts; recorded for provenance */
    const cJSON *ini = cJSON_GetObjectItemCaseSensitive(o, "init");
    if (cJSON_IsString(ini)) snprintf(d.init_rec, sizeof d.init_rec, "%s", ini->valuestring);
    const cJSON *fw = cJSON_GetObjectItemCaseSensitive(o, "fid_weights");
    if (cJSON_IsString(fw)) snprintf(d.fid_weights, sizeof d.fid_weights, "%s", fw->valuestring);
    const cJSON *dd = cJSON_GetObjectItemCaseSensitive(o, "data");
    if (cJSON_IsString(dd)) snprintf(d.data, sizeof d.data, "%s", dd->valuestring); /* older runs: "" */
    d.resume_lr = c->resume_lr;
    memcpy(d.resume_note, c->resume_note, sizeof d.resume_note);
    *c = d;
    cJSON_Delete(o);
    return 0;
}

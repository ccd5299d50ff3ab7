/* A model's domain: the data it was trained on (matrix sizes, coil counts,
 * acceleration, contrasts), recorded in its checkpoint's config and checked
 * against the inputs of recon and eval (docs/models.md "Domain"). */
#include "models.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

char *mg_domain_json(const mg_domain *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a;
    a = cJSON_AddArrayToObject(o, "lines");
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)d->lines[0]));
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)d->lines[1]));
    a = cJSON_AddArrayToObject(o, "readout");
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)d->readout[0]));
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)d->readout[1]));
    a = cJSON_AddArrayToObject(o, "coils");
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)d->coils[0]));
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)d->coils[1]));
    cJSON_AddNumberToObject(o, "accel", d->accel);
    cJSON_AddStringToObject(o, "contrasts", d->contrasts);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int pair(const cJSON *o, const char *key, long v[2])
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2) return -1;
    const cJSON *x = cJSON_GetArrayItem(a, 0), *y = cJSON_GetArrayItem(a, 1);
    if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y) || x->valuedouble < 1 || y->valuedouble < x->valuedouble ||
        y->valuedouble > 1e6)
        return -1;
    v[0] = (long)x->valuedouble, v[1] = (long)y->valuedouble;
    return 0;
}

int mg_domain_parse(const char *config_json, mg_domain *d)
{
    memset(d, 0, sizeof *d);
    if (!config_json) return -1;
    cJSON *c = cJSON_Parse(config_json);
    const cJSON *o = c ? cJSON_GetObjectItemCaseSensitive(c, "domain") : NULL;
    const cJSON *r = o ? cJSON_GetObjectItemCaseSensitive(o, "accel") : NULL;
    const cJSON *t = o ? cJSON_GetObjectItemCaseSensitive(o, "contrasts") : NULL;
    int bad = !cJSON_IsObject(o) || pair(o, "lines", d->lines) || pair(o, "readout", d->readout) ||
              pair(o, "coils", d->coils) || !cJSON_IsNumber(r) || !(r->valuedouble >= 1 && r->valuedouble < 1e6);
    if (!bad) {
        d->accel = r->valuedouble;
        if (cJSON_IsString(t)) snprintf(d->contrasts, sizeof d->contrasts, "%s", t->valuestring);
        d->valid = 1;
    }
    cJSON_Delete(c);
    return bad ? -1 : 0;
}

int mg_domain_check(const mg_domain *d, long C, long H, long W, double accel, char *msg, size_t len)
{
    msg[0] = 0;
    if (!d->valid) return 0;
    char why[3][96];
    int n = 0;
    /* far outside: half the smallest or twice the largest size seen, coils
     * likewise, an acceleration off by more than 1.5x either way */
    if (H < d->lines[0] / 2 || H > 2 * d->lines[1] || W < d->readout[0] / 2 || W > 2 * d->readout[1])
        snprintf(why[n++], 96, "matrix %ldx%ld (trained on %ld-%ld x %ld-%ld)", H, W, d->lines[0], d->lines[1],
                 d->readout[0], d->readout[1]);
    if (C < d->coils[0] / 2 || C > 2 * d->coils[1])
        snprintf(why[n++], 96, "%ld coils (trained on %ld-%ld)", C, d->coils[0], d->coils[1]);
    if (accel > 0 && (accel > 1.5 * d->accel || accel < d->accel / 1.5))
        snprintf(why[n++], 96, "acceleration %.3g (trained at %.3g)", accel, d->accel);
    if (!n) return 0;
    snprintf(msg, len, "%s%s%s%s%s", why[0], n > 1 ? ", " : "", n > 1 ? why[1] : "", n > 2 ? ", " : "",
             n > 2 ? why[2] : "");
    return 1;
}

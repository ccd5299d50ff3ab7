/* The uniform average of the generator weights of DCI-Net checkpoints of
 * one architecture and one training domain (a "model soup", Wortsman et al.
 * 2022; docs/training.md "Averaging checkpoints"). */
#include "train.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* the first file's config with "averaged": [{"file", "sha256"}, ...] added
 * (replacing one it had); NULL on a config that is not a JSON object */
static char *averaged_config(const char *cfg, const char *const *paths, char (*sha)[65], int n)
{
    cJSON *o = cJSON_Parse(cfg ? cfg : "{}");
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, "averaged");
    cJSON *a = cJSON_AddArrayToObject(o, "averaged");
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "file", paths[i]);
        cJSON_AddStringToObject(e, "sha256", sha[i]);
        cJSON_AddItemToArray(a, e);
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

/* 1 when the two configs record different training domains (one recorded
 * and the other not counts as different) */
static int domains_differ(const char *c0, const char *c1)
{
    mg_domain d0, d1;
    int r0 = mg_domain_parse(c0 ? c0 : "{}", &d0), r1 = mg_domain_parse(c1 ? c1 : "{}", &d1);
    if (r0 || r1) return r0 != r1;
    return memcmp(d0.lines, d1.lines, sizeof d0.lines) || memcmp(d0.readout, d1.readout, sizeof d0.readout) ||
           memcmp(d0.coils, d1.coils, sizeof d0.coils) || d0.accel != d1.accel ||
           strcmp(d0.contrasts, d1.contrasts);
}

int mg_checkpoint_average(const char *const *paths, int n, const char *out)
{
    if (n < 2) {
        mg_set_error("averaging needs at least two checkpoints (%d given)", n);
        return -1;
    }
    mg_dcinet net, one;
    memset(&net, 0, sizeof net);
    memset(&one, 0, sizeof one);
    char(*sha)[65] = mg_malloc_array((size_t)n, sizeof *sha);
    char *cfg0 = NULL, *cfg = NULL;
    double **sum = NULL;
    int rc = -1;
    for (int i = 0; i < n; i++) {
        mg_st_file f;
        if (mg_st_read(paths[i], &f)) goto out;
        mg_dcinet *dst = i == 0 ? &net : &one;
        int bad = mg_dcinet_load_from(&f, paths[i], dst, 0);
        const char *c = mg_st_meta(&f, "config");
        if (!bad && i == 0) {
            cfg0 = mg_strdup(c ? c : "{}");
            mg_dcinet_init(&one, &net.cfg, 0);
            sum = mg_malloc_array((size_t)net.params.n, sizeof *sum);
            for (int p = 0; p < net.params.n; p++)
                sum[p] = mg_calloc((size_t)net.params.p[p]->size, sizeof **sum);
        } else if (!bad && domains_differ(cfg0, c)) {
            mg_set_error("%s: trained on another domain than %s (matrix sizes, coils, acceleration or contrasts); "
                         "average checkpoints of one data set",
                         paths[i], paths[0]);
            bad = 1;
        }
        mg_st_free(&f);
        if (bad || mg_sha256_file(paths[i], sha[i])) goto out;
        for (int p = 0; p < dst->params.n; p++) {
            const mg_param *q = dst->params.p[p];
            for (long j = 0; j < q->size; j++) sum[p][j] += (double)q->w[j];
        }
    }
    for (int p = 0; p < net.params.n; p++) {
        mg_param *q = net.params.p[p];
        for (long j = 0; j < q->size; j++) q->w[j] = (float)(sum[p][j] / n);
    }
    cfg = averaged_config(cfg0, paths, sha, n);
    if (!cfg) {
        mg_set_error("%s: its config is not a JSON object", paths[0]);
        goto out;
    }
    rc = mg_checkpoint_save(out, &net, NULL, NULL, cfg, 0);
out:
    if (sum)
        for (int p = 0; p < net.params.n; p++) free(sum[p]);
    free(sum);
    free(sha);
    free(cfg0);
    free(cfg);
    if (net.params.n) mg_dcinet_free(&net);
    if (one.params.n) mg_dcinet_free(&one);
    return rc;
}

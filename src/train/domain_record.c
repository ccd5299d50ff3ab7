/* The training data's domain (models.h's mg_domain: shapes, acceleration,
 * contrasts) recorded in the run's config JSON, and so in its checkpoints,
 * for recon and eval to check their inputs against (docs/models.md). */
#include "trainer.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* the contrasts named by the training volumes of the data set's
 * simulate.json (its "train" volumes, or the one "input"): T1, T2, FLAIR,
 * PD by file name (Colin27's ch2 and the T1 templates are T1), as a comma
 * list, or "" */
static void data_contrasts(const char *data_dir, char *out, size_t len)
{
    out[0] = 0;
    char *p = mg_path_join(data_dir, "simulate.json");
    FILE *f = fopen(p, "rb");
    free(p);
    if (!f) return;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *j = cJSON_Parse(buf);
    if (!j) return;
    char names[4096] = "";
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "input"), *tr = cJSON_GetObjectItemCaseSensitive(j, "train");
    if (cJSON_IsString(in)) snprintf(names, sizeof names, "%s", in->valuestring);
    const cJSON *v;
    cJSON_ArrayForEach(v, tr) {
        const cJSON *vol = cJSON_GetObjectItemCaseSensitive(v, "volume");
        if (cJSON_IsString(vol) && strlen(names) + strlen(vol->valuestring) + 2 < sizeof names)
            strcat(strcat(names, " "), vol->valuestring);
    }
    cJSON_Delete(j);
    for (char *c = names; *c; c++) *c = (char)toupper((unsigned char)*c);
    static const char *kinds[4] = {"T1", "T2", "FLAIR", "PD"};
    int has[4] = {strstr(names, "T1") || strstr(names, "CH2.NII") || strstr(names, "MNI152") || strstr(names, "CIT168"),
                  strstr(names, "T2") != NULL, strstr(names, "FLAIR") != NULL, strstr(names, "_PD") != NULL};
    for (int i = 0; i < 4; i++)
        if (has[i]) snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "," : "", kinds[i]);
}

/* the training data's domain into the run's config JSON (*json replaced) */
void mg_trainer_add_domain(char **json, const mg_dataset *tr, double accel, const char *data_dir)
{
    mg_domain d = {{tr->groups[0].H, tr->groups[0].H}, {tr->groups[0].W, tr->groups[0].W},
                   {tr->groups[0].C, tr->groups[0].C}, accel, "", 1};
    for (int g = 1; g < tr->ngroups; g++) {
        const mg_shape_group *s = &tr->groups[g];
        if (s->H < d.lines[0]) d.lines[0] = s->H;
        if (s->H > d.lines[1]) d.lines[1] = s->H;
        if (s->W < d.readout[0]) d.readout[0] = s->W;
        if (s->W > d.readout[1]) d.readout[1] = s->W;
        if (s->C < d.coils[0]) d.coils[0] = s->C;
        if (s->C > d.coils[1]) d.coils[1] = s->C;
    }
    data_contrasts(data_dir, d.contrasts, sizeof d.contrasts);
    char *dj = mg_domain_json(&d);
    cJSON *o = cJSON_Parse(*json), *dom = cJSON_Parse(dj);
    free(dj);
    if (!o || !dom) abort(); /* both were printed by cJSON just now */
    cJSON_AddItemToObject(o, "domain", dom);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    free(*json);
    *json = s;
}

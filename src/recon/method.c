/* The reconstruction methods behind zerofill, cs, arc, recon and eval
 * (recon.h). */
#include "recon.h"
#include "../mri/mri.h"

#include <stdlib.h>
#include <string.h>

void mg_method_init(mg_method *m, int kind, const char *name)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    snprintf(m->name, sizeof m->name, "%s", name);
    if (kind == MG_M_CS_WAVELET) mg_cs_defaults(&m->cs, MG_REG_WAVELET);
    if (kind == MG_M_CS_TV) mg_cs_defaults(&m->cs, MG_REG_TV);
    if (kind == MG_M_ARC) mg_arc_defaults(&m->arc);
}

int mg_method_load(mg_method *m, const char *ckpt)
{
    char *path = mg_model_resolve(ckpt);
    if (!path) return -1;
    mg_st_file f;
    int rc = mg_st_read(path, &f);
    if (!rc) {
        rc = mg_dcinet_load_from(&f, path, &m->net, 0);
        mg_domain_parse(mg_st_meta(&f, "config"), &m->domain); /* none in older checkpoints */
        mg_st_free(&f);
    }
    free(path);
    if (rc) return -1;
    mg_engine_cpu(&m->eng, &m->net);
    return 0;
}

void mg_method_open(mg_method *m, long C, long H, long W, const char *path)
{
    m->C = C, m->H = H, m->W = W;
    m->path = path;
    m->all = mg_malloc_array((size_t)H, sizeof(float)); /* input already undersampled: every line */
    for (long y = 0; y < H; y++) m->all[y] = 1.0f;
    if (m->kind == MG_M_ARC) m->kf = mg_malloc_array((size_t)(C * H * W), sizeof(cfloat));
    if (m->kind == MG_M_DCINET) {
        m->ku = mg_malloc_array((size_t)(C * H * W), sizeof(cfloat));
        m->work = mg_malloc_array((size_t)(C * H * W), sizeof(cfloat));
        m->out = mg_malloc_array((size_t)(2 * H * W), sizeof(float));
    }
}

int mg_method_slice(void *ctx, const cfloat *k, const cfloat *sens, const float *mask, cfloat *img, long s)
{
    mg_method *m = ctx;
    const float *mk = mask ? mask : m->all;
    const long n = m->H * m->W;
    switch (m->kind) {
    case MG_M_ZF: mg_zerofill_sets(k, sens, m->sets, mask, img, m->C, m->H, m->W); break;
    case MG_M_CS_WAVELET:
    case MG_M_CS_TV:
        m->cs.sets = m->sets;
        m->scale_sum += mg_cs_recon(k, sens, mk, m->C, m->H, m->W, &m->cs, img);
        break;
    case MG_M_ARC: {
        long e = mg_arc(k, mk, m->C, m->H, m->W, &m->arc, m->kf);
        if (e < 0) {
            mg_set_error("%s, slice %ld: %s", m->path, s, mg_error());
            return -1;
        }
        m->empty += e;
        mg_zerofill_sets(m->kf, sens, m->sets, NULL, img, m->C, m->H, m->W);
        break;
    }
    default: { /* DCI-Net: scaled as in training; its DC units use map set 1; flip averaging on request */
        const int C = (int)m->C, H = (int)m->H, W = (int)m->W;
        float sc = mg_sample_prepare(k, sens, mk, m->ku, NULL, NULL, m->work, C, H, W);
        mg_infer_flips(&m->eng, m->ku, sens, mk, m->out, m->flips, C, H, W);
        mg_planes2c(m->out, img, n);
        for (long i = 0; i < n; i++) img[i] *= sc;
    }
    }
    m->slices++;
    return 0;
}

void mg_method_free(mg_method *m)
{
    free(m->all);
    free(m->kf);
    free(m->ku);
    free(m->work);
    free(m->out);
    if (m->eng.release) m->eng.release(&m->eng);
    if (m->net.params.n) mg_dcinet_free(&m->net);
    memset(m, 0, sizeof *m);
}

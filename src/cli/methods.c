/* The reconstruction methods behind zerofill, cs, arc and recon, one
 * interface so that 'mrgan eval' runs them side by side exactly as the
 * single-method commands do. */
#include "cli.h"
#include "mri/mri.h"
#ifdef MRGAN_HAVE_CUDA
#include "gpu/gpu.h"
#endif

#include <stdlib.h>
#include <string.h>

void cli_method_init(cli_method *m, int kind, const char *name)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    snprintf(m->name, sizeof m->name, "%s", name);
    m->cmd = kind == CLI_M_ZF ? "zerofill" : kind == CLI_M_ARC ? "arc" : kind == CLI_M_DCINET ? "recon" : "cs";
    if (kind == CLI_M_CS_WAVELET) mg_cs_defaults(&m->cs, MG_REG_WAVELET);
    if (kind == CLI_M_CS_TV) mg_cs_defaults(&m->cs, MG_REG_TV);
    if (kind == CLI_M_ARC) mg_arc_defaults(&m->arc);
}

int cli_method_load(cli_method *m, const char *ckpt)
{
    return mg_checkpoint_load(ckpt, &m->net, NULL, NULL);
}

int cli_gpu_device(const char *cmd, const char *arg)
{
    if (!arg) return 0;
    char *end;
    long d = strtol(arg, &end, 10);
    if (*arg == 0 || *end || d < 0 || d > 63) cli_fail(cmd, "option --gpu: '%s' is not a device number 0..63", arg);
    return (int)d;
}

void cli_method_use_gpu(cli_method *m, int dev)
{
    if (mg_train_gpu_open(dev)) cli_fail(m->cmd, "%s", mg_error());
#ifdef MRGAN_HAVE_CUDA
    m->gpu = mg_gpu_dcinet_create(&m->net);
#endif
}

void cli_method_open(cli_method *m, long C, long H, long W, const char *path)
{
    m->C = C, m->H = H, m->W = W;
    m->path = path;
    m->all = mg_malloc_array((size_t)H, sizeof(float)); /* input already undersampled: every line */
    for (long y = 0; y < H; y++) m->all[y] = 1.0f;
    if (m->kind == CLI_M_ARC) m->kf = mg_malloc_array((size_t)(C * H * W), sizeof(cfloat));
    if (m->kind == CLI_M_DCINET) {
        m->ku = mg_malloc_array((size_t)(C * H * W), sizeof(cfloat));
        m->work = mg_malloc_array((size_t)(C * H * W), sizeof(cfloat));
        m->out = mg_malloc_array((size_t)(2 * H * W), sizeof(float));
    }
}

void cli_method_slice(void *ctx, const cfloat *k, const cfloat *sens, const float *mask, cfloat *img, long s)
{
    cli_method *m = ctx;
    const float *mk = mask ? mask : m->all;
    const long n = m->H * m->W;
    switch (m->kind) {
    case CLI_M_ZF: mg_zerofill(k, sens, mask, img, m->C, m->H, m->W); break;
    case CLI_M_CS_WAVELET:
    case CLI_M_CS_TV: m->scale_sum += mg_cs_recon(k, sens, mk, m->C, m->H, m->W, &m->cs, img); break;
    case CLI_M_ARC: {
        long e = mg_arc(k, mk, m->C, m->H, m->W, &m->arc, m->kf);
        if (e < 0) cli_fail(m->cmd, "%s, slice %ld: %s", m->path, s, mg_error());
        m->empty += e;
        mg_zerofill(m->kf, sens, NULL, img, m->C, m->H, m->W);
        break;
    }
    default: { /* DCI-Net: scaled as in training */
        const int C = (int)m->C, H = (int)m->H, W = (int)m->W;
        float sc = mg_sample_prepare(k, sens, mk, m->ku, NULL, NULL, m->work, C, H, W);
#ifdef MRGAN_HAVE_CUDA
        if (m->gpu)
            mg_gpu_dcinet_infer(m->gpu, m->ku, sens, mk, m->out, 1, C, H, W);
        else
#endif
            mg_dcinet_infer(&m->net, m->ku, sens, mk, m->out, 1, C, H, W);
        mg_planes2c(m->out, img, n);
        for (long i = 0; i < n; i++) img[i] *= sc;
    }
    }
    m->slices++;
}

void cli_method_free(cli_method *m)
{
    free(m->all);
    free(m->kf);
    free(m->ku);
    free(m->work);
    free(m->out);
#ifdef MRGAN_HAVE_CUDA
    mg_gpu_dcinet_free(m->gpu);
#endif
    if (m->net.params.n) mg_dcinet_free(&m->net);
    memset(m, 0, sizeof *m);
}

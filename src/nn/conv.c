/* conv2d on oneDNN: forward, backward data and backward weights primitives
 * are created on the first call for a shape and reused. Plain layouts
 * (nchw activations, oihw weights) with the direct algorithm, so results are
 * deterministic for a given thread count. */
#include "nn.h"

#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DN(call)                                                                           \
    do {                                                                                   \
        dnnl_status_t st_ = (call);                                                        \
        if (st_ != dnnl_success) {                                                         \
            fprintf(stderr, "mrgan: oneDNN error %d in %s (%s:%d)\n", (int)st_, #call, __FILE__, \
                    __LINE__);                                                             \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void dnnl_setup(void)
{
    DN(dnnl_engine_create(&engine, dnnl_cpu, 0));
    DN(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
}

struct mg_conv_impl {
    int n, h, w, oh, ow;
    dnnl_primitive_t fwd, bwd_d, bwd_w;
    dnnl_memory_t m_src, m_w, m_b, m_dst, m_dsrc, m_dw, m_db, m_ddst;
    float *dw, *db, *dx;
};

int mg_conv_out(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }

void mg_conv2d_init(mg_conv2d *c, mg_params *ps, const char *name, int cin, int cout, int k,
                    int stride, int pad, int with_bias, mg_rng *rng)
{
    memset(c, 0, sizeof *c);
    c->cin = cin;
    c->cout = cout;
    c->k = k;
    c->stride = stride;
    c->pad = pad;
    char nm[96];
    long ws[4] = {cout, cin, k, k};
    snprintf(nm, sizeof nm, "%s.weight", name);
    c->weight = mg_params_add(ps, nm, 4, ws);
    /* PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias */
    const double bound = 1.0 / sqrt((double)(cin * k * k));
    for (long i = 0; i < c->weight->size; i++)
        c->weight->w[i] = (float)(bound * (2.0 * mg_rng_uniform(rng) - 1.0));
    if (with_bias) {
        long bs[1] = {cout};
        snprintf(nm, sizeof nm, "%s.bias", name);
        c->bias = mg_params_add(ps, nm, 1, bs);
        for (long i = 0; i < cout; i++) c->bias->w[i] = (float)(bound * (2.0 * mg_rng_uniform(rng) - 1.0));
    }
}

static void impl_free(mg_conv_impl *m)
{
    if (!m) return;
    dnnl_primitive_t prims[3] = {m->fwd, m->bwd_d, m->bwd_w};
    for (int i = 0; i < 3; i++)
        if (prims[i]) dnnl_primitive_destroy(prims[i]);
    dnnl_memory_t mems[8] = {m->m_src, m->m_w, m->m_b, m->m_dst, m->m_dsrc, m->m_dw, m->m_db, m->m_ddst};
    for (int i = 0; i < 8; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    free(m->dw);
    free(m->db);
    free(m->dx);
    free(m);
}

void mg_conv2d_free(mg_conv2d *c)
{
    impl_free(c->impl);
    c->impl = NULL;
}

static void plan(mg_conv2d *c, int n, int h, int w)
{
    mg_conv_impl *m = c->impl;
    if (m && m->n == n && m->h == h && m->w == w) return;
    pthread_once(&once, dnnl_setup);
    impl_free(m);
    m = c->impl = mg_calloc(1, sizeof(mg_conv_impl));
    m->n = n;
    m->h = h;
    m->w = w;
    m->oh = mg_conv_out(h, c->k, c->stride, c->pad);
    m->ow = mg_conv_out(w, c->k, c->stride, c->pad);
    dnnl_memory_desc_t src, wt, b, dst;
    dnnl_dims_t ds = {n, c->cin, h, w}, dw = {c->cout, c->cin, c->k, c->k}, db = {c->cout},
                dd = {n, c->cout, m->oh, m->ow};
    DN(dnnl_memory_desc_init_by_tag(&src, 4, ds, dnnl_f32, dnnl_nchw));
    DN(dnnl_memory_desc_init_by_tag(&wt, 4, dw, dnnl_f32, dnnl_oihw));
    DN(dnnl_memory_desc_init_by_tag(&b, 1, db, dnnl_f32, dnnl_a));
    DN(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nchw));
    dnnl_dims_t strides = {c->stride, c->stride}, pad = {c->pad, c->pad};
    const dnnl_memory_desc_t *bp = c->bias ? &b : NULL;

    dnnl_convolution_desc_t fd, bdd, bwd;
    DN(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &src,
                                          &wt, bp, &dst, strides, pad, pad));
    dnnl_primitive_desc_t fpd, bdpd, bwpd;
    DN(dnnl_primitive_desc_create(&fpd, &fd, NULL, engine, NULL));
    DN(dnnl_primitive_create(&m->fwd, fpd));
    DN(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &src, &wt, &dst,
                                                strides, pad, pad));
    DN(dnnl_primitive_desc_create(&bdpd, &bdd, NULL, engine, fpd));
    DN(dnnl_primitive_create(&m->bwd_d, bdpd));
    DN(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &src, &wt, bp,
                                                   &dst, strides, pad, pad));
    DN(dnnl_primitive_desc_create(&bwpd, &bwd, NULL, engine, fpd));
    DN(dnnl_primitive_create(&m->bwd_w, bwpd));
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bdpd);
    dnnl_primitive_desc_destroy(bwpd);

    DN(dnnl_memory_create(&m->m_src, &src, engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&m->m_w, &wt, engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&m->m_b, &b, engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&m->m_dst, &dst, engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&m->m_dsrc, &src, engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&m->m_dw, &wt, engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&m->m_db, &b, engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&m->m_ddst, &dst, engine, DNNL_MEMORY_NONE));
    m->dw = mg_malloc_array((size_t)c->weight->size, sizeof(float));
    m->db = mg_malloc_array((size_t)c->cout, sizeof(float));
    m->dx = mg_malloc_array((size_t)n * (size_t)c->cin * (size_t)h * (size_t)w, sizeof(float));
}

static void set(dnnl_memory_t mem, const void *p) { DN(dnnl_memory_set_data_handle(mem, (void *)p)); }

void mg_conv2d_forward(mg_conv2d *c, const float *x, float *y, int n, int h, int w)
{
    plan(c, n, h, w);
    mg_conv_impl *m = c->impl;
    set(m->m_src, x);
    set(m->m_w, c->weight->w);
    set(m->m_dst, y);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, m->m_src}, {DNNL_ARG_WEIGHTS, m->m_w},
                               {DNNL_ARG_DST, m->m_dst}, {DNNL_ARG_BIAS, m->m_b}};
    int na = 3;
    if (c->bias) {
        set(m->m_b, c->bias->w);
        na = 4;
    }
    DN(dnnl_primitive_execute(m->fwd, stream, na, args));
    DN(dnnl_stream_wait(stream));
}

void mg_conv2d_backward(mg_conv2d *c, const float *x, const float *dy, float *dx, int n, int h, int w)
{
    plan(c, n, h, w);
    mg_conv_impl *m = c->impl;
    set(m->m_src, x);
    set(m->m_ddst, dy);
    set(m->m_dw, m->dw);
    set(m->m_db, m->db);
    dnnl_exec_arg_t wargs[4] = {{DNNL_ARG_SRC, m->m_src}, {DNNL_ARG_DIFF_DST, m->m_ddst},
                                {DNNL_ARG_DIFF_WEIGHTS, m->m_dw}, {DNNL_ARG_DIFF_BIAS, m->m_db}};
    DN(dnnl_primitive_execute(m->bwd_w, stream, c->bias ? 4 : 3, wargs));
    if (dx) {
        set(m->m_w, c->weight->w);
        set(m->m_dsrc, m->dx);
        dnnl_exec_arg_t dargs[3] = {{DNNL_ARG_DIFF_DST, m->m_ddst}, {DNNL_ARG_WEIGHTS, m->m_w},
                                    {DNNL_ARG_DIFF_SRC, m->m_dsrc}};
        DN(dnnl_primitive_execute(m->bwd_d, stream, 3, dargs));
    }
    DN(dnnl_stream_wait(stream));
    float *g = c->weight->g;
    for (long i = 0; i < c->weight->size; i++) g[i] += m->dw[i];
    if (c->bias)
        for (int i = 0; i < c->cout; i++) c->bias->g[i] += m->db[i];
    if (dx) {
        const long nx = (long)n * c->cin * h * w;
        for (long i = 0; i < nx; i++) dx[i] += m->dx[i];
    }
}

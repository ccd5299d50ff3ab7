/* conv2d on oneDNN, or for the narrow cases on the direct kernels of
 * conv_direct.c, conv_direct_blk.c, conv_direct_nhwc.c and
 * conv_direct_dw_wide.c (see direct_narrow below): forward, backward data
 * and backward weights primitives are created on the first call for a shape
 * and reused. The caller's tensors are plain (nchw activations, oihw
 * weights) or, for activations, blocked nChw16c or channels-last nhwc
 * (lay_src / lay_dst); the primitives choose their own layouts (nhwc where
 * the caller's is) and a reorder runs only where the two differ. Direct
 * algorithm, so results are deterministic for a given thread count. */
#include "nn.h"
#include "conv_direct.h"

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
/* MG_PRECISION_BF16: oneDNN's convolutions read bf16 copies of activations,
 * weights and output gradients and write fp32 (outputs, data and weight
 * gradients: fp32 accumulation); the caller's tensors stay fp32 */
static int precision = MG_PRECISION_FP32;

static void dnnl_setup(void)
{
    DN(dnnl_engine_create(&engine, dnnl_cpu, 0));
    DN(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
}

/* A tensor as the caller holds it (plain nchw / oihw) and as a primitive
 * wants it (its chosen, often blocked, layout), with the reorders between. */
typedef struct {
    int need;               /* layouts differ */
    int arena;              /* which shared scratch holds the blocked copy */
    dnnl_memory_t plain, blk;
    dnnl_primitive_t to_blk, to_plain;
} port;

/* Blocked copies live only during one primitive call, so all layers share
 * five scratch arenas (one per tensor argument of a call, one for the data
 * gradient before it is added to the caller's dx, one for oneDNN's own
 * scratchpad). Convolutions
 * therefore must not run concurrently (the networks call them in sequence). */
static void *arena[5]; /* [3]: the data gradient before it is added to the caller's dx; [4]: the primitives'
                        * scratchpad (user mode: one buffer for all, not one per primitive) */
static size_t arena_size[5];

static void arena_reserve(int i, size_t n)
{
    if (n <= arena_size[i]) return;
    free(arena[i]);
    arena[i] = mg_malloc(n);
    arena_size[i] = n;
}

struct mg_conv_impl {
    int n, h, w, oh, ow, prec;
    dnnl_primitive_t fwd, bwd_d, bwd_w;
    port f_src, f_w, f_dst;     /* forward */
    port d_ddst, d_w, d_dsrc;   /* backward data */
    port w_src, w_ddst, w_dw;   /* backward weights */
    dnnl_memory_t m_b, m_db;
    dnnl_memory_t m_scratch[3]; /* each pass's scratchpad, in arena 4 (NULL: it needs none) */
    int ddst_shared; /* both backward passes take diff_dst in the same blocked layout */
    float *dw, *db;
};

int mg_conv_out(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }

int mg_bf16_supported(void)
{
    /* oneDNN's bf16 convolutions need AVX512-BF16 (avx512_core_bf16) or AMX */
    const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx;
}

int mg_conv_set_precision(int p)
{
    if (p == MG_PRECISION_BF16 && !mg_bf16_supported()) {
        mg_set_error("this CPU has neither AVX512-BF16 nor AMX: convolutions stay fp32");
        return -1;
    }
    precision = p;
    return 0;
}

int mg_conv_precision(void) { return precision; }

int mg_blk_channels(int c) { return (c + 15) / 16 * 16; }
int mg_layout_channels(int lay, int c) { return lay == MG_LAYOUT_NCHW16C ? mg_blk_channels(c) : c; }

static dnnl_format_tag_t user_tag(int lay)
{
    return lay == MG_LAYOUT_NCHW16C ? dnnl_nChw16c : lay == MG_LAYOUT_NHWC ? dnnl_nhwc : dnnl_nchw;
}
/* the layout a pass is asked to use: its own choice ("any"), except that an
 * nhwc caller gets nhwc (oneDNN's brgemm kernels, no reorder; "any" would pick
 * nChw16c and reorder every call) */
static dnnl_format_tag_t pass_tag(int lay) { return lay == MG_LAYOUT_NHWC ? dnnl_nhwc : dnnl_format_tag_any; }

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

static void port_free(port *p)
{
    if (p->to_blk) dnnl_primitive_destroy(p->to_blk);
    if (p->to_plain) dnnl_primitive_destroy(p->to_plain);
    if (p->plain) dnnl_memory_destroy(p->plain);
    if (p->blk) dnnl_memory_destroy(p->blk);
}

static void impl_free(mg_conv_impl *m)
{
    if (!m) return;
    dnnl_primitive_t prims[3] = {m->fwd, m->bwd_d, m->bwd_w};
    for (int i = 0; i < 3; i++)
        if (prims[i]) dnnl_primitive_destroy(prims[i]);
    port *ports[9] = {&m->f_src, &m->f_w, &m->f_dst, &m->d_ddst, &m->d_w, &m->d_dsrc, &m->w_src, &m->w_ddst, &m->w_dw};
    for (int i = 0; i < 9; i++) port_free(ports[i]);
    if (m->m_b) dnnl_memory_destroy(m->m_b);
    if (m->m_db) dnnl_memory_destroy(m->m_db);
    for (int i = 0; i < 3; i++)
        if (m->m_scratch[i]) dnnl_memory_destroy(m->m_scratch[i]);
    free(m->dw);
    free(m->db);
    free(m);
}

void mg_conv2d_free(mg_conv2d *c)
{
    impl_free(c->impl);
    c->impl = NULL;
}

void mg_conv_release_scratch(void)
{
    for (int i = 0; i < 5; i++) {
        free(arena[i]);
        arena[i] = NULL;
        arena_size[i] = 0;
    }
}

/* the primitive's layout for `what` of pd, plus reorders from / to plain */
static void port_init(port *p, const dnnl_memory_desc_t *plain, const_dnnl_primitive_desc_t pd,
                      dnnl_query_t what, int which)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, 0);
    DN(dnnl_memory_create(&p->plain, plain, engine, DNNL_MEMORY_NONE));
    p->need = !dnnl_memory_desc_equal(md, plain);
    p->arena = which;
    if (!p->need) return;
    arena_reserve(which, dnnl_memory_desc_get_size(md));
    DN(dnnl_memory_create(&p->blk, md, engine, DNNL_MEMORY_NONE));
    dnnl_primitive_desc_t r1, r2;
    DN(dnnl_reorder_primitive_desc_create(&r1, plain, engine, md, engine, NULL));
    DN(dnnl_primitive_create(&p->to_blk, r1));
    DN(dnnl_reorder_primitive_desc_create(&r2, md, engine, plain, engine, NULL));
    DN(dnnl_primitive_create(&p->to_plain, r2));
    dnnl_primitive_desc_destroy(r1);
    dnnl_primitive_desc_destroy(r2);
}

static void plan(mg_conv2d *c, int n, int h, int w)
{
    mg_conv_impl *m = c->impl;
    if (m && m->n == n && m->h == h && m->w == w && m->prec == precision) return;
    pthread_once(&once, dnnl_setup);
    impl_free(m);
    m = c->impl = mg_calloc(1, sizeof(mg_conv_impl));
    m->n = n;
    m->h = h;
    m->w = w;
    m->prec = precision;
    m->oh = mg_conv_out(h, c->k, c->stride, c->pad);
    m->ow = mg_conv_out(w, c->k, c->stride, c->pad);
    dnnl_memory_desc_t src, wt, b, dst, src_a, wt_a, dst_a, src_f, wt_f, dst_f;
    dnnl_dims_t ds = {n, c->cin, h, w}, dw = {c->cout, c->cin, c->k, c->k}, db = {c->cout},
                dd = {n, c->cout, m->oh, m->ow};
    DN(dnnl_memory_desc_init_by_tag(&src, 4, ds, dnnl_f32, user_tag(c->lay_src)));
    DN(dnnl_memory_desc_init_by_tag(&wt, 4, dw, dnnl_f32, dnnl_oihw));
    DN(dnnl_memory_desc_init_by_tag(&b, 1, db, dnnl_f32, dnnl_a));
    DN(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, user_tag(c->lay_dst)));
    /* what a pass reads (_a: bf16 in bf16 mode) and writes (_f: always fp32) */
    const dnnl_data_type_t in_t = precision == MG_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
    DN(dnnl_memory_desc_init_by_tag(&src_a, 4, ds, in_t, pass_tag(c->lay_src)));
    DN(dnnl_memory_desc_init_by_tag(&wt_a, 4, dw, in_t, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&dst_a, 4, dd, in_t, pass_tag(c->lay_dst)));
    DN(dnnl_memory_desc_init_by_tag(&src_f, 4, ds, dnnl_f32, pass_tag(c->lay_src)));
    DN(dnnl_memory_desc_init_by_tag(&wt_f, 4, dw, dnnl_f32, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&dst_f, 4, dd, dnnl_f32, pass_tag(c->lay_dst)));
    dnnl_dims_t strides = {c->stride, c->stride}, pad = {c->pad, c->pad};
    const dnnl_memory_desc_t *bp = c->bias ? &b : NULL;

    /* layouts are the primitives' choice ("any"), so oneDNN can use its
     * blocked direct kernels; reorders move data from and to our plain
     * tensors (and convert fp32 <-> bf16) */
    dnnl_convolution_desc_t fd, bdd, bwd;
    DN(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &src_a,
                                          &wt_a, bp, &dst_f, strides, pad, pad));
    dnnl_primitive_desc_t fpd, bdpd, bwpd;
    /* scratchpads in user mode: the passes run one at a time, so they share
     * arena 4 instead of each primitive holding its own (bf16 backward passes
     * keep converted copies there) */
    dnnl_primitive_attr_t attr, attr_b;
    DN(dnnl_primitive_attr_create(&attr));
    DN(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    DN(dnnl_primitive_attr_create(&attr_b));
    DN(dnnl_primitive_attr_set_scratchpad_mode(attr_b, dnnl_scratchpad_mode_user));
    if (c->fuse_leaky) { /* LeakyReLU in the forward kernel: relu with a negative slope */
        dnnl_post_ops_t po;
        DN(dnnl_post_ops_create(&po));
        DN(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, c->slope, 0.0f));
        DN(dnnl_primitive_attr_set_post_ops(attr, po));
        dnnl_post_ops_destroy(po);
    }
    DN(dnnl_primitive_desc_create(&fpd, &fd, attr, engine, NULL));
    dnnl_primitive_attr_destroy(attr);
    DN(dnnl_primitive_create(&m->fwd, fpd));
    DN(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &src_f, &wt_a, &dst_a,
                                                strides, pad, pad));
    DN(dnnl_primitive_desc_create(&bdpd, &bdd, attr_b, engine, fpd));
    DN(dnnl_primitive_create(&m->bwd_d, bdpd));
    DN(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &src_a, &wt_f, bp,
                                                   &dst_a, strides, pad, pad));
    DN(dnnl_primitive_desc_create(&bwpd, &bwd, attr_b, engine, fpd));
    dnnl_primitive_attr_destroy(attr_b);
    DN(dnnl_primitive_create(&m->bwd_w, bwpd));
    const_dnnl_primitive_desc_t pds[3] = {fpd, bdpd, bwpd};
    for (int i = 0; i < 3; i++) {
        const dnnl_memory_desc_t *sm = dnnl_primitive_desc_query_md(pds[i], dnnl_query_scratchpad_md, 0);
        const size_t sz = sm ? dnnl_memory_desc_get_size(sm) : 0;
        if (sz == 0) continue;
        arena_reserve(4, sz);
        DN(dnnl_memory_create(&m->m_scratch[i], sm, engine, DNNL_MEMORY_NONE));
    }
    port_init(&m->f_src, &src, fpd, dnnl_query_src_md, 0);
    port_init(&m->f_w, &wt, fpd, dnnl_query_weights_md, 1);
    port_init(&m->f_dst, &dst, fpd, dnnl_query_dst_md, 2);
    /* diff_dst in arena 1 for both backward passes: when their layouts agree the
     * data pass reuses the weights pass's reordered copy */
    port_init(&m->d_ddst, &dst, bdpd, dnnl_query_diff_dst_md, 1);
    port_init(&m->d_w, &wt, bdpd, dnnl_query_weights_md, 0);
    port_init(&m->d_dsrc, &src, bdpd, dnnl_query_diff_src_md, 2);
    port_init(&m->w_src, &src, bwpd, dnnl_query_src_md, 0);
    port_init(&m->w_ddst, &dst, bwpd, dnnl_query_diff_dst_md, 1);
    port_init(&m->w_dw, &wt, bwpd, dnnl_query_diff_weights_md, 2);
    m->ddst_shared = m->w_ddst.need && m->d_ddst.need &&
                     dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(bwpd, dnnl_query_diff_dst_md, 0),
                                            dnnl_primitive_desc_query_md(bdpd, dnnl_query_diff_dst_md, 0));
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bdpd);
    dnnl_primitive_desc_destroy(bwpd);
    DN(dnnl_memory_create(&m->m_b, &b, engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&m->m_db, &b, engine, DNNL_MEMORY_NONE));
    m->dw = mg_malloc_array((size_t)c->weight->size, sizeof(float));
    m->db = mg_malloc_array((size_t)c->cout, sizeof(float));
    size_t ndx;
    if (!mg_mul_size((size_t)n * (size_t)mg_layout_channels(c->lay_src, c->cin), (size_t)h * (size_t)w, &ndx) ||
        !mg_mul_size(ndx, sizeof(float), &ndx))
        abort();
    arena_reserve(3, ndx);
}

#define DIRECT_MAX_COUT 4
#define DIRECT_MAX_CIN 8
#define DIRECT_MAX_CIN_DW 16
static void conv_backward_dnnl(mg_conv2d *c, const float *x, const float *dy, float *g, float *dx, const float *act,
                               float slope, int n, int h, int w);

static void set(dnnl_memory_t mem, const void *p) { DN(dnnl_memory_set_data_handle(mem, (void *)p)); }

static void reorder(dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to)
{
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    DN(dnnl_primitive_execute(r, stream, 2, a));
}

/* plain data in: the memory the primitive reads (reordered when needed) */
static dnnl_memory_t port_in(port *p, const void *data)
{
    set(p->plain, data);
    if (!p->need) return p->plain;
    set(p->blk, arena[p->arena]);
    reorder(p->to_blk, p->plain, p->blk);
    return p->blk;
}

/* the memory the primitive writes; port_out then copies it to plain data */
static dnnl_memory_t port_dst(port *p, void *data)
{
    set(p->plain, data);
    if (!p->need) return p->plain;
    set(p->blk, arena[p->arena]);
    return p->blk;
}

/* pass i's scratchpad (arena 4) as the next argument, when it has one */
static void with_scratch(mg_conv_impl *m, int i, dnnl_exec_arg_t *args, int *n)
{
    if (!m->m_scratch[i]) return;
    set(m->m_scratch[i], arena[4]);
    args[(*n)++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, m->m_scratch[i]};
}

static void port_out(port *p)
{
    if (p->need) reorder(p->to_plain, p->blk, p->plain);
}

/* Which passes take the direct kernels (conv_direct*.c) instead of oneDNN:
 * stride 1 and few output channels (forward, weights, data; the input may be
 * blocked nChw16c, the output plain, or nhwc both), few input channels in
 * plain layouts (data gradient), a plain input of few channels into a
 * blocked output (weight gradient), or nhwc with more outputs (weight
 * gradient, fp32 in both precisions); thresholds from the per-layer timings in
 * docs/results.md. MRGAN_CONV_DIRECT=0 turns them off (comparisons). */
static int direct_on(void)
{
    static int env = -1;
    if (env < 0) {
        const char *e = getenv("MRGAN_CONV_DIRECT");
        env = !(e && !strcmp(e, "0"));
    }
    return env;
}
/* few outputs: forward, weight and data gradient direct (plain or blocked
 * input, plain output; or nhwc both sides with k * cin >= 16, the data
 * gradient only for 16 to 48 input channels) */
static int direct_narrow(const mg_conv2d *c)
{
    return direct_on() && c->stride == 1 && c->cout <= DIRECT_MAX_COUT &&
           (c->lay_dst == MG_LAYOUT_NCHW || (c->lay_src == MG_LAYOUT_NHWC && c->k * c->cin >= 16));
}
/* an input of few channels, plain, into 16 or more blocked outputs (the
 * session-10 layout of DCI-Net's conv1): the weight gradient only */
static int direct_dw_dyblk(const mg_conv2d *c)
{
    return direct_on() && c->stride == 1 && c->cin <= DIRECT_MAX_CIN_DW && c->lay_src == MG_LAYOUT_NCHW &&
           c->lay_dst == MG_LAYOUT_NCHW16C;
}
/* nhwc, more than DIRECT_MAX_COUT outputs, k * cin >= 16 (DCI-Net's conv1
 * and conv2): the weight gradient only, in fp32 also in bf16 mode (oneDNN's
 * bf16 weight gradients cost training accuracy, docs/training.md) */
static int direct_dw_wide(const mg_conv2d *c)
{
    return direct_on() && c->stride == 1 && c->lay_src == MG_LAYOUT_NHWC && c->cout > DIRECT_MAX_COUT &&
           c->k * c->cin >= 16 && c->k <= 32;
}
static int direct_bwd_d(const mg_conv2d *c)
{
    return (direct_narrow(c) && (c->lay_src != MG_LAYOUT_NHWC || (c->cin >= 16 && c->cin <= 48))) ||
           (direct_on() && c->stride == 1 && c->lay_src == MG_LAYOUT_NCHW && c->lay_dst == MG_LAYOUT_NCHW &&
            c->cin <= DIRECT_MAX_CIN);
}

static void check_layouts(const mg_conv2d *c)
{
    if ((c->lay_src == MG_LAYOUT_NHWC) != (c->lay_dst == MG_LAYOUT_NHWC)) { /* a programming error */
        fprintf(stderr, "mrgan: conv2d with nhwc on one side only (oneDNN has no fast kernel for it)\n");
        abort();
    }
}

void mg_conv2d_forward(mg_conv2d *c, const float *x, float *y, int n, int h, int w)
{
    check_layouts(c);
    if (direct_narrow(c)) {
        (c->lay_src == MG_LAYOUT_NHWC      ? mg_conv_direct_forward_nhwc
         : c->lay_src == MG_LAYOUT_NCHW16C ? mg_conv_direct_forward_blk
                                           : mg_conv_direct_forward)(
            x, c->weight->w, c->bias ? c->bias->w : NULL, y, n, c->cin, c->cout, h, w, c->k, c->pad);
        if (c->fuse_leaky)
            mg_leaky_forward(y, y, (long)n * c->cout * mg_conv_out(h, c->k, 1, c->pad) * mg_conv_out(w, c->k, 1, c->pad),
                             c->slope);
        return;
    }
    plan(c, n, h, w);
    mg_conv_impl *m = c->impl;
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, port_in(&m->f_src, x)},
                               {DNNL_ARG_WEIGHTS, port_in(&m->f_w, c->weight->w)},
                               {DNNL_ARG_DST, port_dst(&m->f_dst, y)},
                               {DNNL_ARG_BIAS, m->m_b}};
    if (c->bias) set(m->m_b, c->bias->w);
    int na = c->bias ? 4 : 3;
    with_scratch(m, 0, args, &na);
    DN(dnnl_primitive_execute(m->fwd, stream, na, args));
    port_out(&m->f_dst);
    DN(dnnl_stream_wait(stream));
}

/* dst = leaky'(act) * src (dst may be src) */
static void leaky_mask(float *dst, const float *src, const float *act, long nx, float slope)
{
#pragma omp parallel for simd schedule(static) if (nx > (1L << 16))
    for (long i = 0; i < nx; i++) dst[i] = act[i] > 0 ? src[i] : slope * src[i];
}

/* act NULL: dx += the data gradient; else dx = leaky'(act) * it (mg_conv2d_backward_act) */
static void backward(mg_conv2d *c, const float *x, const float *dy, float *dx, const float *act, float slope, int n,
                     int h, int w)
{
    check_layouts(c);
    /* narrow (few outputs), dyblk (blocked outputs) and wide (nhwc, more
     * outputs) exclude each other */
    const int narrow = direct_narrow(c), dyblk = direct_dw_dyblk(c), wide = direct_dw_wide(c);
    const int dw_direct = narrow || dyblk || wide, dx_direct = dx && direct_bwd_d(c);
    float *db = c->bias ? c->bias->g : NULL;
    if (narrow)
        (c->lay_src == MG_LAYOUT_NHWC      ? mg_conv_direct_backward_weights_nhwc
         : c->lay_src == MG_LAYOUT_NCHW16C ? mg_conv_direct_backward_weights_blk
                                           : mg_conv_direct_backward_weights)(
            x, dy, c->weight->g, db, n, c->cin, c->cout, h, w, c->k, c->pad);
    if (dyblk)
        mg_conv_direct_backward_weights_dyblk(x, dy, c->weight->g, db, n, c->cin, c->cout, h, w, c->k, c->pad);
    if (dx_direct && c->lay_src == MG_LAYOUT_NHWC) {
        mg_conv_direct_backward_data_nhwc(dy, c->weight->w, dx, act, slope, n, c->cin, c->cout, h, w, c->k, c->pad);
    } else if (dx_direct && act && c->lay_src == MG_LAYOUT_NCHW16C) {
        mg_conv_direct_backward_data_blk_act(dy, c->weight->w, dx, act, slope, n, c->cin, c->cout, h, w, c->k, c->pad);
    } else if (dx_direct) {
        const long nx = (long)n * mg_layout_channels(c->lay_src, c->cin) * h * w;
        if (act) memset(dx, 0, sizeof(float) * (size_t)nx);
        (c->lay_src == MG_LAYOUT_NCHW16C ? mg_conv_direct_backward_data_blk : mg_conv_direct_backward_data)(
            dy, c->weight->w, dx, n, c->cin, c->cout, h, w, c->k, c->pad);
        if (act) leaky_mask(dx, dx, act, nx, slope);
    }
    if (!dw_direct || (dx && !dx_direct))
        conv_backward_dnnl(c, x, dy, dw_direct ? NULL : c->weight->g, dx_direct ? NULL : dx, act, slope, n, h, w);
    if (wide)
        mg_conv_direct_backward_weights_wide_nhwc(x, dy, c->weight->g, db, n, c->cin, c->cout, h, w, c->k, c->pad);
}

void mg_conv2d_backward(mg_conv2d *c, const float *x, const float *dy, float *dx, int n, int h, int w)
{
    backward(c, x, dy, dx, NULL, 0.0f, n, h, w);
}

void mg_conv2d_backward_act(mg_conv2d *c, const float *x, const float *dy, float *dx, const float *act, float slope,
                            int n, int h, int w)
{
    backward(c, x, dy, dx, act, slope, n, h, w);
}

/* oneDNN's passes: dw, db when g is not NULL; dx when dx is not NULL */
static void conv_backward_dnnl(mg_conv2d *c, const float *x, const float *dy, float *g, float *dx, const float *act,
                               float slope, int n, int h, int w)
{
    plan(c, n, h, w);
    mg_conv_impl *m = c->impl;
    if (g) {
        set(m->m_db, m->db);
        dnnl_exec_arg_t wargs[5] = {{DNNL_ARG_SRC, port_in(&m->w_src, x)},
                                    {DNNL_ARG_DIFF_DST, port_in(&m->w_ddst, dy)},
                                    {DNNL_ARG_DIFF_WEIGHTS, port_dst(&m->w_dw, m->dw)},
                                    {DNNL_ARG_DIFF_BIAS, m->m_db}};
        int na = c->bias ? 4 : 3;
        with_scratch(m, 2, wargs, &na);
        DN(dnnl_primitive_execute(m->bwd_w, stream, na, wargs));
        port_out(&m->w_dw);
    }
    if (dx) {
        dnnl_memory_t ddst;
        if (g && m->ddst_shared) { /* arena 1 still holds dy in this layout */
            set(m->d_ddst.blk, arena[1]);
            ddst = m->d_ddst.blk;
        } else {
            ddst = port_in(&m->d_ddst, dy);
        }
        dnnl_exec_arg_t dargs[4] = {{DNNL_ARG_DIFF_DST, ddst},
                                    {DNNL_ARG_WEIGHTS, port_in(&m->d_w, c->weight->w)},
                                    {DNNL_ARG_DIFF_SRC, port_dst(&m->d_dsrc, arena[3])}};
        int na = 3;
        with_scratch(m, 1, dargs, &na);
        DN(dnnl_primitive_execute(m->bwd_d, stream, na, dargs));
        port_out(&m->d_dsrc);
    }
    DN(dnnl_stream_wait(stream));
    if (g) {
        for (long i = 0; i < c->weight->size; i++) g[i] += m->dw[i];
        if (c->bias)
            for (int i = 0; i < c->cout; i++) c->bias->g[i] += m->db[i];
    }
    if (dx) {
        const long nx = (long)n * mg_layout_channels(c->lay_src, c->cin) * h * w;
        const float *src = arena[3];
        if (act) {
            leaky_mask(dx, src, act, nx, slope);
        } else {
#pragma omp parallel for simd schedule(static) if (nx > (1L << 16))
            for (long i = 0; i < nx; i++) dx[i] += src[i];
        }
    }
}

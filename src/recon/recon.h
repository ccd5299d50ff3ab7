/* mrgan recon: classical reconstructions (paper Table 1 baselines).
 *  - orthonormal Daubechies wavelets (periodic, multi-level, 2D)
 *  - CS SENSE with l1-wavelet (FISTA) and total variation (ADMM)
 *  - ARC / GRAPPA-style k-space interpolation
 * Conventions as src/mri (coils x H x W, phase encodes along H). See
 * docs/baselines.md. */
#ifndef MRGAN_RECON_H
#define MRGAN_RECON_H

#include "../core/core.h"
#include "../models/models.h"
#include "../mri/mri.h"
#include "../io/io.h"
#include "../metrics/metrics.h"

/* ---------------- wavelets ---------------- */
enum { MG_WAV_HAAR = 0, MG_WAV_DB2 = 1, MG_WAV_DB4 = 2 };
typedef struct {
    int type, levels;
    int len;          /* filter taps */
    double lo[8], hi[8];
} mg_wavelet;
int mg_wavelet_init(mg_wavelet *w, int type, int levels);
/* Largest useful level count for an H x W image: H and W divisible by 2^L
 * and the coarsest band at least 8 pixels (at most 6 levels). */
int mg_wavelet_levels(long H, long W);
/* In-place multi-level 2D transform (Mallat layout: coarse band top left).
 * H and W must be divisible by 2^levels. Orthonormal: inverse = adjoint. */
void mg_wavelet_forward(const mg_wavelet *w, cfloat *x, long H, long W, cfloat *tmp);
void mg_wavelet_inverse(const mg_wavelet *w, cfloat *x, long H, long W, cfloat *tmp);

/* ---------------- conjugate gradient (cg.c) ----------------
 * x <- solution of A x = b for a Hermitian positive semi-definite A given by
 * apply(ctx, in, out) = A in, from the x given (warm start), at most iters
 * iterations (stops early at a zero residual or when p^H A p <= 0). Returns
 * the iterations run. */
typedef void (*mg_normal_fn)(void *ctx, const cfloat *in, cfloat *out);
int mg_cg(mg_normal_fn apply, void *ctx, const cfloat *b, cfloat *x, long n, int iters);

/* ---------------- compressed sensing (cs.c; cs_wavelet.c, cs_tv.c) ---------------- */
enum { MG_REG_WAVELET = 0, MG_REG_TV = 1 };
typedef struct {
    int reg;          /* MG_REG_WAVELET (FISTA) or MG_REG_TV (ADMM) */
    float lambda;     /* weight, relative to the data scale (as bart pics; 0.002) */
    int iters;        /* FISTA iterations / ADMM outer iterations (30) */
    int wavelet;      /* MG_WAV_* (db2) */
    int randshift;    /* cycle spinning for wavelets (1) */
    int momentum;     /* FISTA momentum (1); 0 gives ISTA */
    float rho;        /* ADMM penalty (0.5) */
    int cg_iters;     /* ADMM inner CG iterations (10) */
    float alpha;      /* ADMM over-relaxation (1.6) */
    float scale;      /* data scale; <= 0: estimate as bart pics does */
    long sets;        /* map sets (1; 2: ESPIRiT's soft SENSE, one image per set, combined by RSS) */
    double *objective; /* if not NULL: objective after each iteration (iters values) */
} mg_cs_opts;
void mg_cs_defaults(mg_cs_opts *o, int reg);
/* Scale of k-space as bart pics estimates it: magnitudes of the RSS image of
 * the central calibration region (<= 32 readout samples x the fully sampled
 * centre lines), rescaled to the full size; p90 if (max - p90) < 2 (p90 - med),
 * else max. */
float mg_cs_scaling(const cfloat *ksp, const float *mask, long C, long H, long W);
/* min_x 1/2 ||M F S x - y||^2 + lambda R(x) on data divided by the scale;
 * the result is multiplied back. Returns the scale used. */
float mg_cs_recon(const cfloat *ksp, const cfloat *sens, const float *mask, long C, long H, long W,
                  const mg_cs_opts *o, cfloat *img);
/* The solvers on data at scale 1 (A: the slice's SENSE operator, mri.h):
 * l1-wavelet by FISTA (cs_wavelet.c), TV by ADMM (cs_tv.c). */
void mg_cs_wavelet_solve(mg_sense_op *op, const cfloat *y, const mg_cs_opts *o, cfloat *img);
void mg_cs_tv_solve(mg_sense_op *op, const cfloat *y, const mg_cs_opts *o, cfloat *x);
/* The objective (at data scale 1) and pieces, for tests. */
double mg_tv_norm(const cfloat *x, long H, long W);
/* forward differences, circular: g = (x[y+1]-x[y], x[:,x+1]-x[:,x]) (2 x H x W) */
void mg_grad_forward(const cfloat *x, cfloat *g, long H, long W);
void mg_grad_adjoint(const cfloat *g, cfloat *x, long H, long W);

/* ---------------- ARC ---------------- */
typedef struct {
    int kx_half;      /* readout taps each side (3: 7 taps) */
    int ky_window;    /* search window for source lines (4) */
    int sources;      /* nearest acquired lines per side (1) */
    float lambda;     /* Tikhonov weight relative to trace(A^H A)/n (0.05) */
    long acs;         /* calibration lines (12) */
} mg_arc_opts;
void mg_arc_defaults(mg_arc_opts *o);
/* Fills the missing phase-encode lines of every coil from acquired
 * neighbours (one kernel per distinct source pattern, calibrated on the
 * centre lines, applied in hybrid x/ky space). ksp_out keeps acquired lines
 * exactly. Returns the number of lines left empty (no usable sources), or -1
 * with an error. */
long mg_arc(const cfloat *ksp, const float *mask, long C, long H, long W, const mg_arc_opts *o,
            cfloat *ksp_out);
/* Direct k-space application of one kernel (for tests): out(y, kx) =
 * sum_{c,d,j} w[((c * nd + d) * taps + j) * C + t] K_c(y + dy[d], kx + j - h). */
void mg_arc_apply_kspace(const cfloat *ksp, const cfloat *w, const int *dy, int nd, int h, long C,
                         long H, long W, long y, cfloat *out);
void mg_arc_apply_hybrid(const cfloat *hyb, const cfloat *w, const int *dy, int nd, int h, long C,
                         long H, long W, long y, cfloat *out);

/* ---------------- the methods behind zerofill, cs, arc, recon and eval (method.c) ----------------
 * One interface so that 'mrgan eval' runs them side by side exactly as the
 * single-method commands do. */
enum { MG_M_ZF, MG_M_CS_WAVELET, MG_M_CS_TV, MG_M_ARC, MG_M_DCINET };
typedef struct {
    int kind;
    char name[64];
    long C, H, W, slices;
    long sets;            /* map sets of the maps it is given (1; 2: soft SENSE; DCI-Net uses set 1) */
    const char *path;     /* input file, for messages */
    float *all;           /* every line (input already undersampled) */
    mg_cs_opts cs;        /* CS: options; mean data scale = scale_sum / slices */
    double scale_sum;
    mg_arc_opts arc;      /* ARC: options; lines left empty */
    long empty;
    cfloat *kf;
    mg_dcinet net;        /* DCI-Net, run by eng (the CPU unless set otherwise) */
    mg_domain domain;     /* what it was trained on (domain.valid 0: not recorded) */
    mg_engine eng;
    int flips;            /* DCI-Net: averaged over this many mirror images (models.h; 0, 1: none) */
    cfloat *ku, *work;
    float *out;
} mg_method;
/* defaults of the kind (cs: lambda 0.002, 30 iterations; arc: 7 taps ...) */
void mg_method_init(mg_method *m, int kind, const char *name);
/* DCI-Net weights (models.h's weights-only loader), run on the CPU */
int mg_method_load(mg_method *m, const char *ckpt);
/* buffers for C coils of H x W (path: the input, for messages) */
void mg_method_open(mg_method *m, long C, long H, long W, const char *path);
/* img (H x W) of one slice from k-space k, maps and mask (NULL: the input is
 * already undersampled); 0, or -1 with an error naming the file and slice */
int mg_method_slice(void *m, const cfloat *k, const cfloat *sens, const float *mask, cfloat *img, long s);
void mg_method_free(mg_method *m);

/* ---------------- the evaluation protocol (evaluate.c) ----------------
 * Slices s0..s1-1 of the fully sampled data, each undersampled with the mask
 * and reconstructed with the maps that slice(ctx, s, sens) gives (it returns
 * the mask, or NULL with an error), compared with the fully sampled SENSE
 * combination S^H F^-1 k on magnitudes as one volume: NMSE, PSNR and HFEN
 * over the volume, SSIM averaged over slices (7x7, data range = the volume's
 * maximum), FID/KID against the references when fid is given. */
typedef const float *(*mg_eval_slice_fn)(void *ctx, long s, cfloat *sens);
typedef struct {
    /* set by the caller */
    const mg_kdata *data;
    long s0, s1;
    mg_eval_slice_fn slice;
    void *ctx;
    const mg_fid_model *fid; /* NULL: no FID/KID */
    const char *path;        /* the data's file, for messages */
    int quiet;               /* no progress lines */
    int per_slice;           /* collect per-slice CSV lines in `lines` */
    int nmse_only;           /* NMSE alone (validation): no SSIM, PSNR, HFEN */
    long sets;               /* map sets the slice callback gives (0 or 1: one) */
    int ref_rss;             /* fastMRI's reference: RSS at reconSpace size (the file's
                              * reconstruction_rss when present); reconstructions cropped */
    /* after mg_eval_prepare: references (complex, magnitudes), masks,
     * their sampled and acquired line counts (net R = acquired / sampled),
     * the volume maximum, FID features */
    cfloat *ref, *sens;
    float *rmag, *xmag, *masks, *fref;
    double vmax;
    long sampled, acquired;
    long ch, cw;             /* the compared size (H x W, or reconSpace's centre) */
    const char *ref_note;    /* what the reference is, for tables */
    char *lines;             /* per-slice CSV rows (no header) */
    size_t len, cap;
} mg_eval;
typedef struct {
    char name[64];
    double nmse, psnr, ssim, hfen, secs, fid, kid;
    int has_fid;
} mg_eval_row;
int mg_eval_prepare(mg_eval *e);
/* method m (opened for the data's shape) over the slices: reconstructions
 * into img ((s1 - s0) x ch x cw: the compared, possibly cropped, images; img
 * must hold (s1 - s0) x H x W), metrics into row. 0, or -1 with an error. */
int mg_eval_method(mg_eval *e, mg_method *m, mg_eval_row *row, cfloat *img);
void mg_eval_free(mg_eval *e);
/* OUTDIR/table.md (title, the table, footnote), table.csv and per_slice.csv,
 * each atomically; *table_md (if not NULL): the table.md text (caller frees) */
int mg_eval_write(const mg_eval *e, const mg_eval_row *rows, int nr, const char *outdir, const char *title,
                  const char *footnote, char **table_md);

#endif

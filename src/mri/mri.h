/* mrgan mri: the multi-coil SENSE forward model and its pieces, sampling
 * masks, coil-sensitivity estimation and multi-coil simulation.
 *
 * Conventions (docs/design.md): k-space and coil images are row-major
 * coils x H x W complex float; phase-encode lines run along H (rows), the
 * readout along W. A mask is a vector of H values in {0, 1}, one per
 * phase-encode line, applied identically to every readout column and coil.
 * F is the centred orthonormal 2D FFT of src/fft, so F^H = F^-1. */
#ifndef MRGAN_MRI_H
#define MRGAN_MRI_H

#include "../core/core.h"

/* ---------------- operators ----------------
 * S   : image (H x W) -> coil images (C x H x W),  x_c = s_c * m
 * S^H : coil images   -> image,                    m = sum_c conj(s_c) x_c
 * M   : k-space -> k-space, zeroes unsampled lines (self-adjoint)
 * A   = M F S,  A^H = S^H F^-1 M.
 * `work` is scratch of C*H*W complex values, or NULL to allocate. */
void mg_sens_apply(const cfloat *img, const cfloat *sens, cfloat *coils, long C, long H, long W);
void mg_sens_adjoint(const cfloat *coils, const cfloat *sens, cfloat *img, long C, long H, long W);
void mg_mask_apply(cfloat *ksp, const float *mask, long C, long H, long W);
void mg_sense_forward(const cfloat *img, const cfloat *sens, const float *mask, cfloat *ksp, long C,
                      long H, long W);
void mg_sense_adjoint(const cfloat *ksp, const cfloat *sens, const float *mask, cfloat *img,
                      cfloat *work, long C, long H, long W);
/* Maps to sum_c |s_c|^2 = 1 at every pixel where they are not (near) zero,
 * in place, when their root-sum-of-squares is off by more than tol anywhere
 * (maps within tol are left untouched): the SENSE operator, FISTA's step and
 * the DC units assume unit-norm maps. Returns the largest deviation before. */
double mg_sens_normalize(cfloat *sens, long C, long H, long W, double tol);

/* ---- the SENSE operator object (sense_op.c): A = M F S of one slice ----
 * x: H x W image, y: C x H x W k-space. work: C*H*W scratch (NULL: owned).
 * mask NULL: every line. With S map sets (ESPIRiT's soft SENSE) the maps
 * are S x C x H x W and x holds S images: A x = M F sum_s S_s x_s. */
typedef struct {
    const cfloat *sens;
    const float *mask;
    long C, H, W, S;
    cfloat *ksp; /* scratch */
    int own;
} mg_sense_op;
void mg_sense_op_init(mg_sense_op *op, const cfloat *sens, const float *mask, long C, long H, long W, cfloat *work);
/* the same with S map sets (S = 1: mg_sense_op_init) */
void mg_sense_op_init_sets(mg_sense_op *op, const cfloat *sens, long S, const float *mask, long C, long H, long W,
                           cfloat *work);
/* One image from S set images (S x n): the root-sum-of-squares magnitude
 * with the first set's phase (S = 1: a copy). */
void mg_sets_combine(const cfloat *x, long S, long n, cfloat *img);
/* Zero filling with S map sets: the set images S_s^H F^-1 M K, combined */
void mg_zerofill_sets(const cfloat *ksp, const cfloat *sens, long S, const float *mask, cfloat *img, long C, long H,
                      long W);
void mg_sense_op_free(mg_sense_op *op);
void mg_sense_op_forward(mg_sense_op *op, const cfloat *x, cfloat *y);   /* y = A x */
void mg_sense_op_adjoint(mg_sense_op *op, const cfloat *y, cfloat *x);   /* x = A^H y */
void mg_sense_op_normal(mg_sense_op *op, const cfloat *x, cfloat *out);  /* out = A^H A x */
/* r = A^H (A x - y): the gradient of 1/2 ||A x - y||^2 (the DC unit's residual) */
void mg_sense_op_residual(mg_sense_op *op, const cfloat *x, const cfloat *y, cfloat *r);
/* 1/2 ||A x - y||^2 */
double mg_sense_op_data_term(mg_sense_op *op, const cfloat *x, const cfloat *y);

/* ---- A^H A and A^H (A x - y) through the phase-encode FFT alone (sense_pe.c) ----
 * A line mask commutes with the readout FFT, so A^H A = S^H F_pe^H M F_pe S
 * and A^H y = S^H F_pe^H F_ro^H y: one FFT pass along H each way per
 * application instead of two 2D FFTs. Needs a mask and even H
 * (mg_sense_pe_fits). hyb (C x W x H, transposed) holds the data term of y
 * (C x H x W k-space) from mg_sense_pe_data (work: C*H*W scratch).
 * mg_sense_pe_residual: r = A^H (A x - y), or A^H A x when hyb is NULL;
 * t: C*H*W scratch. One map set. */
int mg_sense_pe_fits(long H, const float *mask);
void mg_sense_pe_data(const cfloat *y, const float *mask, long C, long H, long W, cfloat *work, cfloat *hyb);
void mg_sense_pe_residual(const cfloat *sens, const float *mask, const cfloat *hyb, const cfloat *x, cfloat *r,
                          cfloat *t, long C, long H, long W);

/* Zero-filled reconstruction mz = sum_c conj(s_c) F^-1(M K_c); mask may be
 * NULL for data that are already undersampled (or fully sampled: mf). */
void mg_zerofill(const cfloat *ksp, const cfloat *sens, const float *mask, cfloat *img, long C,
                 long H, long W);

/* The root-sum-of-squares of the coil images F^-1 K_c of fully sampled
 * k-space (C x H x W) into rss (H x W); work holds C x H x W. */
void mg_rss(const cfloat *ksp, long C, long H, long W, cfloat *work, float *rss);

/* ---------------- masks (vectors of n phase-encode lines) ----------------
 * The centre block holds `center` lines starting at (n - center + 1) / 2
 * (the fastMRI convention; for n = 256, center = 12: lines 122..133). */
long mg_mask_center_start(long n, long center);

/* 1D variable density: the centre block, plus exactly round(n/accel) -
 * center further lines whose inclusion probability falls linearly with the
 * distance from the centre block; drawn by systematic sampling so the net
 * acceleration is exact. Returns -1 (with an error) on impossible input. */
int mg_mask_vd(float *mask, long n, double accel, long center, uint64_t seed);
/* fastMRI RandomMaskFunc: round(n*center_fraction) centre lines, other lines
 * Bernoulli with p = (n/accel - n_low) / (n - n_low). */
int mg_mask_random(float *mask, long n, double accel, double center_fraction, uint64_t seed);
/* fastMRI EquispacedMaskFunc: centre lines, plus every accel-th line from a
 * random offset in [0, accel). */
int mg_mask_equispaced(float *mask, long n, double accel, double center_fraction, uint64_t seed);
long mg_mask_count(const float *mask, long n);
/* One entry point for all mask types (MG_MASK_*); center_frac < 0 derives the
 * fraction from `center` lines. */
enum { MG_MASK_VD = 0, MG_MASK_RANDOM = 1, MG_MASK_EQUISPACED = 2 };
int mg_mask_make(int type, float *mask, long n, double accel, long center, double center_frac,
                 uint64_t seed);
/* The acquired lines of one slice's k-space (C x H x W): inside [lo, hi)
 * and not zero in every coil, into acq (H values 0/1); returns their count. */
long mg_acquired_lines(const cfloat *k, long C, long H, long W, long lo, long hi, float *acq);
/* The same over the acquired lines only (acq: n values, 0/1; NULL: all):
 * R counts acquired lines, padded or empty lines are never sampled, and the
 * centre lines stay at the k-space centre. Equals mg_mask_make when every
 * line was acquired. */
int mg_mask_make_acquired(int type, float *mask, const float *acq, long n, double accel, long center,
                          double center_frac, uint64_t seed);
/* The seed of slice `slice`'s fixed evaluation mask under base seed `seed`
 * (used by zerofill, recon, validation and evaluation alike). */
uint64_t mg_mask_slice_seed(uint64_t seed, long slice);
/* Validates that a mask is 0/1 valued and not empty (name is for the message). */
int mg_mask_check(const float *mask, long n, const char *name);

/* ---------------- sensitivity estimation ----------------
 * From the `acs` fully sampled centre lines of k-space (C x H x W).
 * MG_SENS_DIRECT: normalised low resolution (Kaiser-Bessel windowed ACS,
 *   zero-padded, inverse FFT, divided by the root sum of squares).
 * MG_SENS_WALSH: per-pixel dominant eigenvector of the local coil covariance
 *   of the low-resolution coil images (Walsh et al. 2000), phase referenced
 *   to the first coil's low-resolution phase.
 * MG_SENS_ESPIRIT: ESPIRiT, one set (mg_espirit with its defaults; maps are
 *   zero where the eigenvalue is below 0.8).
 * Maps have unit norm sum_c |s_c|^2 = 1 at every pixel. */
enum { MG_SENS_DIRECT = 0, MG_SENS_WALSH = 1, MG_SENS_ESPIRIT = 2 };
int mg_sens_estimate(const cfloat *ksp, long C, long H, long W, long acs, int method,
                     cfloat *sens);
typedef struct mg_espirit_opts mg_espirit_opts;
/* the same with ESPIRiT's options (NULL: its defaults; eo->maps sets are written) */
int mg_sens_estimate_opts(const cfloat *ksp, long C, long H, long W, long acs, int method, const mg_espirit_opts *eo,
                          cfloat *sens);
/* ESPIRiT (espirit.c): `maps` (1 or 2) sets of C maps (maps x C x H x W) from the
 * calibration region of `acs` centre lines x calw readout points (0: the
 * centre min(W, 24), as bart ecalib); kernel k x k (6), singular-value threshold (0.001),
 * eigenvalue crop (0.8); evals (maps x H x W, or NULL): the eigenvalues. */
struct mg_espirit_opts {
    long kernel;
    double threshold, crop;
    long maps, calw;
};
void mg_espirit_defaults(mg_espirit_opts *o);
int mg_espirit(const cfloat *ksp, long C, long H, long W, long acs, const mg_espirit_opts *o, cfloat *maps,
               float *evals);
/* Projection residual of fully sampled k-space onto the maps:
 * ||x - S S^H x|| / ||x|| with x_c = F^-1 K_c (all coils). */
double mg_sens_projection_nrmse(const cfloat *ksp, const cfloat *sens, long C, long H, long W);

/* ---------------- simulation ----------------
 * Birdcage (2D Biot-Savart, infinite wires on a ring of `radius` in units of
 * the half field of view) maps, normalised to sum_c |s_c|^2 = 1. */
void mg_birdcage_maps(cfloat *sens, long C, long H, long W, double radius, double rotation);
/* Multiply img by exp(i*phi), phi a random polynomial of degree <= 2 in the
 * normalised coordinates with coefficients uniform in (-amp, amp). */
void mg_random_phase(cfloat *img, long H, long W, double amp, mg_rng *rng);
/* k-space of one slice: K_c = F(s_c * img) + complex Gaussian noise with
 * standard deviation sigma per real and imaginary part. */
void mg_simulate_kspace(const cfloat *img, const cfloat *sens, long C, long H, long W,
                        double sigma, mg_rng *rng, cfloat *ksp);
/* Resample a real image (h x w) to (H x W) by cropping / zero-padding its
 * centred spectrum (a lower-resolution acquisition of the same field of
 * view); the result is real. Intensities are preserved. */
void mg_resample_fourier(const float *in, long h, long w, float *out, long H, long W);

/* ---- scanner-like simulation pieces (docs/data.md "Looking like scanner data") ---- */
/* The field of a circular current loop (centre c, normal n, radius a; mm)
 * at r by the law of Biot and Savart, without mu0 I / (4 pi): on the axis it
 * is 2 pi a^2 / (a^2 + d^2)^(3/2) along n. Numerical (48 arcs). */
void mg_loop_field(const double c[3], const double n[3], double a, const double r[3], double B[3]);
/* A receive array of loop coils on a cylinder around the head (coil_array.c):
 * rings of at most 8 loops along z (B0), the cylinder 1.12-1.32 x the head
 * radius, loops jittered in angle, radius, height and size, the axis tilted
 * up to 0.15 rad, the whole array rotated at random. */
#define MG_MAX_ARRAY_COILS 64
typedef struct { double centre[3], normal[3], radius; } mg_coil_loop;
typedef struct { long C; mg_coil_loop loop[MG_MAX_ARRAY_COILS]; } mg_coil_array;
void mg_coil_array_random(mg_coil_array *arr, long C, double head_radius_mm, mg_rng *rng);
/* Its receive sensitivities Bx - i By in the plane z = z_mm (image centre on
 * the axis; pixels px_h_mm x px_w_mm), normalised to sum_c |s_c|^2 = 1. */
void mg_coil_array_maps(const mg_coil_array *arr, cfloat *sens, long H, long W, double px_h_mm, double px_w_mm,
                        double z_mm);
/* A smooth random field (random_field.c): white complex Gaussian noise
 * through the envelope exp(-|k|^2 / (2 kc^2)) (k in cycles per field of
 * view), its real part, mean 0 and standard deviation 1. */
void mg_random_field(float *out, long H, long W, double kc, mg_rng *rng);
/* Gaussian smoothing (std sigma pixels, periodic), in place */
void mg_gaussian_smooth(float *img, long H, long W, double sigma_px);
/* A random monotone tone curve (contrast.c): values at MG_TONE_KNOTS
 * equally spaced points of [0, 1], from 0 to 1, strictly increasing. */
#define MG_TONE_KNOTS 7
void mg_tone_curve_random(float knots[MG_TONE_KNOTS], mg_rng *rng);
/* the curve at x (clipped to [0, 1]), linear between knots */
float mg_tone_apply(const float knots[MG_TONE_KNOTS], float x);
/* A random smooth deformation of the plane (warp.c): rotation uniform in
 * +-12 degrees, each axis scaled by 0.9-1.1, and a displacement of at most
 * amp mm along each axis, a sum of MG_WARP_MODES plane waves of wavelength
 * max(60, 12 amp) to 2.5 x that (the map never folds). */
#define MG_WARP_MODES 4
typedef struct {
    double c, s, sx, sy, amp;
    double kx[MG_WARP_MODES], ky[MG_WARP_MODES], ph[MG_WARP_MODES], wt[2][MG_WARP_MODES];
} mg_warp;
void mg_warp_random(mg_warp *w, double amp_mm, mg_rng *rng);
/* the source position (mm) that output position (x, y) (mm, about the
 * centre) samples */
void mg_warp_point(const mg_warp *w, double x, double y, double *sx, double *sy);
/* extents (mm) of the output that holds a centred source box ext_x x ext_y */
void mg_warp_extent(const mg_warp *w, double ext_x, double ext_y, double *out_x, double *out_y);
/* Coil noise mixing A (C x C, row-major): noise A z with z white has the
 * covariance A A^H: I + corr x a complex Gaussian matrix / sqrt(C), rows
 * scaled by coil gains in [0.8, 1.25], then scaled so trace(A A^H) = C. */
void mg_noise_mixing_random(cfloat *A, long C, double corr, mg_rng *rng);
/* mg_simulate_kspace with correlated coil noise sigma A z (A NULL: white) */
void mg_simulate_kspace_mixed(const cfloat *img, const cfloat *sens, long C, long H, long W, double sigma,
                              const cfloat *A, mg_rng *rng, cfloat *ksp);
/* k-space (C x n) += sigma A z, z white complex Gaussian (A NULL: I); at
 * most MG_MAX_ARRAY_COILS coils with A */
void mg_kspace_add_noise(cfloat *ksp, long C, long n, double sigma, const cfloat *A, mg_rng *rng);

#endif

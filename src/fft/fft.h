/* mrgan fft: centred, orthonormal 2D FFT over a batch of images (coils).
 *
 *   forward:  K = fftshift(fft2(ifftshift(x))) / sqrt(H*W)
 *   inverse:  x = fftshift(ifft2(ifftshift(K))) / sqrt(H*W)
 *
 * Both are unitary, so the inverse is the adjoint. Data are row-major
 * batch x H x W complex float; the transform runs in place. A 2D transform is
 * batched 1D FFTs along the rows, a cache-blocked transpose, 1D FFTs again and
 * a transpose back (per-thread scratch). FFTW_ESTIMATE plans (deterministic)
 * are created once per (count, length, direction, alignment, threads) and
 * cached; creating them is serialised, executing them is thread-safe. */
#ifndef MRGAN_FFT_H
#define MRGAN_FFT_H

#include "../core/core.h"

enum { MG_FFT_FORWARD = -1, MG_FFT_INVERSE = 1 };

void mg_fft2c(cfloat *x, long batch, long h, long w, int dir);
/* Centred orthonormal 1D FFT along the last axis of `rows` rows of length w
 * (the readout of k-space: rows = coils * H). */
void mg_fft1c(cfloat *x, long rows, long w, int dir);
/* Unnormalised, unshifted DFT of each of `rows` contiguous rows of length n
 * (FFTW's sign convention; forward then inverse multiplies by n), in place:
 * for operators that fold the shifts and the scale into their other steps
 * (mri/sense_pe.c). */
void mg_dft_rows(cfloat *x, long rows, long n, int dir);

/* Threads used inside one transform (default: 1; set before planning). */
void mg_fft_set_threads(int n);
/* Free all cached plans (for leak checkers at exit). */
void mg_fft_cleanup(void);
/* Free the calling thread's transform scratch (before a helper thread ends). */
void mg_fft_release_thread(void);

#endif

/* PNG output (libpng's simplified API) and the image writer dispatch. */
#include "io.h"

#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

static int png_write(const char *path, const unsigned char *pix, long h, long w, png_uint_32 format, int channels)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = format;
    char *tmp = mg_tmp_path(path);
    int ok = png_image_write_to_file(&im, tmp, 0, pix, (png_int_32)(channels * w), NULL);
    if (!ok) mg_set_error("%s: cannot write PNG: %s", path, im.message);
    return mg_finish_tmp(ok, tmp, path, NULL);
}

int mg_png_write_gray(const char *path, const unsigned char *pix, long h, long w)
{
    return png_write(path, pix, h, w, PNG_FORMAT_GRAY, 1);
}

int mg_png_write_rgb(const char *path, const unsigned char *rgb, long h, long w)
{
    return png_write(path, rgb, h, w, PNG_FORMAT_RGB, 3);
}

int mg_png_read_gray(const char *path, unsigned char **pix, long *h, long *w)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path)) {
        mg_set_error("%s: cannot read PNG: %s", path, im.message);
        return -1;
    }
    im.format = PNG_FORMAT_GRAY;
    *pix = mg_malloc(PNG_IMAGE_SIZE(im));
    if (!png_image_finish_read(&im, NULL, *pix, 0, NULL)) {
        mg_set_error("%s: cannot read PNG: %s", path, im.message);
        free(*pix);
        *pix = NULL;
        png_image_free(&im);
        return -1;
    }
    *h = im.height;
    *w = im.width;
    return 0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float mg_auto_window(const cfloat *img, size_t n)
{
    float *m = mg_malloc_array(n, sizeof(float));
    for (size_t i = 0; i < n; i++) m[i] = cabsf(img[i]);
    qsort(m, n, sizeof(float), cmp_float);
    float hi = m[(size_t)(0.995 * (double)(n - 1))];
    if (!(hi > 0)) hi = m[n - 1] > 0 ? m[n - 1] : 1.0f;
    free(m);
    return hi;
}

int mg_png_write_mag(const char *path, const cfloat *img, long h, long w, float lo, float hi)
{
    size_t n = (size_t)(h * w);
    if (!(hi > lo)) {
        lo = 0;
        hi = mg_auto_window(img, n);
    }
    unsigned char *pix = mg_malloc(n);
    for (size_t i = 0; i < n; i++) {
        float v = (cabsf(img[i]) - lo) / (hi - lo);
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        pix[i] = (unsigned char)(v * 255.0f + 0.5f);
    }
    int rc = mg_png_write_gray(path, pix, h, w);
    free(pix);
    return rc;
}

/* path "a/b.png", index 3 -> "a/b_003.png" */
static char *indexed_name(const char *path, const char *ext, long idx)
{
    size_t n = strlen(path) + 16;
    char *p = mg_malloc(n);
    size_t stem = strlen(path) - strlen(ext);
    snprintf(p, n, "%.*s_%03ld%s", (int)stem, path, idx, ext);
    return p;
}

int mg_images_write(const char *path, const cfloat *img, long S, long h, long w)
{
    static const int wh[2] = {0, 1};
    return mg_images_write_layout(path, img, S, h, w, wh);
}

int mg_images_write_layout(const char *path, const cfloat *img, long S, long h, long w, const int wh[2])
{
    const long n = h * w;
    if (mg_has_suffix(path, ".png")) {
        /* one window for the whole stack so slices are comparable; shown as
         * bart toimg and fastMRI's imshow do: rows along W (the readout) */
        float hi = mg_auto_window(img, (size_t)(S * n));
        cfloat *t = mg_malloc_array((size_t)n, sizeof(cfloat));
        int rc = 0;
        for (long s = 0; s < S && !rc; s++) {
            char *p = S > 1 ? indexed_name(path, ".png", s) : mg_strdup(path);
            mg_transpose_c(img + s * n, h, w, t);
            rc = mg_png_write_mag(p, t, w, h, 0.0f, hi);
            free(p);
        }
        free(t);
        return rc ? -1 : 0;
    }
    if (mg_has_suffix(path, ".h5") || mg_has_suffix(path, ".hdf5") || mg_has_suffix(path, ".nii") ||
        mg_has_suffix(path, ".nii.gz")) {
        float *mag = mg_malloc_array((size_t)(S * n), sizeof(float));
        for (long i = 0; i < S * n; i++) mag[i] = cabsf(img[i]);
        int rc = mg_has_suffix(path, ".nii") || mg_has_suffix(path, ".nii.gz")
                     ? mg_nifti_write(path, w, h, S, mag, NULL)
                     : mg_h5_write_recon(path, mag, S, h, w);
        free(mag);
        return rc;
    }
    long dims[14] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, S};
    dims[wh[0]] = w;
    dims[wh[1]] = h;
    const int top = wh[0] > wh[1] ? wh[0] : wh[1];
    return mg_cfl_write(path, S > 1 ? 14 : top + 1, dims, img);
}

/* An image stack for FID (io.h): a cfl stack or a directory of PNGs. */
#include "io.h"

#include <complex.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* n images of H x W magnitudes from a cfl stack or a directory of PNGs */
float *mg_image_set_read(const char *path, long *n, long *H, long *W, int *png)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char **names = NULL;
        long k = 0;
        while (d && (e = readdir(d)))
            if (mg_has_suffix(e->d_name, ".png")) {
                names = realloc(names, sizeof(char *) * (size_t)(k + 1));
                names[k++] = mg_strdup(e->d_name);
            }
        if (d) closedir(d);
        if (k == 0) {
            mg_set_error("%s: no .png files", path);
            return NULL;
        }
        for (long i = 0; i < k; i++) /* sorted, for a stable feature order */
            for (long j = i + 1; j < k; j++)
                if (strcmp(names[j], names[i]) < 0) {
                    char *t = names[i];
                    names[i] = names[j];
                    names[j] = t;
                }
        float *out = NULL;
        int bad = 0;
        for (long i = 0; i < k; i++) {
            char full[4096];
            snprintf(full, sizeof full, "%s/%s", path, names[i]);
            unsigned char *pix;
            long h, w;
            if (!bad && mg_png_read_gray(full, &pix, &h, &w)) bad = 1;
            else if (!bad && i == 0) {
                *H = h, *W = w;
                out = mg_malloc_array((size_t)(k * h * w), sizeof(float));
            } else if (!bad && (h != *H || w != *W)) {
                mg_set_error("%s: %ldx%ld, but the first image is %ldx%ld", full, h, w, *H, *W);
                free(pix);
                bad = 1;
            }
            if (!bad) {
                for (long j = 0; j < h * w; j++) out[i * h * w + j] = pix[j];
                free(pix);
            }
            free(names[i]);
        }
        free(names);
        if (bad) {
            free(out);
            return NULL;
        }
        *n = k;
        *png = 1;
        return out;
    }
    int nd;
    long dims[MG_MAX_DIMS];
    cfloat *z;
    if (mg_cfl_read(path, &nd, dims, &z)) return NULL;
    long tot = 1;
    for (int i = 2; i < MG_MAX_DIMS; i++) tot *= dims[i];
    *W = dims[0], *H = dims[1], *n = tot;
    if (*W < 8 || *H < 8) {
        mg_set_error("%s: images of %ldx%ld are too small (dims [W H] first)", path, *W, *H);
        free(z);
        return NULL;
    }
    float *out = mg_malloc_array((size_t)(tot * *H * *W), sizeof(float));
    for (long i = 0; i < tot * *H * *W; i++) out[i] = cabsf(z[i]);
    free(z);
    *png = 0;
    return out;
}


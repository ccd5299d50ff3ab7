/* Fuzz the BART cfl/hdr readers: the bytes before the first NUL become the
 * .hdr text, the rest the .cfl data. Exercises mg_cfl_read and the k-space,
 * coil-map and mask readers built on it. */
#include "fuzz.h"
#include "../src/io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t nh = nul ? (size_t)(nul - data) : size;
    size_t nc = nul ? size - nh - 1 : 0;
    char hdr[600], cfl[600];
    snprintf(hdr, sizeof hdr, "%s", fuzz_path("x.hdr"));
    snprintf(cfl, sizeof cfl, "%s", fuzz_path("x.cfl"));
    fuzz_write(hdr, data, nh);
    fuzz_write(cfl, nul ? nul + 1 : data, nc);

    int ndim;
    long dims[MG_MAX_DIMS];
    cfloat *x = NULL;
    if (mg_cfl_read(cfl, &ndim, dims, &x) == 0) free(x);
    mg_kdata d;
    if (mg_kdata_read(cfl, &d) == 0) mg_kdata_free(&d);
    cfloat *s = NULL;
    if (mg_sens_read_cfl(cfl, 2, 4, 4, &s, NULL) == 0) free(s);
    float *m = NULL;
    if (mg_mask_read_cfl(cfl, 8, &m) == 0) free(m);
    return 0;
}

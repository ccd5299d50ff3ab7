/* Fuzz the NIfTI-1 reader. The first byte picks the container: odd means
 * the remaining bytes are written gzip-compressed as .nii.gz, even means a
 * plain .nii. */
#include "fuzz.h"
#include "../src/io/io.h"

#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const int gz = data[0] & 1;
    char path[600];
    snprintf(path, sizeof path, "%s", fuzz_path(gz ? "x.nii.gz" : "x.nii"));
    if (gz) {
        gzFile g = gzopen(path, "wb1");
        if (!g) abort();
        if (size > 1) gzwrite(g, data + 1, (unsigned)(size - 1));
        gzclose(g);
    } else {
        fuzz_write(path, data + 1, size - 1);
    }
    mg_volume v;
    if (mg_nifti_read(path, &v) == 0) mg_volume_free(&v);
    return 0;
}

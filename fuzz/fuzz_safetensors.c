/* Fuzz the safetensors reader and the checkpoint loader on top of it (the
 * loader builds a network from the file's metadata, so a crafted header must
 * not make it allocate or index beyond what the file holds). */
#include "fuzz.h"
#include "../src/train/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s", fuzz_path("x.safetensors"));
    fuzz_write(path, data, size);
    mg_st_file f;
    if (mg_st_read(path, &f) == 0) {
        for (int i = 0; i < f.n; i++) (void)mg_st_find(&f, f.t[i].name);
        (void)mg_st_meta(&f, "format");
        mg_st_free(&f);
    }
    mg_dcinet net;
    memset(&net, 0, sizeof net);
    mg_train_pos pos;
    (void)mg_checkpoint_load(path, &net, NULL, &pos);
    mg_dcinet_free(&net);
    return 0;
}

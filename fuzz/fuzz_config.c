/* Fuzz the run configuration reader (config.json, read by --resume). */
#include "fuzz.h"
#include "../src/train/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s", fuzz_path("config.json"));
    fuzz_write(path, data, size);
    mg_train_cfg c;
    mg_train_defaults(&c);
    if (mg_train_config_read(path, &c) == 0) {
        char *s = mg_train_config_json(&c);
        free(s);
    }
    return 0;
}

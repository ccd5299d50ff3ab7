/* The models shipped in the repository's models/ (models/README.md), taken
 * by name: `--model mse` is models/mse.safetensors when no file or directory
 * "mse" exists. MRGAN_MODELS (environment) overrides the directory. */
#include "models.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef MRGAN_MODELS_DIR
#define MRGAN_MODELS_DIR "models"
#endif

const char *mg_models_dir(void)
{
    const char *e = getenv("MRGAN_MODELS");
    return e && e[0] ? e : MRGAN_MODELS_DIR;
}

char *mg_model_resolve(const char *arg)
{
    struct stat st;
    if (stat(arg, &st) == 0) return mg_strdup(arg);
    int plain = arg[0] != 0 && strlen(arg) < 64;
    for (const char *p = arg; *p; p++)
        plain &= (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_';
    if (plain) {
        const char *dir = mg_models_dir();
        size_t len = strlen(dir) + strlen(arg) + 16;
        char *p = mg_malloc(len);
        snprintf(p, len, "%s/%s.safetensors", dir, arg);
        if (stat(p, &st) == 0) return p;
        free(p);
        mg_set_error("%s: no such file, and no shipped model of that name in %s (models/README.md lists them)", arg,
                     dir);
        return NULL;
    }
    return mg_strdup(arg); /* the loader says what is wrong with it */
}

#include "cli.h"
#include "gpu/backend.h"
#include "mri/mri.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_fail(const char *cmd, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "mrgan %s: %s\n", cmd, buf);
    exit(1);
}

void cli_fail_lib(const char *cmd) { cli_fail(cmd, "%s", mg_error()); }

long cli_long(const char *cmd, const char *opt, const char *val, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (end == val || *end || errno) cli_fail(cmd, "option %s: '%s' is not an integer", opt, val);
    if (v < lo || v > hi) cli_fail(cmd, "option %s: %ld is out of range [%ld, %ld]", opt, v, lo, hi);
    return v;
}

double cli_double(const char *cmd, const char *opt, const char *val, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (end == val || *end || errno || !isfinite(v))
        cli_fail(cmd, "option %s: '%s' is not a finite number", opt, val);
    if (v < lo || v > hi) cli_fail(cmd, "option %s: %g is out of range [%g, %g]", opt, v, lo, hi);
    return v;
}

uint64_t cli_seed(const char *cmd, const char *opt, const char *val)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (end == val || *end || errno || val[0] == '-')
        cli_fail(cmd, "option %s: '%s' is not a non-negative integer", opt, val);
    return (uint64_t)v;
}

int cli_mask_type(const char *cmd, const char *val)
{
    if (!strcmp(val, "vd")) return 0;
    if (!strcmp(val, "random")) return 1;
    if (!strcmp(val, "equispaced")) return 2;
    cli_fail(cmd, "option --mask-type: '%s' is not one of vd, random, equispaced", val);
}

void cli_make_mask(const char *cmd, const cli_mask_opts *o, long n, long slice, const float *acq, float *mask)
{
    if (mg_mask_make_acquired(o->type, mask, acq, n, o->accel, o->center, o->center_frac,
                              mg_mask_slice_seed(o->seed, slice)))
        cli_fail_lib(cmd);
}

int cli_crop_readout(const char *cmd, const char *val)
{
    if (!strcmp(val, "auto")) return 1;
    if (!strcmp(val, "none")) return 0;
    cli_fail(cmd, "option --crop-readout: '%s' is not auto or none", val);
}

void cli_write_mask(const char *cmd, const char *path, const float *mask, long h, long w)
{
    int rc;
    if (mg_has_suffix(path, ".png")) { /* as the images: rows along the readout, a column per line */
        unsigned char *pix = mg_malloc_array((size_t)(h * w), 1);
        for (long x = 0; x < w; x++)
            for (long y = 0; y < h; y++) pix[x * h + y] = mask[y] != 0.0f ? 255 : 0;
        rc = mg_png_write_gray(path, pix, w, h);
        free(pix);
    } else {
        rc = mg_mask_write_cfl(path, mask, h);
    }
    if (rc) cli_fail_lib(cmd);
}

int cli_sens_method(const char *cmd, const char *val)
{
    if (!strcmp(val, "walsh")) return MG_SENS_WALSH;
    if (!strcmp(val, "direct")) return MG_SENS_DIRECT;
    if (!strcmp(val, "espirit")) return MG_SENS_ESPIRIT;
    cli_fail(cmd, "option --sens-method: '%s' is not one of walsh, direct, espirit", val);
}

FILE *cli_open_tmp(const char *cmd, const char *path, char **tmp)
{
    *tmp = mg_tmp_path(path);
    FILE *f = fopen(*tmp, "w");
    if (!f) cli_fail(cmd, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

void cli_close_tmp(const char *cmd, FILE *f, char *tmp, const char *path)
{
    int ok = !ferror(f);
    ok &= fclose(f) == 0;
    if (mg_finish_tmp(ok, tmp, path, "write failed")) cli_fail_lib(cmd);
}

int cli_gpu_device(const char *cmd, const char *arg)
{
    if (!arg) return 0;
    char *end;
    long d = strtol(arg, &end, 10);
    if (*arg == 0 || *end || d < 0 || d > 63) cli_fail(cmd, "option --gpu: '%s' is not a device number 0..63", arg);
    return (int)d;
}

void cli_method_use_gpu(const char *cmd, mg_method *m, int dev)
{
    if (mg_backend_open(dev)) cli_fail_lib(cmd);
    m->eng.release(&m->eng);
    if (mg_engine_gpu(&m->eng, &m->net)) cli_fail_lib(cmd);
}

void cli_domain_warn(const char *cmd, const mg_method *m, const char *path, long C, long H, long W, double accel)
{
    char why[320];
    if (m->kind == MG_M_DCINET && mg_domain_check(&m->domain, C, H, W, accel, why, sizeof why))
        fprintf(stderr, "%s: warning: %s is far outside what model %s was trained on: %s\n", cmd, path, m->name, why);
}

int cli_precision_arg(const char *cmd, const char *val)
{
    if (!strcmp(val, "fp32")) return MG_PRECISION_FP32;
    if (!strcmp(val, "bf16")) return MG_PRECISION_BF16;
    cli_fail(cmd, "option --precision: '%s' is not fp32 or bf16", val);
}

int cli_flips_arg(const char *cmd, const char *val)
{
    if (!strcmp(val, "1") || !strcmp(val, "2") || !strcmp(val, "4")) return atoi(val);
    cli_fail(cmd, "option --flips: '%s' is not 1, 2 or 4", val);
}

void cli_precision_apply(const char *cmd, int prec, int gpu)
{
    if (mg_conv_set_precision(prec)) {
        fprintf(stderr, "%s: note: %s\n", cmd, mg_error());
        return;
    }
    if (prec == MG_PRECISION_BF16 && gpu >= 0)
        cli_fail(cmd, "--precision bf16 is for the CPU (the GPU backend computes in fp32)");
}

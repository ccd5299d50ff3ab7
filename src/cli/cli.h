/* mrgan command line: one file per subcommand, shared helpers here. */
#ifndef MRGAN_CLI_H
#define MRGAN_CLI_H

#include "core/core.h"
#include "io/io.h"
#include "metrics/metrics.h"
#include "models/models.h"
#include "recon/recon.h"
#include "train/train.h"

int cmd_simulate(int argc, char **argv);
int cmd_mask(int argc, char **argv);
int cmd_zerofill(int argc, char **argv);
int cmd_sens(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_average(int argc, char **argv);
int cmd_cs(int argc, char **argv);
int cmd_arc(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_recon(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_fid(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Print "mrgan CMD: message" on one line and exit(1). */
_Noreturn void cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fail with the library's last error message. */
_Noreturn void cli_fail_lib(const char *cmd);

/* A text output written atomically: open PATH's temporary file (fail with
 * the command's one-line error), then close and rename it over PATH (frees
 * tmp; a write error removes it and fails). */
FILE *cli_open_tmp(const char *cmd, const char *path, char **tmp);
void cli_close_tmp(const char *cmd, FILE *f, char *tmp, const char *path);

/* Parse numbers with range checks; fail naming the option on bad input. */
long cli_long(const char *cmd, const char *opt, const char *val, long lo, long hi);
double cli_double(const char *cmd, const char *opt, const char *val, double lo, double hi);
uint64_t cli_seed(const char *cmd, const char *opt, const char *val);

/* Shared mask options. */
typedef struct {
    int type;          /* 0 vd, 1 random, 2 equispaced */
    double accel;      /* 0 = no mask requested */
    long center;       /* vd: lines */
    double center_frac; /* random/equispaced; < 0: derive from center */
    uint64_t seed;
} cli_mask_opts;
int cli_mask_type(const char *cmd, const char *val);
/* Build the mask for slice `slice` (seed mixed with the slice index) over
 * its acquired lines acq (NULL: all n). */
void cli_make_mask(const char *cmd, const cli_mask_opts *o, long n, long slice, const float *acq, float *mask);
/* --crop-readout auto|none */
int cli_crop_readout(const char *cmd, const char *val);

int cli_sens_method(const char *cmd, const char *val);
/* A mask to cfl ([1 H]) or, for .png, a picture of w rows and H columns
 * (one per line, as the images are shown). */
void cli_write_mask(const char *cmd, const char *path, const float *mask, long h, long w);

/* k-space inputs of zerofill / recon: slices, masks and coil maps.
 * Long options: accel R, mask-type t, center c, seed s, mask m, mask-out o,
 * sens S, sens-method M, acs a, slice i, crop-readout (see CLI_INPUT_OPTIONS). */
typedef struct {
    const char *cmd, *path;
    mg_kdata d;
    cli_mask_opts mo;
    const char *mask_file, *mask_out, *sens_file, *ksp_out, *sens_out;
    int method, force_est, undersample;
    long maps;                /* --maps: map sets the methods use (1; 2: ESPIRiT's soft SENSE) */
    mg_espirit_opts eo;       /* --espirit-kernel, --espirit-crop (bart ecalib's defaults); maps = --maps */
    mg_read_opts ro;          /* --crop-readout */
    char note[1024];          /* notes for the end of a successful run */
    long acs, only, s0, s1, lines, acquired; /* sampled and acquired lines over the slices */
    float *fixed, *mask, *acq;
    cfloat *ext_sens;
} cli_inputs;
#define CLI_INPUT_OPTIONS                                                                   \
    {"accel", 1, 0, 'R'}, {"mask-type", 1, 0, 't'}, {"center", 1, 0, 'c'},                 \
        {"seed", 1, 0, 's'}, {"mask", 1, 0, 'm'}, {"mask-out", 1, 0, 'o'},                  \
        {"sens", 1, 0, 'S'}, {"sens-method", 1, 0, 'M'}, {"acs", 1, 0, 'a'},                \
        {"slice", 1, 0, 'i'}, {"ksp-out", 1, 0, 'K'}, {"sens-out", 1, 0, 'V'},              \
        {"crop-readout", 1, 0, CLI_OPT_CROP}, {"maps", 1, 0, CLI_OPT_MAPS},                 \
        {"espirit-crop", 1, 0, CLI_OPT_ECROP}, {"espirit-kernel", 1, 0, CLI_OPT_EKERN}
enum { CLI_OPT_CROP = 300, CLI_OPT_MAPS = 303, CLI_OPT_ECROP = 304, CLI_OPT_EKERN = 305 };
extern const char *cli_inputs_help;
void cli_inputs_init(cli_inputs *in, const char *cmd);
/* 1 when c was one of the input options */
int cli_inputs_option(cli_inputs *in, int c, const char *arg);
/* Opens the input path; first checks that neither out (the command's result
 * file, NULL if none) nor the side outputs (--ksp-out, ...) is an input, so
 * that this fails before anything else is printed. */
void cli_inputs_open(cli_inputs *in, const char *path, const char *out);
/* The mask options (--accel, --mask-type, --center) tried on the first slice,
 * so that a bad combination fails before a command prints anything else. */
void cli_inputs_check_mask(cli_inputs *in);
/* Coil maps of slice s into sens; returns its mask (NULL: fully sampled). */
const float *cli_inputs_slice(cli_inputs *in, long s, cfloat *sens);
/* Prints the mean line count and the NMSE when a mask was applied. */
void cli_inputs_report(const cli_inputs *in, const mg_nmse_acc *acc);
/* print the notes held back until the command has succeeded */
void cli_inputs_notes(cli_inputs *in);
void cli_inputs_free(cli_inputs *in);
/* the options' help after head; outputs: also --mask-out, --ksp-out, --sens-out */
void cli_inputs_print_help(const char *head, int outputs);
/* One reconstruction per slice: img (H x W) from k-space k, maps and mask
 * (NULL: fully sampled); 0, or -1 with an error (mg_method_slice). */
typedef int (*cli_slice_fn)(void *ctx, const cfloat *k, const cfloat *sens, const float *mask,
                            cfloat *img, long slice);
/* Runs fn over the chosen slices with progress, accumulates the NMSE against
 * the fully sampled reconstruction when undersampling, writes OUT (the out
 * that cli_inputs_open checked); returns the seconds per slice spent in fn. */
double cli_inputs_run(cli_inputs *in, int quiet, cli_slice_fn fn, void *ctx, const char *out,
                      mg_nmse_acc *acc);

/* --gpu [N] option value (NULL: device 0); exits on a bad value */
int cli_gpu_device(const char *cmd, const char *arg);
/* DCI-Net inference of m on CUDA device dev (after mg_method_load); exits
 * with a message when there is no device or the backend was not built */
void cli_method_use_gpu(const char *cmd, mg_method *m, int dev);
/* --precision fp32|bf16 as MG_PRECISION_* (exits on anything else) */
int cli_precision_arg(const char *cmd, const char *val);
/* --flips N (1, 2 or 4: flip averaging, models.h; exits on anything else);
 * recon's and eval's default (docs/models.md "Flip averaging") */
int cli_flips_arg(const char *cmd, const char *val);
#define CLI_FLIPS_DEFAULT 4
/* after the options: set it for the convolutions (nn.h); where the CPU has
 * no bf16, a one-line note and fp32; bf16 with --gpu (gpu >= 0) refused */
void cli_precision_apply(const char *cmd, int prec, int gpu);
/* one warning line when a DCI-Net's input (C coils, H x W, acceleration;
 * 0: unknown) is far outside its training data (mg_domain_check) */
void cli_domain_warn(const char *cmd, const mg_method *m, const char *path, long C, long H, long W, double accel);

#endif

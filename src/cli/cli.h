/* mrgan command line: one file per subcommand, shared helpers here. */
#ifndef MRGAN_CLI_H
#define MRGAN_CLI_H

#include "core/core.h"
#include "io/io.h"

int cmd_simulate(int argc, char **argv);
int cmd_mask(int argc, char **argv);
int cmd_zerofill(int argc, char **argv);
int cmd_sens(int argc, char **argv);

/* Print "mrgan CMD: message" on one line and exit(1). */
_Noreturn void cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fail with the library's last error message. */
_Noreturn void cli_fail_lib(const char *cmd);

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
/* Build the mask for slice `slice` (seed mixed with the slice index). */
void cli_make_mask(const char *cmd, const cli_mask_opts *o, long n, long slice, float *mask);

int cli_sens_method(const char *cmd, const char *val);

#endif

/* mrgan average: the uniform average of the weights of DCI-Net checkpoints. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan average [options] CKPT CKPT... OUT\n"
    "\n"
    "Writes to OUT (a .safetensors checkpoint for --model or --init) the uniform\n"
    "average of the generator weights of two or more DCI-Net checkpoints (a\n"
    "\"model soup\"). They must have one architecture and one training domain;\n"
    "averaging helps runs fine-tuned from one starting checkpoint with different\n"
    "seeds (docs/training.md \"Averaging checkpoints\"). OUT keeps the first\n"
    "checkpoint's config (its domain included) and lists every input with its\n"
    "SHA-256 under \"averaged\"; it has no training state, so it starts a run with\n"
    "'train --init', not '--resume'. A CKPT may be a shipped model's name.\n"
    "\n"
    "  -q, --quiet          no summary line\n"
    "  -h, --help           this text\n";

int cmd_average(int argc, char **argv)
{
    static const struct option opts[] = {{"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "average";
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = 1; break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan average --help')");
        }
    }
    int n = argc - optind - 1;
    if (n < 2) cli_fail(cmd, "expected two or more checkpoints and OUT (see 'mrgan average --help')");
    const char *out = argv[argc - 1];
    char **in = mg_malloc_array((size_t)n, sizeof *in);
    for (int i = 0; i < n; i++)
        if (!(in[i] = mg_model_resolve(argv[optind + i]))) cli_fail_lib(cmd);
    if (mg_check_output(out, (const char *const *)in, n)) cli_fail_lib(cmd);
    if (mg_checkpoint_average((const char *const *)in, n, out)) cli_fail_lib(cmd);
    if (!quiet) printf("average: %d checkpoints -> %s\n", n, out);
    for (int i = 0; i < n; i++) free(in[i]);
    free(in);
    return 0;
}

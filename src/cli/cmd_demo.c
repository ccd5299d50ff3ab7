/* mrgan demo: the main job end to end (what 'make demo' runs). */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *help =
    "usage: mrgan demo [options]\n"
    "\n"
    "The main job on the default data set, end to end, into DIR (default demo):\n"
    "  1. mrgan simulate DIR/data    Colin27 T1 (Debian mricron-data) -> multi-coil\n"
    "                                k-space, fastMRI-layout train/val/test.h5\n"
    "  2. mrgan train DIR/run        the small DCI-Net (5I-5G-16K), MSE, --epochs\n"
    "  3. mrgan eval DIR/run/eval    zero-filled, CS-wavelet, CS-TV, ARC, the\n"
    "                                trained DCI-Net and the shipped models (mse,\n"
    "                                cwgan-agb: models/README.md, rows shipped-NAME)\n"
    "                                on the test split at R = 4\n"
    "  4. mrgan report DIR/run       DIR/run/report/index.html\n"
    "and prints the table (also DIR/table.md) and where the report is. A step\n"
    "already done is reused: the data are kept, training resumes.\n"
    "\n"
    "  --out DIR         output directory (default demo)\n"
    "  --epochs N        training epochs (default 60: about 8 minutes on 2 cores)\n"
    "  --input FILE      brain volume for simulate (default Colin27)\n"
    "  --matrix N        simulate's matrix (default 128)\n"
    "  --stride S        simulate's slice stride (default 3)\n"
    "  --center C        fully sampled centre lines (default 12)\n"
    "  -q, --quiet       no progress lines from the steps (the results are printed)\n"
    "  -h, --help        this text\n";

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int quiet;

/* a step's command (with -q after its name when quiet) */
static int run(int (*fn)(int, char **), const char **args)
{
    const char *a[32];
    int n = 0;
    for (int i = 0; args[i] && n < 30; i++) {
        a[n++] = args[i];
        if (i == 0 && quiet) a[n++] = "-q";
    }
    a[n] = NULL;
    return fn(n, (char **)a);
}

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"out", 1, 0, 'o'},    {"epochs", 1, 0, 'e'}, {"input", 1, 0, 'i'},
                                         {"matrix", 1, 0, 'm'}, {"stride", 1, 0, 's'}, {"center", 1, 0, 'c'},
                                         {"quiet", 0, 0, 'q'},  {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
    const char *cmd = "demo", *out = "demo", *input = NULL, *matrix = "128", *stride = "3", *center = "12";
    char epochs[32] = "60";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'e': snprintf(epochs, sizeof epochs, "%ld", cli_long(cmd, "--epochs", optarg, 1, 100000)); break;
        case 'i': input = optarg; break;
        case 'm': matrix = optarg; break;
        case 's': stride = optarg; break;
        case 'c': center = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan demo --help')");
        }
    }
    if (argc != optind) cli_fail(cmd, "unexpected argument '%s' (see 'mrgan demo --help')", argv[optind]);
    if (mkdir(out, 0755) && !exists(out)) cli_fail(cmd, "%s: cannot create", out);
    char data[1024], test[1100], rundir[1024], last[1100], best[1100], evald[1100], model[1200], table[1100];
    snprintf(data, sizeof data, "%s/data", out);
    snprintf(test, sizeof test, "%s/test.h5", data);
    snprintf(rundir, sizeof rundir, "%s/run", out);
    snprintf(last, sizeof last, "%s/last.safetensors", rundir);
    snprintf(best, sizeof best, "%s/best.safetensors", rundir);
    snprintf(evald, sizeof evald, "%s/eval", rundir);
    snprintf(model, sizeof model, "dci-net=%s", best);
    snprintf(table, sizeof table, "%s/table.md", out);
    const double t0 = mg_now();

    printf("\n== 1/4 simulate (%.0f s)\n", mg_now() - t0);
    fflush(stdout);
    if (exists(test)) printf("reusing %s\n", data);
    else {
        const char *a[] = {"simulate", "--matrix", matrix, "--stride", stride, data, NULL, NULL, NULL};
        if (input) a[5] = "--input", a[6] = input, a[7] = data;
        if (run(cmd_simulate, a)) return 1;
    }
    printf("\n== 2/4 train DCI-Net 5I-5G-16K, %s epochs (%.0f s)\n", epochs, mg_now() - t0);
    fflush(stdout);
    int rc;
    if (exists(last)) {
        const char *a[] = {"train", "--data", data, "--resume", "--epochs", epochs, rundir, NULL};
        rc = run(cmd_train, a);
    } else {
        const char *a[] = {"train", "--data", data, "--epochs", epochs, "--center", center, rundir, NULL};
        rc = run(cmd_train, a);
    }
    if (rc == 130) {
        fprintf(stderr, "mrgan demo: training interrupted; run 'mrgan demo' again to continue\n");
        return 130;
    }
    if (rc) return rc;
    printf("\n== 3/4 evaluate the test split at R = 4 (1D variable density, %s centre lines) (%.0f s)\n", center,
           mg_now() - t0);
    fflush(stdout);
    {
        /* the shipped models next to the demo's own (docs/models.md) */
        static const char *shipped[2] = {"mse", "cwgan-agb"};
        char sm[2][1200];
        const char *a[16] = {"eval", "--center", center, "--model", model};
        int na = 5;
        for (int i = 0; i < 2; i++) {
            snprintf(sm[i], sizeof sm[i], "%s/%s.safetensors", mg_models_dir(), shipped[i]);
            if (!exists(sm[i])) continue;
            snprintf(sm[i], sizeof sm[i], "shipped-%s=%s/%s.safetensors", shipped[i], mg_models_dir(), shipped[i]);
            a[na++] = "--model";
            a[na++] = sm[i];
        }
        a[na++] = test;
        a[na++] = evald;
        a[na] = NULL;
        if (run(cmd_eval, a)) return 1;
    }
    char src[1200];
    snprintf(src, sizeof src, "%s/table.md", evald);
    if (mg_copy_file(src, table)) cli_fail_lib(cmd);
    printf("\n== 4/4 report (%.0f s)\n", mg_now() - t0);
    fflush(stdout);
    {
        const char *a[] = {"report", rundir, NULL};
        if (run(cmd_report, a)) return 1;
    }
    printf("\n== done (%.0f s)\n", mg_now() - t0);
    printf("demo: table in %s (test split; NMSE x1e3, PSNR, SSIM, HFEN; FID needs --fid-weights, docs/metrics.md)\n",
           table);
    printf("demo: report in %s/report/index.html (open it in a browser); reader study %s/report/reader.html\n", rundir,
           rundir);
    return 0;
}

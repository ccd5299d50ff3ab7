/* mrgan eval: the baselines and any number of trained DCI-Nets on one test
 * split, with the paper's metrics, as Table 1/2-style tables. */
#include "cli.h"
#include "mri/mri.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *help_head =
    "usage: mrgan eval [options] KSPACE OUTDIR\n"
    "\n"
    "Undersamples the fully sampled test split KSPACE (e.g. DATA/test.h5) with\n"
    "one fixed mask per slice and reconstructs it with every method: zero\n"
    "filling, CS-wavelet, CS-TV, ARC and each --model. Each is compared with\n"
    "the reference on magnitudes, fastMRI style, the whole file as one volume:\n"
    "NMSE, PSNR and HFEN over the volume, SSIM averaged over slices (7x7\n"
    "window, data range = the volume's maximum; fastMRI's evaluate.py), and\n"
    "FID/KID (Inception-v3 pool features) when --fid-weights is given\n"
    "(docs/metrics.md). Writes\n"
    "  OUTDIR/table.md, table.csv   one row per method (table.md: NMSE x1e3, PSNR dB,\n"
    "                               SSIM, HFEN, FID, KID x1e3, seconds per slice;\n"
    "                               table.csv: the same, NMSE and KID not scaled)\n"
    "  OUTDIR/per_slice.csv         method, slice, orientation, index, metrics\n"
    "  OUTDIR/images/NAME.cfl       complex reconstructions [W H] x slices (dim 13),\n"
    "                               reference.cfl, masks.cfl [1 H] x slices\n"
    "  OUTDIR/fastmri/NAME/FILE.h5  with --reference rss: fastMRI's submission layout\n"
    "                               (`reconstruction`, slices x reconSpace, float32;\n"
    "                               FILE = KSPACE's name), read by fastMRI's evaluate.py\n"
    "  OUTDIR/eval.json             inputs and settings\n"
    "and prints the table. 'mrgan report RUN --eval OUTDIR' draws figures from it.\n"
    "OUTDIR is locked while eval writes it (OUTDIR/.lock).\n"
    "\n"
    "  --model [NAME=]CKPT  a trained DCI-Net (repeatable); a run directory means its\n"
    "                       best.safetensors, named after the directory (an existing\n"
    "                       path containing '=' is a path; reference, masks and the\n"
    "                       baselines' names are reserved)\n"
    "  --methods LIST       baselines to run, comma-separated, from zero-filled,\n"
    "                       cs-wavelet, cs-tv, arc (default: all four; 'none')\n"
    "  --lambda-wavelet L   CS-wavelet weight (default 0.002, as 'mrgan cs')\n"
    "  --lambda-tv L        CS-TV weight (default 0.002)\n"
    "  --slices N           only the first N slices (quick looks)\n"
    "  --fid-weights FILE   Inception-v3 weights (safetensors, docs/metrics.md)\n"
    "  --reference R        sense (default): the SENSE-combined fully sampled image,\n"
    "                       full size; rss: fastMRI's, the root-sum-of-squares of the\n"
    "                       fully sampled coil images centre-cropped to the header's\n"
    "                       reconSpace (the file's reconstruction_rss when present),\n"
    "                       every reconstruction cropped alike\n"
    "  --gpu[=N]            run the --model networks on CUDA device N (default 0)\n"
    "  --precision P        fp32 (default) | bf16: the --model networks' convolutions\n"
    "                       in bf16 (CPU; AVX512-BF16 or AMX, elsewhere a note and fp32)\n"
    "  --flips N            average the networks over N mirror images of the input:\n"
    "                       4 (default) the acquisition, its readout mirror, its\n"
    "                       phase-encode mirror and both; 2 the first two; 1 the\n"
    "                       plain network (test-time self-ensembling, docs/models.md;\n"
    "                       N times the network's time)\n"
    "The mask options default to --accel 4 (1D variable density, 12 centre lines,\n"
    "seed 1: the masks of 'mrgan zerofill --accel 4' and of training validation).\n"
    "\n";

#define MAX_METHODS 32

/* the baselines, in the order of the table */
static const char *const baselines[4] = {"zero-filled", "cs-wavelet", "cs-tv", "arc"};

static int parse_methods(const char *cmd, const char *list, int *want)
{
    memset(want, 0, 4 * sizeof(int));
    if (!strcmp(list, "none")) return 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int k = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(tok, baselines[i])) k = i;
        if (k < 0 && !strcmp(tok, "zf")) k = 0;
        if (k < 0) cli_fail(cmd, "option --methods: '%s' is not zero-filled, cs-wavelet, cs-tv or arc", tok);
        want[k] = 1;
    }
    return 0;
}

/* --model [NAME=]PATH: a checkpoint, or a run directory (its best.safetensors) */
static void add_model(const char *cmd, mg_method *m, const char *arg)
{
    /* NAME=PATH: NAME is what precedes the first '=' when that is a plain name
     * (no '/'); an existing path containing '=' is a path */
    const char *eq = strchr(arg, '=');
    struct stat st0;
    if (eq && (memchr(arg, '/', (size_t)(eq - arg)) || stat(arg, &st0) == 0)) eq = NULL;
    const char *path = eq ? eq + 1 : arg;
    char name[64];
    struct stat st;
    const int isdir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    char *ck = isdir ? mg_path_join(path, "best.safetensors") : mg_strdup(path);
    if (eq) snprintf(name, sizeof name, "%.*s", (int)(eq - arg) < 63 ? (int)(eq - arg) : 63, arg);
    else { /* the run directory's name, or the file's without extension */
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", path);
        size_t L = strlen(tmp);
        while (L > 1 && tmp[L - 1] == '/') tmp[--L] = 0;
        char *b = strrchr(tmp, '/');
        b = b ? b + 1 : tmp;
        if (!isdir) {
            char *dot = strrchr(b, '.');
            if (dot && dot != b) *dot = 0;
        }
        snprintf(name, sizeof name, "%.63s", b);
    }
    for (char *p = name; *p; p++) /* names go into file names, CSV, markdown and HTML */
        if (*p == '/' || *p == ',' || *p == ' ' || *p == '|' || *p == '<' || *p == '>' || *p == '&' || *p == '"' ||
            *p == '\'' || (unsigned char)*p < 32)
            *p = '_';
    int reserved = !name[0] || name[0] == '.' || !strcmp(name, "reference") || !strcmp(name, "masks");
    for (int i = 0; i < 4; i++) reserved |= !strcmp(name, baselines[i]);
    if (reserved)
        cli_fail(cmd, "option --model: the name '%s' is reserved or empty (eval writes images/%s.cfl itself); "
                      "name the model with --model NAME=CKPT", name, name);
    mg_method_init(m, MG_M_DCINET, name);
    if (mg_method_load(m, ck)) cli_fail_lib(cmd);
    free(ck);
}

/* OUTDIR/fastmri/NAME/FILE.h5: magnitudes in fastMRI's submission layout */
static void write_fastmri(const char *cmd, const char *outdir, const char *name, const char *input, const cfloat *img,
                          long ns, long h, long w)
{
    char *d1 = mg_path_join(outdir, "fastmri"), *d2 = mg_path_join(d1, name);
    if ((mkdir(d1, 0755) && errno != EEXIST) || (mkdir(d2, 0755) && errno != EEXIST))
        cli_fail(cmd, "%s: cannot create: %s", d2, strerror(errno));
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    char fn[512];
    snprintf(fn, sizeof fn, "%s", base);
    if (!mg_has_suffix(fn, ".h5") && !mg_has_suffix(fn, ".hdf5")) {
        char *dot = strrchr(fn, '.');
        if (dot && dot != fn) *dot = 0;
        strncat(fn, ".h5", sizeof fn - strlen(fn) - 1);
    }
    char *p = mg_path_join(d2, fn);
    if (mg_images_write(p, img, ns, h, w)) cli_fail_lib(cmd); /* .h5: `reconstruction`, magnitudes */
    free(p);
    free(d2);
    free(d1);
}

/* the maps and mask of slice s, as zerofill/cs/recon see them */
static const float *eval_slice(void *ctx, long s, cfloat *sens) { return cli_inputs_slice(ctx, s, sens); }

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {CLI_INPUT_OPTIONS,
                                         {"model", 1, 0, 'k'},
                                         {"methods", 1, 0, 'x'},
                                         {"lambda-wavelet", 1, 0, 'w'},
                                         {"lambda-tv", 1, 0, 'v'},
                                         {"slices", 1, 0, 'n'},
                                         {"fid-weights", 1, 0, 'f'},
                                         {"gpu", 2, 0, 'G'}, {"precision", 1, 0, 'P'}, {"flips", 1, 0, 'F'},
                                         {"reference", 1, 0, 'Q'},
                                         {"quiet", 0, 0, 'q'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cmd = "eval";
    cli_inputs in;
    cli_inputs_init(&in, cmd);
    int quiet = 0, c, want[4] = {1, 1, 1, 1};
    double lw = -1, ltv = -1;
    long nmax = 0;
    const char *models[MAX_METHODS], *fidw = NULL;
    int nmodels = 0, gpu = -1, ref_rss = 0, prec = MG_PRECISION_FP32, flips = CLI_FLIPS_DEFAULT;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_inputs_option(&in, c, optarg)) continue;
        switch (c) {
        case 'k':
            if (nmodels == MAX_METHODS - 4) cli_fail(cmd, "option --model: at most %d models", MAX_METHODS - 4);
            models[nmodels++] = optarg;
            break;
        case 'x': parse_methods(cmd, optarg, want); break;
        case 'w': lw = cli_double(cmd, "--lambda-wavelet", optarg, 0.0, 1e6); break;
        case 'v': ltv = cli_double(cmd, "--lambda-tv", optarg, 0.0, 1e6); break;
        case 'n': nmax = cli_long(cmd, "--slices", optarg, 1, 1L << 30); break;
        case 'f': fidw = optarg; break;
        case 'G': gpu = cli_gpu_device(cmd, optarg); break;
        case 'P': prec = cli_precision_arg(cmd, optarg); break;
        case 'F': flips = cli_flips_arg(cmd, optarg); break;
        case 'Q':
            if (strcmp(optarg, "sense") && strcmp(optarg, "rss"))
                cli_fail(cmd, "option --reference: '%s' is not sense or rss", optarg);
            ref_rss = !strcmp(optarg, "rss");
            break;
        case 'q': quiet = 1; break;
        case 'h': cli_inputs_print_help(help_head, 0); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan eval --help')");
        }
    }
    if (argc - optind != 2) cli_fail(cmd, "expected KSPACE and OUTDIR (see 'mrgan eval --help')");
    if (in.ksp_out || in.sens_out || in.mask_out) cli_fail(cmd, "--ksp-out/--sens-out/--mask-out are not for eval");
    const char *outdir = argv[optind + 1];
    if (!in.mask_file && in.mo.accel <= 0) in.mo.accel = 4.0;

    cli_precision_apply(cmd, prec, gpu);
    /* the methods, checkpoints loaded before any work */
    static mg_method rows[MAX_METHODS];
    int nr = 0;
    static const int kinds[4] = {MG_M_ZF, MG_M_CS_WAVELET, MG_M_CS_TV, MG_M_ARC};
    for (int i = 0; i < 4; i++)
        if (want[i]) {
            mg_method_init(&rows[nr], kinds[i], baselines[i]);
            if (kinds[i] == MG_M_CS_WAVELET && lw >= 0) rows[nr].cs.lambda = (float)lw;
            if (kinds[i] == MG_M_CS_TV && ltv >= 0) rows[nr].cs.lambda = (float)ltv;
            if (kinds[i] == MG_M_ARC && !in.mask_file) rows[nr].arc.acs = in.mo.center; /* calibrate on the centre */
            nr++;
        }
    for (int i = 0; i < nmodels; i++) {
        add_model(cmd, &rows[nr], models[i]);
        if (gpu >= 0) cli_method_use_gpu(cmd, &rows[nr], gpu);
        rows[nr].flips = flips;
        nr++;
    }
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(rows[i].name, rows[j].name))
                cli_fail(cmd, "two methods are named '%s' (name models with --model NAME=CKPT)", rows[i].name);
    if (nr == 0) cli_fail(cmd, "nothing to evaluate (--methods none and no --model)");
    mg_fid_model fid;
    int have_fid = 0;
    char fid_note[512] = "";
    if (fidw) {
        if (mg_fid_load(fidw, &fid)) cli_fail_lib(cmd);
        have_fid = 1;
    } else {
        snprintf(fid_note, sizeof fid_note, "FID/KID: unavailable (no Inception-v3 weights; see docs/metrics.md, --fid-weights)");
    }

    cli_inputs_open(&in, argv[optind], NULL);
    if (!in.undersample) cli_fail(cmd, "%s: eval needs fully sampled input and a mask (--accel or --mask)", in.path);
    if (nmax > 0 && in.s0 + nmax < in.s1) in.s1 = in.s0 + nmax;
    const long C = in.d.coils, H = in.d.h, W = in.d.w, n = H * W, ns = in.s1 - in.s0;
    if (mkdir(outdir, 0755) && errno != EEXIST) cli_fail(cmd, "%s: cannot create: %s", outdir, strerror(errno));
    if (mg_lock_dir(outdir) < 0) cli_fail_lib(cmd); /* held until the process ends */
    char *imgdir = mg_path_join(outdir, "images");
    if (mkdir(imgdir, 0755) && errno != EEXIST) cli_fail(cmd, "%s: cannot create: %s", imgdir, strerror(errno));

    /* the references and masks, then every method (files are written only
     * when every method has run, so a failure leaves no half-written tables) */
    mg_eval ev = {.data = &in.d, .s0 = in.s0, .s1 = in.s1, .slice = eval_slice, .ctx = &in,
                  .fid = have_fid ? &fid : NULL, .quiet = quiet, .per_slice = 1,
                  .path = in.path, .ref_rss = ref_rss, .sets = in.maps};
    if (mg_eval_prepare(&ev)) cli_fail_lib(cmd);
    const long ch = ev.ch, cw = ev.cw; /* the compared size */
    long dref[14] = {cw, ch, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ns};
    char *p = mg_path_join(imgdir, "reference.cfl");
    if (mg_cfl_write(p, 14, dref, ev.ref)) cli_fail_lib(cmd);
    free(p);
    cfloat *masks = mg_malloc_array((size_t)(ns * H), sizeof(cfloat));
    for (long i = 0; i < ns * H; i++) masks[i] = ev.masks[i];
    long dm[14] = {1, H, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ns};
    p = mg_path_join(imgdir, "masks.cfl");
    if (mg_cfl_write(p, 14, dm, masks)) cli_fail_lib(cmd);
    free(p);
    free(masks);
    cfloat *img = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    mg_eval_row er[MAX_METHODS];
    char arc_note[256] = "";
    for (int r = 0; r < nr; r++) {
        cli_domain_warn(cmd, &rows[r], in.path, C, H, W, in.mo.accel);
        mg_method_open(&rows[r], C, H, W, in.path);
        rows[r].sets = in.maps;
        if (mg_eval_method(&ev, &rows[r], &er[r], img)) cli_fail_lib(cmd);
        if (rows[r].kind == MG_M_ARC && rows[r].empty > 0) { /* said in the table, not only on the terminal */
            snprintf(arc_note, sizeof arc_note, "ARC: %ld missing lines over the %ld slices had no source lines within "
                     "the %ld calibration lines and stay zero (the row is partly zero filling; a larger --center helps).",
                     rows[r].empty, ns, rows[r].arc.acs);
        }
        char nm[96];
        snprintf(nm, sizeof nm, "%s.cfl", rows[r].name);
        p = mg_path_join(imgdir, nm);
        if (mg_cfl_write(p, 14, dref, img)) cli_fail_lib(cmd);
        free(p);
        if (ref_rss) write_fastmri(cmd, outdir, rows[r].name, in.path, img, ns, ch, cw);
        mg_method_free(&rows[r]); /* the network's memory goes before the next one loads */
    }

    /* tables */
    const double R_net = (double)ev.acquired / (double)ev.sampled;
    char title[1024], foot[1024], crop[64] = "";
    if (ch < H || cw < W) snprintf(crop, sizeof crop, ", compared at %ldx%ld", ch, cw);
    snprintf(title, sizeof title, "Test split %s: %ld slices of %ldx%ld, %ld coils; R = %.2f (%s mask, %ld centre lines, "
             "seed %llu); reference: %s%s",
             in.path, ns, H, W, C, R_net, in.mask_file ? "file" : in.mo.type == 0 ? "1D variable-density" :
             in.mo.type == 1 ? "random" : "equispaced", in.mo.center, (unsigned long long)in.mo.seed, ev.ref_note, crop);
    if (have_fid)
        snprintf(foot, sizeof foot, "FID/KID: Inception-v3 pool3 features (pytorch-fid variant) of the %ld reconstructions "
                 "vs the %ld references; weights %s, SHA-256 %s. With %ld images FID is biased upwards (docs/metrics.md).",
                 ns, ns, fidw, fid.sha256, ns);
    else
        snprintf(foot, sizeof foot, "%s", fid_note);
    if (arc_note[0]) snprintf(foot + strlen(foot), sizeof foot - strlen(foot), "\n\n%s", arc_note);
    if (in.maps > 1)
        snprintf(foot + strlen(foot), sizeof foot - strlen(foot), "\n\nMaps: %ld ESPIRiT sets (soft SENSE; images shown "
                 "as the root-sum-of-squares of the sets; DCI-Net's data consistency uses set 1).", in.maps);
    if (flips > 1 && nmodels > 0)
        snprintf(foot + strlen(foot), sizeof foot - strlen(foot), "\n\nDCI-Nets: each averaged over %d mirror images of "
                 "its input (--flips %d; docs/models.md).", flips, flips);
    char *table;
    if (mg_eval_write(&ev, er, nr, outdir, title, foot, &table)) cli_fail_lib(cmd);

    /* settings, for the report and for provenance */
    cJSON *js = cJSON_CreateObject();
    cJSON_AddStringToObject(js, "input", in.path);
    cJSON_AddNumberToObject(js, "slices", (double)ns);
    cJSON_AddNumberToObject(js, "first_slice", (double)in.s0);
    cJSON_AddNumberToObject(js, "h", (double)H);
    cJSON_AddNumberToObject(js, "w", (double)W);
    cJSON_AddNumberToObject(js, "coils", (double)C);
    cJSON_AddNumberToObject(js, "accel", in.mo.accel);
    cJSON_AddNumberToObject(js, "net_accel", R_net);
    cJSON_AddNumberToObject(js, "center", (double)in.mo.center);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)in.mo.seed);
    cJSON_AddStringToObject(js, "seed", seed);
    if (in.mask_file) cJSON_AddStringToObject(js, "mask", in.mask_file);
    cJSON_AddNumberToObject(js, "volume_max", ev.vmax);
    cJSON_AddStringToObject(js, "reference", ref_rss ? "rss" : "sense");
    cJSON_AddNumberToObject(js, "flips", flips);
    cJSON_AddNumberToObject(js, "compared_h", (double)ch);
    cJSON_AddNumberToObject(js, "compared_w", (double)cw);
    if (have_fid) cJSON_AddStringToObject(js, "fid_weights_sha256", fid.sha256);
    cJSON *ms = cJSON_AddArrayToObject(js, "methods");
    for (int r = 0; r < nr; r++) cJSON_AddItemToArray(ms, cJSON_CreateString(er[r].name));
    char *text = cJSON_Print(js);
    cJSON_Delete(js);
    char *pj = mg_path_join(outdir, "eval.json"), *tj;
    FILE *fj = cli_open_tmp(cmd, pj, &tj);
    fprintf(fj, "%s\n", text);
    cli_close_tmp(cmd, fj, tj, pj);
    free(text);

    fputs(table, stdout);
    cli_inputs_notes(&in);
    if (arc_note[0]) fprintf(stderr, "mrgan eval: note: %s\n", arc_note);
    printf("eval: %s/table.md, table.csv, per_slice.csv, images/\n", outdir);
    free(table); free(pj); free(imgdir); free(img);
    mg_eval_free(&ev);
    if (have_fid) mg_fid_free(&fid);
    cli_inputs_free(&in);
    return 0;
}

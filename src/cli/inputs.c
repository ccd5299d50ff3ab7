/* k-space inputs shared by zerofill and recon: which slices, which mask,
 * which coil maps. */
#include "cli.h"
#include "mri/mri.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *cli_inputs_help =
    "Undersampling (applied to the input, which should then be fully sampled;\n"
    "the NMSE against the fully sampled reconstruction is printed):\n"
    "  --accel R            generate a mask with net acceleration R per slice\n"
    "  --mask-type T        vd (default) | random | equispaced\n"
    "  --center C           fully sampled centre lines (default 12)\n"
    "  --seed S             mask seed (default 1); slice i uses a seed mixed from S and i\n"
    "  --mask FILE          use this cfl mask ([1 H]) for every slice instead\n"
    "Masks and R count acquired lines only: lines outside the ISMRMRD header's\n"
    "encoding limits (padding) or zero in every coil are never sampled.\n"
    "Without --accel/--mask the input is used as it is: a 'mask' data set in the\n"
    "HDF5 file is applied when present, else lines that are zero in every coil\n"
    "count as not sampled.\n"
    "  --crop-readout M     auto (default): remove readout oversampling when the\n"
    "                       header's encodedSpace x exceeds its reconSpace x\n"
    "                       (fastMRI: 640 -> 320), said in one line; none: keep it\n"
    "\n"
    "Coil maps (default: the file's sens_maps, else estimated with walsh):\n"
    "  --sens FILE          cfl maps [W H 1 coils] (the k-space's layout), or bart\n"
    "                       ecalib's [W H 1 coils sets]: set 1 is used, with a note\n"
    "  --sens-method M      walsh | direct | espirit: estimate from the centre lines\n"
    "                       (even when the file has maps; 'mrgan sens --help')\n"
    "  --acs N              calibration lines for the estimate (default 12)\n"
    "  --espirit-kernel K   ESPIRiT's kernel, K x K (default 6, as bart ecalib)\n"
    "  --espirit-crop C     ESPIRiT's eigenvalue crop (default 0.8, as bart ecalib;\n"
    "                       0: maps everywhere, the better choice when the whole\n"
    "                       field of view is scored, docs/results.md)\n"
    "  --maps N             map sets: 1 (default) or 2 (--sens-method espirit, or a\n"
    "                       --sens file of 2 sets: soft SENSE, one image per set,\n"
    "                       shown as their root-sum-of-squares; DCI-Net uses set 1)\n"
    "  --slice I            only slice I\n";

/* the extra outputs of the single-method commands (not eval's) */
static const char *cli_inputs_help_out =
    "  --mask-out FILE      also write the first slice's mask (cfl or png)\n"
    "  --ksp-out FILE       also write the undersampled k-space as BART cfl [W H 1 C]\n"
    "  --sens-out FILE      also write the coil maps used as BART cfl [W H 1 C]\n"
    "                       (a cfl input's layout is kept, e.g. [1 W H C], for bart pics)\n"
    "                       (these need a single slice: --slice I, or one-slice input)\n";

void cli_inputs_init(cli_inputs *in, const char *cmd)
{
    memset(in, 0, sizeof *in);
    in->cmd = cmd;
    in->mo = (cli_mask_opts){0, 0.0, 12, -1.0, 1};
    in->method = MG_SENS_WALSH;
    in->acs = 12;
    in->only = -1;
    in->ro = MG_READ_DEFAULTS;
    in->maps = 1;
    mg_espirit_defaults(&in->eo);
}

/* a note for the end of a successful run (several are kept, one per line) */
static void add_note(cli_inputs *in, const char *text)
{
    const size_t L = strlen(in->note);
    snprintf(in->note + L, sizeof in->note - L, "%s%s", L ? "\n" : "", text);
}

int cli_inputs_option(cli_inputs *in, int c, const char *arg)
{
    const char *cmd = in->cmd;
    switch (c) {
    case 'R': in->mo.accel = cli_double(cmd, "--accel", arg, 1.0, 1e6); return 1;
    case 't': in->mo.type = cli_mask_type(cmd, arg); return 1;
    case 'c': in->mo.center = cli_long(cmd, "--center", arg, 0, 1 << 16); return 1;
    case 's': in->mo.seed = cli_seed(cmd, "--seed", arg); return 1;
    case 'm': in->mask_file = arg; return 1;
    case 'o': in->mask_out = arg; return 1;
    case 'S': in->sens_file = arg; return 1;
    case 'M': in->method = cli_sens_method(cmd, arg); in->force_est = 1; return 1;
    case 'a': in->acs = cli_long(cmd, "--acs", arg, 2, 1 << 16); return 1;
    case 'i': in->only = cli_long(cmd, "--slice", arg, 0, 1L << 30); return 1;
    case 'K': in->ksp_out = arg; return 1;
    case 'V': in->sens_out = arg; return 1;
    case CLI_OPT_CROP: in->ro.crop_readout = cli_crop_readout(cmd, arg); return 1;
    case CLI_OPT_MAPS: in->maps = cli_long(cmd, "--maps", arg, 1, 2); return 1;
    case CLI_OPT_ECROP: in->eo.crop = cli_double(cmd, "--espirit-crop", arg, 0.0, 1.0); return 1;
    case CLI_OPT_EKERN: in->eo.kernel = cli_long(cmd, "--espirit-kernel", arg, 2, 32); return 1;
    default: return 0;
    }
}

/* no output may be an input (nothing on disk is damaged: docs/reliability.md) */
static void check_outputs(const cli_inputs *in, const char *out)
{
    const char *ins[3] = {in->path, in->mask_file, in->sens_file};
    const char *outs[4] = {out, in->ksp_out, in->sens_out, in->mask_out};
    for (int i = 0; i < 4; i++)
        if (outs[i] && mg_check_output(outs[i], ins, 3)) cli_fail_lib(in->cmd);
}

void cli_inputs_open(cli_inputs *in, const char *path, const char *out)
{
    const char *cmd = in->cmd;
    if (in->mask_file && in->mo.accel > 0) cli_fail(cmd, "give either --mask or --accel, not both");
    in->path = path;
    check_outputs(in, out);
    if (mg_kdata_read_opts(path, &in->ro, &in->d)) cli_fail_lib(cmd);
    if (in->d.w_encoded > 0) {
        char t[512];
        snprintf(t, sizeof t, "%s: note: %s: readout oversampling removed (%ld -> %ld points, the header's reconSpace; "
                 "--crop-readout none keeps it)", cmd, path, in->d.w_encoded, in->d.w);
        add_note(in, t);
    }
    {
        const long nk = in->d.nslices * in->d.coils * in->d.h * in->d.w;
        long nz = 0;
        for (long i = 0; i < nk && !nz; i++) nz = in->d.kspace[i] != 0.0f;
        if (!nz) cli_fail(cmd, "%s: k-space is all zero", path);
    }
    const long C = in->d.coils, H = in->d.h, W = in->d.w;
    if (in->only >= in->d.nslices)
        cli_fail(cmd, "option --slice: %ld is out of range (%s has %ld slices)", in->only, path, in->d.nslices);
    if (in->acs > H) cli_fail(cmd, "option --acs: %ld lines exceed the %ld phase-encode lines of %s", in->acs, H, path);
    if (in->mo.accel > (double)H)
        cli_fail(cmd, "option --accel: R=%g is larger than the %ld phase-encode lines of %s", in->mo.accel, H, path);
    if (in->mask_file && mg_mask_read_cfl(in->mask_file, H, &in->fixed)) cli_fail_lib(cmd);
    if (in->sens_file) {
        if (in->d.nslices > 1 && in->only < 0)
            cli_fail(cmd, "--sens FILE holds one slice's maps; %s has %ld slices (pick one with --slice)", path, in->d.nslices);
        long sets = 1;
        if (mg_sens_read_cfl(in->sens_file, C, H, W, &in->ext_sens, &sets)) cli_fail_lib(cmd);
        if (sets < in->maps)
            cli_fail(cmd, "option --maps: %ld sets asked for, %s holds %ld", in->maps, in->sens_file, sets);
        long nz = 0;
        for (long i = 0; i < C * H * W && !nz; i++) nz = in->ext_sens[i] != 0.0f;
        if (!nz) cli_fail(cmd, "%s: the coil maps are all zero (bart ecalib cropped everything? try a lower -c)", in->sens_file);
        if (sets > in->maps) {
            char t[512];
            snprintf(t, sizeof t, "%s: note: %s holds %ld map sets (bart ecalib's default); the methods use set 1 "
                     "(--maps 2: both)", cmd, in->sens_file, sets);
            add_note(in, t);
        }
    }
    { /* a user's maps: unit norm, as every method assumes (normalised once, here) */
        const long n = C * H * W;
        double dev = 0;
        if (in->ext_sens && in->maps == 1) dev = mg_sens_normalize(in->ext_sens, C, H, W, 1e-3); /* sets: as given */
        else if (in->d.sens && !in->force_est)
            for (long s = 0; s < in->d.nslices; s++) dev = fmax(dev, mg_sens_normalize(in->d.sens + s * n, C, H, W, 1e-3));
        if (dev > 1e-3) { /* said once the command has succeeded: an error stays one line */
            char t[512];
            snprintf(t, sizeof t, "%s: note: the coil maps of %s are not unit-norm (root-sum-of-squares "
                     "off by up to %.3g); normalised per pixel (docs/reliability.md)",
                     cmd, in->ext_sens ? in->sens_file : path, dev);
            add_note(in, t);
        }
    }
    if (in->maps > 1 && !in->sens_file && in->method != MG_SENS_ESPIRIT)
        cli_fail(cmd, "option --maps 2: two map sets come from --sens-method espirit or a --sens file of two sets");
    in->undersample = in->fixed || in->mo.accel > 0;
    if ((in->ksp_out || in->sens_out) && in->d.nslices > 1 && in->only < 0)
        cli_fail(cmd, "--ksp-out/--sens-out write one slice; %s has %ld slices (pick one with --slice)", path, in->d.nslices);
    in->s0 = in->only >= 0 ? in->only : 0;
    in->s1 = in->only >= 0 ? in->only + 1 : in->d.nslices;
    in->mask = mg_malloc_array((size_t)H, sizeof(float));
    in->acq = mg_malloc_array((size_t)H, sizeof(float));
}

void cli_inputs_check_mask(cli_inputs *in)
{
    if (in->mo.accel <= 0 || in->fixed) return;
    const long nacq = mg_kdata_acquired(&in->d, in->s0, in->acq);
    if (nacq > 0 && in->mo.accel <= (double)nacq)
        cli_make_mask(in->cmd, &in->mo, in->d.h, in->s0, nacq < in->d.h ? in->acq : NULL, in->mask);
}

const float *cli_inputs_slice(cli_inputs *in, long s, cfloat *sens)
{
    const long C = in->d.coils, H = in->d.h, W = in->d.w, n = C * H * W;
    const float *m = NULL;
    const long nacq = mg_kdata_acquired(&in->d, s, in->acq);
    if (in->undersample && nacq == 0) cli_fail(in->cmd, "%s, slice %ld: k-space is all zero", in->path, s);
    if (in->fixed) m = in->fixed;
    else if (in->mo.accel > 0) {
        if (in->mo.accel > (double)nacq)
            cli_fail(in->cmd, "option --accel: R=%g is larger than the %ld acquired lines of slice %ld of %s",
                     in->mo.accel, nacq, s, in->path);
        cli_make_mask(in->cmd, &in->mo, H, s, nacq < H ? in->acq : NULL, in->mask);
        m = in->mask;
    } else if (in->d.mask) m = in->d.mask;
    else { /* data as they are: lines that are zero in every coil were not sampled */
        const cfloat *k = in->d.kspace + s * n;
        long got = 0;
        for (long y = 0; y < H; y++) {
            in->mask[y] = 0.0f;
            for (long c = 0; c < C && in->mask[y] == 0.0f; c++)
                for (long x = 0; x < W; x++)
                    if (k[(c * H + y) * W + x] != 0.0f) {
                        in->mask[y] = 1.0f;
                        break;
                    }
            got += in->mask[y] != 0.0f;
        }
        if (got == 0) cli_fail(in->cmd, "%s, slice %ld: k-space is all zero", in->path, s);
        if (got < H) m = in->mask;
    }
    if (m && s == in->s0 && in->mask_out) cli_write_mask(in->cmd, in->mask_out, m, H, W);
    if (m) {
        /* sampled lines that were acquired (a file's mask may cover padding) */
        for (long y = 0; y < H; y++) in->lines += m[y] != 0.0f && in->acq[y] != 0.0f;
        in->acquired += nacq;
    }
    long dims[4]; /* the input's layout ([W H 1 C], or [1 W H C] ...) */
    mg_kdata_cfl_layout(&in->d, C, H, W, dims);
    if (in->ksp_out) {
        cfloat *ku = mg_malloc_array((size_t)n, sizeof(cfloat));
        memcpy(ku, in->d.kspace + s * n, sizeof(cfloat) * (size_t)n);
        mg_mask_apply(ku, m, C, H, W);
        int rc = mg_cfl_write(in->ksp_out, 4, dims, ku);
        free(ku);
        if (rc) cli_fail_lib(in->cmd);
    }
    if (in->ext_sens) memcpy(sens, in->ext_sens, sizeof(cfloat) * (size_t)(in->maps * n));
    else if (in->d.sens && !in->force_est) memcpy(sens, in->d.sens + s * n, sizeof(cfloat) * (size_t)n);
    else {
        in->eo.maps = in->maps; /* ESPIRiT's sets */
        if (mg_sens_estimate_opts(in->d.kspace + s * n, C, H, W, in->acs, in->method, &in->eo, sens))
            cli_fail(in->cmd, "%s, slice %ld: %s", in->path, s, mg_error());
    }
    if (in->sens_out) {
        long d5[5] = {dims[0], dims[1], dims[2], dims[3], in->maps};
        if (mg_cfl_write(in->sens_out, in->maps > 1 ? 5 : 4, d5, sens)) cli_fail_lib(in->cmd);
    }
    return m;
}

void cli_inputs_report(const cli_inputs *in, const mg_nmse_acc *acc)
{
    const long ns = in->s1 - in->s0;
    if (!in->undersample) return;
    double nmse = mg_nmse_value(acc); /* finite: cli_inputs_run checked it before writing */
    printf("%s: mean sampled lines %.1f of %.1f acquired (net R = %.3f); NMSE vs fully sampled = %.5f "
           "(x1e3: %.2f)\n",
           in->cmd, (double)in->lines / (double)ns, (double)in->acquired / (double)ns,
           (double)in->acquired / (double)in->lines, nmse, nmse * 1e3);
}

void cli_inputs_notes(cli_inputs *in)
{
    if (in->note[0]) fprintf(stderr, "%s\n", in->note);
    in->note[0] = 0;
}

void cli_inputs_free(cli_inputs *in)
{
    free(in->fixed);
    free(in->ext_sens);
    free(in->mask);
    free(in->acq);
    mg_kdata_free(&in->d);
}

void cli_inputs_print_help(const char *head, int outputs)
{
    fputs(head, stdout);
    fputs(cli_inputs_help, stdout);
    if (outputs) fputs(cli_inputs_help_out, stdout);
    fputs("  -q, --quiet          no progress output\n  -h, --help           this text\n", stdout);
}

double cli_inputs_run(cli_inputs *in, int quiet, cli_slice_fn fn, void *ctx, const char *out,
                      mg_nmse_acc *acc)
{
    const long C = in->d.coils, H = in->d.h, W = in->d.w, n = H * W, ns = in->s1 - in->s0;
    cfloat *img = mg_malloc_array((size_t)(ns * n), sizeof(cfloat));
    cfloat *ref = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *sens = mg_malloc_array((size_t)(in->maps * C * n), sizeof(cfloat));
    mg_progress pr;
    mg_progress_start(&pr, in->cmd, ns, quiet || ns < 2);
    double t = 0;
    for (long s = in->s0; s < in->s1; s++) {
        const cfloat *k = in->d.kspace + s * C * n;
        const float *m = cli_inputs_slice(in, s, sens);
        cfloat *x = img + (s - in->s0) * n;
        double t0 = mg_now();
        if (fn(ctx, k, sens, m, x, s)) cli_fail_lib(in->cmd);
        if (mg_first_nonfinite_c(x, (size_t)n) >= 0)
            cli_fail(in->cmd, "%s: not written: the reconstruction of slice %ld of %s is not finite", out, s, in->path);
        t += mg_now() - t0;
        if (in->undersample) {
            mg_zerofill_sets(k, sens, in->maps, NULL, ref, C, H, W);
            mg_nmse_add_mag(acc, ref, x, (size_t)n);
        }
        mg_progress_update(&pr, s - in->s0 + 1);
    }
    mg_progress_end(&pr);
    if (in->undersample && !isfinite(mg_nmse_value(acc))) /* before anything is written */
        cli_fail(in->cmd, "%s: the fully sampled image is all zero: NMSE is undefined", in->path);
    long oh = H, ow = W;
    if (mg_has_suffix(out, ".h5") || mg_has_suffix(out, ".hdf5")) {
        /* fastMRI's submission layout: the reconSpace centre (e.g. 320 x 320) */
        if (in->d.recon_h > 0 && in->d.recon_h < H) oh = in->d.recon_h;
        if (in->d.recon_w > 0 && in->d.recon_w < W) ow = in->d.recon_w;
        for (long s = 0; s < ns && (oh < H || ow < W); s++) mg_center_crop(img + s * n, H, W, img + s * oh * ow, oh, ow, sizeof(cfloat));
    }
    if (mg_images_write_layout(out, img, ns, oh, ow, in->d.cfl_dims)) cli_fail_lib(in->cmd);
    cli_inputs_notes(in);
    free(img);
    free(ref);
    free(sens);
    return t / (double)ns;
}

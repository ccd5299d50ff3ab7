/* mrgan: undersampled multi-coil MRI reconstruction (see README.md). */
#include "cli.h"
#include "fft/fft.h"
#include "gpu/backend.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"demo", cmd_demo, "the main job end to end: simulate, train, eval, report"},
    {"simulate", cmd_simulate, "multi-coil k-space data sets from a brain volume (NIfTI)"},
    {"mask", cmd_mask, "undersampling masks over phase-encode lines"},
    {"zerofill", cmd_zerofill, "zero-filled SENSE-combined reconstruction"},
    {"sens", cmd_sens, "coil sensitivity maps from the calibration lines"},
    {"convert", cmd_convert, "ISMRMRD raw data or cfl k-space to a fastMRI-layout file"},
    {"cs", cmd_cs, "compressed sensing: l1-wavelet (FISTA) or TV (ADMM)"},
    {"arc", cmd_arc, "ARC / GRAPPA-style k-space interpolation"},
    {"compare", cmd_compare, "NMSE / PSNR / NRMSE of an image against a reference"},
    {"train", cmd_train, "train a DCI-Net generator"},
    {"average", cmd_average, "average the weights of DCI-Net checkpoints (a model soup)"},
    {"recon", cmd_recon, "reconstruct with a trained DCI-Net"},
    {"eval", cmd_eval, "every method on a test split: NMSE, PSNR, SSIM, HFEN, FID tables"},
    {"report", cmd_report, "HTML report: figures, tables, blinded reader study"},
    {"fid", cmd_fid, "FID / KID between two image sets (Inception-v3, pytorch-fid)"},
    {"bench", cmd_bench, "DCI-Net speed: inference, MSE and cWGAN-AGB steps (CPU or --gpu)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: mrgan COMMAND [options] ...\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'mrgan COMMAND --help' describes a command. Exit status: 0 success, 1 bad input.\n");
}

/* mrgan-gpu beside this binary (the GPU build of the same commands), or NULL */
static char *gpu_binary(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
    if (n <= 0) return NULL;
    path[n] = 0;
    char *slash = strrchr(path, '/');
    if (!slash) return NULL;
    strcpy(slash + 1, "mrgan-gpu");
    return access(path, X_OK) == 0 ? path : NULL;
}

int main(int argc, char **argv)
{
    /* --gpu: the commands of mrgan-gpu, which links CUDA; plain mrgan does not
     * load those libraries (docs/gpu.md). Without it the command reports that
     * this build has no GPU backend. */
    for (int i = 2; i < argc && !mg_backend_built(); i++)
        if (!strcmp(argv[i], "--gpu") || !strncmp(argv[i], "--gpu=", 6)) {
            char *g = gpu_binary();
            if (g) {
                execv(g, argv);
                fprintf(stderr, "mrgan: cannot run %s: %s\n", g, strerror(errno));
                return 1;
            }
            break;
        }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        const char *gpu = mg_backend_built() ? "yes (mrgan-gpu)"
                          : gpu_binary()     ? "yes (mrgan-gpu beside this binary)"
                                             : "no";
        printf("mrgan 0.1.0 (MPI: %s, GPU backend: %s)\n", mg_dist_have_mpi() ? "yes" : "no", gpu);
        return 0;
    }
    /* OpenBLAS's own threads spin against OpenMP's (oneDNN, our loops) and
     * our BLAS calls are small: keep it on the calling thread. */
    openblas_set_num_threads(1);
    /* FFTW's own threads, as many as OpenMP's team: FFTs run between the
     * OpenMP regions, never inside one */
    mg_fft_set_threads(omp_get_max_threads());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            int rc = commands[i].fn(argc - 1, argv + 1);
            mg_fft_cleanup();
            return rc;
        }
    fprintf(stderr, "mrgan: unknown command '%s' (try 'mrgan --help')\n", argv[1]);
    return 1;
}

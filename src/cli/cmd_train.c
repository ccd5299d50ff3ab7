/* mrgan train: train DCI-Net (mode mse; GAN modes follow). */
#include "cli.h"
#include "mri/mri.h"
#include "train/train.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: mrgan train [options] --data DIR RUN\n"
    "\n"
    "Trains a DCI-Net (by MSE, or as the generator of a WGAN, conditional WGAN\n"
    "or cWGAN with adaptive gradient balancing) on the train split of the data\n"
    "set DIR, validating on its val split, into the run directory RUN:\n"
    "config.json, metrics.csv\n"
    "(per step: losses, critic estimate, gradient STDs, gma, pma, beta; per\n"
    "epoch: validation NMSE), last.safetensors (weights, Adam state, critic,\n"
    "position; written every epoch and on interruption), best.safetensors (the\n"
    "selected epoch) and val_grid/ images. Ctrl-C stops after the current step\n"
    "with a checkpoint; --resume continues exactly where it stopped.\n"
    "\n"
    "  --data DIR         the data set: DIR/train.h5 and val.h5 ('mrgan simulate'),\n"
    "                     fastMRI's DIR/multicoil_train/ and multicoil_val/, DIR/train/\n"
    "                     and val/ (*.h5), or DIR/train.txt and val.txt (lists of\n"
    "                     files); any mix of matrix sizes and coil counts, read slice\n"
    "                     by slice (batches are of one shape; docs/data.md)\n"
    "  --crop-readout M   auto (default): remove readout oversampling (header's\n"
    "                     encodedSpace x > reconSpace x); none: keep it\n"
    "  --sens-method M    walsh (default) | direct | espirit: maps for files that have\n"
    "                     none (estimated from the --center lines; 'mrgan sens --help')\n"
    "  --cache-mb N       keep up to N MB of read slices in memory (default 512; 0:\n"
    "                     read every slice from its file each time)\n"
    "  --precision P      fp32 (default) | bf16: convolutions in bf16 with fp32\n"
    "                     accumulation; fp32 weights, DCI-Net's weight gradients,\n"
    "                     Adam state, DC units, FFTs and losses (AVX512-BF16 or AMX;\n"
    "                     elsewhere a note and fp32);\n"
    "                     kept in the run (docs/training.md)\n"
    "  --mode M           mse (default) | wgan | cwgan | cwgan-agb (docs/gan.md)\n"
    "  --loss L           the pixel loss of every mode: complex (default, the paper):\n"
    "                     MSE of the complex images; magnitude: MSE of their\n"
    "                     magnitudes, what eval compares; nmse: that MSE divided by\n"
    "                     each target's mean-square magnitude, eval's per-image NMSE\n"
    "                     (several times magnitude's gradients: scale --grad-clip)\n"
    "                     (docs/training.md)\n"
    "  --blocks N         unrolled blocks (default 5; paper 20)\n"
    "  --growth G         dense skips (default 5; paper 5)\n"
    "  --kernels K        channels of the hidden convolutions (default 16; paper 40)\n"
    "  --paper            the paper's generator: 20 blocks, growth 5, 40 kernels\n"
    "  --epochs E         epochs (default 50)\n"
    "  --batch B          slices per step (default 1)\n"
    "  --lr A             Adam learning rate (default 5e-4, paper B.2)\n"
    "  --lr-decay D       constant (default, paper B.2) | cosine: from --lr down to\n"
    "                     --lr/100 over the run's steps (docs/training.md)\n"
    "  --grad-clip N      scale the generator's gradient to L2 norm <= N before\n"
    "                     each Adam step (default 0: none)\n"
    "  --beta1 B          Adam beta1 (default 0.9)\n"
    "  --accel R          net acceleration of the training masks (default 4)\n"
    "  --center C         fully sampled centre lines (default 12)\n"
    "  --mask-type T      vd (default) | random | equispaced\n"
    "  --no-augment       no random flips / rotations (default: flips, +-20 degrees)\n"
    "  --seed S           seed of weights, shuffling, augmentation, masks (default 1)\n"
    "  --eval-seed S      seed of the fixed validation masks (default 1, as zerofill)\n"
    "  --save-every N     also keep epoch_NNN.safetensors every N epochs\n"
    "  --max-steps N      stop after N steps in total (with a checkpoint)\n"
    "  --select-start E   model selection (paper B.3) over epochs > E (default epochs/3):\n"
    "                     best.safetensors = the epoch minimising z(val NMSE) + z(val FID)\n"
    "                     (NMSE alone without --fid-weights); epochs/epoch_NNN.safetensors\n"
    "                     are kept from E on\n"
    "  --grid N           validation slices in RUN/val_grid/epoch_NNN.png (default 4; 0: none)\n"
    "  --fid-weights W    also compute the validation FID every epoch (Inception-v3\n"
    "                     weights, docs/metrics.md) and select by NMSE and FID (B.3)\n"
    "GAN modes:\n"
    "  --critic-ch C      PatchGAN width: C, 2C, 4C, 8C channels (default 64, pix2pix)\n"
    "  --critic-steps N   critic steps per generator step (default 1)\n"
    "  --critic-lr A      critic Adam learning rate (default 5e-4)\n"
    "  --clip C           critic weight clipping (default 0.01)\n"
    "  --gan-lambda L     wgan/cwgan: loss = MSE + GAN / L (default 100, paper)\n"
    "  --agb-beta0 B      cwgan-agb: initial beta (default 10)\n"
    "  --agb-ratio R      cwgan-agb: the bound on gma / pma (default 10, paper), or\n"
    "                     auto: the balance measured over the first --agb-warmup\n"
    "                     steps at the initial beta (no increase before), for data\n"
    "                     where the measured balance never nears 10 (docs/gan.md)\n"
    "  --agb-warmup N     cwgan-agb: steps that calibrate --agb-ratio auto (default 100)\n"
    "  --agb-rate R       cwgan-agb: rate (default 0.1)\n"
    "  --agb-ma M         cwgan-agb: moving-average factor (default 0.99)\n"
    "  --init CKPT        start the generator from CKPT's weights (e.g. an MSE run's\n"
    "                     best.safetensors; the paper trains from scratch). CKPT\n"
    "                     may have fewer --blocks and --kernels than the run (same\n"
    "                     growth): the blocks beyond start as the identity, the\n"
    "                     new channels unconnected to the old (docs/training.md)\n"
    "  --resume           continue RUN from RUN/last.safetensors with RUN/config.json\n"
    "                     and the same --data (an explicit --epochs sets a new\n"
    "                     total, not below the epochs begun; --lr sets the\n"
    "                     learning rate from here on; other\n"
    "                     options are ignored, with a note). Without --resume RUN\n"
    "                     must be new or empty. RUN is locked while training.\n"
    "  --gpu[=N]          steps and validation on CUDA device N (default 0): cuDNN,\n"
    "                     cuFFT, cuBLAS; samples are still prepared on the CPU. Not\n"
    "                     saved in the run: --resume may switch (docs/gpu.md)\n"
    "  -q, --quiet        no progress output\n"
    "  -h, --help         this text\n"
    "\n"
    "Data-parallel: 'mpirun -np P mrgan train ...' splits each batch of B slices\n"
    "over P processes (B divisible by P), sums gradients and batch-norm\n"
    "statistics over them, and gives the weights one process would (docs/mpi.md);\n"
    "rank 0 writes the run directory. --resume works with any P.\n";

int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", 1, 0, 'd'},    {"mode", 1, 0, 'x'},      {"blocks", 1, 0, 'N'},
        {"growth", 1, 0, 'G'},  {"kernels", 1, 0, 'K'},   {"paper", 0, 0, 'P'},
        {"epochs", 1, 0, 'e'},  {"batch", 1, 0, 'b'},     {"lr", 1, 0, 'l'},
        {"beta1", 1, 0, '1'},   {"accel", 1, 0, 'R'},     {"center", 1, 0, 'c'},
        {"mask-type", 1, 0, 't'}, {"no-augment", 0, 0, 'A'}, {"seed", 1, 0, 's'},
        {"eval-seed", 1, 0, 'E'}, {"save-every", 1, 0, 'v'}, {"max-steps", 1, 0, 'm'},
        {"resume", 0, 0, 'r'},  {"quiet", 0, 0, 'q'},     {"help", 0, 0, 'h'},
        {"select-start", 1, 0, 'S'}, {"grid", 1, 0, 'g'}, {"critic-ch", 1, 0, 'D'},
        {"critic-steps", 1, 0, 'n'}, {"critic-lr", 1, 0, 'L'}, {"clip", 1, 0, 'C'},
        {"gan-lambda", 1, 0, 'w'}, {"agb-beta0", 1, 0, '0'}, {"agb-ratio", 1, 0, 'o'}, {"agb-warmup", 1, 0, 303},
        {"agb-rate", 1, 0, 'a'}, {"agb-ma", 1, 0, 'M'}, {"init", 1, 0, 'I'}, {"fid-weights", 1, 0, 'F'},
        {"gpu", 2, 0, 'u'}, {"crop-readout", 1, 0, CLI_OPT_CROP}, {"cache-mb", 1, 0, 301}, {"sens-method", 1, 0, 302},
        {"precision", 1, 0, 306}, {"lr-decay", 1, 0, 307}, {"grad-clip", 1, 0, 308},
        {"loss", 1, 0, 309}, {0, 0, 0, 0}};
    const char *cmd = "train";
    mg_train_cfg cfg;
    mg_train_defaults(&cfg);
    const char *data = NULL;
    int resume = 0, epochs_given = 0, lr_given = 0, c;
    char ignored[512] = ""; /* options --resume does not change */
    size_t io = 0;
    optind = 1;
    int idx;
    while ((c = getopt_long(argc, argv, "hq", opts, &idx)) != -1) {
        if (c != '?' && c != 'h' && c != 301 && (c > 255 || !strchr("demrqul", c)) && io < sizeof ignored - 32) {
            const char *nm = "";
            for (int i = 0; opts[i].name; i++)
                if (opts[i].val == c) nm = opts[i].name;
            io += (size_t)snprintf(ignored + io, sizeof ignored - io, "%s--%s", io ? ", " : "", nm);
        }
        switch (c) {
        case 'd': data = optarg; break;
        case 'x':
            if (strcmp(optarg, "mse") && strcmp(optarg, "wgan") && strcmp(optarg, "cwgan") &&
                strcmp(optarg, "cwgan-agb"))
                cli_fail(cmd, "option --mode: '%s' is not one of mse, wgan, cwgan, cwgan-agb", optarg);
            snprintf(cfg.mode, sizeof cfg.mode, "%s", optarg);
            break;
        case 'N': cfg.net.blocks = (int)cli_long(cmd, "--blocks", optarg, 1, 200); break;
        case 'G': cfg.net.growth = (int)cli_long(cmd, "--growth", optarg, 0, 200); break;
        case 'K': cfg.net.kernels = (int)cli_long(cmd, "--kernels", optarg, 1, 1024); break;
        case 'P': cfg.net.blocks = 20, cfg.net.growth = 5, cfg.net.kernels = 40; break;
        case 'e': cfg.epochs = (int)cli_long(cmd, "--epochs", optarg, 1, 1000000); epochs_given = 1; break;
        case 'b': cfg.batch = (int)cli_long(cmd, "--batch", optarg, 1, 4096); break;
        case 'l': cfg.lr = (float)cli_double(cmd, "--lr", optarg, 1e-9, 1.0), lr_given = 1; break;
        case 307:
            if (!strcmp(optarg, "constant")) cfg.lr_decay = MG_LR_CONSTANT;
            else if (!strcmp(optarg, "cosine")) cfg.lr_decay = MG_LR_COSINE;
            else cli_fail(cmd, "option --lr-decay: '%s' is not one of constant, cosine", optarg);
            break;
        case 309:
            if (!strcmp(optarg, "complex")) cfg.loss = MG_LOSS_COMPLEX;
            else if (!strcmp(optarg, "magnitude")) cfg.loss = MG_LOSS_MAGNITUDE;
            else if (!strcmp(optarg, "nmse")) cfg.loss = MG_LOSS_NMSE;
            else cli_fail(cmd, "option --loss: '%s' is not one of complex, magnitude, nmse", optarg);
            break;
        case 308: cfg.grad_clip = (float)cli_double(cmd, "--grad-clip", optarg, 0.0, 1e9); break;
        case '1': cfg.beta1 = (float)cli_double(cmd, "--beta1", optarg, 0.0, 0.9999); break;
        case 'R': cfg.accel = cli_double(cmd, "--accel", optarg, 1.0, 1e6); break;
        case 'c': cfg.center = cli_long(cmd, "--center", optarg, 0, 1 << 16); break;
        case 't': cfg.mask_type = cli_mask_type(cmd, optarg); break;
        case 'A': cfg.augment = 0; break;
        case 's': cfg.seed = cli_seed(cmd, "--seed", optarg); break;
        case 'E': cfg.eval_seed = cli_seed(cmd, "--eval-seed", optarg); break;
        case 'v': cfg.save_every = (int)cli_long(cmd, "--save-every", optarg, 0, 1000000); break;
        case 'm': cfg.max_steps = cli_long(cmd, "--max-steps", optarg, 1, 1L << 40); break;
        case 'r': resume = 1; break;
        case 'I': cfg.init = optarg; break;
        case 'u': cfg.gpu = cli_gpu_device(cmd, optarg); break;
        case 'F':
            if (strlen(optarg) >= sizeof cfg.fid_weights) cli_fail(cmd, "option --fid-weights: path too long");
            snprintf(cfg.fid_weights, sizeof cfg.fid_weights, "%s", optarg);
            break;
        case 'S': cfg.select_start = (int)cli_long(cmd, "--select-start", optarg, 0, 1000000); break;
        case 'g': cfg.grid = (int)cli_long(cmd, "--grid", optarg, 0, 64); break;
        case 'D': cfg.critic_ch = (int)cli_long(cmd, "--critic-ch", optarg, 1, 512); break;
        case 'n': cfg.critic_steps = (int)cli_long(cmd, "--critic-steps", optarg, 1, 100); break;
        case 'L': cfg.critic_lr = (float)cli_double(cmd, "--critic-lr", optarg, 1e-9, 1.0); break;
        case 'C': cfg.clip = (float)cli_double(cmd, "--clip", optarg, 1e-6, 10.0); break;
        case 'w': cfg.gan_lambda = cli_double(cmd, "--gan-lambda", optarg, 1e-6, 1e9); break;
        case '0': cfg.agb_beta0 = cli_double(cmd, "--agb-beta0", optarg, 1e-6, 1e9); break;
        case 'o': cfg.agb_ratio = !strcmp(optarg, "auto") ? 0 : cli_double(cmd, "--agb-ratio", optarg, 1e-6, 1e9); break;
        case 303: cfg.agb_warmup = cli_long(cmd, "--agb-warmup", optarg, 1, 1000000); break;
        case 'a': cfg.agb_rate = cli_double(cmd, "--agb-rate", optarg, 1e-6, 10.0); break;
        case 'M': cfg.agb_ma = cli_double(cmd, "--agb-ma", optarg, 0.0, 0.999999); break;
        case CLI_OPT_CROP: cfg.crop_readout = cli_crop_readout(cmd, optarg); break;
        case 302: cfg.sens_method = cli_sens_method(cmd, optarg); break;
        case 306: cfg.precision = cli_precision_arg(cmd, optarg); break;
        case 301: cfg.cache_mb = cli_long(cmd, "--cache-mb", optarg, 0, 1L << 30); break;
        case 'q': cfg.quiet = 1; break;
        case 'h': fputs(help, stdout); return 0;
        default: cli_fail(cmd, "bad option (see 'mrgan train --help')");
        }
    }
    if (argc - optind != 1) cli_fail(cmd, "expected one run directory (see 'mrgan train --help')");
    if (!data) cli_fail(cmd, "--data DIR is required (a data set directory: see 'mrgan train --help')");
    if (resume && !epochs_given) cfg.epochs = 0; /* keep the run's own epoch count */
    if (resume) {
        cfg.resume_lr = lr_given ? cfg.lr : 0;
        if (ignored[0]) snprintf(cfg.resume_note, sizeof cfg.resume_note, "%s", ignored);
    }
    if (mg_dist_init(&argc, &argv)) cli_fail_lib(cmd);
    int rc = mg_train_run(&cfg, data, argv[optind], resume);
    if (rc < 0) {
        if (mg_dist_size() > 1) { /* one rank failed: stop them all */
            fprintf(stderr, "mrgan train: rank %d: %s\n", mg_dist_rank(), mg_error());
            mg_dist_abort(1);
        }
        cli_fail_lib(cmd);
    }
    mg_dist_finalize();
    return rc == 2 ? 130 : 0;
}

#!/usr/bin/env bash
# Installs every Debian package mrgan needs to build, test and run its demo.
# Already-installed packages are skipped; nothing is downloaded from anywhere
# but the Debian archive. Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  gcc make cmake ninja-build pkg-config   # toolchain
  libfftw3-dev                            # FFTs
  libopenblas-dev                         # matrix products (nn layers)
  libdnnl-dev                             # oneDNN convolutions (nn layers)
  libhdf5-dev                             # fastMRI-layout data sets
  libismrmrd-dev ismrmrd-tools            # ISMRMRD raw data (tests: its Shepp-Logan generator)
  libpng-dev zlib1g-dev                   # PNG, .nii.gz
  libcjson-dev                            # JSON (run configs, safetensors headers)
  libcmocka-dev                           # unit tests
  libopenmpi-dev openmpi-bin              # data-parallel training (mpirun -np P mrgan train)
  mricron-data                            # Colin27 T1 brain, the default data set
  chromium                                # headless check of the HTML report (tests)
  bc                                      # timings in scripts/demo.sh
  xz-utils                                # scripts/gpu-bundle.sh's archive (tests/cli_gpu_bundle.sh)
)

# Optional groups, named as arguments: packages only some scripts need.
for group in "$@"; do
  case "$group" in
    fuzz) PACKAGES+=(clang libclang-rt-14-dev libomp-14-dev) ;;  # scripts/fuzz.sh (libFuzzer)
    valgrind) PACKAGES+=(valgrind) ;;                           # scripts/valgrind.sh
    refs) PACKAGES+=(python3-h5py python3-numpy python3-skimage python3-torch bart) ;; # optional test references
    bench) PACKAGES+=(python3-torch python3-numpy) ;;             # bench/peer/compare.sh (the PyTorch peer)
    *) echo "install-deps: unknown group '$group' (fuzz, valgrind, refs, bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root to install: ${missing[*]} (run as root or install them with apt-get)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"

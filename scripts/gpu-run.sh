#!/usr/bin/env bash
# The GPU checks from a bundle of scripts/gpu-bundle.sh, on a machine with an
# NVIDIA GPU and CUDA but without mrgan's Debian packages (docs/gpu.md
# "Running on a GPU machine without the Debian packages").
# Usage: scripts/gpu-run.sh BUNDLE.tar.xz LOGDIR
# Finds cuDNN 9, cuFFT, cuBLAS and the CUDA runtime of CUDA 13 on the machine
# (the toolkit's lib directories, then any copy under /usr, /opt or
# /usr/local, such as a Python environment's nvidia/*/lib), checks that every
# program of the bundle resolves all its libraries, then runs test_gpu,
# tests/cli_gpu.sh and `mrgan bench --gpu`, each logged to LOGDIR/NAME.log,
# and prints one line per check. Exit status: 0 when all three passed.
set -uo pipefail
[ $# = 2 ] || { echo "usage: $0 BUNDLE.tar.xz LOGDIR" >&2; exit 2; }
BUNDLE=$1 L=$2
HERE=$(cd "$(dirname "$0")/.." && pwd)
[ -r "$BUNDLE" ] || { echo "$0: $BUNDLE: cannot read the bundle" >&2; exit 1; }
mkdir -p "$L" || exit 1
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
tar -C "$W" -xJf "$BUNDLE" 2> /dev/null || { echo "$0: $BUNDLE: not a bundle of scripts/gpu-bundle.sh" >&2; exit 1; }
D=$W/mrgan-gpu-bundle
[ -x "$D/bin/mrgan-gpu" ] || { echo "$0: $BUNDLE: no bin/mrgan-gpu in it" >&2; exit 1; }
dirs=""
for lib in libcudnn.so.9 libcufft.so.12 libcublas.so.13 libcublasLt.so.13 libcudart.so.13; do
    p=""
    for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda-13*/lib64 /usr/local/cuda-13*/lib /usr/lib/x86_64-linux-gnu; do
        [ -e "$d/$lib" ] && { p=$d/$lib; break; }
    done
    [ -n "$p" ] || p=$(find /usr /opt /usr/local -name "$lib" 2>/dev/null | head -n 1)
    [ -n "$p" ] || { echo "$0: $lib: not found on this machine (CUDA 13 with cuDNN 9 is needed)" >&2; exit 1; }
    d=$(dirname "$p"); case ":$dirs:" in *":$d:"*) ;; *) dirs=$dirs:$d ;; esac
done
export LD_LIBRARY_PATH=$D/lib$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
for f in "$D"/bin/*; do
    if ldd "$f" | grep -q "not found"; then
        echo "$0: $(basename "$f"): libraries not found:" >&2; ldd "$f" | grep "not found" >&2; exit 1
    fi
done
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
{
    echo "bundle commit $(cat "$D/COMMIT"), libraries from $D/lib$dirs"
    if command -v nvidia-smi > /dev/null; then nvidia-smi -L 2>&1; else echo "nvidia-smi: not on the PATH"; fi
    lscpu 2>/dev/null | grep "Model name" || true
} | tee "$L/machine.log"
bad=0
check() { # NAME command...: runs it, logs it, prints one line
    local name=$1 t0=$SECONDS rc; shift
    "$@" > "$L/$name.log" 2>&1; rc=$?
    case $rc in
        0) echo "PASS $name ($((SECONDS - t0)) s)" ;;
        77) echo "SKIP $name ($((SECONDS - t0)) s): $(tail -n 1 "$L/$name.log")"; bad=1 ;;
        *) echo "FAIL $name, rc $rc ($((SECONDS - t0)) s): $( (grep -m 3 "FAIL" "$L/$name.log" || tail -n 2 "$L/$name.log") | tr '\n' ' ')"; bad=1 ;;
    esac
}
check test_gpu "$D/bin/test_gpu"
check cli_gpu bash "$HERE/tests/cli_gpu.sh" "$D/bin/mrgan" "$D/bin/mkfixture"
check bench_gpu "$D/bin/mrgan" bench --gpu
exit $bad

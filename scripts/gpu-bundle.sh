#!/usr/bin/env bash
# A relocatable bundle of a GPU build, for a machine that has an NVIDIA GPU
# and the CUDA libraries but not the Debian packages mrgan links (oneDNN,
# FFTW, HDF5, OpenBLAS, ...) and no way to install them (docs/gpu.md
# "Running on a GPU machine without the Debian packages").
# Usage: scripts/gpu-bundle.sh BUILD OUT.tar.xz
#   BUILD  a build directory with the GPU backend (mrgan-gpu, test_gpu)
# The bundle holds bin/ (mrgan, mrgan-gpu, test_gpu, mkfixture, mkfastmri)
# and lib/ (every shared library they load except the C library's, the C++
# runtime's and CUDA's: cuDNN, cuFFT, cuBLAS and the CUDA runtime are the GPU
# machine's own, found there by scripts/gpu-run.sh), and COMMIT (the
# checkout's commit when packed).
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 BUILD OUT.tar.xz" >&2; exit 2; }
B=$1 O=$2
BINS=(mrgan mrgan-gpu test_gpu mkfixture mkfastmri)
for f in "${BINS[@]}"; do
    [ -x "$B/$f" ] || { echo "$0: $B/$f: missing (a build with the GPU backend has it: docs/gpu.md \"Build\")" >&2; exit 1; }
done
S=$(mktemp -d); trap 'rm -rf "$S" "$O.tmp"' EXIT
D=$S/mrgan-gpu-bundle
mkdir -p "$D/bin" "$D/lib"
for f in "${BINS[@]}"; do cp "$B/$f" "$D/bin/"; done
# the libraries the binaries load, less those the GPU machine brings: the C
# library's (its own glibc must be the one that runs), the C++ runtime (a
# newer one there serves this build; an older copy could break CUDA's) and CUDA's
for f in "${BINS[@]}"; do
    libs=$(ldd "$B/$f")
    if grep -q "not found" <<< "$libs"; then
        echo "$0: $B/$f: a library it needs is not found here:" >&2
        grep "not found" <<< "$libs" >&2; exit 1
    fi
    awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' <<< "$libs"
done | sort -u | while read -r name path; do
    case $name in
        libc.so.*|libm.so.*|libdl.so.*|librt.so.*|libpthread.so.*|ld-linux*|libresolv.so.*) ;;
        libstdc++.so.*|libgcc_s.so.*) ;;
        libcudnn*|libcufft*|libcublas*|libcudart*) ;;
        *) cp -L "$path" "$D/lib/$name" ;;
    esac
done
# the checkout's commit when packed (the build is assumed to be of it)
G=(git -C "$(dirname "$0")")
{ "${G[@]}" rev-parse HEAD 2> /dev/null || echo unknown; } | tr -d '\n' > "$D/COMMIT"
"${G[@]}" diff --quiet HEAD -- 2> /dev/null || echo -n " (with uncommitted changes)" >> "$D/COMMIT"
echo >> "$D/COMMIT"
tar -C "$S" -cJf "$O.tmp" mrgan-gpu-bundle
mv "$O.tmp" "$O"
echo "gpu-bundle: ${#BINS[@]} programs, $(ls "$D/lib" | wc -l) libraries, commit $(cat "$D/COMMIT") -> $O ($(du -h "$O" | cut -f1))"

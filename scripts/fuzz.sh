#!/usr/bin/env bash
# Runs every libFuzzer harness (fuzz/fuzz_*.c) for SECONDS each (default 60):
#   bash scripts/fuzz.sh [SECONDS] [NAME ...]     NAME: cfl nifti h5 safetensors config
# Builds build-fuzz/ with clang (-fsanitize=fuzzer,address,undefined). Each
# run starts from the committed regression corpus fuzz/corpus/NAME plus what
# earlier runs found (build-fuzz/corpus/NAME). A crash, leak, timeout (10 s)
# or memory blow-up (2 GB) stops with the input saved under
# build-fuzz/crashes/NAME/; fix the reader, then copy that input into
# fuzz/corpus/NAME so ctest's fuzz_replay_NAME keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(cfl nifti h5 safetensors config)

bash scripts/install-deps.sh fuzz
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMRGAN_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "${JOBS:-2}" --target $(printf 'fuzz_%s ' "${TARGETS[@]}")

status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  echo "fuzz: $t for ${SECONDS_EACH} s"
  start=$(date +%s)
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
     OMP_NUM_THREADS=1 \
     "build-fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$t/" \
       "build-fuzz/corpus/$t" "fuzz/corpus/$t" > "build-fuzz/$t.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$t.log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "build-fuzz/$t.log" | tail -1 || true)
    echo "fuzz: $t clean: $runs inputs in $(( $(date +%s) - start )) s ($cov); log build-fuzz/$t.log"
  else
    status=1
    echo "fuzz: $t FOUND A PROBLEM; log build-fuzz/$t.log, input(s):" >&2
    ls build-fuzz/crashes/$t/ >&2
    grep -m3 -E "ERROR|runtime error|SUMMARY" "build-fuzz/$t.log" >&2 || true
  fi
done
exit $status

#!/usr/bin/env bash
# mrgan bench runs end to end (the small configuration, one repetition) and
# prints every figure; bad options fail with one line. Timings are printed,
# never asserted (they belong to bench/ and docs/results.md).
source "$(dirname "$0")/lib.sh"
# (under valgrind an SGEMM of 2048^3 and the training steps take too long)
[ -z "${MRGAN_UNDER_VALGRIND:-}" ] || { echo "skipped under valgrind"; exit 77; }

out=$("$MRGAN" bench --config small --reps 1) || fail "bench exit status"
echo "$out"
echo "$out" | grep -Eq "^CPU: [0-9]+ OpenMP threads; SGEMM 2048\^3 \(best of 3, this process\): OpenBLAS [0-9.]+ GFLOP/s, oneDNN [0-9.]+ GFLOP/s" || fail "no SGEMM line"
echo "$out" | grep -Eq "^CPU peak: fp32 [0-9.]+ GFLOP/s \(.*\), bf16 [0-9.]+ GFLOP/s" || fail "no CPU peak line"
echo "$out" | grep -q "^small: 128x128, 8 coils, 5I-5G-16K, 48175 parameters" || fail "no configuration line"
for what in "inference .* s per slice .* GFLOP/s .* of SGEMM  [0-9.]+ of CPU peak  peak [0-9]+ MB" \
            "mse       step .* s \(batch 1; .* preparing samples on the CPU\) .* GFLOP/s .* of SGEMM  [0-9.]+ of CPU peak  peak [0-9]+ MB" \
            "cwgan-agb step .* s \(batch 1; .* preparing samples on the CPU\)  peak [0-9]+ MB"; do
    echo "$out" | grep -Eq "^  $what" || fail "missing: $what"
done
ok "bench prints inference, MSE and cWGAN-AGB step figures"

out=$("$MRGAN" bench --config small --reps 1 --no-train) || fail "bench --no-train"
echo "$out" | grep -Eq "^  (mse|cwgan-agb) " && fail "--no-train still timed training steps"
ok "bench --no-train"
out=$("$MRGAN" bench --config small --reps 1 --no-train --precision bf16 2>&1) || fail "bench --precision bf16"
echo "$out" | grep -q "convolutions in bf16\|note: this CPU has neither" || fail "bench --precision bf16: $out"
ok "bench --precision bf16"

check_fail "--config" "$MRGAN" bench --config huge
check_fail "--reps" "$MRGAN" bench --reps 0
check_fail "unexpected argument" "$MRGAN" bench extra
echo "$n passed"

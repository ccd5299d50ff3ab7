#!/usr/bin/env bash
# mrgan demo end to end on a small phantom (the real demo runs the same steps
# on Colin27 at 128x128 for 60 epochs: docs/results.md); run twice, the
# second run reuses the data and resumes training.
source "$(dirname "$0")/lib.sh"
"$FIX" phantom "$T/head.nii.gz" || fail fixture
D="--out $T/demo --input $T/head.nii.gz --matrix 32 --stride 2 --center 8"
mkdir -p "$T/models"
export MRGAN_MODELS=$T/models # no shipped models: the demo's own rows only
"$MRGAN" demo $D --epochs 2 > "$T/log1" 2>&1 || fail "demo: $(tail -3 "$T/log1")"
for f in table.md data/test.h5 run/best.safetensors run/eval/table.csv run/report/index.html run/report/reader.html; do
    [ -s "$T/demo/$f" ] || fail "demo did not write $f"
done
[ "$(grep -c '^| ' "$T/demo/table.md")" = 6 ] || fail "table.md: header + 5 methods expected"
grep -q '^| dci-net |' "$T/demo/table.md" || fail "no DCI-Net row"
grep -q "report in $T/demo/run/report/index.html" "$T/log1" || fail "demo does not say where the report is"
ok "demo: simulate, train, eval (5 methods), report; says where the report is"
"$MRGAN" demo $D --epochs 3 > "$T/log2" 2>&1 || fail "second demo: $(tail -3 "$T/log2")"
grep -q "reusing $T/demo/data" "$T/log2" || fail "second run should reuse the data"
grep -q "resuming" "$T/log2" || fail "second run should resume training"
[ "$(grep -c '^epoch,' "$T/demo/run/metrics.csv")" = 3 ] || fail "resumed demo should have 3 epochs"
ok "demo again: data reused, training resumed to 3 epochs"
# a shipped model (here the demo's own, as models/mse.safetensors) is a row
cp "$T/demo/run/best.safetensors" "$T/models/mse.safetensors"
rm -rf "$T/demo/run/eval"
"$MRGAN" demo $D --epochs 3 > "$T/log3" 2>&1 || fail "demo with a shipped model: $(tail -3 "$T/log3")"
grep -q '^| shipped-mse |' "$T/demo/table.md" || fail "no shipped-mse row: $(cat "$T/demo/table.md")"
ok "demo evaluates the shipped models next to its own"
check_fail "--epochs" "$MRGAN" demo --epochs 0
echo "$n passed, 0 failed"

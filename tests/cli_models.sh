#!/usr/bin/env bash
# The shipped models (models/*.safetensors, models/README.md): each loads by
# name and reconstructs a fixture at R = 4 better than zero filling, with a
# finite result (skipped while models/ holds none).
source "$(dirname "$0")/lib.sh"
MODELS=$(cd "$(dirname "$0")/../models" 2>/dev/null && pwd) || { echo "skip: no models/ directory"; exit 77; }
ls "$MODELS"/*.safetensors >/dev/null 2>&1 || { echo "skip: models/ holds no model"; exit 77; }
"$FIX" phantom "$T/head.nii.gz" || fail phantom
# the fixture at a size inside the models' domain (no warning expected)
"$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 192 --coils 8 --stride 8 "$T/d" >/dev/null || fail simulate
zf=$("$MRGAN" zerofill -q --accel 4 --slice 0 "$T/d/test.h5" "$T/zf.png" | sed -n 's/.*NMSE vs fully sampled = \([0-9.e+-]*\).*/\1/p')
[ -n "$zf" ] || fail "zero filling printed no NMSE"
for f in "$MODELS"/*.safetensors; do
    name=$(basename "$f" .safetensors)
    out=$(MRGAN_MODELS=$MODELS "$MRGAN" recon -q --model "$name" --accel 4 --slice 0 "$T/d/test.h5" "$T/$name.png" 2>"$T/err") ||
        fail "recon --model $name: $(cat "$T/err")"
    [ ! -s "$T/err" ] || fail "recon --model $name warned on a fixture inside its domain: $(cat "$T/err")"
    nmse=$(echo "$out" | sed -n 's/.*NMSE vs fully sampled = \([0-9.e+-]*\).*/\1/p')
    awk -v a="$nmse" -v z="$zf" 'BEGIN { exit !(a > 0 && a < z) }' || fail "$name: NMSE $nmse not below zero filling's $zf"
    ok "shipped model $name loads by name; NMSE $nmse < zero filling $zf"
done
echo "$n passed, 0 failed"

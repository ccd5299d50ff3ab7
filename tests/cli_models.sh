#!/usr/bin/env bash
# The shipped models (models/*.safetensors, models/README.md): each loads by
# name and reconstructs a fixture at R = 4 better than zero filling, with a
# finite result, by default averaged over 4 mirror images, and with --flips 1
# (skipped while models/ holds none).
source "$(dirname "$0")/lib.sh"
MODELS=$(cd "$(dirname "$0")/../models" 2>/dev/null && pwd) || { echo "skip: no models/ directory"; exit 77; }
ls "$MODELS"/*.safetensors >/dev/null 2>&1 || { echo "skip: models/ holds no model"; exit 77; }
"$FIX" phantom "$T/head.nii.gz" || fail phantom
# the fixture at a size inside the models' domain (no warning expected)
"$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 192 --coils 8 --stride 8 "$T/d" >/dev/null || fail simulate
zf=$("$MRGAN" zerofill -q --accel 4 --slice 0 "$T/d/test.h5" "$T/zf.png" | nmse_of)
[ -n "$zf" ] || fail "zero filling printed no NMSE"
for f in "$MODELS"/*.safetensors; do
    name=$(basename "$f" .safetensors)
    out=$(MRGAN_MODELS=$MODELS "$MRGAN" recon -q --model "$name" --accel 4 --slice 0 "$T/d/test.h5" "$T/$name.png" 2>"$T/err") ||
        fail "recon --model $name: $(cat "$T/err")"
    [ ! -s "$T/err" ] || fail "recon --model $name warned on a fixture inside its domain: $(cat "$T/err")"
    nmse=$(echo "$out" | nmse_of)
    awk -v a="$nmse" -v z="$zf" 'BEGIN { exit !(a > 0 && a < z) }' || fail "$name: NMSE $nmse not below zero filling's $zf"
    ok "shipped model $name loads by name; NMSE $nmse < zero filling $zf"
done
# flip averaging, the default: a finite result, the same image as --flips 4,
# not the plain network's (--flips 1), within 50 % of its NMSE
out4=$(MRGAN_MODELS=$MODELS "$MRGAN" recon -q --model mse --accel 4 --slice 0 "$T/d/test.h5" "$T/mse4.cfl") ||
    fail "recon (default --flips 4)"
echo "$out4" | grep -q "averaged over 4 mirror images" || fail "recon's default does not say it averages 4 mirror images: $out4"
MRGAN_MODELS=$MODELS "$MRGAN" recon -q --model mse --flips 4 --accel 4 --slice 0 "$T/d/test.h5" "$T/mse4b.cfl" >/dev/null ||
    fail "recon --flips 4"
cmp -s "$T/mse4.cfl" "$T/mse4b.cfl" || fail "recon's default is not --flips 4"
out1=$(MRGAN_MODELS=$MODELS "$MRGAN" recon -q --model mse --flips 1 --accel 4 --slice 0 "$T/d/test.h5" "$T/mse1.cfl") ||
    fail "recon --flips 1"
! echo "$out1" | grep -q "mirror images" || fail "recon --flips 1 says it averages mirror images: $out1"
n1=$(echo "$out1" | nmse_of)
n4=$(echo "$out4" | nmse_of)
! cmp -s "$T/mse4.cfl" "$T/mse1.cfl" || fail "--flips 4 gave the plain network's image"
awk -v a="$n4" -v b="$n1" 'BEGIN { exit !(a > 0 && a < 1.5 * b && a > b / 1.5) }' ||
    fail "--flips 4 NMSE $n4 against the plain network's $n1"
ok "recon averages 4 mirror images by default: NMSE $n4 (--flips 1, the plain network: $n1)"
"$MRGAN" recon --model mse --flips 3 "$T/d/test.h5" "$T/x.png" 2>"$T/err" && fail "--flips 3 accepted"
grep -q "'3' is not 1, 2 or 4" "$T/err" || fail "--flips 3: $(cat "$T/err")"
ok "recon --flips 3 refused"
# mrgan average: two shipped models by name into a checkpoint that recon takes
MRGAN_MODELS=$MODELS "$MRGAN" average mse cwgan-agb "$T/soup.safetensors" >"$T/out" || fail "average: $(cat "$T/out")"
grep -q "average: 2 checkpoints" "$T/out" || fail "average printed: $(cat "$T/out")"
ns=$("$MRGAN" recon -q --model "$T/soup.safetensors" --accel 4 --slice 0 "$T/d/test.h5" "$T/soup.cfl" | nmse_of)
awk -v a="$ns" -v z="$zf" 'BEGIN { exit !(a > 0 && a < z) }' || fail "averaged model: NMSE $ns not below zero filling's $zf"
! cmp -s "$T/soup.cfl" "$T/mse4.cfl" || fail "the average gave mse's image"
ok "average of mse and cwgan-agb: NMSE $ns (mse $n4)"
cp "$MODELS/mse.safetensors" "$T/in.safetensors"
check_fail "is also an input" "$MRGAN" average "$T/in.safetensors" "$T/soup.safetensors" "$T/in.safetensors"
cmp -s "$MODELS/mse.safetensors" "$T/in.safetensors" || fail "average damaged its input"
echo "not a checkpoint" >"$T/bad.safetensors"
check_fail "bad.safetensors" "$MRGAN" average "$T/in.safetensors" "$T/bad.safetensors" "$T/new.safetensors"
[ ! -e "$T/new.safetensors" ] || fail "average left an output after an error"
check_fail "two or more checkpoints" "$MRGAN" average "$T/in.safetensors" "$T/new.safetensors"
echo "$n passed, 0 failed"

#!/usr/bin/env bash
# Scanner-like simulated data sets (simulate --train/--val/--test): split by
# volume, one file per series of mixed shapes and coil counts, wrapped
# series without maps, the same seed the same data, deformed heads (--warp),
# a data set that trains;
# the model's domain in its checkpoint and the warning outside it; shipped
# models by name; and the errors.
source "$(dirname "$0")/lib.sh"
MRGAN=$(realpath "$MRGAN")

"$FIX" phantom "$T/head.nii.gz" || fail phantom
mkdir -p "$T/vols"
# three "subjects" (copies under other names: what is tested is the split)
# (names with contrasts: the model's domain records those of the train split only)
for s in a_T1w b_FLAIR c_T2w d; do cp "$T/head.nii.gz" "$T/vols/sub_$s.nii.gz"; done
mkdir -p "$T/trainvols" && mv "$T/vols/sub_a_T1w.nii.gz" "$T/vols/sub_b_FLAIR.nii.gz" "$T/trainvols/"
S="--matrix 32,40 --coils 3,5 --slices 6 --series 2"
"$MRGAN" simulate -q $S --train "$T/trainvols" --val "$T/vols/sub_c_T2w.nii.gz" --test "$T/vols/sub_d.nii.gz" \
    --seed 4 "$T/sc" > "$T/out" || fail "simulate scanner-like"
grep -q "train 12, val 6, test 6 slices" "$T/out" || fail "counts: $(cat "$T/out")"
ls "$T/sc/train" | grep -q '^sub_a_T1w_p1.h5$' || fail "no series file sub_a_T1w_p1.h5: $(ls "$T/sc/train")"
[ "$(ls "$T/sc/val" | grep -c '^sub_c_T2w_')" -ge 2 ] || fail "val series"
[ "$(ls "$T/sc/test")" != "" ] && ! ls "$T/sc/train" "$T/sc/val" | grep -q sub_d || fail "test volume outside test/"
grep -q '"look":.*"scanner"' "$T/sc/simulate.json" || fail "simulate.json"
ok "simulate --train DIR --val --test: one file per series, split by volume"

# the series differ in shape; every file reads as k-space, maps and reference
"$MRGAN" sens --help >/dev/null
shapes=$(for f in "$T"/sc/*/*.h5; do "$MRGAN" zerofill -q --slice 0 "$f" "$T/z.png" 2>&1 | grep -o '[0-9]* coils' ; done | sort -u | wc -l)
[ "$shapes" -ge 2 ] || fail "one coil count only"
ok "series of several coil counts reconstruct"

# the same seed gives the same k-space; another seed another
"$MRGAN" simulate -q $S --train "$T/trainvols" --val "$T/vols/sub_c_T2w.nii.gz" --test "$T/vols/sub_d.nii.gz" \
    --seed 4 "$T/sc2" >/dev/null || fail "simulate again"
"$MRGAN" zerofill -q --slice 1 --ksp-out "$T/k1" "$T/sc/test/sub_d_p1.h5" "$T/a.png" >/dev/null || fail zerofill
"$MRGAN" zerofill -q --slice 1 --ksp-out "$T/k2" "$T/sc2/test/sub_d_p1.h5" "$T/b.png" >/dev/null || fail zerofill
cmp -s "$T/k1.cfl" "$T/k2.cfl" || fail "same seed, different k-space"
"$MRGAN" simulate -q $S --train "$T/trainvols" --val "$T/vols/sub_c_T2w.nii.gz" --test "$T/vols/sub_d.nii.gz" \
    --seed 5 "$T/sc3" >/dev/null || fail "simulate seed 5"
ls "$T/sc3/test/sub_d_p1.h5" >/dev/null && "$MRGAN" zerofill -q --slice 1 --ksp-out "$T/k3" "$T/sc3/test/sub_d_p1.h5" "$T/c.png" >/dev/null
cmp -s "$T/k1.cfl" "$T/k3.cfl" 2>/dev/null && fail "another seed, the same k-space"
ok "the same seed makes the same data"

# wrapped series: no maps stored; the image's field of view is smaller
# than the head: zero filling estimates maps and runs
"$MRGAN" simulate -q --matrix 64 --coils 4 --slices 2 --series 1 --wrap 1 --train "$T/trainvols" \
    --val "$T/vols/sub_c_T2w.nii.gz" --test "$T/vols/sub_d.nii.gz" "$T/w" >/dev/null || fail "simulate --wrap 1"
grep -q '"wrapped":.*true' "$T/w/simulate.json" || fail "no wrapped series"
grep -q '"wrapped":.*false' "$T/w/simulate.json" && fail "--wrap 1 left a series unwrapped"
"$MRGAN" zerofill -q --slice 0 --sens-out "$T/wm" "$T/w/test/sub_d_p1.h5" "$T/w.png" 2>"$T/err" >/dev/null ||
    fail "zerofill on a wrapped series: $(cat "$T/err")"
[ -s "$T/wm.cfl" ] || fail "no maps estimated for a series without maps"
if python3 -c 'import h5py' 2>/dev/null; then
    python3 - "$T/w/test/sub_d_p1.h5" "$T/sc/test/sub_d_p1.h5" <<'PY' || fail "h5py check"
import sys, h5py
w, s = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
assert 'sens_maps' not in w and 'sens_maps' in s, (list(w), list(s))
assert s['sens_maps'].shape == s['kspace'].shape
PY
    ok "wrapped series hold no sens_maps; the others hold maps of k-space's shape (h5py)"
fi
ok "wrapped series: zero filling estimates maps"

# --warp: each series' head deformed (recorded in simulate.json; nothing
# recorded without it), the k-space differs from the same seed's without it
"$MRGAN" simulate -q $S --warp 3 --train "$T/trainvols" --val "$T/vols/sub_c_T2w.nii.gz" \
    --test "$T/vols/sub_d.nii.gz" --seed 4 "$T/wp" >/dev/null || fail "simulate --warp 3"
grep -q '"warp_mm":.*3' "$T/wp/simulate.json" && grep -q '"rotation_deg"' "$T/wp/simulate.json" ||
    fail "warp not recorded"
grep -q '"rotation_deg"' "$T/sc/simulate.json" && fail "a deformation recorded without --warp"
"$MRGAN" zerofill -q --slice 1 --ksp-out "$T/k4" "$T/wp/test/sub_d_p1.h5" "$T/d.png" >/dev/null || fail "zerofill warped"
cmp -s "$T/k1.cfl" "$T/k4.cfl" && fail "--warp 3 left the k-space unchanged"
ok "simulate --warp: deformed heads, recorded"

# --maps espirit stores maps estimated as simulate's default set does (ESPIRiT
# uncropped: unit norm at every pixel, like the true maps)
"$MRGAN" simulate -q --matrix 32 --coils 4 --slices 2 --series 1 --maps espirit --train "$T/trainvols" \
    --val "$T/vols/sub_c_T2w.nii.gz" --test "$T/vols/sub_d.nii.gz" "$T/me" >/dev/null || fail "simulate --maps espirit"
grep -q '"maps":.*"espirit"' "$T/me/simulate.json" || fail "maps not recorded"
if python3 -c 'import h5py' 2>/dev/null; then
    python3 - "$T/me/test/sub_d_p1.h5" <<'PY' || fail "espirit maps not unit norm everywhere"
import sys, h5py, numpy as np
s = h5py.File(sys.argv[1], 'r')['sens_maps'][()]
r = np.sqrt((np.abs(s) ** 2).sum(1))
assert np.abs(r - 1).max() < 1e-3, np.abs(r - 1).max()
PY
    ok "simulate --maps espirit: estimated maps of unit norm everywhere (uncropped; h5py)"
fi

# a data set of mixed shapes trains (one step per shape) and evaluates
"$MRGAN" train -q --data "$T/sc" --blocks 1 --growth 1 --kernels 4 --epochs 1 --max-steps 3 --center 8 "$T/run" \
    >/dev/null 2>"$T/err" || fail "train on a scanner-like data set: $(cat "$T/err")"
[ -s "$T/run/best.safetensors" ] || [ -s "$T/run/last.safetensors" ] || fail "no checkpoint"
ok "trains on the scanner-like data set"

# the checkpoint records its domain; recon and eval warn once when an input
# is far outside it, and say nothing inside it
ck=$T/run/last.safetensors
grep -a -q 'domain.*lines.*readout.*coils.*accel' "$ck" || fail "no domain in the checkpoint"
grep -q '"readout":.*\[32, 40\]' "$T/run/config.json" || fail "domain: $(grep -A6 domain "$T/run/config.json")"
grep -q '"contrasts":.*"T1,FLAIR"' "$T/run/config.json" || fail "contrasts: $(grep contrasts "$T/run/config.json")"
"$MRGAN" recon -q --model "$ck" --accel 4 --center 8 --slice 0 "$T/sc/test/sub_d_p1.h5" "$T/r.png" 2>"$T/err" >/dev/null ||
    fail "recon: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "a warning inside the domain: $(cat "$T/err")"
"$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 96 --coils 12 --stride 8 "$T/big" >/dev/null || fail simulate
"$MRGAN" recon -q --model "$ck" --accel 8 --center 8 --slice 0 "$T/big/test.h5" "$T/r.png" 2>"$T/err" >/dev/null ||
    fail "recon outside: $(cat "$T/err")"
[ "$(wc -l < "$T/err")" = 1 ] && grep -q "warning: .*far outside what model .* was trained on: matrix 96x96 (trained on 32-.*12 coils (trained on 3-5), acceleration 8 (trained at 4)" "$T/err" ||
    fail "domain warning: $(cat "$T/err")"
"$MRGAN" eval -q --methods zero-filled --model "$ck" --accel 8 --center 8 --slices 1 "$T/big/test.h5" "$T/ev" 2>"$T/err" >/dev/null ||
    fail "eval outside: $(cat "$T/err")"
grep -c "far outside" "$T/err" | grep -qx 1 || fail "eval domain warning: $(cat "$T/err")"
ok "the domain is recorded; recon and eval warn once outside it, never inside"

# shipped models by name: MRGAN_MODELS's NAME.safetensors when no path NAME exists
mkdir -p "$T/models" && cp "$ck" "$T/models/tiny.safetensors"
(cd "$T" && MRGAN_MODELS="$T/models" "$MRGAN" recon -q --model tiny --accel 4 --center 8 --slice 0 \
    "$T/sc/test/sub_d_p1.h5" "$T/n.png" >/dev/null) || fail "recon --model NAME"
MRGAN_MODELS="$T/models" check_fail "no shipped model of that name" "$MRGAN" recon --model nosuch --accel 4 \
    "$T/sc/test/sub_d_p1.h5" "$T/n.png"
ok "--model NAME finds a shipped model"

check_fail "volume named twice" "$MRGAN" simulate --train "$T/trainvols" --val "$T/trainvols/sub_a_T1w.nii.gz" \
    --test "$T/vols/sub_d.nii.gz" "$T/x"
check_fail "--test is missing" "$MRGAN" simulate --train "$T/trainvols" --val "$T/vols/sub_c_T2w.nii.gz" "$T/x"
check_fail "do not go together" "$MRGAN" simulate --input "$T/head.nii.gz" --train "$T/trainvols" \
    --val "$T/vols/sub_c_T2w.nii.gz" --test "$T/vols/sub_d.nii.gz" "$T/x"
check_fail "are for --input data sets" "$MRGAN" simulate --stride 2 --train "$T/trainvols" \
    --val "$T/vols/sub_c_T2w.nii.gz" --test "$T/vols/sub_d.nii.gz" "$T/x"
check_fail "need --train, --val and --test" "$MRGAN" simulate --slices 3 "$T/x"
check_fail "need --train, --val and --test" "$MRGAN" simulate --warp 3 "$T/x"
check_fail "option --warp" "$MRGAN" simulate --warp 11 --train "$T/trainvols" --val "$T/vols/sub_c_T2w.nii.gz" \
    --test "$T/vols/sub_d.nii.gz" "$T/x"
check_fail "not a multiple of 8" "$MRGAN" simulate --matrix 36 --train "$T/trainvols" \
    --val "$T/vols/sub_c_T2w.nii.gz" --test "$T/vols/sub_d.nii.gz" "$T/x"
check_fail "no NIfTI volumes" "$MRGAN" simulate --train "$T/sc" --val "$T/vols/sub_c_T2w.nii.gz" \
    --test "$T/vols/sub_d.nii.gz" "$T/x"
check_fail "give LO,HI" "$MRGAN" simulate --noise 0.01 --train "$T/trainvols" --val "$T/vols/sub_c_T2w.nii.gz" \
    --test "$T/vols/sub_d.nii.gz" "$T/x"
echo "$n passed, 0 failed"

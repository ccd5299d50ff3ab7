#!/usr/bin/env bash
# Bad input gets exit status 1 and one line on stderr that names the file or
# option and the problem; an existing output file is left untouched.
set -u
MRGAN=$1 FIX=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0 n=0

# expect_fail "WHAT WAS TRIED" WHAT-MUST-APPEAR -- command...
# With MRGAN_ERRORS_TABLE=FILE each case also becomes a row of the markdown
# table in docs/reliability.md (temporary paths shortened).
expect_fail() {
    local what=$1 want=$2; shift 3
    n=$((n+1))
    "$@" >"$T/out" 2>"$T/err"; local rc=$?
    local lines; lines=$(wc -l <"$T/err")
    if [ "$rc" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -q -- "$want" "$T/err"; then
        echo "FAIL: $* -> rc=$rc, stderr ($lines lines): $(cat "$T/err")"; fails=$((fails+1))
    else
        echo "ok: $(cat "$T/err")"
        if [ -n "${MRGAN_ERRORS_TABLE:-}" ]; then
            local cmd="$*"; cmd=${cmd#"$MRGAN "}; cmd=${cmd//$T\//}
            printf '| %s | `mrgan %s` | `%s` |\n' "$what" "${cmd//$T/DIR}" "$(sed "s|$T/||g; s|$T|DIR|g" "$T/err")" >> "$MRGAN_ERRORS_TABLE"
        fi
    fi
}

"$FIX" kspace "$T/k" && "$FIX" nancfl "$T/nan" && "$FIX" zeromask "$T/zm" && "$FIX" maps "$T/m3" 3 && "$FIX" maps "$T/m4" 4 &&
    "$FIX" niftidtype "$T/dtype.nii" && "$FIX" niftihuge "$T/huge.nii" && "$FIX" h5real "$T/real.h5" || { echo "fixtures failed"; exit 1; }
echo "precious" > "$T/keep.png"

expect_fail "missing file (HDF5)" "missing.h5" -- "$MRGAN" zerofill "$T/missing.h5" "$T/keep.png"
expect_fail "missing file (cfl/hdr)" "missing.hdr" -- "$MRGAN" zerofill "$T/missing" "$T/keep.png"
printf 'not an hdf5 file' > "$T/corrupt.h5"
expect_fail "corrupt HDF5" "corrupt.h5" -- "$MRGAN" zerofill "$T/corrupt.h5" "$T/keep.png"
expect_fail "wrong dtype (HDF5 kspace real, not complex)" "not complex" -- "$MRGAN" zerofill "$T/real.h5" "$T/keep.png"
head -c 100 "$T/k.cfl" > "$T/trunc.cfl"; cp "$T/k.hdr" "$T/trunc.hdr"
expect_fail "truncated cfl" "truncated" -- "$MRGAN" zerofill "$T/trunc" "$T/keep.png"
printf '# Dimensions\n100000 100000 1 1000\n' > "$T/big.hdr"; : > "$T/big.cfl"
expect_fail "huge dims in a cfl header" "dimensions too large" -- "$MRGAN" zerofill "$T/big" "$T/keep.png"
printf '# Dimensions\n16 16 4 4\n' > "$T/dims.hdr"; head -c 32768 /dev/zero > "$T/dims.cfl"
expect_fail "wrong dims (3D k-space)" "expected 2D multi-coil k-space" -- "$MRGAN" zerofill "$T/dims" "$T/keep.png"
expect_fail "NaN in k-space" "non-finite" -- "$MRGAN" zerofill "$T/nan" "$T/keep.png"
expect_fail "coil count mismatch (3 maps, 4 coils)" "coil" -- "$MRGAN" zerofill --sens "$T/m3" "$T/k" "$T/keep.png"
expect_fail "empty mask" "no phase-encode line" -- "$MRGAN" zerofill --mask "$T/zm" "$T/k" "$T/keep.png"
expect_fail "acceleration below 1" "--accel" -- "$MRGAN" zerofill --accel 0.5 "$T/k" "$T/keep.png"
expect_fail "R larger than the lines" "larger than" -- "$MRGAN" zerofill --accel 100 "$T/k" "$T/keep.png"
expect_fail "R leaves fewer lines than the centre" "fewer than the 12 centre lines" -- "$MRGAN" zerofill --accel 8 "$T/k" "$T/keep.png"
expect_fail "unknown mask type" "--mask-type" -- "$MRGAN" zerofill --mask-type bogus --accel 2 "$T/k" "$T/keep.png"
expect_fail "calibration lines out of range" "--acs" -- "$MRGAN" zerofill --acs 40 "$T/k" "$T/keep.png"
expect_fail "slice out of range" "--slice" -- "$MRGAN" zerofill --slice 3 "$T/k" "$T/keep.png"
expect_fail "negative seed" "--seed" -- "$MRGAN" mask --seed -4 "$T/mask"
expect_fail "too few lines" "--lines" -- "$MRGAN" mask --lines 1 "$T/mask"
expect_fail "missing NIfTI" "missing.nii" -- "$MRGAN" simulate --input "$T/missing.nii" "$T/sim"
printf 'garbage that is not a nifti volume at all......' > "$T/bad.nii"
expect_fail "garbage NIfTI" "bad.nii" -- "$MRGAN" simulate --input "$T/bad.nii" "$T/sim"
expect_fail "wrong dtype (NIfTI RGB)" "unsupported NIfTI datatype 128" -- "$MRGAN" simulate --input "$T/dtype.nii" "$T/sim"
expect_fail "huge dims in a NIfTI header" "dimensions too large" -- "$MRGAN" simulate --input "$T/huge.nii" "$T/sim"
expect_fail "matrix out of range" "--matrix" -- "$MRGAN" simulate --matrix 4 "$T/sim"
expect_fail "unknown orientation" "--orient" -- "$MRGAN" simulate --orient transverse "$T/sim"
expect_fail "unknown command" "unknown command" -- "$MRGAN" frobnicate

# an output that is one of the command's inputs is refused before any work,
# by device and inode (another spelling, a hard link, BART's BASE vs BASE.cfl)
cp "$T/k.cfl" "$T/in.cfl"; cp "$T/k.hdr" "$T/in.hdr"; ln "$T/in.cfl" "$T/alias.cfl"; cp "$T/k.hdr" "$T/alias.hdr"
sum_before=$(sha256sum "$T/in.cfl" "$T/in.hdr" | sha256sum)
expect_fail "output is the input (cfl)" "is also an input" -- "$MRGAN" zerofill --accel 2 "$T/in" "$T/in.cfl"
expect_fail "output is the input by another name" "is also an input" -- "$MRGAN" cs "$T/in.cfl" "$T/./in"
expect_fail "output is a hard link to the input" "is also an input" -- "$MRGAN" arc --accel 2 "$T/in" "$T/alias"
expect_fail "--ksp-out is the input" "is also an input" -- "$MRGAN" zerofill --accel 2 --ksp-out "$T/in" "$T/in" "$T/z.cfl"
expect_fail "--sens-out is the --sens input" "is also an input" -- "$MRGAN" zerofill --sens "$T/m4" --sens-out "$T/m4.cfl" "$T/k" "$T/z.cfl"
expect_fail "sens MAPS is the k-space" "is also an input" -- "$MRGAN" sens "$T/in" "$T/in"
# a model outside its domain (acceleration 1) warns; the output check comes before the warning: one line
expect_fail "recon OUT is the k-space" "is also an input" -- "$MRGAN" recon --model "$(dirname "$0")/../models/mse.safetensors" --accel 1 "$T/in" "$T/in.cfl"
expect_fail "output is a directory" "is a directory" -- "$MRGAN" zerofill "$T/k" "$T"
expect_fail "output name empty" "output name is empty" -- "$MRGAN" zerofill "$T/k" ""
# a tiny HDF5 file declaring 32768 x 65536 unstored k-space: refused before allocating
"$FIX" h5huge "$T/huge.h5" && "$FIX" h5swap "$T/swap.h5" || exit 1
expect_fail "HDF5 declaring 17 GB it does not store" "huge.h5: dataset 'kspace' declares" -- "$MRGAN" zerofill "$T/huge.h5" "$T/z3.cfl"
# complex members found by name: {i, r} reads as the same k-space as the cfl
n=$((n+1))
"$MRGAN" zerofill "$T/k" "$T/zk.cfl" >/dev/null 2>&1 && "$MRGAN" zerofill "$T/swap.h5" "$T/zs.cfl" >/dev/null 2>&1 &&
    nr=$("$MRGAN" compare "$T/zk" "$T/zs" | sed 's/.*NRMSE \([0-9.e+-]*\).*/\1/') &&
    awk -v x="$nr" 'BEGIN { exit !(x < 1e-6) }' || { echo "FAIL: {i, r} HDF5: NRMSE ${nr:-?}"; fails=$((fails+1)); }
# data sets as researchers hold them (issue 16)
MK=$(dirname "$FIX")/mkfastmri
"$MK" "$T/ftest.h5" test 1 4 32 16 1 && "$MK" "$T/fos.h5" os 1 4 32 16 2 && "$FIX" h5other "$T/w.h5" || exit 1
mkdir -p "$T/ds/multicoil_train" "$T/ds/multicoil_val" "$T/ds2" && cp "$T/ftest.h5" "$T/ds/multicoil_train/" &&
    cp "$T/fos.h5" "$T/ds/multicoil_val/" || exit 1
expect_fail "a fastMRI test file in a training split" "undersampled (its 'mask' keeps" -- "$MRGAN" train --data "$T/ds" "$T/run_ds"
expect_fail "a data set without its splits" "no train split: expected train.h5" -- "$MRGAN" train --data "$T/ds2" "$T/run_ds2"
expect_fail "unknown readout crop" "is not auto or none" -- "$MRGAN" zerofill --crop-readout half "$T/fos.h5" "$T/x.png"
expect_fail "HDF5 that is neither fastMRI nor ISMRMRD" "no dataset 'kspace' (fastMRI layout) and no /dataset/data" -- "$MRGAN" zerofill "$T/w.h5" "$T/x.png"
"$FIX" scale "$T/m4" "$T/m0" 0 || exit 1
expect_fail "all-zero coil maps" "the coil maps are all zero" -- "$MRGAN" zerofill --sens "$T/m0" "$T/k" "$T/x.png"
expect_fail "convert to a non-HDF5 name" "the output is a fastMRI-layout HDF5 file" -- "$MRGAN" convert "$T/fos.h5" "$T/x.cfl"
# a zero reference has no NMSE: an error, never 0
"$FIX" scale "$T/k" "$T/kzero" 0 || exit 1
expect_fail "compare against an all-zero reference" "all zero" -- "$MRGAN" compare "$T/kzero" "$T/k"
expect_fail "undersampling all-zero k-space" "k-space is all zero" -- "$MRGAN" zerofill --accel 2 --center 4 "$T/kzero" "$T/z2.cfl"
# maps that are not unit-norm (scaled by 1.5) are normalised, with a note: CS gives the unit-norm result
"$FIX" scale "$T/m4" "$T/m4x" 1.5 || exit 1
n=$((n+1))
"$MRGAN" cs --accel 2 --center 4 --sens "$T/m4" "$T/k" "$T/cs1.cfl" >/dev/null 2>&1 &&
    "$MRGAN" cs --accel 2 --center 4 --sens "$T/m4x" "$T/k" "$T/cs2.cfl" >/dev/null 2>"$T/note" &&
    grep -q "not unit-norm" "$T/note" &&
    nr=$("$MRGAN" compare "$T/cs1" "$T/cs2" | sed 's/.*NRMSE \([0-9.e+-]*\).*/\1/') &&
    awk -v x="$nr" 'BEGIN { exit !(x < 1e-4) }' || { echo "FAIL: scaled maps: NRMSE ${nr:-?}, $(cat "$T/note")"; fails=$((fails+1)); }
# k-space scaled by 1e19 (float squares used to overflow): the same zero-filled image, scaled
"$FIX" scale "$T/k" "$T/kbig" 1e19 || exit 1
n=$((n+1))
"$MRGAN" zerofill --accel 2 --center 4 "$T/k" "$T/zf1.cfl" >/dev/null 2>&1 && "$MRGAN" zerofill --accel 2 --center 4 "$T/kbig" "$T/zfb.cfl" >/dev/null 2>&1 &&
    "$FIX" scale "$T/zfb" "$T/zfb1" 1e-19 && nr=$("$MRGAN" compare "$T/zf1" "$T/zfb1" | sed 's/.*NRMSE \([0-9.e+-]*\).*/\1/') &&
    awk -v x="$nr" 'BEGIN { exit !(x < 1e-4) }' || { echo "FAIL: k-space x 1e19: NRMSE ${nr:-?}"; fails=$((fails+1)); }
n=$((n+1))
if [ "$(sha256sum "$T/in.cfl" "$T/in.hdr" | sha256sum)" != "$sum_before" ]; then echo "FAIL: an input was changed"; fails=$((fails+1)); fi

n=$((n+1))
if [ "$(cat "$T/keep.png")" != "precious" ]; then echo "FAIL: output damaged by a failed run"; fails=$((fails+1)); fi
# the valid maps work (control: the errors above come from the bad inputs)
n=$((n+1))
if ! "$MRGAN" zerofill --sens "$T/m4" "$T/k" "$T/ok.png" >/dev/null; then echo "FAIL: valid run failed"; fails=$((fails+1)); fi
echo "$((n-fails)) passed, $fails failed"
[ "$fails" -eq 0 ]

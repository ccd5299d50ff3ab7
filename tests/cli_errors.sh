#!/usr/bin/env bash
# Bad input gets exit status 1 and one line on stderr that names the file or
# option and the problem; an existing output file is left untouched.
set -u
MRGAN=$1 FIX=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0 n=0

# expect_fail WHAT-MUST-APPEAR -- command...
expect_fail() {
    local want=$1; shift; shift
    n=$((n+1))
    "$@" >"$T/out" 2>"$T/err"; local rc=$?
    local lines; lines=$(wc -l <"$T/err")
    if [ "$rc" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -q -- "$want" "$T/err"; then
        echo "FAIL: $* -> rc=$rc, stderr ($lines lines): $(cat "$T/err")"; fails=$((fails+1))
    else
        echo "ok: $(cat "$T/err")"
    fi
}

"$FIX" kspace "$T/k" && "$FIX" nancfl "$T/nan" && "$FIX" zeromask "$T/zm" && "$FIX" maps "$T/m3" 3 && "$FIX" maps "$T/m4" 4 || { echo "fixtures failed"; exit 1; }
echo "precious" > "$T/keep.png"

expect_fail "missing.h5" -- "$MRGAN" zerofill "$T/missing.h5" "$T/keep.png"
expect_fail "missing.hdr" -- "$MRGAN" zerofill "$T/missing" "$T/keep.png"
printf 'not an hdf5 file' > "$T/corrupt.h5"
expect_fail "corrupt.h5" -- "$MRGAN" zerofill "$T/corrupt.h5" "$T/keep.png"
head -c 100 "$T/k.cfl" > "$T/trunc.cfl"; cp "$T/k.hdr" "$T/trunc.hdr"
expect_fail "truncated" -- "$MRGAN" zerofill "$T/trunc" "$T/keep.png"
expect_fail "non-finite" -- "$MRGAN" zerofill "$T/nan" "$T/keep.png"
expect_fail "coil" -- "$MRGAN" zerofill --sens "$T/m3" "$T/k" "$T/keep.png"
expect_fail "no phase-encode line" -- "$MRGAN" zerofill --mask "$T/zm" "$T/k" "$T/keep.png"
expect_fail "--accel" -- "$MRGAN" zerofill --accel 0.5 "$T/k" "$T/keep.png"
expect_fail "larger than" -- "$MRGAN" zerofill --accel 100 "$T/k" "$T/keep.png"
expect_fail "fewer than the 12 centre lines" -- "$MRGAN" zerofill --accel 8 "$T/k" "$T/keep.png"
expect_fail "--mask-type" -- "$MRGAN" zerofill --mask-type bogus --accel 2 "$T/k" "$T/keep.png"
expect_fail "--acs" -- "$MRGAN" zerofill --acs 40 "$T/k" "$T/keep.png"
expect_fail "--slice" -- "$MRGAN" zerofill --slice 3 "$T/k" "$T/keep.png"
expect_fail "--seed" -- "$MRGAN" mask --seed -4 "$T/mask"
expect_fail "--lines" -- "$MRGAN" mask --lines 1 "$T/mask"
expect_fail "missing.nii" -- "$MRGAN" simulate --input "$T/missing.nii" "$T/sim"
printf 'garbage that is not a nifti volume at all......' > "$T/bad.nii"
expect_fail "bad.nii" -- "$MRGAN" simulate --input "$T/bad.nii" "$T/sim"
expect_fail "--matrix" -- "$MRGAN" simulate --matrix 4 "$T/sim"
expect_fail "--orient" -- "$MRGAN" simulate --orient transverse "$T/sim"
expect_fail "unknown command" -- "$MRGAN" frobnicate

n=$((n+1))
if [ "$(cat "$T/keep.png")" != "precious" ]; then echo "FAIL: output damaged by a failed run"; fails=$((fails+1)); fi
# the valid maps work (control: the errors above come from the bad inputs)
n=$((n+1))
if ! "$MRGAN" zerofill --sens "$T/m4" "$T/k" "$T/ok.png" >/dev/null; then echo "FAIL: valid run failed"; fails=$((fails+1)); fi
echo "$((n-fails)) passed, $fails failed"
[ "$fails" -eq 0 ]

#!/usr/bin/env bash
# ESPIRiT maps from the command line: one and two sets, soft SENSE on data
# whose field of view is smaller than the object (simulate --pe-fold 2), the
# sets written and read back, and the errors.
source "$(dirname "$0")/lib.sh"

"$FIX" phantom "$T/head.nii.gz" || fail phantom
"$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 64 --coils 4 --stride 4 --pe-fold 2 "$T/f" >/dev/null || fail "simulate --pe-fold"
grep -q '"pe_fold": 2' "$T/f/simulate.json" || fail "pe_fold not recorded"
out=$("$MRGAN" zerofill -q --slice 0 "$T/f/test.h5" "$T/z.cfl" 2>&1) || fail "zerofill: $out"
echo "$out" | grep -q "of 32x64, 4 coils" || fail "folded shape: $out"
ok "simulate --pe-fold 2: 32 of 64 lines, the image wraps"

A="--accel 2 --center 12 --acs 12 --slice 0"
"$MRGAN" zerofill -q $A --sens-method espirit --maps 2 --sens-out "$T/m2" "$T/f/test.h5" "$T/z2.cfl" >/dev/null 2>&1 ||
    fail "zerofill with two ESPIRiT sets"
grep -q "^64 32 1 4 2" "$T/m2.hdr" || fail "two sets written as [W H 1 C 2]: $(sed -n 2p "$T/m2.hdr")"
"$MRGAN" zerofill -q $A --sens "$T/m2" --maps 2 "$T/f/test.h5" "$T/z2b.cfl" >/dev/null 2>&1 || fail "--sens of two sets"
cmp -s "$T/z2.cfl" "$T/z2b.cfl" || fail "the sets read back reconstruct differently"
"$MRGAN" zerofill -q $A --sens "$T/m2" "$T/f/test.h5" "$T/z1.cfl" >/dev/null 2>"$T/err" || fail "--sens of two sets, --maps 1"
grep -q "holds 2 map sets (bart ecalib's default); the methods use set 1" "$T/err" || fail "no note on the sets"
ok "two sets estimated, written [W H 1 C 2], read back identically; one of them with a note"

for m in cs arc; do
    "$MRGAN" $m -q $A --sens-method espirit --maps 2 "$T/f/test.h5" "$T/$m.cfl" >/dev/null 2>&1 || fail "$m with two sets"
done
"$MRGAN" eval -q --accel 2 --center 12 --acs 12 --slices 2 --methods zero-filled,cs-wavelet --reference rss \
    --sens-method espirit --maps 2 "$T/f/test.h5" "$T/ev" >/dev/null 2>&1 || fail "eval with two sets"
grep -q "Maps: 2 ESPIRiT sets" "$T/ev/table.md" || fail "eval does not say it used two sets"
ok "cs, arc and eval with two sets"

check_fail "option --maps 2: two map sets come from --sens-method espirit" "$MRGAN" zerofill --maps 2 "$T/f/test.h5" "$T/x.cfl"
"$MRGAN" zerofill -q $A --sens-method espirit --sens-out "$T/m1" "$T/f/test.h5" "$T/x1.cfl" >/dev/null 2>&1 || fail "one set"
check_fail "option --maps: 2 sets asked for" "$MRGAN" zerofill $A --maps 2 --sens "$T/m1" "$T/f/test.h5" "$T/x.cfl"
check_fail "option --maps: 3 is out of range" "$MRGAN" zerofill --maps 3 "$T/f/test.h5" "$T/x.cfl"
check_fail "option --sens-method: 'esprit' is not one of walsh, direct, espirit" "$MRGAN" sens --sens-method esprit "$T/f/test.h5" "$T/x.cfl"

# sens --check: the residual of given maps next to the estimate's
"$MRGAN" zerofill -q --slice 0 --ksp-out "$T/k1" "$T/f/test.h5" "$T/k1.png" >/dev/null 2>&1 || fail "one slice"
out=$("$MRGAN" sens --sens-method espirit --acs 12 --check "$T/m1" "$T/k1" "$T/m3.cfl" 2>&1) || fail "sens --check: $out"
echo "$out" | grep -q "espirit maps from 12 centre lines" || fail "method not named: $out"
echo "$out" | grep -q "projection NRMSE with the maps of" || fail "no --check line: $out"
"$MRGAN" sens -q --sens-method espirit --espirit-kernel 5 --acs 12 "$T/k1" "$T/m5.cfl" >/dev/null 2>&1 || fail "--espirit-kernel 5"
cmp -s "$T/m5.cfl" "$T/m3.cfl" && fail "--espirit-kernel had no effect"
check_fail "ESPIRiT: a 20x20 kernel" "$MRGAN" sens --sens-method espirit --espirit-kernel 20 --acs 12 "$T/k1" "$T/m6.cfl"
ok "sens --sens-method espirit --check, --espirit-kernel"
# simulate --maps: the stored maps are an estimate, not the true ones
"$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 32 --coils 4 --stride 4 --maps espirit "$T/se" >/dev/null || fail "simulate --maps espirit"
grep -q '"maps": "espirit"' "$T/se/simulate.json" || fail "maps not recorded"
"$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 32 --coils 4 --stride 4 "$T/st" >/dev/null || fail simulate
"$MRGAN" zerofill -q --slice 0 --sens-out "$T/ms_e" "$T/se/test.h5" "$T/a.png" >/dev/null 2>&1 &&
    "$MRGAN" zerofill -q --slice 0 --sens-out "$T/ms_t" "$T/st/test.h5" "$T/b.png" >/dev/null 2>&1 || fail zerofill
cmp -s "$T/ms_e.cfl" "$T/ms_t.cfl" && fail "simulate --maps espirit stored the true maps"
check_fail "option --maps: 'x' is not one of true, walsh, direct, espirit" "$MRGAN" simulate --maps x "$T/sx"
ok "simulate --maps espirit stores estimated maps"
echo "$n passed, 0 failed"

#!/usr/bin/env bash
# BART conventions, against Debian's bart (skipped without it): cfl outputs
# keep the input's layout and go straight into bart pics and bart nrmse;
# zero filling equals BART's SENSE combination; bart ecalib's two map sets are
# accepted (set 1 used, said); PNGs are oriented as bart toimg writes them.
source "$(dirname "$0")/lib.sh"
command -v bart >/dev/null || { echo "skip: bart absent"; exit 77; }
cd "$T"

# [W H 1 C] -> [1 W H C] (BART's usual 2D layout with the readout in dim 1)
"$FIX" kspace k0 || fail fixture
bart transpose 1 2 k0 k1 >/dev/null && bart transpose 0 1 k1 k >/dev/null || fail "bart transpose"
grep -q "^1 16 16 4" k.hdr || fail "layout of the fixture: $(tail -1 k.hdr)"
"$MRGAN" zerofill -q --accel 2 --center 6 --ksp-out ku --sens-out sm k.cfl zf.cfl >/dev/null 2>&1 || fail zerofill
for f in zf ku sm; do
    want=$([ $f = zf ] && echo "1 16 16" || echo "1 16 16 4")
    grep -q "^$want\b" $f.hdr || fail "$f.cfl dims $(tail -1 $f.hdr), want [$want] (the input's layout)"
done
ok "cfl outputs keep the input's layout [1 W H C]"

# zero filling = BART's SENSE combination of the undersampled coil images
bart fft -i -u 6 ku ci >/dev/null && bart fmac -C -s 8 ci sm bzf >/dev/null || fail "bart fft/fmac"
e=$(bart nrmse bzf zf) || fail "bart nrmse does not take mrgan's image"
awk -v e="$e" 'BEGIN { exit !(e < 1e-5) }' || fail "zero filling vs BART's: nrmse $e"
ok "bart nrmse reads mrgan's output; zero filling equals BART's SENSE combination (nrmse $e)"

# bart pics reads mrgan's k-space and maps as they are
bart pics -S -l1 -r 0.005 -i 30 ku sm pics >/dev/null 2>&1 || fail "bart pics refused mrgan's k-space and maps"
e=$(bart nrmse pics zf) || fail "bart nrmse"
ok "bart pics runs on mrgan's --ksp-out/--sens-out (nrmse to zero filling $e)"

# bart ecalib's default output: two map sets, set 1 used and said
bart ecalib -r 6 k ez >/dev/null 2>&1 || fail "bart ecalib"   # the disc fixture: the default crop leaves nothing
check_fail "ez: the coil maps are all zero" "$MRGAN" zerofill --accel 2 --center 6 --sens ez k.cfl x.cfl
bart ecalib -r 6 -c 0 k emaps >/dev/null 2>&1 || fail "bart ecalib"
sets=$(sed -n 2p emaps.hdr | awk '{print $5}')
"$MRGAN" zerofill -q --accel 2 --center 6 --sens emaps k.cfl ez.cfl >/dev/null 2>"$T/err" || fail "two-set maps refused: $(cat "$T/err")"
if [ "${sets:-1}" -gt 1 ]; then
    grep -q "holds $sets map sets (bart ecalib's default); the methods use set 1" "$T/err" || fail "no note on map sets"
fi
bart slice 4 0 emaps e1 >/dev/null || fail "bart slice"
"$MRGAN" zerofill -q --accel 2 --center 6 --sens e1 k.cfl ez1.cfl >/dev/null 2>&1 || fail "one-set maps"
cmp -s ez.cfl ez1.cfl || fail "two-set maps: not set 1"
ok "bart ecalib's maps ($sets sets) accepted, set 1 used"

# PNGs as bart toimg: a non-square image (W 32 readout, H 40 lines) gives
# the same PNG size (rows along W)
"$(dirname "$FIX")/mkfastmri" p.h5 plain 1 4 32 40 1 || fail mkfastmri
"$MRGAN" zerofill -q p.h5 p.png >/dev/null 2>&1 && "$MRGAN" zerofill -q p.h5 p.cfl >/dev/null 2>&1 || fail zerofill
bart toimg p p_bart.png >/dev/null 2>&1 || fail "bart toimg"
ours=$("$FIX" pngstats p.png | cut -d' ' -f1,2); theirs=$("$FIX" pngstats p_bart.png | cut -d' ' -f1,2)
[ "$ours" = "$theirs" ] || fail "PNG size $ours, bart toimg $theirs"
ok "PNGs oriented as bart toimg ($ours)"
# ESPIRiT against bart ecalib -m1 on the same calibration region (24 x 24):
# the maps' projection residual within 5 %, zero filling with each one's maps
"$(dirname "$FIX")/mkfastmri" e.h5 plain 1 8 64 64 5 || fail mkfastmri
"$MRGAN" zerofill -q --ksp-out ek e.h5 e.png >/dev/null 2>&1 || fail "k-space"
bart ecalib -m1 -r 24 ek bm >/dev/null 2>&1 || fail "bart ecalib -m1"
out=$("$MRGAN" sens --sens-method espirit --acs 24 --check bm ek em.cfl) || fail "mrgan sens espirit"
ours=$(echo "$out" | awk '/= [0-9.]+ \(mean/ {print $(NF-3)}'); theirs=$(echo "$out" | awk '/with the maps of/ {print $NF}')
awk -v a="$ours" -v b="$theirs" 'BEGIN { exit !(a <= 1.05 * b) }' || fail "ESPIRiT residual $ours vs bart's $theirs"
"$MRGAN" zerofill -q --accel 2 --center 24 --acs 24 --sens em ek ezm.cfl >/dev/null 2>&1 &&
    "$MRGAN" zerofill -q --accel 2 --center 24 --acs 24 --sens bm ek ezb.cfl >/dev/null 2>&1 || fail "zero filling"
e=$(bart nrmse ezb ezm) || fail "bart nrmse"
awk -v e="$e" 'BEGIN { exit !(e < 0.03) }' || fail "zero filling with mrgan's vs bart's maps: nrmse $e"
ok "ESPIRiT: residual $ours (bart ecalib -m1: $theirs), zero filling with either maps: nrmse $e"
echo "$n passed, 0 failed"

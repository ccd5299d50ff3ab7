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
echo "$n passed, 0 failed"

#!/usr/bin/env bash
# End to end on data the test makes: phantom volume -> simulate -> mask ->
# zerofill (PNG, cfl, HDF5, NIfTI) -> sens; reproducible with a seed.
set -eu
source "$(dirname "$0")/lib.sh"

"$FIX" phantom "$T/head.nii.gz"
"$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 32 --coils 4 --stride 2 --seed 5 "$T/sim" | tee "$T/log"
for s in train val test; do [ -s "$T/sim/$s.h5" ] || fail "missing $s.h5"; done
[ -s "$T/sim/simulate.json" ] || fail "missing simulate.json"
grep -q '"split_rule"' "$T/sim/simulate.json" || fail "simulate.json has no split rule"
ok "simulate wrote train/val/test and simulate.json"

# no slice is in two splits (source slice lists in simulate.json)
python_free_check() {
    local f=$T/sim/simulate.json
    for a in train val test; do
        grep "\"$a\":" "$f" | grep -o '\["[a-z]*", [0-9]*\]' | sort > "$T/$a.lst"
    done
    [ -s "$T/test.lst" ] || return 1
    [ -z "$(comm -12 "$T/train.lst" "$T/test.lst")" ] && [ -z "$(comm -12 "$T/train.lst" "$T/val.lst")" ] &&
        [ -z "$(comm -12 "$T/val.lst" "$T/test.lst")" ]
}
python_free_check || fail "splits overlap"
ok "splits are disjoint"

"$MRGAN" mask --lines 32 --accel 4 --center 8 --seed 3 "$T/mask" | grep -q "8 of 32 lines" || fail "mask count"
"$MRGAN" mask --lines 32 --accel 4 --center 8 --seed 3 "$T/mask.png" >/dev/null
[ -s "$T/mask.png" ] || fail "mask png"
ok "mask writes cfl and png with exact R"

out=$("$MRGAN" zerofill -q --accel 4 --center 8 "$T/sim/test.h5" "$T/zf.png")
echo "$out"
nmse=$(echo "$out" | nmse_of)
[ -n "$nmse" ] || fail "no NMSE printed"
awk -v x="$nmse" 'BEGIN { exit !(x > 0.001 && x < 1.0) }' || fail "NMSE $nmse implausible"
ls "$T"/zf_000.png >/dev/null || fail "no per-slice PNGs"
ok "zerofill at R=4 prints NMSE $nmse and writes PNGs"

# fully sampled zerofill with the file's maps has no error to report; R=1 mask gives NMSE 0
out=$("$MRGAN" zerofill -q --accel 1 --center 8 "$T/sim/test.h5" "$T/full.cfl")
echo "$out" | grep -q "NMSE vs fully sampled = 0.00000" || fail "R=1 should give NMSE 0: $out"
ok "R=1 reproduces the fully sampled image"

for ext in cfl h5 nii.gz; do
    "$MRGAN" zerofill -q --accel 4 --center 8 --slice 1 "$T/sim/test.h5" "$T/one.$ext" >/dev/null
done
[ -s "$T/one.cfl" ] && [ -s "$T/one.hdr" ] && [ -s "$T/one.h5" ] && [ -s "$T/one.nii.gz" ] || fail "output formats"
ok "zerofill writes cfl, h5 and NIfTI"

# the same seed reproduces the data set bit for bit, another seed does not
"$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 32 --coils 4 --stride 2 --seed 5 "$T/sim2" >/dev/null
"$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 32 --coils 4 --stride 2 --seed 6 "$T/sim3" >/dev/null
"$MRGAN" zerofill -q "$T/sim2/test.h5" "$T/a.cfl" >/dev/null
"$MRGAN" zerofill -q "$T/sim/test.h5" "$T/b.cfl" >/dev/null
"$MRGAN" zerofill -q "$T/sim3/test.h5" "$T/c.cfl" >/dev/null
cmp -s "$T/a.cfl" "$T/b.cfl" || fail "same seed differs"
cmp -s "$T/a.cfl" "$T/c.cfl" && fail "different seeds give identical data"
ok "seeded simulation is reproducible"

# maps estimated from the centre lines of the simulated k-space
"$MRGAN" zerofill -q --slice 0 "$T/sim/test.h5" "$T/s0.cfl" >/dev/null
out=$("$MRGAN" sens --acs 8 "$T/sim/test.h5" "$T/maps")
echo "$out"
nr=$(echo "$out" | sed -n 's/.*= \([0-9.]*\) (mean over slices).*/\1/p')
awk -v x="$nr" 'BEGIN { exit !(x >= 0 && x < 0.5) }' || fail "projection NRMSE $nr"
[ -s "$T/maps.cfl" ] || fail "maps not written"
ok "sens writes maps (projection NRMSE $nr)"

# the Colin27 volume from mricron-data, when installed, simulates at a small size
if [ -r /usr/share/mricron/templates/ch2.nii.gz ]; then
    "$MRGAN" simulate -q --matrix 32 --stride 24 "$T/colin" >/dev/null || fail "Colin27 simulate"
    ok "default volume (Colin27) simulates"
fi
echo "$n passed, 0 failed"

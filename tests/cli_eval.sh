#!/usr/bin/env bash
# mrgan eval end to end on data the test makes: every baseline and a trained
# model, the tables' shape, agreement with the single-method commands, and
# bad input.
source "$(dirname "$0")/lib.sh"

make_data
"$MRGAN" train -q --data "$T/d" --blocks 2 --growth 1 --kernels 4 --center 8 --epochs 2 "$T/run" || fail train
E="$T/ev"
"$MRGAN" eval -q --center 8 --model "$T/run" --model last="$T/run/last.safetensors" "$T/d/test.h5" "$E" > "$T/out" ||
    fail "eval: $(cat "$T/out")"
cat "$T/out"
ns=$(grep -o '[0-9]* slices of' "$T/out" | cut -d' ' -f1)
[ "$(grep -c '^| ' "$E/table.md")" = 7 ] || fail "table.md: header + 6 methods expected"
for m in zero-filled cs-wavelet cs-tv arc run last; do
    grep -q "^$m," "$E/table.csv" || fail "table.csv lacks $m"
    [ "$(grep -c "^$m," "$E/per_slice.csv")" = "$ns" ] || fail "per_slice.csv: $ns rows of $m expected"
    [ -s "$E/images/$m.cfl" ] || fail "images/$m.cfl"
done
grep -q "^# Dimensions" "$E/images/reference.hdr" && grep -q "^32 32 1 1 1 1 1 1 1 1 1 1 1 $ns *$" "$E/images/reference.hdr" ||
    fail "reference.hdr dims"
grep -q "FID/KID: unavailable" "$E/table.md" || fail "FID should be reported unavailable without weights"
grep -q "each averaged over 4 mirror images" "$E/table.md" || fail "table.md does not say the default flip averaging"
ok "eval: 4 baselines + 2 models, $ns slices, tables, per-slice rows and images"

# the same numbers as the single-method commands (same masks, same maps)
zf=$("$MRGAN" zerofill -q --accel 4 --center 8 "$T/d/test.h5" "$T/zf.cfl" | nmse_of)
ev=$(awk -F, '$1=="zero-filled" {printf "%.5f", $2}' "$E/table.csv")
[ "$zf" = "$ev" ] || fail "zero-filled NMSE: zerofill says $zf, eval $ev"
rc=$("$MRGAN" recon -q --accel 4 --center 8 --model "$T/run/best.safetensors" "$T/d/test.h5" "$T/r.cfl" | nmse_of)
ev=$(awk -F, '$1=="run" {printf "%.5f", $2}' "$E/table.csv")
[ "$rc" = "$ev" ] || fail "DCI-Net NMSE: recon says $rc, eval $ev"
cs=$("$MRGAN" cs -q --reg tv --accel 4 --center 8 "$T/d/test.h5" "$T/c.cfl" | nmse_of)
ev=$(awk -F, '$1=="cs-tv" {printf "%.5f", $2}' "$E/table.csv")
[ "$cs" = "$ev" ] || fail "CS-TV NMSE: cs says $cs, eval $ev"
ok "eval's NMSE equals zerofill's ($zf), recon's ($rc) and cs --reg tv's ($cs)"

# bad input: one line, exit 1, nothing written
check_fail "--methods" "$MRGAN" eval --methods zf,bogus "$T/d/test.h5" "$T/e2"
check_fail "two methods are named 'run'" "$MRGAN" eval --methods none --model "$T/run" --model "$T/run" "$T/d/test.h5" "$T/e2"
check_fail "missing.safetensors" "$MRGAN" eval --model "$T/missing.safetensors" "$T/d/test.h5" "$T/e2"
check_fail "not converted Inception-v3" "$MRGAN" eval --fid-weights "$T/run/best.safetensors" "$T/d/test.h5" "$T/e2"
check_fail "nothing to evaluate" "$MRGAN" eval --methods none "$T/d/test.h5" "$T/e2"
flock "$E/.lock" sleep 2 & holder=$!
sleep 0.5
check_fail "in use by another mrgan process" "$MRGAN" eval --methods zero-filled "$T/d/test.h5" "$E"
wait $holder
"$MRGAN" eval -q --center 2 --methods arc --slices 2 "$T/d/test.h5" "$T/e4" >/dev/null 2>"$T/arc.err" || fail "eval arc: $(cat "$T/arc.err")"
grep -q "ARC: .* stay zero" "$T/e4/table.md" || fail "no ARC note in table.md: $(cat "$T/e4/table.md")"
n=$((n+1)); echo "ok: eval says in the table when ARC leaves lines empty"
check_fail "the name 'reference' is reserved" "$MRGAN" eval --methods none --model reference="$T/run" "$T/d/test.h5" "$T/e2"
check_fail "the name 'masks' is reserved" "$MRGAN" eval --methods none --model masks="$T/run" "$T/d/test.h5" "$T/e2"
# a path with '=' in it is a path, not NAME=PATH
cp -r "$T/run" "$T/lr=1e-3"
"$MRGAN" eval -q --center 8 --methods none --model "$T/lr=1e-3" --slices 2 "$T/d/test.h5" "$T/e3" >/dev/null || fail "eval of a run named lr=1e-3"
[ -f "$T/e3/images/lr=1e-3.cfl" ] || fail "eval named the model wrongly: $(ls "$T/e3/images")"
n=$((n+1)); echo "ok: a run directory named lr=1e-3 is a path"
[ ! -e "$T/e2" ] || fail "a failed eval created its output directory"
check_fail "--weights FILE is required" "$MRGAN" fid "$E/images/reference.cfl" "$E/images/run.cfl"
echo "$n passed, 0 failed"

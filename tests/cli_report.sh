#!/usr/bin/env bash
# mrgan report on a GAN run and its evaluation: the figures and pages exist,
# are valid PNG/HTML with every figure inlined, the reader study's key covers
# every image once, and Table 3 comes out of exported scores. The page in a
# browser: tests/cli_report_chromium.sh.
source "$(dirname "$0")/lib.sh"

make_data
# validation FID per epoch with random Inception weights (under valgrind, where
# each Inception pass takes minutes, without: one figure fewer)
FIDOPT=() NFIG=7
if [ -z "${MRGAN_UNDER_VALGRIND:-}" ]; then
    "$FIX" incweights "$T/inc.safetensors" || fail "Inception weights"
    FIDOPT=(--fid-weights "$T/inc.safetensors")
else
    NFIG=6
fi
"$MRGAN" train -q --data "$T/d" --mode cwgan-agb --critic-ch 4 --blocks 2 --growth 1 --kernels 4 --center 8 \
    --epochs 3 "${FIDOPT[@]}" "$T/run" || fail train
if [ $NFIG = 7 ]; then # FID values are small with random weights, but finite and positive
    [ "$(awk -F, '$1=="epoch" && $15+0 > 0' "$T/run/metrics.csv" | wc -l)" = 3 ] || fail "val_fid column: $(grep ^epoch "$T/run/metrics.csv")"
    grep -q '"fid_weights"' "$T/run/config.json" || fail "config.json should keep fid_weights for --resume"
fi
"$MRGAN" eval -q --center 8 --methods zero-filled,cs-tv --model "$T/run" "$T/d/test.h5" "$T/run/eval" >/dev/null || fail eval
if [ $NFIG = 7 ]; then # a PNG set against a cfl set: each mapped by its own maximum, said in a note
    mkdir -p "$T/png"
    "$MRGAN" zerofill -q --slice 0 "$T/d/test.h5" "$T/png/a.png" >/dev/null && "$MRGAN" zerofill -q --slice 1 "$T/d/test.h5" "$T/png/b.png" >/dev/null ||
        fail "PNGs for fid"
    "$MRGAN" fid --weights "$T/inc.safetensors" "$T/png" "$T/run/eval/images/reference.cfl" >/dev/null 2>"$T/fid.err" ||
        fail "fid PNG vs cfl: $(cat "$T/fid.err")"
    grep -q "each mapped by its own maximum" "$T/fid.err" || fail "fid PNG vs cfl: no note: $(cat "$T/fid.err")"
    ok "fid maps a PNG set and a cfl set each by its own maximum"
fi
"$MRGAN" report --reader 2 "$T/run" || fail report
R="$T/run/report"
for f in index.html reader.html reader_key.csv fig3_val_nmse.png fig3_train_loss.png fig9_beta.png; do
    [ -s "$R/$f" ] || fail "missing $f"
done
nf=$(ls "$R"/fig4_slice_*.png | wc -l)
[ "$nf" = 3 ] || fail "3 panel figures expected, got $nf"
for p in "$R"/*.png; do
    "$FIX" pngstats "$p" > "$T/st" || fail "$p is not a readable PNG"
    awk '{ exit !($3 > 0.01 && $4 > 2) }' "$T/st" || fail "$p looks empty: $(cat "$T/st")"
done
[ $NFIG = 6 ] || [ -s "$R/fig3_val_fid.png" ] || fail "missing fig3_val_fid.png"
[ "$(grep -o 'src="data:image/png;base64,' "$R/index.html" | wc -l)" = $NFIG ] || fail "index.html should inline $NFIG figures"
! grep -q 'src="[^d]' "$R/index.html" || fail "index.html refers to an external file"
grep -q '<table id="results">' "$R/index.html" && grep -q '<td>run</td>' "$R/index.html" || fail "results table"
ok "train --fid-weights logs val FID per epoch; report: index.html with $NFIG inlined figures (panels, NMSE, FID, loss, beta), the table"

# reader study: 2 slices x (reference + 3 methods) = 8 images, each once, none named in the page
[ "$(tail -n +2 "$R/reader_key.csv" | wc -l)" = 8 ] || fail "reader_key.csv: 8 items expected"
[ "$(tail -n +2 "$R/reader_key.csv" | cut -d, -f2 | sort | uniq -c | awk '{print $1}' | sort -u)" = 2 ] ||
    fail "every method should appear twice in the reader study"
for m in zero-filled cs-tv run reference; do
    ! grep -q ">$m<\|alt=\"$m\"" "$R/reader.html" || fail "reader.html names method $m"
done
[ "$(grep -c 'class="item"' "$R/reader.html")" = 8 ] || fail "reader.html: 8 items expected"
ok "reader study: 8 shuffled, unnamed images; the key stays in reader_key.csv"

# Table 3 from two readers' exports: reader a gives every criterion 4, reader b 2
{ echo "reader,item,sharpness,snr,contrast,artifacts,overall"
  tail -n +2 "$R/reader_key.csv" | cut -d, -f1 | sed 's/^/a,/; s/$/,4,4,4,4,4/'; } > "$T/a.csv"
{ echo "reader,item,sharpness,snr,contrast,artifacts,overall"
  tail -n +2 "$R/reader_key.csv" | cut -d, -f1 | sed 's/^/b,/; s/$/,2,2,2,2,/'; } > "$T/b.csv"
"$MRGAN" report -q --reader 2 --scores "$T/a.csv" --scores "$T/b.csv" "$T/run" || fail "report --scores"
# mean 3 (SD 1.1547 over 2+2 scores) for the first four criteria, overall 4 (b left it empty)
grep -q "^cs-tv,sharpness,3.0000,1.1547,4$" "$R/table3.csv" || fail "table3.csv: $(cat "$R/table3.csv")"
grep -q "^run,overall,4.0000,0.0000,2$" "$R/table3.csv" || fail "table3.csv overall: $(cat "$R/table3.csv")"
grep -q '<table id="table3">' "$R/index.html" || fail "Table 3 not in the page"
ok "Table 3 from two readers' exports (mean, SD, count per method and criterion)"

# bad input
check_fail "metrics.csv: cannot open" "$MRGAN" report "$T/d"
check_fail "eval.json: cannot open" "$MRGAN" report --eval "$T/none" "$T/run"
check_fail "--roi" "$MRGAN" report --roi 30,30,8 "$T/run"
sed 's/,4,4,4,4,4$/,4,4,9,4,4/' "$T/a.csv" > "$T/bad.csv"
check_fail "is not 1-5" "$MRGAN" report -q --scores "$T/bad.csv" "$T/run"
echo "$n passed, 0 failed"

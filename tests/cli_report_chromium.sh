#!/usr/bin/env bash
# The report in headless Chromium (Debian chromium, installed by
# scripts/install-deps.sh): every figure decodes, a screenshot shows images,
# and the reader study's page scores, exports CSV (its #selftest hook clicks
# every item) and that CSV becomes Table 3. Skipped (exit 77) without chromium.
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "skipped: no chromium (apt-get install chromium)"; exit 77; }
source "$(dirname "$0")/lib.sh"
chrome() { timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$T/profile" "$@" 2>/dev/null; }

make_data
"$MRGAN" train -q --data "$T/d" --blocks 2 --growth 1 --kernels 4 --center 8 --epochs 2 "$T/run" || fail train
"$MRGAN" eval -q --center 8 --methods zero-filled,cs-wavelet --model "$T/run" "$T/d/test.h5" "$T/run/eval" >/dev/null || fail eval
"$MRGAN" report -q --reader 3 "$T/run" || fail report
R="$T/run/report"

figs=$(chrome --dump-dom "file://$R/index.html" | grep -o 'data-figures="[0-9]*/[0-9]*"')
echo "index.html in chromium: $figs"
[ "$figs" = 'data-figures="5/5"' ] || fail "figures decoded in chromium: '$figs' (want 5/5: 3 panels, 2 curves; MSE run: no beta)"
chrome --window-size=1280,2000 --screenshot="$T/shot.png" "file://$R/index.html" >/dev/null
st=$("$FIX" pngstats "$T/shot.png") || fail "no screenshot"
echo "screenshot: $st (width height non-white-fraction grey-levels)"
echo "$st" | awk '{ exit !($1 == 1280 && $3 > 0.15 && $4 > 100) }' || fail "screenshot shows no images: $st"
echo "ok: index.html renders in chromium with every figure"

chrome --dump-dom "file://$R/reader.html#selftest" | sed -n '/<pre id="selftest">/,/<\/pre>/p' |
    sed 's/.*<pre id="selftest">//; s/<\/pre>.*//' | grep -v '^$' > "$T/scores.csv"
head -2 "$T/scores.csv"
[ "$(wc -l < "$T/scores.csv")" = 13 ] || fail "exported CSV: header + 12 items expected, got $(wc -l < "$T/scores.csv") lines"
"$MRGAN" report -q --reader 3 --scores "$T/scores.csv" "$T/run" || fail "report --scores on the page's export"
# expected means: item i (0-based, page order = key order), criterion j scored (i + j) % 5 + 1
want=$(tail -n +2 "$R/reader_key.csv" | awk -F, '{ for (j = 0; j < 5; j++) { s[$2 "," j] += (NR - 1 + j) % 5 + 1; c[$2 "," j]++ } }
    END { split("sharpness snr contrast artifacts overall", cr, " ");
          for (k in s) { split(k, a, ","); printf "%s,%s,%.4f\n", a[1], cr[a[2] + 1], s[k] / c[k] } }' | sort)
got=$(tail -n +2 "$R/table3.csv" | cut -d, -f1-3 | sort)
[ "$(echo "$want" | wc -l)" = 20 ] || fail "expected 4 methods x 5 criteria: $want"
[ "$want" = "$got" ] || fail "Table 3 from the page's export differs: want
$want
got
$got"
echo "ok: reader.html scores and exports CSV in chromium; Table 3 matches the scores given"
echo "2 passed, 0 failed"

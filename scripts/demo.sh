#!/usr/bin/env bash
# The main job on the default data set, end to end:
#  1. simulate multi-coil k-space from the Colin27 T1 brain (Debian mricron-data)
#  2. train the small DCI-Net (5I-5G-16K) with MSE for DEMO_EPOCHS epochs
#  3. evaluate the test split at R = 4: zero filling, CS-wavelet, CS-TV, ARC
#     and the trained DCI-Net (mrgan eval: table.md, per-slice CSV, images)
#  4. write the HTML report (mrgan report: figures, tables, reader study)
# Outputs go to demo/ (DEMO_DIR); a finished step is reused when run again.
set -euo pipefail
MRGAN=${1:-build/mrgan}
OUT=${DEMO_DIR:-demo}
EPOCHS=${DEMO_EPOCHS:-60}
mkdir -p "$OUT"
t0=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - t0 )) s)"; }

step "1/4 simulate"
if [ ! -s "$OUT/data/test.h5" ]; then "$MRGAN" simulate "$OUT/data"; else echo "reusing $OUT/data"; fi

step "2/4 train DCI-Net 5I-5G-16K, $EPOCHS epochs"
if [ -s "$OUT/run/last.safetensors" ]; then
  "$MRGAN" train --data "$OUT/data" --resume --epochs "$EPOCHS" "$OUT/run" || [ $? -eq 130 ]
else
  "$MRGAN" train --data "$OUT/data" --epochs "$EPOCHS" "$OUT/run"
fi

step "3/4 evaluate the test split at R = 4 (1D variable density, 12 centre lines)"
"$MRGAN" eval --model dci-net="$OUT/run/best.safetensors" "$OUT/data/test.h5" "$OUT/run/eval"
cp "$OUT/run/eval/table.md" "$OUT/table.md"

step "4/4 report"
"$MRGAN" report "$OUT/run"
step "done"
echo "demo: table in $OUT/table.md (test split; NMSE x1e3, PSNR, SSIM, HFEN; FID needs --fid-weights, docs/metrics.md)"
echo "demo: report in $OUT/run/report/index.html (open it in a browser); reader study $OUT/run/report/reader.html"

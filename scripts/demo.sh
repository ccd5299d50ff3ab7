#!/usr/bin/env bash
# The main job on the default data set, end to end:
#  1. simulate multi-coil k-space from the Colin27 T1 brain (Debian mricron-data)
#  2. train the small DCI-Net (5I-5G-16K) with MSE for DEMO_EPOCHS epochs
#  3. reconstruct the test split at R = 4 with every method and compare
# Outputs go to demo/ (DEMO_DIR); a finished step is reused when run again.
set -euo pipefail
MRGAN=${1:-build/mrgan}
OUT=${DEMO_DIR:-demo}
EPOCHS=${DEMO_EPOCHS:-60}
mkdir -p "$OUT/recon"
t0=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - t0 )) s)"; }

step "1/3 simulate"
if [ ! -s "$OUT/data/test.h5" ]; then "$MRGAN" simulate "$OUT/data"; else echo "reusing $OUT/data"; fi

step "2/3 train DCI-Net 5I-5G-16K, $EPOCHS epochs"
if [ -s "$OUT/run/last.safetensors" ]; then
  "$MRGAN" train --data "$OUT/data" --resume --epochs "$EPOCHS" "$OUT/run" || [ $? -eq 130 ]
else
  "$MRGAN" train --data "$OUT/data" --epochs "$EPOCHS" "$OUT/run"
fi

step "3/3 reconstruct the test split at R = 4 (vd mask, 12 centre lines)"
T="$OUT/data/test.h5"
"$MRGAN" zerofill -q "$T" "$OUT/recon/reference.cfl" >/dev/null
run() { # name, command...
  local name=$1; shift
  local s0 e
  s0=$(date +%s.%N)
  "$@" >/dev/null
  e=$(echo "($(date +%s.%N) - $s0)" | bc -l)
  printf "| %-22s | %s | %.1f |\n" "$name" "$("$MRGAN" compare "$OUT/recon/reference.cfl" "$OUT/recon/$name.cfl" |
    awk '{printf "%6.2f | %5.2f | %.4f | %.4f", $2 * 1000, $4, $7, $9}')" "$e"
}
{
  echo "| method                 | NMSE x1e3 | PSNR dB | SSIM | HFEN | seconds |"
  echo "|---|---|---|---|---|---|"
  run zero-filled "$MRGAN" zerofill -q --accel 4 "$T" "$OUT/recon/zero-filled.cfl"
  run cs-wavelet "$MRGAN" cs -q --reg wavelet --accel 4 "$T" "$OUT/recon/cs-wavelet.cfl"
  run cs-tv "$MRGAN" cs -q --reg tv --accel 4 "$T" "$OUT/recon/cs-tv.cfl"
  run arc "$MRGAN" arc -q --accel 4 "$T" "$OUT/recon/arc.cfl"
  run dci-net "$MRGAN" recon -q --model "$OUT/run/best.safetensors" --accel 4 "$T" "$OUT/recon/dci-net.cfl"
} | tee "$OUT/table.md"
"$MRGAN" recon -q --model "$OUT/run/best.safetensors" --accel 4 --slice 2 "$T" "$OUT/recon/dci-net_slice2.png" >/dev/null
"$MRGAN" zerofill -q --accel 4 --slice 2 "$T" "$OUT/recon/zero-filled_slice2.png" >/dev/null
"$MRGAN" zerofill -q --slice 2 "$T" "$OUT/recon/reference_slice2.png" >/dev/null
step "done"
echo "demo: table in $OUT/table.md (test split, all slices; seconds include process start)"
echo "demo: images in $OUT/recon/ (cfl stacks; *_slice2.png), training run in $OUT/run/ (metrics.csv, val_grid/)"

#!/usr/bin/env bash
# The main job on the default data set: simulate multi-coil k-space from the
# Colin27 T1 brain (Debian mricron-data), undersample the test split at R=4
# with the 1D variable-density mask, and reconstruct it zero-filled.
# Outputs go to demo/ (override with DEMO_DIR).
set -euo pipefail
MRGAN=${1:-build/mrgan}
OUT=${DEMO_DIR:-demo}
mkdir -p "$OUT"
t0=$(date +%s)
if [ ! -s "$OUT/data/test.h5" ]; then
  "$MRGAN" simulate "$OUT/data"
else
  echo "demo: reusing $OUT/data (delete it to simulate again)"
fi
mkdir -p "$OUT/zerofill" "$OUT/reference"
"$MRGAN" mask --lines 128 --accel 4 --center 12 --seed 1 "$OUT/mask_r4.png"
"$MRGAN" zerofill --accel 4 --mask-out "$OUT/mask_slice0.png" "$OUT/data/test.h5" "$OUT/zerofill/mz.png" |
  tee "$OUT/zerofill.txt"
"$MRGAN" zerofill "$OUT/data/test.h5" "$OUT/reference/mf.png" >/dev/null
echo "demo: done in $(( $(date +%s) - t0 )) s"
echo "demo: zero-filled R=4 images in $OUT/zerofill/, fully sampled references in $OUT/reference/,"
echo "demo: NMSE in $OUT/zerofill.txt"

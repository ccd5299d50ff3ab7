#!/usr/bin/env bash
# The main job on the default data set, end to end (`make demo`): `mrgan demo`
# simulates the Colin27 data, trains the small DCI-Net for DEMO_EPOCHS epochs,
# evaluates it against zero filling, CS-wavelet, CS-TV and ARC, and writes the
# HTML report, into DEMO_DIR (default demo/). A step already done is reused.
set -euo pipefail
MRGAN=${1:-build/mrgan}
exec "$MRGAN" demo --out "${DEMO_DIR:-demo}" --epochs "${DEMO_EPOCHS:-60}"

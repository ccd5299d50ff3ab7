#!/usr/bin/env bash
# Optional: the DCI-Net forward (with the DC units, dense skips and the input
# scaling of recon) against an independent PyTorch implementation written
# from the paper (tests/dcinet_torch.py) on random weights. Needs Debian's
# python3-torch; skipped (ctest "Not Run", exit 77) without it.
set -u
MRGAN=$1
PY=/usr/bin/python3
if ! "$PY" -c "import torch, numpy" 2>/dev/null; then
    echo "skipped: $PY cannot import torch (apt-get install python3-torch)"
    exit 77
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$PY" "$(dirname "$0")/dcinet_torch.py" make "$T" || fail "reference script (make)"
"$MRGAN" recon -q --flips 1 --model "$T/net.safetensors" --mask "$T/mask.cfl" --sens "$T/sens.cfl" "$T/ksp.cfl" "$T/out.cfl" \
    || fail "mrgan recon"
"$PY" "$(dirname "$0")/dcinet_torch.py" check "$T" || fail "DCI-Net output differs from PyTorch"
echo "ok: DCI-Net forward matches PyTorch"

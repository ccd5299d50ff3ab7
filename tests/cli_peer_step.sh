#!/usr/bin/env bash
# Optional: the speed peer (bench/peer/peer.py) does mrgan's work: on the
# peer's own weights and sample, mrgan's MSE step (tests/peerstep.c) and the
# peer's agree in forward output, loss, gradients and the update of one Adam
# step (small config). Needs Debian's python3-torch; skipped (exit 77) without it.
set -u
MRGAN=$1 MKFIXTURE=$2
PY=/usr/bin/python3
if ! "$PY" -c "import torch, numpy" 2>/dev/null; then
    echo "skipped: $PY cannot import torch (apt-get install python3-torch)"
    exit 77
fi
PEERSTEP="$(dirname "$MKFIXTURE")/peerstep"
[ -x "$PEERSTEP" ] || { echo "FAIL: $PEERSTEP is missing (built with mkfixture)"; exit 1; }
"$PY" "$(dirname "$0")/../bench/peer/peer.py" --check-step "$PEERSTEP" --config small || { echo "FAIL: the peer's step differs from mrgan's"; exit 1; }
# and the check can fail: mrgan's gradient of one tensor 1 % off is caught
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cat > "$T/off" <<PYEOF
#!$PY
import subprocess, sys
sys.path.insert(0, "$(cd "$(dirname "$0")/../bench/peer" && pwd)")
import peer
subprocess.run(["$PEERSTEP"] + sys.argv[1:], check=True)
m = peer.read_safetensors(sys.argv[3])
m["grad.block2.conv2.weight"] = m["grad.block2.conv2.weight"] * 1.01
peer.write_safetensors(sys.argv[3], m, {})
PYEOF
chmod +x "$T/off"
out=$("$PY" "$(dirname "$0")/../bench/peer/peer.py" --check-step "$T/off" --config small 2>&1) && { echo "$out"; echo "FAIL: a 1 % gradient error passed"; exit 1; }
echo "$out" | grep -q "gradients (worst tensor: block2.conv2.weight).*FAIL" || { echo "$out"; echo "FAIL: the 1 % error was not named"; exit 1; }
echo "ok: the peer's MSE step matches mrgan's; a 1 % gradient error is caught"

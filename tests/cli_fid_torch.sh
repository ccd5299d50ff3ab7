#!/usr/bin/env bash
# Optional: mrgan's Inception-v3 features and FID against PyTorch on random
# weights (tests/fid_torch.py builds pytorch-fid's network in torchvision).
# Needs Debian's python3-torch and python3-torchvision; skipped (ctest
# "Not Run", exit 77) without them. Not installed by make check: torch is
# large and this test only guards the C port against the reference.
set -u
MRGAN=$1
PY=/usr/bin/python3
if [ -n "${MRGAN_UNDER_VALGRIND:-}" ]; then
    echo "skipped under valgrind: 22 Inception-v3 passes take hours under memcheck"; exit 77
fi
if ! "$PY" -c "import torch, torchvision, numpy" 2>/dev/null; then
    echo "skipped: $PY cannot import torch/torchvision (apt-get install python3-torch python3-torchvision)"
    exit 77
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$PY" "$(dirname "$0")/fid_torch.py" "$T" || fail "reference script"
out=$(OMP_NUM_THREADS=2 "$MRGAN" fid --weights "$T/w.safetensors" --features-out "$T/f" "$T/a" "$T/b") || fail "mrgan fid"
echo "$out"
fid=$(echo "$out" | awk '{print $2}')
"$PY" - "$T" "$fid" <<'PYEOF' || fail "features or FID differ from PyTorch"
import sys
import numpy as np
t, fid = sys.argv[1], float(sys.argv[2])
def cfl(b):
    d = [int(x) for x in open(b + ".hdr").read().split("\n")[1].split()]
    return np.fromfile(b + ".cfl", dtype=np.complex64).real.reshape(d[1], d[0])
worst = 0
for ours, ref in [("f_ref", "ref_feat_a.f32"), ("f_img", "ref_feat_b.f32")]:
    a, r = cfl(t + "/" + ours), np.fromfile(t + "/" + ref, "<f4").reshape(-1, 2048)
    assert a.shape == r.shape, (a.shape, r.shape)
    worst = max(worst, np.abs(a - r).max() / np.abs(r).max())
ref_fid = float(open(t + "/ref_fid.txt").read())
print("features: max |mrgan - torch| / max |torch| = %.2e (bound 1e-5); FID %.6g vs %.6g" % (worst, fid, ref_fid))
assert worst < 1e-5
assert abs(fid - ref_fid) <= 1e-3 * abs(ref_fid)
PYEOF
echo "ok: Inception-v3 features and FID match PyTorch"
echo "1 passed, 0 failed"

#!/usr/bin/env bash
# ISMRMRD raw data as an input of every command (libismrmrd), on files from
# ismrmrd-tools' Shepp-Logan generator: noise acquisitions skipped,
# repetitions averaged, readout oversampling removed; the fully sampled image
# matches ismrmrd_recon_cartesian_2d's; mrgan convert writes fastMRI layout.
source "$(dirname "$0")/lib.sh"
GEN=$(command -v ismrmrd_generate_cartesian_shepp_logan) || { echo "skip: ismrmrd-tools absent"; exit 77; }
PY=/usr/bin/python3

cd "$T"
# noise-free, 2 repetitions, a noise calibration acquisition first
"$GEN" -m 64 -c 4 -r 2 -n 0 -C -o sl0.h5 >/dev/null 2>&1 || fail "generator"
out=$("$MRGAN" zerofill --slice 0 sl0.h5 z0.cfl 2>&1) || fail "zerofill of ISMRMRD: $out"
echo "$out" | grep -q "1 slice(s) of 64x64, 4 coils" || fail "shape: $out"
echo "$out" | grep -q "readout oversampling removed (128 -> 64 points" || fail "oversampling: $out"
ok "ISMRMRD raw data read: 64x64, 4 coils, oversampling removed, noise skipped"

# every command takes it
"$MRGAN" cs -q --accel 3 --center 8 sl0.h5 cs.cfl >/dev/null 2>&1 || fail "cs"
"$MRGAN" arc -q --accel 2 --center 16 sl0.h5 arc.cfl >/dev/null 2>&1 || fail "arc"
"$MRGAN" sens sl0.h5 maps.cfl >/dev/null 2>&1 || fail "sens"
"$MRGAN" eval -q --accel 3 --center 8 --methods zero-filled,cs-wavelet --reference rss sl0.h5 ev >/dev/null 2>&1 || fail "eval"
ok "zerofill, cs, arc, sens and eval read ISMRMRD"

# repetitions averaged: with noise, 4 repetitions leave a quarter of one's
# noise power (in the fully sampled reference)
"$GEN" -m 64 -c 4 -r 1 -n 0.05 -o n1.h5 >/dev/null 2>&1 && "$GEN" -m 64 -c 4 -r 4 -n 0.05 -o n4.h5 >/dev/null 2>&1 || fail gen
for f in n1 n4; do
    "$MRGAN" eval -q --accel 2 --center 8 --methods zero-filled --reference rss $f.h5 ev_$f >/dev/null 2>&1 || fail "eval $f"
done
e1=$("$MRGAN" compare ev/images/reference.cfl ev_n1/images/reference.cfl | awk '$1 == "NMSE" {print $2}')
e4=$("$MRGAN" compare ev/images/reference.cfl ev_n4/images/reference.cfl | awk '$1 == "NMSE" {print $2}')
awk -v a="$e1" -v b="$e4" 'BEGIN { r = b / a; printf "noise NMSE, 4 repetitions / 1: %.3f\n", r; exit !(r > 0.15 && r < 0.4) }' ||
    fail "repetitions not averaged (NMSE 1 rep $e1, 4 reps $e4)"
ok "repetitions averaged (NMSE vs noise-free: 1 rep $e1, 4 reps $e4)"

# convert: a fastMRI-layout file that reads back to the same k-space
"$MRGAN" convert -q sl0.h5 conv.h5 || fail convert
"$MRGAN" zerofill -q --slice 0 conv.h5 z1.cfl >/dev/null 2>&1 || fail "zerofill converted"
cmp -s z0.cfl z1.cfl || fail "converted file reconstructs differently"
check_fail "the output is a fastMRI-layout HDF5 file" "$MRGAN" convert sl0.h5 out.cfl
ok "convert: ISMRMRD -> fastMRI layout, same reconstruction"

# the fully sampled image against ismrmrd_recon_cartesian_2d's (its FFT is
# not normalised: a factor sqrt(128 x 64) on the oversampled matrix)
if command -v ismrmrd_recon_cartesian_2d >/dev/null && "$PY" -c "import h5py, numpy" 2>/dev/null; then
    cp sl0.h5 rec.h5 && ismrmrd_recon_cartesian_2d rec.h5 >/dev/null 2>&1 || fail "ismrmrd_recon_cartesian_2d"
    "$PY" - <<'EOF' || fail "fully sampled image differs from ISMRMRD's reconstruction"
import h5py, numpy as np
ref = h5py.File('rec.h5', 'r')['dataset/cpp/data'][()][0, 0, 0] / np.sqrt(128 * 64)   # [y][x]
dims = [int(x) for x in open('ev/images/reference.hdr').read().split('\n')[1].split()]
ours = np.abs(np.fromfile('ev/images/reference.cfl', dtype=np.complex64).reshape(dims, order='F')).reshape(64, 64, order='F').T
e = np.linalg.norm(ours - ref) / np.linalg.norm(ref)
print('RSS vs ismrmrd_recon_cartesian_2d: NRMSE %.2e' % e)
raise SystemExit(0 if e < 1e-5 else 1)
EOF
    ok "the fully sampled image matches ismrmrd_recon_cartesian_2d"
else
    echo "skip: ismrmrd_recon_cartesian_2d or python3-h5py/numpy absent (image check)"
fi

# a file that is not ISMRMRD nor fastMRI
"$PY" -c "import h5py; h5py.File('other.h5', 'w').create_dataset('x', data=[1.0])" 2>/dev/null &&
    check_fail "other.h5: no dataset 'kspace' (fastMRI layout) and no /dataset/data (ISMRMRD raw data)" "$MRGAN" zerofill other.h5 x.png
echo "$n passed, 0 failed"

#!/usr/bin/env bash
# Data sets as researchers hold them: files laid out as fastMRI's multicoil
# brain release (tests/mkfastmri.c) with readout oversampling, padded
# phase-encode lines, boolean masks and mixed shapes and coil counts; mrgan
# reads them, and trains on a tree of them.
source "$(dirname "$0")/lib.sh"
MK=$(dirname "$FIX")/mkfastmri
[ -x "$MK" ] || fail "no mkfastmri next to $FIX"
PY=/usr/bin/python3

# cfl mask [1 H] -> a string of 0/1
mask_bits() { "$PY" -c "import struct,sys; d=open(sys.argv[1]+'.cfl','rb').read(); v=struct.unpack('%df'%(len(d)//4),d)[::2]; print(''.join('1' if x else '0' for x in v))" "$1"; }

"$MK" "$T/os.h5" os 2 4 64 32 1 || fail mkfastmri
"$MK" "$T/pad.h5" pad 2 6 76 40 2 || fail mkfastmri
"$MK" "$T/test.h5" test 2 4 64 32 3 || fail mkfastmri

# readout oversampling: removed by default, said in one line; kept with none
"$MRGAN" zerofill -q --accel 4 --center 4 "$T/os.h5" "$T/os.cfl" 2>"$T/err" >/dev/null || fail "zerofill os"
[ "$(grep -c "readout oversampling removed (64 -> 32 points" "$T/err")" = 1 ] || fail "no crop note: $(cat "$T/err")"
grep -q "^32 32 1 1 1 1 1 1 1 1 1 1 1 2" "$T/os.hdr" || fail "cropped image dims: $(tail -1 "$T/os.hdr")"
"$MRGAN" zerofill -q --accel 4 --center 4 --crop-readout none "$T/os.h5" "$T/os2.cfl" 2>"$T/err" >/dev/null || fail "zerofill none"
grep -q "^64 32 " "$T/os2.hdr" || fail "--crop-readout none dims: $(tail -1 "$T/os2.hdr")"
grep -q "oversampling" "$T/err" && fail "note without a crop"
check_fail "option --crop-readout: 'half' is not auto or none" "$MRGAN" zerofill --crop-readout half "$T/os.h5" "$T/x.png"
ok "readout oversampling removed (64 -> 32), kept with --crop-readout none"

# the crop is the image-space crop: the cropped k-space's coil images along
# the readout are the centre of the uncropped ones (centred unitary DFTs)
"$MRGAN" zerofill -q --slice 0 --ksp-out "$T/k1" "$T/os.h5" "$T/f1.png" 2>/dev/null >/dev/null || fail zerofill
"$MRGAN" zerofill -q --slice 0 --ksp-out "$T/k2" --crop-readout none "$T/os.h5" "$T/f2.png" 2>/dev/null >/dev/null || fail zerofill
"$PY" - "$T/k1" "$T/k2" <<'EOF' || fail "cropped coil images are not the centre of the full ones"
import cmath, math, struct, sys
def rd(b):
    d = open(b + '.cfl', 'rb').read(); v = struct.unpack('%df' % (len(d) // 4), d)
    return [complex(v[2 * i], v[2 * i + 1]) for i in range(len(v) // 2)]
def idft_rows(k, W, rows):   # centred unitary inverse DFT along x of each row
    out = []
    for r in range(rows):
        row = k[r * W:(r + 1) * W]
        out += [sum(row[j] * cmath.exp(2j * math.pi * (x - W // 2) * (j - W // 2) / W) for j in range(W)) / math.sqrt(W)
                for x in range(W)]
    return out
a, b = idft_rows(rd(sys.argv[1]), 32, 32 * 4), idft_rows(rd(sys.argv[2]), 64, 32 * 4)
num = den = 0.0
for r in range(32 * 4):
    for x in range(32):
        u, v = abs(a[r * 32 + x]), abs(b[r * 64 + x + 16]); num += (u - v) ** 2; den += v * v
e = (num / den) ** 0.5
print('crop nrmse %.3g' % e); sys.exit(0 if e < 1e-5 else 1)
EOF
ok "the readout crop is the centre of the image"

# padded lines (outside the encoding limits) are never sampled; R counts
# acquired lines (35 of 40: lines 4..38)
out=$("$MRGAN" zerofill --accel 4 --center 4 --slice 0 --mask-out "$T/m" "$T/pad.h5" "$T/p.png" 2>/dev/null) || fail "zerofill pad"
echo "$out" | grep -q "of 35.0 acquired (net R = 3.889)" || fail "net R over acquired lines: $out"
bits=$(mask_bits "$T/m")
[ "${bits:0:4}" = 0000 ] && [ "${bits:39:1}" = 0 ] || fail "mask samples padding: $bits"
[ "${bits:18:4}" = 1111 ] || fail "centre lines not at the k-space centre: $bits"
ok "padding never sampled, R over acquired lines: $bits"

# fastMRI test files: undersampled with a boolean (enum) mask, no reference
out=$("$MRGAN" zerofill "$T/test.h5" "$T/t.png" 2>&1) || fail "zerofill test file: $out"
[ -s "$T/t_000.png" ] || fail "no image from the test file"
"$MRGAN" zerofill -q "$T/test.h5" "$T/sub_test.h5" >/dev/null 2>&1 || fail "zerofill to .h5"
"$MRGAN" zerofill -q --accel 4 --center 4 "$T/pad.h5" "$T/sub_pad.h5" >/dev/null 2>&1 || fail "zerofill to .h5"
if "$PY" -c "import h5py" 2>/dev/null; then
    "$PY" - "$T/sub_test.h5" "$T/sub_pad.h5" <<'EOF' || fail "submission layout"
import h5py, sys
for p, shape in zip(sys.argv[1:], [(2, 32, 32), (2, 38, 38)]):
    r = h5py.File(p, 'r')['reconstruction']
    assert r.shape == shape and r.dtype == 'float32', (p, r.shape, r.dtype)
EOF
fi
ok "a fastMRI test file (boolean mask) reconstructs, in fastMRI's submission layout (reconSpace, float32)"

# eval --reference rss against an independent fastMRI evaluate.py (numpy,
# skimage, h5py): the file's reconstruction_rss (oversampled, padded), and
# the RSS of the coil images of a cfl input
if "$PY" -c "import h5py, numpy, skimage" 2>/dev/null; then
    for f in os pad; do
        "$MRGAN" eval -q --accel 4 --center 4 --reference rss --methods zero-filled,cs-wavelet "$T/$f.h5" "$T/ev_$f" \
            >/dev/null 2>&1 || fail "eval --reference rss $f"
        grep -q "reference: the file's reconstruction_rss" "$T/ev_$f/table.md" || fail "reference not said"
        for m in zero-filled cs-wavelet; do
            "$PY" "$(dirname "$0")/fastmri_eval.py" "$T" "$T/ev_$f/fastmri/$m" "$T/ev_$f/table.csv" $m ||
                fail "eval --reference rss ($f, $m) differs from evaluate.py"
        done
    done
    grep -q "compared at 38x38" "$T/ev_pad/table.md" || fail "padded file: compared size"
    "$MRGAN" zerofill -q --slice 1 --ksp-out "$T/kc" "$T/pad.h5" "$T/kc.png" >/dev/null 2>&1 || fail "ksp-out"
    "$MRGAN" eval -q --accel 4 --center 4 --reference rss --methods zero-filled "$T/kc.cfl" "$T/ev_c" >/dev/null 2>&1 ||
        fail "eval --reference rss of a cfl"
    grep -q "reference: root-sum-of-squares of the fully sampled coil images" "$T/ev_c/table.md" || fail "computed RSS"
    "$PY" "$(dirname "$0")/fastmri_eval.py" "$T" "$T/ev_c/fastmri/zero-filled" "$T/ev_c/table.csv" zero-filled "$T/kc" ||
        fail "computed RSS reference differs from evaluate.py"
    ok "eval --reference rss equals fastMRI's evaluate.py (1e-6 relative)"
else
    echo "skip: python3-h5py, python3-numpy or python3-skimage absent (evaluate.py check)"
fi
"$MRGAN" eval -q --accel 4 --center 4 --reference rss --methods zero-filled "$T/os.h5" "$T/ev_u" >/dev/null 2>&1 || fail "eval rss"
[ "$(head -1 "$T/ev_u/table.csv")" = "method,nmse,psnr_db,ssim,hfen,fid,kid,seconds_per_slice" ] || fail "table.csv header: $(head -1 "$T/ev_u/table.csv")"
[ -s "$T/ev_u/fastmri/zero-filled/os.h5" ] || fail "no submission-layout file"
check_fail "option --reference: 'magnitude' is not sense or rss" "$MRGAN" eval --reference magnitude "$T/os.h5" "$T/evx"
"$MRGAN" eval --help | grep -q -- "--ksp-out\|--sens-out\|--mask-out" && fail "eval --help lists options eval refuses"

# files mrgan writes: acquisition a string, the true field of view (h5py)
if "$PY" -c "import h5py" 2>/dev/null; then
    "$FIX" phantom "$T/head.nii.gz" || fail phantom
    "$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 32 --coils 4 --stride 4 "$T/sim" >/dev/null || fail simulate
    "$PY" - "$T/sim/test.h5" <<'EOF' || fail "attributes of a written file"
import h5py, sys, xml.etree.ElementTree as ET
f = h5py.File(sys.argv[1], 'r')
a = f.attrs['acquisition']
assert isinstance(a, str), type(a)
x = ET.fromstring(f['ismrmrd_header'][()])
ns = {'m': 'http://www.ismrm.org/ISMRMRD'}
fov = float(x.find('m:encoding/m:encodedSpace/m:fieldOfView_mm/m:x', ns).text)
assert abs(fov - 56.0) < 1e-3, fov   # the phantom's 56 voxels of 1 mm, padded square
print('acquisition', a, 'fov', fov)
EOF
    ok "acquisition is a string, fieldOfView_mm the simulated field (h5py)"
else
    echo "skip: python3-h5py absent (attribute checks)"
fi

# a tree as fastMRI's: three shapes (64x32 oversampled, 76x40 padded, 32x32),
# 4 to 20 coils, read slice by slice
mkdir -p "$T/tree/multicoil_train" "$T/tree/multicoil_val"
"$MK" "$T/tree/multicoil_train/a.h5" os 3 4 64 32 1 && "$MK" "$T/tree/multicoil_train/b.h5" pad 3 6 76 40 2 &&
"$MK" "$T/tree/multicoil_train/c.h5" plain 3 20 32 32 3 && "$MK" "$T/tree/multicoil_train/d.h5" os 2 4 64 32 4 &&
"$MK" "$T/tree/multicoil_val/v1.h5" os 2 4 64 32 11 && "$MK" "$T/tree/multicoil_val/v2.h5" pad 2 6 76 40 12 || fail trees
ARCH="--blocks 2 --growth 1 --kernels 4 --center 4 --batch 2 --epochs 2"
"$MRGAN" train $ARCH --data "$T/tree" "$T/r1" 2>"$T/log" || fail "train on the tree: $(cat "$T/log")"
grep -q "train: 11 slices in 4 files, 3 shapes (32x32 4 coils: 5, 40x38 6 coils: 3, 32x32 20 coils: 3); readout oversampling removed in 3 files; val: 4 slices in 2 files, 2 shapes" "$T/log" ||
    fail "data set description: $(head -1 "$T/log")"
grep -q "4 steps per epoch" "$T/log" || fail "steps per epoch (2 + 1 + 1 full batches of one shape)"
[ "$(grep -c '^epoch,' "$T/r1/metrics.csv")" = 2 ] || fail "two epochs"
ok "train on a fastMRI tree of 3 shapes and 4..20 coils"

# interrupted and resumed (prefetch thread, no cache): the same weights
"$MRGAN" train -q $ARCH --data "$T/tree" --max-steps 3 "$T/r2" || fail "train part"
MRGAN_PREFETCH=1 "$MRGAN" train -q $ARCH --data "$T/tree" --cache-mb 0 --resume "$T/r2" || fail "resume"
d=$("$FIX" ckptdiff "$T/r1/last.safetensors" "$T/r2/last.safetensors" '*') || fail ckptdiff
[ "${d%% *}" = "0.000e+00" ] || fail "resumed run differs: $d"
ok "resume over mixed shapes is exact ($d)"

# GAN modes on mixed sizes: the critic sees every image zero-padded to the
# largest (40x38 -> 48x48), and resuming stays exact
G="--mode cwgan-agb --critic-ch 4"
"$MRGAN" train -q $ARCH $G --data "$T/tree" "$T/g1" || fail "cwgan-agb on the tree"
"$MRGAN" train -q $ARCH $G --data "$T/tree" --max-steps 3 "$T/g2" && "$MRGAN" train -q $ARCH $G --data "$T/tree" --resume "$T/g2" ||
    fail "cwgan-agb, interrupted and resumed"
d=$("$FIX" ckptdiff "$T/g1/last.safetensors" "$T/g2/last.safetensors" '*') || fail ckptdiff
[ "${d%% *}" = "0.000e+00" ] || fail "resumed GAN run differs: $d"
ok "cwgan-agb over mixed sizes (critic on the padded 48x48), resume exact ($d)"
check_fail "the train split has 5 slices of its most common shape, fewer than the batch size 6" "$MRGAN" train $ARCH --batch 6 --data "$T/tree" "$T/r3"
[ -e "$T/r3" ] && fail "a refused start left its run directory behind"
mkdir -p "$T/t2/multicoil_train" "$T/t2/multicoil_val"
cp "$T/test.h5" "$T/t2/multicoil_train/" && cp "$T/os.h5" "$T/t2/multicoil_val/"
check_fail "test.h5: undersampled (its 'mask' keeps" "$MRGAN" train $ARCH --data "$T/t2" "$T/r4"
mkdir -p "$T/t3/multicoil_train" "$T/t4/multicoil_train"
cp "$T/os.h5" "$T/t3/multicoil_train/"
check_fail "t4/multicoil_train: holds no .h5 files" "$MRGAN" train $ARCH --data "$T/t4" "$T/r5"
check_fail "no val split: expected val.h5, val.txt (a list of files), multicoil_val/ or val/" "$MRGAN" train $ARCH --data "$T/t3" "$T/r5"
# an explicit list
printf '# training files\nmulticoil_train/a.h5\n%s\n' "$T/tree/multicoil_train/d.h5" > "$T/tree/train.txt"
"$MRGAN" train $ARCH --data "$T/tree" "$T/r6" 2>"$T/log" || fail "train from a list: $(cat "$T/log")"
grep -q "train: 5 slices in 2 files, 1 shape" "$T/log" || fail "list: $(head -1 "$T/log")"
ok "a list of files as the train split"

# every command takes -q
for c in simulate mask zerofill sens convert train average cs arc compare recon eval fid bench demo report; do
    "$MRGAN" $c --help | grep -q -- "-q, --quiet" || fail "$c --help lists no -q"
done
ok "-q on every command"
echo "$n passed, 0 failed"

#!/usr/bin/env bash
# --gpu from the command line (docs/gpu.md). With a CUDA device: recon and
# eval on the GPU reconstruct as the CPU does, training steps on the GPU give
# the CPU's losses step for step (mse and cwgan-agb, strict FP32; also on
# mixed shapes with --loss nmse and --grad-clip), and a GPU run resumes on
# the CPU. Without one: --gpu fails with one line naming the
# problem and writes nothing; the GPU comparisons then do not run (SKIP).
source "$(dirname "$0")/lib.sh"

make_data
ARCH="--blocks 2 --growth 1 --kernels 4 --center 8"
R="--accel 4 --center 8"
"$MRGAN" train -q --data "$T/d" $ARCH --epochs 1 --max-steps 3 "$T/cpu" || fail "cpu train"

if ! "$MRGAN" recon -q --gpu --model "$T/cpu/last.safetensors" $R "$T/d/test.h5" "$T/g.cfl" > /dev/null 2> "$T/probe"; then
    why=$(cat "$T/probe")
    echo "$why" | grep -Eq "no usable CUDA device|built without the GPU backend" || fail "unexpected --gpu failure: $why"
    [ "$(wc -l < "$T/probe")" = 1 ] || fail "--gpu error is not one line: $why"
    [ ! -e "$T/g.cfl" ] && [ ! -e "$T/g.hdr" ] || fail "a failed recon --gpu left output"
    ok "recon --gpu: $why"
    check_fail "GPU" "$MRGAN" train -q --gpu --data "$T/d" $ARCH --epochs 1 "$T/grun"
    [ ! -e "$T/grun" ] || fail "a failed train --gpu created its run directory"
    check_fail "GPU" "$MRGAN" eval -q --gpu --methods none --model "$T/cpu/last.safetensors" $R "$T/d/test.h5" "$T/ev"
    check_fail "GPU" "$MRGAN" bench --gpu --config small --reps 1
    check_fail "not a device number" "$MRGAN" recon --gpu=x --model "$T/cpu/last.safetensors" "$T/d/test.h5" "$T/g.cfl"
    echo "$n passed; the GPU comparisons did not run (no CUDA device here)"
    exit 77
fi

# recon: GPU vs CPU reconstruction of the same checkpoint
"$MRGAN" recon -q --model "$T/cpu/last.safetensors" $R "$T/d/test.h5" "$T/c.cfl" > /dev/null || fail "cpu recon"
nrmse=$("$MRGAN" compare "$T/c.cfl" "$T/g.cfl" | sed -nE 's/.*NRMSE ([0-9.eE+-]+).*/\1/p')
[ -n "$nrmse" ] || fail "compare printed no NRMSE"
awk -v e="$nrmse" 'BEGIN { exit !(e < 1e-2) }' || fail "recon --gpu differs from the CPU: NRMSE $nrmse"
ok "recon --gpu matches the CPU (NRMSE $nrmse, TF32)"

"$MRGAN" eval -q --gpu --methods none --model "$T/cpu/last.safetensors" $R "$T/d/test.h5" "$T/ev" > /dev/null || fail "eval --gpu"
[ -s "$T/ev/table.csv" ] || fail "eval --gpu wrote no table"
ok "eval --gpu"

# training: per-step losses of the GPU run against the CPU run (same seed)
steps_close() { # A B TOL: the loss columns of two metrics.csv files agree
    paste -d, <(grep '^step,' "$1" | cut -d, -f4) <(grep '^step,' "$2" | cut -d, -f4) |
        awk -F, -v tol="$3" '{ d = $1 - $2; if (d < 0) d = -d; s = ($1 < 0 ? -$1 : $1) + 1e-12;
                                 if (d / s > tol) { print "step " NR ": " $1 " vs " $2; bad = 1 } n++ }
                             END { exit bad || n == 0 }'
}
for mode in mse cwgan-agb; do
    M="--mode $mode --critic-ch 4"
    "$MRGAN" train -q --data "$T/d" $ARCH $M --epochs 1 --max-steps 4 "$T/c_$mode" || fail "cpu train $mode"
    MRGAN_GPU_FP32=1 "$MRGAN" train -q --gpu --data "$T/d" $ARCH $M --epochs 1 --max-steps 4 "$T/g_$mode" ||
        fail "gpu train $mode"
    steps_close "$T/c_$mode/metrics.csv" "$T/g_$mode/metrics.csv" 1e-3 || fail "train --gpu $mode: losses differ"
    ok "train --gpu $mode: the CPU's losses, step for step"
done

# mixed shapes and coil counts (40x38 is no multiple of 16: the critic sees
# every image padded to 48x48), the per-image NMSE loss and gradient-norm
# clipping (at a norm every step exceeds): the CPU's losses step for step,
# and the same clipped steps
MK=$(dirname "$FIX")/mkfastmri
mkdir -p "$T/tree/multicoil_train" "$T/tree/multicoil_val"
"$MK" "$T/tree/multicoil_train/a.h5" os 3 4 64 32 1 && "$MK" "$T/tree/multicoil_train/b.h5" pad 3 6 76 40 2 &&
"$MK" "$T/tree/multicoil_train/c.h5" plain 3 20 32 32 3 && "$MK" "$T/tree/multicoil_val/v1.h5" pad 2 6 76 40 11 ||
    fail "fastMRI tree"
for mode in mse cwgan-agb; do
    M="--mode $mode --critic-ch 4 --loss nmse --grad-clip 1e-6 --blocks 2 --growth 1 --kernels 4 --center 4 --epochs 1"
    "$MRGAN" train --data "$T/tree" $M "$T/cm_$mode" 2> "$T/cm.log" || fail "cpu train $mode, mixed shapes"
    MRGAN_GPU_FP32=1 "$MRGAN" train --gpu --data "$T/tree" $M "$T/gm_$mode" 2> "$T/gm.log" ||
        fail "gpu train $mode, mixed shapes: $(tail -1 "$T/gm.log")"
    steps_close "$T/cm_$mode/metrics.csv" "$T/gm_$mode/metrics.csv" 1e-3 || fail "train --gpu $mode, mixed shapes: losses differ"
    c=$(grep -o '[0-9]* steps clipped' "$T/cm.log") && g=$(grep -o '[0-9]* steps clipped' "$T/gm.log") ||
        fail "no count of clipped steps"
    [ "$c" = "$g" ] && [ "${c%% *}" -gt 0 ] || fail "clipped steps: CPU '$c', GPU '$g'"
    ok "train --gpu $mode on 3 shapes, --loss nmse, --grad-clip: the CPU's losses step for step ($g)"
done

# a GPU run continues on the CPU
"$MRGAN" train -q --data "$T/d" --resume --max-steps 6 "$T/g_mse" || fail "resume a GPU run on the CPU"
[ "$(grep -c '^step,' "$T/g_mse/metrics.csv")" = 6 ] || fail "resume did not continue the step count"
ok "a --gpu run resumes on the CPU"
echo "$n passed"

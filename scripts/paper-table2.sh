#!/usr/bin/env bash
# The paper's Table 2 (MSE vs WGAN vs cWGAN vs cWGAN-AGB) and Fig. 9 (beta
# per epoch) with one command (docs/gan.md "Table 2"):
#
#   scripts/paper-table2.sh MRGAN DATA OUT [INIT]
#
# 1. INIT: an MSE-trained DCI-Net the four runs start from (a checkpoint or a
#    run directory). Without it, OUT/mse-init is trained first by MSE for
#    MSE_EPOCHS epochs (the paper trains every model from scratch for 600
#    epochs; on 2 CPU cores that is out of reach, so the GAN modes fine-tune).
# 2. OUT/mse, OUT/wgan, OUT/cwgan, OUT/cwgan-agb: EPOCHS more epochs each from
#    INIT (the mse row continues by MSE for the same budget, so the rows
#    compare like with like), with `mrgan train`'s defaults for the GAN
#    (PatchGAN 64, 1 critic step, clipping 0.01, Adam 5e-4, lambda 100,
#    AGB beta 10, ratio 10) and the paper's B.3 model
#    selection (validation NMSE, plus FID with FID_WEIGHTS). An interrupted
#    script continues where it stopped: each run is resumed (`--resume` is
#    exact), a finished one is kept.
# 3. OUT/eval/FILE: `mrgan eval --methods none` of the four selected models on
#    the test split (DATA/test.h5, or every DATA/test/*.h5; the first
#    EVAL_SLICES slices of each when set), R = 4, 1D variable density, 12
#    centre lines, fixed masks.
# 4. OUT/table2.md: NMSE x1e3, PSNR, SSIM, HFEN (and FID, KID with
#    FID_WEIGHTS), means over the test files; the selected epochs; beta per
#    epoch of the cwgan-agb run. OUT/report/: `mrgan report` of the
#    cwgan-agb run with fig9_beta.png (Fig. 9) and fig3 curves.
#
# Environment: EPOCHS (default 30), MSE_EPOCHS (default 150), NET (the
# generator's options, default "--blocks 5 --growth 5 --kernels 16", the
# demo's; the paper's is --paper), SEED (1), FID_WEIGHTS (Inception-v3
# weights, docs/metrics.md), EVAL_SLICES, TRAIN_OPTS (more `mrgan train`
# options for every run, e.g. --precision bf16), EVAL_OPTS (more `mrgan
# eval` options, e.g. --center 8 for tiny test images). The networks are
# evaluated plain (`--flips 1`), as in the paper; EVAL_OPTS="--flips 4" adds
# `eval`'s default flip averaging.
set -euo pipefail
[ $# -ge 3 ] && [ $# -le 4 ] || { echo "usage: $0 MRGAN DATA OUT [INIT]" >&2; exit 2; }
M=$1 D=$2 O=$3 INIT=${4:-}
EPOCHS=${EPOCHS:-30} MSE_EPOCHS=${MSE_EPOCHS:-150} SEED=${SEED:-1}
read -r -a net <<<"${NET:---blocks 5 --growth 5 --kernels 16}"
read -r -a extra <<<"${TRAIN_OPTS:-}"
fid=(); [ -n "${FID_WEIGHTS:-}" ] && fid=(--fid-weights "$FID_WEIGHTS")
lim=(); [ -n "${EVAL_SLICES:-}" ] && lim=(--slices "$EVAL_SLICES")
read -r -a evopts <<<"${EVAL_OPTS:-}"
[ -x "$M" ] || { echo "$0: $M: not an executable" >&2; exit 2; }
[ -d "$D" ] || { echo "$0: $D: no such data set directory" >&2; exit 2; }
if [ -f "$D/test.h5" ]; then tests=("$D/test.h5"); else tests=("$D"/test/*.h5); fi
[ -f "${tests[0]}" ] || { echo "$0: $D: no test split (test.h5 or test/*.h5)" >&2; exit 2; }
mkdir -p "$O"
say() { echo "table2: $*" >&2; }

# train RUN [options]: a new run, or the rest of an interrupted one; the
# log's last line names the selected epoch
train() {
    local run=$1; shift
    if [ -f "$run/config.json" ]; then
        if grep -q '^train: done' "$run.log" 2>/dev/null; then say "$run: done before, kept"; return; fi
        say "$run: resuming"
        "$M" train --resume --data "$D" "$run" 2>&1 | tee -a "$run.log" >&2
    else
        say "$run: training"
        "$M" train --data "$D" "$@" "$run" 2>&1 | tee "$run.log" >&2
    fi
    grep -q '^train: done' "$run.log" || { echo "$0: $run: training did not finish (see $run.log)" >&2; exit 1; }
}

if [ -z "$INIT" ]; then
    train "$O/mse-init" "${net[@]}" --epochs "$MSE_EPOCHS" --seed "$SEED" ${extra[@]+"${extra[@]}"}
    INIT=$O/mse-init/best.safetensors
fi
[ -d "$INIT" ] && INIT=$INIT/best.safetensors
[ -f "$INIT" ] || { echo "$0: $INIT: no such checkpoint" >&2; exit 2; }

modes=(mse wgan cwgan cwgan-agb)
for m in cwgan-agb cwgan wgan mse; do # the proposed model first: a budget cut short still has it
    train "$O/$m" --mode "$m" "${net[@]}" --init "$INIT" --epochs "$EPOCHS" --seed "$SEED" \
        ${fid[@]+"${fid[@]}"} ${extra[@]+"${extra[@]}"}
done

mkdir -p "$O/eval"
models=(); for m in "${modes[@]}"; do models+=(--model "$m=$O/$m/best.safetensors"); done
for f in "${tests[@]}"; do
    e=$O/eval/$(basename "$f" .h5)
    if [ -s "$e/table.csv" ]; then continue; fi
    say "eval $f"
    "$M" eval -q --methods none --flips 1 ${lim[@]+"${lim[@]}"} ${evopts[@]+"${evopts[@]}"} ${fid[@]+"${fid[@]}"} "${models[@]}" "$f" "$e" >/dev/null
done

first=$O/eval/$(basename "${tests[0]}" .h5)
"$M" report -q --eval "$first" --out "$O/report" "$O/cwgan-agb"

msep=; [ -n "${4:-}" ] || msep=" MSE_EPOCHS=$MSE_EPOCHS"
{
    echo "# Table 2 (paper Sec. 4): DCI-Net by MSE vs WGAN, cWGAN, cWGAN-AGB"
    echo
    echo "Data: $D, test split: ${#tests[@]} file(s)${EVAL_SLICES:+ (first $EVAL_SLICES slices each)};"
    echo "R = 4, 1D variable density, 12 centre lines; means over the test files."
    echo "Start: $INIT; each row $EPOCHS more epochs; generator: ${net[*]}; seed $SEED."
    echo "Command: EPOCHS=$EPOCHS$msep NET=\"${net[*]}\"${FID_WEIGHTS:+ FID_WEIGHTS=$FID_WEIGHTS}${TRAIN_OPTS:+ TRAIN_OPTS=\"$TRAIN_OPTS\"}${EVAL_SLICES:+ EVAL_SLICES=$EVAL_SLICES}${EVAL_OPTS:+ EVAL_OPTS=\"$EVAL_OPTS\"} scripts/paper-table2.sh $M $D $O${4:+ $4}"
    echo
    awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
             { m = $1; if (!(m in o)) o[m] = ++k; n[m]++
               s[m] += $c["nmse"]; p[m] += $c["psnr_db"]; q[m] += $c["ssim"]; h[m] += $c["hfen"]
               if ("fid" in c && $c["fid"] != "") { f[m] += $c["fid"]; kk[m] += $c["kid"]; nf[m]++ } }
             END { printf "| model | NMSE x1e3 | PSNR dB | SSIM | HFEN | FID | KID x1e3 |\n|---|---|---|---|---|---|---|\n"
                   for (m in o) r[o[m]] = m
                   for (i = 1; i <= k; i++) { m = r[i]
                       printf "| %s | %.3f | %.2f | %.4f | %.4f | %s | %s |\n", m, 1e3 * s[m] / n[m], p[m] / n[m],
                              q[m] / n[m], h[m] / n[m], nf[m] ? sprintf("%.2f", f[m] / nf[m]) : "-",
                              nf[m] ? sprintf("%.3f", 1e3 * kk[m] / nf[m]) : "-" } }' "$O"/eval/*/table.csv
    echo
    echo "Selected epochs (B.3):"
    for m in "${modes[@]}"; do echo "- $m: $(grep '^train: done' "$O/$m.log" | tail -1 | sed 's/^train: done, //; s/ ->.*//')"; done
    echo
    echo "beta per epoch of cwgan-agb (Fig. 9: $O/report/fig9_beta.png):"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
             $1 == "epoch" { printf "%s%.4g", sep, $c["beta"]; sep = " " } END { print "" }' "$O/cwgan-agb/metrics.csv"
} >"$O/table2.md.tmp"
mv "$O/table2.md.tmp" "$O/table2.md"
cat "$O/table2.md"

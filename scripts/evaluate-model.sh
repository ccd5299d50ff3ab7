#!/usr/bin/env bash
# The shipped models' numbers (models/README.md): models against zero
# filling, CS-wavelet and CS-TV at R = 4 (1D variable density, 12 centre
# lines) on
#   1. a real multi-coil scan (evaluation only, never training or selection):
#      `--reference rss` (REFERENCE=sense: eval's default, the SENSE-combined
#      fully sampled image), Walsh maps from the centre lines, mask seeds 1-10;
#      mean and worst NMSE per method, mean SSIM and HFEN;
#   2. the held-out subjects of a scanner-like data set (DATA/test/*.h5):
#      every file (its first EVAL_SLICES slices when set), metrics averaged
#      over files (fastMRI's mean over volumes).
# Usage: scripts/evaluate-model.sh MRGAN OUT REALSCAN DATA [NAME=CKPT ...]
# MODEL_OPTS: further eval options for the models' runs (e.g. '--flips 1',
# the plain network without eval's default flip averaging).
# The baselines and the models are separate eval runs (OUT/real_seedS/base
# and models, OUT/test/FILE/base and models), each skipped when its table
# exists, so baselines are computed once for any number of models. Prints
# and writes OUT/summary.md (NMSE x1e3).
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 MRGAN OUT REALSCAN DATA [NAME=CKPT ...]" >&2; exit 2; }
M=$1 O=$2 R=$3 D=$4; shift 4
REF=${REFERENCE:-rss}
case $REF in rss|sense) ;; *) echo "$0: REFERENCE=$REF is not rss or sense" >&2; exit 2;; esac
models=(); for m in "$@"; do models+=(--model "$m"); done
# shellcheck disable=SC2206
[ -n "${MODEL_OPTS:-}" ] && models+=($MODEL_OPTS)
lim=(); [ -n "${EVAL_SLICES:-}" ] && lim=(--slices "$EVAL_SLICES")
# one eval run unless its table exists: DIR INPUT OPTIONS...
run() {
    local dir=$1 in=$2; shift 2
    [ -s "$dir/table.csv" ] || "$M" eval -q "$@" "$in" "$dir" >/dev/null
}
mkdir -p "$O/test"
for s in 1 2 3 4 5 6 7 8 9 10; do
    mkdir -p "$O/real_seed$s"
    run "$O/real_seed$s/base" "$R" --reference "$REF" --seed "$s" --methods zero-filled,cs-wavelet,cs-tv
    [ $# -eq 0 ] || run "$O/real_seed$s/models" "$R" --reference "$REF" --seed "$s" --methods none "${models[@]}"
done
for f in "$D"/test/*.h5; do
    b=$(basename "$f" .h5)
    mkdir -p "$O/test/$b"
    run "$O/test/$b/base" "$f" ${lim[@]+"${lim[@]}"} --methods zero-filled,cs-wavelet,cs-tv
    [ $# -eq 0 ] || run "$O/test/$b/models" "$f" ${lim[@]+"${lim[@]}"} --methods none "${models[@]}"
done
# per method: mean and worst NMSE, mean SSIM and HFEN over the tables given
summarise() {
    awk -F, 'FNR == 1 { next } { n[$1]++; s[$1] += $2; if ($2 > w[$1]) w[$1] = $2; ss[$1] += $4; h[$1] += $5
                                 if (!($1 in o)) o[$1] = ++k }
             END { for (m in o) r[o[m]] = m
                   printf "| method | NMSE x1e3 mean | worst | SSIM | HFEN |\n|---|---|---|---|---|\n"
                   for (i = 1; i <= k; i++) { m = r[i]
                       printf "| %s | %.3f | %.3f | %.4f | %.4f |\n", m, 1e3 * s[m] / n[m], 1e3 * w[m], ss[m] / n[m], h[m] / n[m] } }' "$@"
}
{
    echo "## Real scan $R, mask seeds 1-10 (--reference $REF)"
    echo; summarise "$O"/real_seed*/*/table.csv; echo
    echo "## Held-out subjects: $(ls "$D"/test/*.h5 | wc -l) files of $D/test${EVAL_SLICES:+ (first $EVAL_SLICES slices each)} (mean over files)"
    echo; summarise "$O"/test/*/*/table.csv
} | tee "$O/summary.md"

#!/usr/bin/env bash
# mrgan (fp32 and --precision bf16) against its PyTorch peer (bench/peer/peer.py), back to back on this
# machine: inference, the MSE step and the cWGAN-AGB step of a config, the
# peer in float32 and with bf16 autocast, each measurement in its own
# process; prints seconds, peak memory and the ratios peer / mrgan (above 1:
# mrgan is faster). Speed is measured here, never asserted by tests.
#
#   bash bench/peer/compare.sh [build/mrgan] [paper|small] [reps] [rounds]
#
# rounds (default 1): mrgan's and the peer's measurements alternate that many
# times and the table gives each cell's median, so that a slow phase of a
# shared or virtual machine does not land on one side only (each round's
# figures are printed too). First checks that the peer's MSE step is mrgan's
# (peer.py --check-step with build/peerstep). Needs python3-torch
# (scripts/install-deps.sh bench).
set -euo pipefail
MRGAN=${1:-build/mrgan} CONFIG=${2:-paper} REPS=${3:-3} ROUNDS=${4:-1}
case "$ROUNDS" in '' | *[!0-9]* | 0) echo "compare: rounds must be a positive integer, not '$ROUNDS'" >&2; exit 1 ;; esac
PEER="$(dirname "$0")/peer.py"
PY=/usr/bin/python3
"$PY" -c "import torch" 2>/dev/null || { echo "compare: python3-torch is missing (scripts/install-deps.sh bench)" >&2; exit 1; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1); $(nproc) cores; $(date -u +%Y-%m-%d)"
# the same work: the peer's MSE step on its weights and sample against mrgan's
# (tests/peerstep.c, built next to mrgan): forward, loss, gradients, update
PEERSTEP="$(dirname "$MRGAN")/peerstep"
if [ -x "$PEERSTEP" ]; then
    if ! "$PY" "$PEER" --check-step "$PEERSTEP" --config "$CONFIG" | sed 's/^/  | /'; then
        echo "compare: the peer's step differs from mrgan's: the timings would not compare the same work" >&2
        exit 1
    fi
else
    echo "compare: $PEERSTEP is missing: the peer's step is not checked against mrgan's"
fi
# one round: mrgan in fp32 and with --precision bf16 (a note and fp32 where
# the CPU has no bf16), then the peer; cells append "value " to MT, MP, T, M
declare -A MT MP T M
round() {
    local prec out w pat line what
    for prec in fp32 bf16; do
        echo "mrgan: $MRGAN bench --config $CONFIG --reps $REPS --precision $prec"
        out=$(OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "$MRGAN" bench --config "$CONFIG" --reps "$REPS" --precision $prec 2>&1)
        echo "$out" | sed 's/^/  | /'
        MT[inference,$prec]+="$(echo "$out" | awk '/^  inference/ {print $2}') "
        MT[mse,$prec]+="$(echo "$out" | awk '/^  mse/ {print $3}') "
        MT[agb,$prec]+="$(echo "$out" | awk '/^  cwgan-agb/ {print $3}') "
        for w in inference mse agb; do
            pat=$w; [ $w = agb ] && pat=cwgan-agb
            MP[$w,$prec]+="$(echo "$out" | awk -v p="^  $pat" '$0 ~ p {for (i = 1; i < NF; i++) if ($i == "peak" && $(i + 2) == "MB") print $(i + 1)}') "
        done
    done
    for what in inference mse agb; do
        for prec in fp32 bf16; do
            line=$("$PY" "$PEER" --what $what --config "$CONFIG" --precision $prec --reps "$REPS")
            echo "peer: $line"
            T[$what,$prec]+="$(echo "$line" | awk '{print $4}') "
            M[$what,$prec]+="$(echo "$line" | awk '{print $5}') "
        done
    done
}
for r in $(seq "$ROUNDS"); do
    echo "== round $r of $ROUNDS"
    round
done
# the median of a cell's values (the lower middle one for an even count)
med() { echo "$1" | tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for k in "${!MT[@]}"; do MT[$k]=$(med "${MT[$k]}"); done
for k in "${!MP[@]}"; do MP[$k]=$(med "${MP[$k]}"); done
for k in "${!T[@]}"; do T[$k]=$(med "${T[$k]}"); done
for k in "${!M[@]}"; do M[$k]=$(med "${M[$k]}"); done
[ "$ROUNDS" -gt 1 ] && printf '\nmedians of %s rounds\n' "$ROUNDS"
printf '\n%-16s %10s %10s %10s %10s %13s %13s\n' "" "mrgan fp32" "mrgan bf16" "torch fp32" "torch bf16" "fp32: torch/" "bf16: torch/"
row() {
    awk -v n="$1" -v m="$2" -v mb="$3" -v a="$4" -v b="$5" \
        'BEGIN { printf "%-16s %10.3f %10.3f %10.3f %10.3f %12.2fx %12.2fx\n", n, m, mb, a, b, a / m, b / mb }'
}
row inference "${MT[inference,fp32]}" "${MT[inference,bf16]}" "${T[inference,fp32]}" "${T[inference,bf16]}"
row "MSE step" "${MT[mse,fp32]}" "${MT[mse,bf16]}" "${T[mse,fp32]}" "${T[mse,bf16]}"
row "cWGAN-AGB step" "${MT[agb,fp32]}" "${MT[agb,bf16]}" "${T[agb,fp32]}" "${T[agb,bf16]}"
printf '\npeak MB (mrgan: the measurement; torch: the whole process): mrgan fp32, bf16; torch fp32, bf16\n'
for w in inference mse agb; do
    printf '%-16s %10s %10s %10s %10s\n' "$w" "${MP[$w,fp32]}" "${MP[$w,bf16]}" "${M[$w,fp32]}" "${M[$w,bf16]}"
done

#!/usr/bin/env bash
# mrgan against its PyTorch peer (bench/peer/peer.py), back to back on this
# machine: inference, the MSE step and the cWGAN-AGB step of a config, the
# peer in float32 and with bf16 autocast, each measurement in its own
# process; prints seconds, peak memory and the ratios peer / mrgan (above 1:
# mrgan is faster). Speed is measured here, never asserted by tests.
#
#   bash bench/peer/compare.sh [build/mrgan] [paper|small] [reps]
#
# Needs python3-torch (scripts/install-deps.sh bench).
set -euo pipefail
MRGAN=${1:-build/mrgan} CONFIG=${2:-paper} REPS=${3:-3}
PEER="$(dirname "$0")/peer.py"
PY=/usr/bin/python3
"$PY" -c "import torch" 2>/dev/null || { echo "compare: python3-torch is missing (scripts/install-deps.sh bench)" >&2; exit 1; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1); $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "mrgan: $MRGAN bench --config $CONFIG --reps $REPS"
out=$(OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "$MRGAN" bench --config "$CONFIG" --reps "$REPS")
echo "$out" | sed 's/^/  | /'
m_inf=$(echo "$out" | awk '/^  inference/ {print $2}')
m_mse=$(echo "$out" | awk '/^  mse/ {print $3}')
m_agb=$(echo "$out" | awk '/^  cwgan-agb/ {print $3}')
p_inf=$(echo "$out" | awk '/^  inference/ {for (i = 1; i < NF; i++) if ($i == "peak") print $(i + 1)}')
p_mse=$(echo "$out" | awk '/^  mse/ {for (i = 1; i < NF; i++) if ($i == "peak") print $(i + 1)}')
p_agb=$(echo "$out" | awk '/^  cwgan-agb/ {for (i = 1; i < NF; i++) if ($i == "peak") print $(i + 1)}')
declare -A T M
for what in inference mse agb; do
    for prec in fp32 bf16; do
        line=$("$PY" "$PEER" --what $what --config "$CONFIG" --precision $prec --reps "$REPS")
        T[$what,$prec]=$(echo "$line" | awk '{print $4}')
        M[$what,$prec]=$(echo "$line" | awk '{print $5}')
    done
done
printf '\n%-16s %10s %10s %10s %16s %16s\n' "" "mrgan s" "torch fp32" "torch bf16" "fp32/mrgan" "bf16/mrgan"
row() {
    awk -v n="$1" -v m="$2" -v a="$3" -v b="$4" 'BEGIN { printf "%-16s %10.3f %10.3f %10.3f %15.2fx %15.2fx\n", n, m, a, b, a / m, b / m }'
}
row inference "$m_inf" "${T[inference,fp32]}" "${T[inference,bf16]}"
row "MSE step" "$m_mse" "${T[mse,fp32]}" "${T[mse,bf16]}"
row "cWGAN-AGB step" "$m_agb" "${T[agb,fp32]}" "${T[agb,bf16]}"
printf '\npeak MB (mrgan: the measurement; torch: the whole process)\n'
printf '%-16s %10s %10s %10s\n' "inference" "$p_inf" "${M[inference,fp32]}" "${M[inference,bf16]}"
printf '%-16s %10s %10s %10s\n' "MSE step" "$p_mse" "${M[mse,fp32]}" "${M[mse,bf16]}"
printf '%-16s %10s %10s %10s\n' "cWGAN-AGB step" "$p_agb" "${M[agb,fp32]}" "${M[agb,bf16]}"

#!/usr/bin/env bash
# The all-reduce share of a data-parallel training step (issue 7, docs/mpi.md):
#   bash bench/mpi_share.sh [P] [MODE] [BUILD]     (default 2 ranks, mse, build/)
# Simulates a few 256x256 8-coil slices, then runs P ranks of
# `mrgan train --paper --batch P` for 4 steps with OMP_NUM_THREADS=1 per rank
# and prints trainer's line: seconds per step and the part spent in
# collectives (gradient all-reduce, batch-norm sums, loss sums; it includes
# waiting for the slowest rank). One process with the same batch for scale.
set -euo pipefail
P=${1:-2} MODE=${2:-mse} B=${3:-build}
M="$B/mrgan"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export OMPI_MCA_plm_rsh_agent=false OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
"$M" simulate -q --matrix 256 --stride 24 --orient axial "$T/d"
STEPS=4
echo "== $P ranks, paper generator 20I-5G-40K, 256x256, 8 coils, mode $MODE, batch $P, $STEPS steps"
mpirun --allow-run-as-root -np "$P" "$M" train --data "$T/d" --paper --mode "$MODE" --batch "$P" --grid 0 \
    --max-steps $STEPS "$T/run" 2>&1 | grep "MPI ranks"
echo "== 1 process, OMP_NUM_THREADS=$P, same batch"
OMP_NUM_THREADS=$P "$M" train -q --data "$T/d" --paper --mode "$MODE" --batch "$P" --grid 0 --max-steps $STEPS "$T/one"
awk -F, '$1=="step" && $3>1 { s+=$6; n++ } END { printf "1 process: %.4f s per step (steps 2..%d)\n", s/n, n+1 }' "$T/one/metrics.csv"

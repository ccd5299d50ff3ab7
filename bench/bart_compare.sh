#!/usr/bin/env bash
# Classical baselines side by side with BART (Debian package `bart`), on the
# same cfl data, masks and coil maps:
#   zero-filled, mrgan cs (wavelet, tv), bart pics -R W / -R T, mrgan arc.
# Volume NMSE (magnitudes, fastMRI) against the fully sampled SENSE combination
# with the same maps, and wall time per slice (each slice one process, for
# both tools).
#
#   bench/bart_compare.sh [DATA.h5 [NSLICES]]      default demo/data/test.h5, all slices
#   REAL=path/to/full bench/bart_compare.sh        also a BART cfl k-space (e.g. shared/data/brain_t1_8ch/full)
# Options via environment: LAMBDA (0.002), MRGAN (build/mrgan), OMP_NUM_THREADS (2).
set -euo pipefail
MRGAN=${MRGAN:-build/mrgan}
DATA=${1:-demo/data/test.h5}
LAMBDA=${LAMBDA:-0.002}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
if ! command -v bart >/dev/null; then
  echo "bart_compare: BART is not installed (apt-get install bart)" >&2; exit 1
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
now() { date +%s.%N; }

# run_set NAME KSP_SOURCE SLICES...: per slice export ku/maps/ref, run every method
run_set() {
  local name=$1 src=$2; shift 2
  local methods="zf mrgan_wav bart_W mrgan_tv bart_T mrgan_arc"
  declare -A tsum; for m in $methods; do tsum[$m]=0; done
  local list=()
  for s in "$@"; do
    local sl=(); [ "$s" != "-" ] && sl=(--slice "$s")
    "$MRGAN" zerofill -q --accel 4 "${sl[@]}" --ksp-out "$T/ku" --sens-out "$T/maps" "$src" "$T/zf_$s.cfl" >/dev/null
    "$MRGAN" zerofill -q --sens "$T/maps" "${sl[@]}" "$src" "$T/ref_$s.cfl" >/dev/null
    local t0 t1
    t0=$(now); "$MRGAN" zerofill -q --sens "$T/maps" "$T/ku" "$T/zf_$s.cfl" >/dev/null; t1=$(now); tsum[zf]=$(echo "${tsum[zf]} + $t1 - $t0" | bc)
    t0=$(now); "$MRGAN" cs -q --reg wavelet --lambda "$LAMBDA" --sens "$T/maps" "$T/ku" "$T/mrgan_wav_$s.cfl" >/dev/null; t1=$(now); tsum[mrgan_wav]=$(echo "${tsum[mrgan_wav]} + $t1 - $t0" | bc)
    t0=$(now); bart pics -S -R W:3:0:"$LAMBDA" -i 30 "$T/ku" "$T/maps" "$T/bart_W_$s" >/dev/null 2>&1; t1=$(now); tsum[bart_W]=$(echo "${tsum[bart_W]} + $t1 - $t0" | bc)
    t0=$(now); "$MRGAN" cs -q --reg tv --lambda "$LAMBDA" --sens "$T/maps" "$T/ku" "$T/mrgan_tv_$s.cfl" >/dev/null; t1=$(now); tsum[mrgan_tv]=$(echo "${tsum[mrgan_tv]} + $t1 - $t0" | bc)
    t0=$(now); bart pics -S -R T:3:0:"$LAMBDA" -i 30 "$T/ku" "$T/maps" "$T/bart_T_$s" >/dev/null 2>&1; t1=$(now); tsum[bart_T]=$(echo "${tsum[bart_T]} + $t1 - $t0" | bc)
    t0=$(now); "$MRGAN" arc -q --sens "$T/maps" "$T/ku" "$T/mrgan_arc_$s.cfl" >/dev/null; t1=$(now); tsum[mrgan_arc]=$(echo "${tsum[mrgan_arc]} + $t1 - $t0" | bc)
    list+=("$s")
  done
  local n=${#list[@]}
  printf "\n%s (%d slice(s), R = 4, lambda %s, OMP_NUM_THREADS=%s)\n" "$name" "$n" "$LAMBDA" "$OMP_NUM_THREADS"
  printf "%-22s %10s %8s %12s\n" method "NMSE" "x1e3" "s/slice"
  join_all() { local pre=$1 out=$2; local f=(); for s in "${list[@]}"; do f+=("$T/${pre}_$s"); done
    if [ "$n" -gt 1 ]; then bart join 13 "${f[@]}" "$out"; else bart copy "${f[0]}" "$out"; fi; }
  join_all ref "$T/REF"
  for m in $methods; do
    join_all "$m" "$T/ALL_$m"
    local nmse; nmse=$("$MRGAN" compare "$T/REF" "$T/ALL_$m" | awk '{print $2}')
    local label=$m
    case $m in zf) label="zero-filled";; mrgan_wav) label="mrgan cs wavelet";; bart_W) label="bart pics -R W";;
      mrgan_tv) label="mrgan cs tv";; bart_T) label="bart pics -R T";; mrgan_arc) label="mrgan arc";; esac
    printf "%-22s %10.5f %8.2f %12.3f\n" "$label" "$nmse" "$(echo "$nmse * 1000" | bc -l)" "$(echo "${tsum[$m]} / $n" | bc -l)"
  done
}

nsl=$("$MRGAN" zerofill -q --accel 4 "$DATA" "$T/probe.cfl" | sed -n 's/^zerofill: \([0-9]*\) slice.*/\1/p')
N=${2:-$nsl}
run_set "$DATA" "$DATA" $(seq 0 $((N - 1)))
if [ -n "${REAL:-}" ]; then run_set "$REAL" "$REAL" -; fi

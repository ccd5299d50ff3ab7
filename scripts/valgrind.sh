#!/usr/bin/env bash
# The whole test suite under valgrind memcheck (small configurations, as the
# tests themselves use): every unit-test binary, the fuzz regression corpus,
# and the command-line tests with `mrgan` run through valgrind.
#   bash scripts/valgrind.sh            (CPU build in build-valgrind/, with -g;
#                                        the CUDA libraries are not for memcheck)
# Fails on any memcheck error or definite leak. OpenMP/oneDNN keep per-thread
# pools that valgrind reports as "possibly lost"; those are not counted.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh valgrind
B=${BUILD:-build-valgrind}
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMRGAN_CUDA=OFF >/dev/null && cmake --build "$B" -j "${JOBS:-2}" >/dev/null || exit 1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# test_train skips its two 30-epoch learning tests and test_fid its whole
# network test (each well over 20 minutes under memcheck); their code runs in
# the shorter tests around them and in tests/cli_train.sh
export MRGAN_UNDER_VALGRIND=1
VG=(valgrind -q --num-callers=40 --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite)
# Open MPI's own false positives (uninitialised padding it sends, its pools)
SUPP=/usr/share/openmpi/openmpi-valgrind.supp
[ -r "$SUPP" ] && VG+=(--suppressions="$SUPP")
VG+=(--suppressions="$PWD/scripts/valgrind-openmpi.supp")
cat > "$B/vg-mrgan" <<WRAP
#!/usr/bin/env bash
exec ${VG[*]} "$PWD/$B/mrgan" "\$@"
WRAP
chmod +x "$B/vg-mrgan"
fails=0
run() {
  local name=$1; shift
  local t0=$(date +%s) rc=0
  "$@" > "$B/vg-$name.log" 2>&1 || rc=$?
  if [ $rc = 0 ]; then echo "valgrind: $name clean ($(( $(date +%s) - t0 )) s)"
  elif [ $rc = 77 ]; then echo "valgrind: $name skipped ($(tail -1 "$B/vg-$name.log"))"
  else echo "valgrind: $name FAILED (rc $rc), see $B/vg-$name.log"; fails=$((fails + 1)); fi
}
ONLY=${ONLY:-}  # e.g. ONLY=test_train or ONLY=cli_mpi: just that one
for t in "$B"/test_*; do
  [ -z "$ONLY" ] || [ "$(basename "$t")" = "$ONLY" ] || continue
  run "$(basename "$t")" "${VG[@]}" "$t"
done
case "$ONLY" in test_*) echo "valgrind: $fails failure(s)"; [ "$fails" = 0 ]; exit ;; esac
[ -n "$ONLY" ] || for f in cfl nifti h5 safetensors config; do run "fuzz_replay_$f" "${VG[@]}" "$B/fuzz_replay_$f" "fuzz/corpus/$f"; done
for s in tests/cli_*.sh; do
  [ -z "$ONLY" ] || [ "$(basename "$s" .sh)" = "$ONLY" ] || continue
  run "$(basename "$s" .sh)" bash "$s" "$PWD/$B/vg-mrgan" "$PWD/$B/mkfixture"
done
echo "valgrind: $fails failure(s)"
[ "$fails" = 0 ]

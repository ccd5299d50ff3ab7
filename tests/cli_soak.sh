#!/usr/bin/env bash
# Soak test (docs/reliability.md): random valid and invalid option sets and
# small hostile inputs for every command, for SOAK_SECONDS (default 40) or
# SOAK_RUNS invocations, whichever ends first. Each invocation must
#   - end with status 0 or 1 (never a signal, an abort, a sanitizer report),
#   - on status 1 print exactly one line on stderr,
#   - on status 0 write only finite images (checked with 'mrgan compare'),
#   - leave every input file as it was (SHA-256 before and after).
# SOAK_SEED picks the sequence; a finding prints the command to replay it.
if [ -n "${MRGAN_UNDER_VALGRIND:-}" ]; then
    echo "skipped under valgrind: the soak runs its own time budget, and the sanitizer build covers it"; exit 77
fi
source "$(dirname "$0")/lib.sh"
SECONDS_MAX=${SOAK_SECONDS:-40}
RUNS_MAX=${SOAK_RUNS:-100000}
RANDOM=${SOAK_SEED:-1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

# ---- inputs: valid ones, then hostile ones ----
make_data "$T/d"
I=$T/in; mkdir -p "$I" "$T/o"
"$FIX" kspace "$I/k" && "$FIX" maps "$I/m4" 4 && "$FIX" maps "$I/m3" 3 && "$FIX" nancfl "$I/nan" &&
    "$FIX" zeromask "$I/zm" && "$FIX" h5real "$I/real.h5" && "$FIX" h5huge "$I/huge.h5" && "$FIX" h5swap "$I/swap.h5" &&
    "$FIX" scale "$I/k" "$I/kbig" 1e19 && "$FIX" scale "$I/k" "$I/ktiny" 1e-20 && "$FIX" scale "$I/k" "$I/kzero" 0 &&
    "$FIX" scale "$I/m4" "$I/m4x" 1.5 && "$FIX" niftihuge "$I/huge.nii" || fail "fixtures"
"$MRGAN" mask --lines 16 --accel 2 --center 4 "$I/mask.cfl" >/dev/null || fail "mask fixture"
head -c 100 "$I/k.cfl" > "$I/trunc.cfl"; cp "$I/k.hdr" "$I/trunc.hdr"
printf '# Dimensions\n100000 100000 1 1000\n' > "$I/big.hdr"; : > "$I/big.cfl"
printf 'not hdf5 at all' > "$I/bad.h5"; : > "$I/empty.h5"; head -c 3000 /dev/urandom > "$I/rand.h5"
head -c 500 /dev/urandom > "$I/rand.safetensors"; printf 'garbage' > "$I/bad.nii"
cp "$T/d/test.h5" "$I/test.h5"; cp "$T/head.nii.gz" "$I/head.nii.gz"
cp "$T/head.nii.gz" "$I/va.nii.gz"; cp "$T/head.nii.gz" "$I/vb.nii.gz"   # scanner-like simulate's splits
# fastMRI's layouts (oversampled, padded, an undersampled test file) and ISMRMRD raw data
MK=$(dirname "$FIX")/mkfastmri
"$MK" "$I/fos.h5" os 2 4 32 16 1 && "$MK" "$I/fpad.h5" pad 2 3 38 20 2 && "$MK" "$I/ftest.h5" test 2 4 32 16 3 ||
    fail "fastMRI-layout fixtures"
command -v ismrmrd_generate_cartesian_shepp_logan >/dev/null &&
    (cd "$I" && ismrmrd_generate_cartesian_shepp_logan -m 16 -c 2 -r 2 -C -o raw.h5 >/dev/null 2>&1)
"$MRGAN" train -q --data "$T/d" --blocks 1 --growth 1 --kernels 2 --center 8 --epochs 2 --select-start 0 "$T/run" >/dev/null 2>&1 ||
    fail "tiny training run"
cp "$T/run/best.safetensors" "$I/net.safetensors"
"$MRGAN" eval -q --center 8 --methods zero-filled --model "$T/run" --slices 2 "$I/test.h5" "$T/run/eval" >/dev/null 2>&1 ||
    fail "eval of the tiny run"
mkdir -p "$T/tree/multicoil_train" "$T/tree/multicoil_val" && cp "$I/fos.h5" "$I/fpad.h5" "$T/tree/multicoil_train/" &&
    cp "$I/fos.h5" "$T/tree/multicoil_val/" || fail "tree"
FILES=$(cd "$I" && ls)
hash_inputs() { (cd "$I" && sha256sum $FILES | sha256sum) ; }
before=$(hash_inputs)

pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
KSP=("$I/k" "$I/k.cfl" "$I/swap.h5" "$I/test.h5" "$I/kbig" "$I/ktiny" "$I/kzero" "$I/nan" "$I/trunc" "$I/big"
     "$I/bad.h5" "$I/empty.h5" "$I/rand.h5" "$I/real.h5" "$I/huge.h5" "$I/missing.h5" "$I/m4"
     "$I/fos.h5" "$I/fpad.h5" "$I/ftest.h5" "$I/raw.h5")
maybe() { [ $((RANDOM % 3)) = 0 ] && echo "$@"; }
input_opts() {
    maybe --accel "$(pick 2 4 1 0 -1 1e9 abc 2.5)"
    maybe --center "$(pick 4 8 0 100 -3)"
    maybe --mask-type "$(pick vd random equispaced bogus)"
    maybe --seed "$(pick 1 0 7 -5 x)"
    maybe --sens "$(pick "$I/m4" "$I/m4x" "$I/m3" "$I/nan" "$I/missing")"
    maybe --sens-method "$(pick walsh direct espirit bogus)"
    maybe --maps "$(pick 1 2 3)"
    maybe --espirit-crop "$(pick 0 0.8 2)"
    maybe --acs "$(pick 4 12 999 0)"
    maybe --slice "$(pick 0 1 5 -1)"
    maybe --mask "$(pick "$I/mask.cfl" "$I/zm" "$I/k")"
    maybe --crop-readout "$(pick auto none half)"
}
out_name() {
    local i=$1 ext=$2
    case $((RANDOM % 12)) in
        0) echo "$ksp" ;;                 # the command's own input: must be refused
        1) echo "$T/o" ;;                  # a directory
        2) echo "" ;;
        *) echo "$T/o/r$i.$ext" ;;
    esac
}

findings=0 runs=0 start=$(date +%s)
while [ $(( $(date +%s) - start )) -lt "$SECONDS_MAX" ] && [ "$runs" -lt "$RUNS_MAX" ]; do
    runs=$((runs+1))
    cmd=$(pick zerofill zerofill cs arc sens recon compare mask eval fid simulate train report convert)
    ksp=$(pick "${KSP[@]}")
    ext=$(pick cfl cfl png h5)
    out=$(out_name "$runs" "$ext")
    args=()
    case $cmd in
        zerofill|arc) args=($(input_opts) "$ksp" "$out") ;;
        cs) args=($(input_opts) $(maybe --reg "$(pick wavelet tv x)") $(maybe --lambda "$(pick 0.002 0 -1 1e9)")
                  $(maybe --iter "$(pick 1 3 0)") "$ksp" "$out") ;;
        sens) args=($(maybe --sens-method "$(pick walsh direct x)") $(maybe --acs "$(pick 4 12 999)") "$ksp" "$out") ;;
        recon) args=(--model "$(pick "$I/net.safetensors" "$I/net.safetensors" "$I/rand.safetensors" "$I/missing")"
                     $(input_opts) "$ksp" "$out") ;;
        compare) args=("$(pick "$I/k" "$I/kzero" "$I/nan" "$I/m4" "$I/trunc")" "$(pick "$I/k" "$I/kbig" "$I/m4" "$I/big")") ;;
        mask) [ "$out" = "$ksp" ] && out=$T/o/m$runs.cfl  # mask reads no input: any name is its to write
              args=(--lines "$(pick 16 32 0 3)" $(maybe --accel "$(pick 2 4 0)") $(maybe --center "$(pick 4 0 99)") "$out") ;;
        convert) args=($(maybe --crop-readout "$(pick auto none x)") "$ksp" "$(pick "$T/o/c$runs.h5" "$T/o/c$runs.cfl" "$ksp")") ;;
        eval) args=(--slices "$(pick 1 2 0)" --center "$(pick 8 4 40)" --methods "$(pick zero-filled arc none bogus cs-wavelet)"
                    $(maybe --reference "$(pick rss sense x)")
                    $(maybe --model "$(pick "$T/run" reference="$T/run" "$I/rand.safetensors")") "$(pick "$I/test.h5" "${KSP[@]}")"
                    "$(pick "$T/o/e$runs" "$I/k.cfl" "")") ;;
        fid) args=(--weights "$(pick "$I/rand.safetensors" "$I/net.safetensors" "$I/missing")" "$I/k" "$I/kbig") ;;
        simulate) if [ $((RANDOM % 2)) = 0 ]; then
                      args=(--input "$(pick "$I/head.nii.gz" "$I/bad.nii" "$I/huge.nii" "$I/missing.nii")" --matrix "$(pick 16 32 7 0)"
                            --coils "$(pick 2 4 0)" --stride "$(pick 4 9 1000)" "$(pick "$T/o/s$runs" "$I/k.cfl")")
                  else
                      args=(--train "$(pick "$I/head.nii.gz" "$I/bad.nii" "$I/huge.nii")" --val "$I/va.nii.gz"
                            --test "$(pick "$I/vb.nii.gz" "$I/va.nii.gz")" --matrix "$(pick 16,24 32 7)" --coils "$(pick 2,3 4 0)"
                            --slices "$(pick 1 2 0)" --series "$(pick 1 2)" $(maybe --wrap "$(pick 0 1 2)")
                            $(maybe --warp "$(pick 0 3 10 11 x)") "$(pick "$T/o/s$runs" "$I/k.cfl")")
                  fi ;;
        train) args=(--data "$(pick "$T/d" "$I" "$T/missing" "$T/tree")" $(maybe --cache-mb "$(pick 0 1 -1)") --blocks 1 --growth 1 --kernels 2 --center 8 --max-steps 2
                     --epochs "$(pick 1 2 0)" $(maybe --lr "$(pick 1e-3 0 5)") $(maybe --mode "$(pick mse cwgan-agb gan)")
                     $(maybe --resume) "$(pick "$T/o/t$runs" "$T/run" "$I")") ;;
        report) args=("$(pick "$T/run" "$I" "$T/missing")" --out "$(pick "$T/o/rep$runs" "$I")") ;;
    esac
    timeout 120 "$MRGAN" "$cmd" "${args[@]}" >"$T/stdout" 2>"$T/stderr"; rc=$?
    bad=""
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then bad="exit status $rc"
    elif [ "$rc" = 1 ] && [ "$(wc -l < "$T/stderr")" != 1 ]; then bad="$(wc -l < "$T/stderr") stderr lines"
    elif [ "$rc" = 0 ] && [ "$ext" = cfl ] && [[ " zerofill cs arc sens recon " == *" $cmd "* ]] &&
         ! "$MRGAN" compare "${out%.cfl}" "${out%.cfl}" >/dev/null 2>&1; then bad="non-finite output $out"
    fi
    now=$(hash_inputs)
    if [ "$now" != "$before" ]; then bad="${bad:+$bad; }an input file changed"; before=$now; fi
    if [ -n "$bad" ]; then
        findings=$((findings+1))
        echo "FINDING ($bad): mrgan $cmd ${args[*]}"; sed 's/^/  | /' "$T/stderr" | head -5
    fi
    rm -rf "$T/o"/*
done
echo "soak: $runs invocations in $(( $(date +%s) - start )) s (seed ${SOAK_SEED:-1}), $findings findings"
if [ "$findings" = 0 ]; then echo "$runs passed, 0 failed"; else echo "$((runs-findings)) passed, $findings failed"; exit 1; fi

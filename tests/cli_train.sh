#!/usr/bin/env bash
# train / recon from the command line on data the test makes: a short run,
# recon with its checkpoint, Ctrl-C with a checkpoint and --resume, bad input.
source "$(dirname "$0")/lib.sh"

make_data
ARCH="--blocks 2 --growth 1 --kernels 4 --center 8"

"$MRGAN" train -q --data "$T/d" $ARCH --epochs 2 "$T/run" || fail "train"
for f in config.json metrics.csv last.safetensors best.safetensors; do [ -s "$T/run/$f" ] || fail "missing $f"; done
[ "$(grep -c '^epoch,' "$T/run/metrics.csv")" = 2 ] || fail "metrics.csv should have 2 epoch rows"
grep -q "^kind,epoch,step,loss,val_nmse,seconds,mse,gan,w_est,std_gan,std_mse,gma,pma,beta,val_fid$" "$T/run/metrics.csv" || fail "metrics.csv header"
ok "train writes config, metrics, checkpoints"

"$MRGAN" train --data "$T/d" $ARCH --epochs 1 --loss nmse "$T/nmse" > "$T/nmse.log" 2>&1 || { cat "$T/nmse.log"; fail "train --loss nmse"; }
grep -q "mode mse (NMSE loss)" "$T/nmse.log" || fail "train --loss nmse does not say its loss"
grep -q '"loss":[[:space:]]*2,' "$T/nmse/config.json" || fail "config.json does not record --loss nmse"
ok "train --loss nmse runs and records its loss"

out=$("$MRGAN" recon -q --model "$T/run/best.safetensors" --accel 4 --center 8 "$T/d/test.h5" "$T/r.png") || fail "recon"
echo "$out"
echo "$out" | grep -q "NMSE vs fully sampled" || fail "recon prints no NMSE"
ls "$T"/r_000.png >/dev/null || fail "recon PNGs"
ok "recon reconstructs the test split"

# Ctrl-C: a checkpoint, exit 130, then --resume finishes the run
"$MRGAN" train --data "$T/d" $ARCH --epochs 400 "$T/int" > "$T/int.log" 2>&1 &
pid=$!
for i in $(seq 1 100); do [ -s "$T/int/metrics.csv" ] && [ "$(wc -l < "$T/int/metrics.csv")" -gt 3 ] && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
[ "$rc" = 130 ] || { cat "$T/int.log"; fail "interrupted train exit $rc (want 130)"; }
grep -q "interrupted" "$T/int.log" || fail "no interruption message"
[ -s "$T/int/last.safetensors" ] || fail "no checkpoint after Ctrl-C"
steps=$(grep -c '^step,' "$T/int/metrics.csv")
"$MRGAN" train -q --data "$T/d" --resume --max-steps $((steps + 3)) "$T/int" || fail "resume"
[ "$(grep -c '^step,' "$T/int/metrics.csv")" = $((steps + 3)) ] || fail "resume did not continue the step count"
ok "Ctrl-C leaves a checkpoint and --resume continues (from step $steps)"

# SIGKILL at random moments: once the first epoch has ended the run directory
# always holds a loadable checkpoint, and --resume finishes the run with every
# step logged exactly once
"$MRGAN" train -q --data "$T/d" $ARCH --epochs 6 "$T/kill" &
pid=$!
# (an epoch takes well under a second; under valgrind, minutes)
WAIT=400; [ -z "${MRGAN_UNDER_VALGRIND:-}" ] || WAIT=12000
for i in $(seq 1 $WAIT); do [ -s "$T/kill/last.safetensors" ] && break; sleep 0.05; done
[ -s "$T/kill/last.safetensors" ] || fail "no first checkpoint"
for round in 1 2 3 4; do
    sleep "0.$((RANDOM % 4 + 1))"
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    "$MRGAN" recon -q --model "$T/kill/last.safetensors" --slice 0 "$T/d/test.h5" "$T/k.png" >/dev/null ||
        fail "checkpoint not loadable after SIGKILL (round $round)"
    "$MRGAN" train -q --data "$T/d" --resume "$T/kill" &
    pid=$!
done
wait $pid || fail "resumed run failed after SIGKILLs"
[ "$(grep -c '^epoch,' "$T/kill/metrics.csv")" = 6 ] || fail "epoch rows after SIGKILLs: $(grep -c '^epoch,' "$T/kill/metrics.csv")"
last=$(grep '^step,' "$T/kill/metrics.csv" | tail -1 | cut -d, -f3)
[ "$(grep -c '^step,' "$T/kill/metrics.csv")" = "$last" ] || fail "step rows duplicated or missing after SIGKILLs"
[ -z "$(grep '^step,' "$T/kill/metrics.csv" | cut -d, -f3 | sort -n | uniq -d)" ] || fail "duplicate step rows"
ok "SIGKILL x4 at random moments: checkpoint always loadable, resume completes, $last steps logged once"
# each epoch row's train loss is the mean over all its steps, also for epochs
# that were resumed part-way (rows found by the header's names)
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
         $1 == "step" { s[$col["epoch"]] += $col["loss"]; c[$col["epoch"]]++ }
         $1 == "epoch" { m = s[$col["epoch"]] / c[$col["epoch"]]; d = $col["loss"] - m; if (d < 0) d = -d
                         if (d > 1e-6 * m) { print "epoch " $col["epoch"] ": logged " $col["loss"] ", mean of steps " m; bad = 1 } }
         END { exit bad }' "$T/kill/metrics.csv" || fail "epoch losses after resumes are not the means of their steps"
ok "epoch losses after resumes are the means of all their steps"

# divergence guard: a NaN loss in epoch 2 stops the run with a message, the
# epoch-1 checkpoint stays byte-for-byte as it was, and --resume finishes
spe=$(grep -c '^step,' "$T/run/metrics.csv"); spe=$((spe / 2)) # steps per epoch of the 2-epoch run
"$MRGAN" train -q --data "$T/d" $ARCH --epochs 1 "$T/nan" || fail "train 1 epoch"
cp "$T/nan/last.safetensors" "$T/nan_e1.safetensors"
MRGAN_FAULT_NAN_STEP=$((spe + 2)) "$MRGAN" train -q --data "$T/d" --resume --epochs 2 "$T/nan" 2>"$T/nan.err"
rc=$?
[ "$rc" = 1 ] || fail "NaN loss: exit $rc (want 1)"
grep -q "non-finite loss at step $((spe + 2)) (epoch 2).*last.safetensors (global step $spe) is the last good checkpoint" "$T/nan.err" ||
    fail "NaN loss message: $(cat "$T/nan.err")"
cmp -s "$T/nan/last.safetensors" "$T/nan_e1.safetensors" || fail "last.safetensors changed after the NaN"
[ "$(grep -c '^epoch,' "$T/nan/metrics.csv")" = 1 ] || fail "NaN run logged an epoch it did not finish"
"$MRGAN" train -q --data "$T/d" --resume --epochs 2 "$T/nan" || fail "resume after the NaN stop"
[ "$(grep -c '^epoch,' "$T/nan/metrics.csv")" = 2 ] || fail "resume after NaN did not finish epoch 2"
MRGAN_FAULT_NAN_STEP=1 "$MRGAN" train -q --data "$T/d" $ARCH --epochs 1 "$T/nan0" 2>"$T/nan.err"
[ $? = 1 ] && grep -q "stopped before any checkpoint" "$T/nan.err" && [ ! -e "$T/nan0/last.safetensors" ] ||
    fail "NaN at step 1: $(cat "$T/nan.err")"
ok "a NaN loss stops training, keeps the last good checkpoint intact, and --resume continues"

# prefetch (a helper thread prepares the next step's batches; on by default
# with --gpu): the same run as without, step for step and byte for byte; a
# stop in mid-epoch leaves no thread behind (ASan/LSan in the asan build)
G="--mode cwgan-agb --critic-ch 4 --critic-steps 2"
MRGAN_PREFETCH=0 "$MRGAN" train -q --data "$T/d" $ARCH $G --epochs 2 "$T/pf0" || fail "train without prefetch"
MRGAN_PREFETCH=1 "$MRGAN" train -q --data "$T/d" $ARCH $G --epochs 2 "$T/pf1" || fail "train with prefetch"
diff <(cut -d, -f1-5,7- "$T/pf0/metrics.csv") <(cut -d, -f1-5,7- "$T/pf1/metrics.csv") > /dev/null ||
    fail "prefetch changed the losses"
cmp -s "$T/pf0/last.safetensors" "$T/pf1/last.safetensors" || fail "prefetch changed the weights"
MRGAN_PREFETCH=1 "$MRGAN" train -q --data "$T/d" $ARCH $G --epochs 2 --max-steps 3 "$T/pf2" || fail "prefetch, stopped"
[ "$(grep -c '^step,' "$T/pf2/metrics.csv")" = 3 ] || fail "prefetch run did not stop at step 3"
ok "prefetched batches give the same run (losses, weights); a mid-epoch stop is clean"

# bad input: one line, exit 1
check_fail "missing" "$MRGAN" recon --model "$T/missing.safetensors" "$T/d/test.h5" "$T/x.png"
printf 'garbage' > "$T/bad.safetensors"
check_fail "bad.safetensors" "$MRGAN" recon --model "$T/bad.safetensors" "$T/d/test.h5" "$T/x.png"
check_fail "--model" "$MRGAN" recon "$T/d/test.h5" "$T/x.png"
check_fail "not empty (last.safetensors" "$MRGAN" train -q --data "$T/d" $ARCH --epochs 1 "$T/run"
check_fail "nodata: cannot open the data directory" "$MRGAN" train -q --data "$T/nodata" "$T/run2"
mkdir -p "$T/nodata2"
check_fail "train.h5" "$MRGAN" train -q --data "$T/nodata2" "$T/run2"
# a finished run whose last.safetensors is gone is not trained over
cp -r "$T/run" "$T/runx" && rm "$T/runx/last.safetensors"
check_fail "not empty" "$MRGAN" train -q --data "$T/d" $ARCH --epochs 1 "$T/runx"
# --resume checks --data (validation sets must stay the same)
cp -r "$T/d" "$T/d2"
check_fail "not on --data" "$MRGAN" train -q --resume --data "$T/d2" "$T/run"
# two processes in one run directory: the second is refused
flock "$T/run/.lock" sleep 2 & holder=$!
sleep 0.5
check_fail "in use by another mrgan process" "$MRGAN" train -q --resume --data "$T/d" "$T/run"
wait $holder
check_fail "--select-start 3" "$MRGAN" train -q --data "$T/d" $ARCH --epochs 3 --select-start 3 "$T/run4"
# a refused --resume (fewer epochs than begun) prints one line, without the
# --lr note, and leaves config.json as it was
sum_before=$(sha256sum < "$T/run/config.json")
"$MRGAN" train --resume --data "$T/d" --epochs 1 --lr 0.002 "$T/run" >/dev/null 2>"$T/err"; rc=$?
[ "$rc" = 1 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q "has begun 2 epochs: --epochs 1 is fewer" "$T/err" ||
    fail "refused resume -> rc $rc: $(cat "$T/err")"
[ "$(sha256sum < "$T/run/config.json")" = "$sum_before" ] || fail "a refused --resume rewrote config.json"
n=$((n+1)); echo "ok: $(cat "$T/err"); config.json unchanged"
# --resume honours --lr (recorded in config.json) and names the options it ignores
"$MRGAN" train --resume --data "$T/d" --epochs 5 --lr 0.0001 --blocks 7 "$T/run" 2>"$T/err" >/dev/null || fail "resume with --lr: $(cat "$T/err")"
grep -q "ignoring --blocks" "$T/err" || fail "resume did not name the ignored option: $(cat "$T/err")"
grep -q -- "--lr 0.0001 from here on" "$T/err" || fail "resume did not take --lr: $(cat "$T/err")"
grep -Eq '"lr":[[:space:]]*(0.0001|9.9999997[0-9]*e-05)' "$T/run/config.json" || fail "config.json lr: $(grep lr "$T/run/config.json")"
n=$((n+1)); echo "ok: --resume --lr 0.0001 taken, --blocks ignored with a note"
# --precision bf16: kept in the run (resume continues in bf16), trains to a
# finite loss; on a CPU without bf16 a one-line note and fp32
"$MRGAN" train -q --precision bf16 --data "$T/d" --blocks 2 --growth 1 --kernels 20 --center 8 --epochs 1 \
    "$T/bf" 2>"$T/err" >/dev/null || fail "train --precision bf16: $(cat "$T/err")"
grep -Eq '"precision":[[:space:]]*1' "$T/bf/config.json" || fail "precision not recorded"
if "$FIX" bf16 2>/dev/null; then
    [ ! -s "$T/err" ] || fail "bf16 CPU, yet: $(cat "$T/err")"
    "$MRGAN" train -q --resume --data "$T/d" --epochs 2 "$T/bf" 2>"$T/err" >/dev/null || fail "resume bf16: $(cat "$T/err")"
    loss=$(awk -F, '$1 == "epoch" && $2 == 2 { print $4 }' "$T/bf/metrics.csv")
    awk -v l="$loss" 'BEGIN { exit !(l > 0 && l < 1) }' || fail "bf16 epoch-2 loss '$loss'"
    n=$((n+1)); echo "ok: train --precision bf16 recorded, resumed, finite loss $loss"
else
    grep -q "note: this CPU has neither AVX512-BF16 nor AMX" "$T/err" || fail "no note without bf16: $(cat "$T/err")"
    n=$((n+1)); echo "ok: train --precision bf16 without bf16 hardware: a note, fp32"
fi
check_fail "option --precision: 'fp16' is not fp32 or bf16" "$MRGAN" train --precision fp16 --data "$T/d" "$T/run3"
check_fail "--mode" "$MRGAN" train --mode gan --data "$T/d" "$T/run3"
check_fail "option --loss: 'l1' is not one of complex, magnitude, nmse" "$MRGAN" train --loss l1 --data "$T/d" "$T/run3"
check_fail "--lr" "$MRGAN" train --lr 0 --data "$T/d" "$T/run3"
echo "$n passed, 0 failed"

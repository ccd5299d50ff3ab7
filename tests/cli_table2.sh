#!/usr/bin/env bash
# scripts/paper-table2.sh end to end on a tiny data set: an MSE start, the four
# modes, eval, table2.md with four finite rows, the beta curve and Fig. 9; a
# second call keeps the finished runs; bad arguments.
source "$(dirname "$0")/lib.sh"
S=$(cd "$(dirname "$0")/.." && pwd)/scripts/paper-table2.sh

make_data
export EPOCHS=2 MSE_EPOCHS=2 NET="--blocks 2 --growth 1 --kernels 4" TRAIN_OPTS="--center 8 --critic-ch 4 --grid 0"
export EVAL_OPTS="--center 8"
bash "$S" "$MRGAN" "$T/d" "$T/t2" > "$T/out" 2> "$T/err" || { tail -20 "$T/err"; fail "paper-table2.sh"; }
tab=$T/t2/table2.md
[ -s "$tab" ] || fail "no table2.md"
for m in mse wgan cwgan cwgan-agb; do
    grep -q "^| $m | [0-9.]* | [0-9.]* | [0-9.]* | [0-9.]* |" "$tab" || { cat "$tab"; fail "row $m missing or not finite"; }
    grep -q "^- $m: 2 epochs; selected epoch [12] " "$tab" || { cat "$tab"; fail "selected epoch of $m"; }
    [ -s "$T/t2/$m/best.safetensors" ] || fail "$m run"
done
[ "$(grep -c '^|' "$tab")" = 6 ] || fail "table2.md should have a header, a rule and four rows"
grep -A1 '^beta per epoch' "$tab" | tail -1 | grep -Eq '^[0-9.e+]+ [0-9.e+]+$' || { cat "$tab"; fail "beta per epoch line"; }
[ -s "$T/t2/report/fig9_beta.png" ] && [ -s "$T/t2/report/index.html" ] || fail "no Fig. 9 / report"
cmp -s "$T/out" "$tab" || fail "the script prints table2.md"
ok "paper-table2.sh trains the MSE start and the four modes, evaluates them, writes table2.md and Fig. 9"

before=$(stat -c %Y "$T/t2/cwgan-agb/best.safetensors")
bash "$S" "$MRGAN" "$T/d" "$T/t2" > /dev/null 2> "$T/err2" || fail "second call"
[ "$(grep -c 'done before, kept' "$T/err2")" = 5 ] || { cat "$T/err2"; fail "finished runs should be kept"; }
[ "$(stat -c %Y "$T/t2/cwgan-agb/best.safetensors")" = "$before" ] || fail "a finished run was retrained"
ok "a second call keeps the finished runs"

bash "$S" "$MRGAN" "$T/d" "$T/t3" "$T/none.safetensors" > /dev/null 2> "$T/e" && fail "a missing INIT should fail"
grep -q "none.safetensors: no such checkpoint" "$T/e" || fail "INIT error: $(cat "$T/e")"
bash "$S" "$MRGAN" "$T/nodata" "$T/t4" > /dev/null 2> "$T/e" && fail "a missing data set should fail"
grep -q "nodata: no such data set directory" "$T/e" || fail "data error: $(cat "$T/e")"
bash "$S" "$MRGAN" > /dev/null 2> "$T/e" && fail "no arguments should fail"
grep -q "usage:" "$T/e" || fail "usage"
ok "bad arguments: one line each, non-zero exit"
echo "$n passed, 0 failed"

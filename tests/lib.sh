# Shared by the tests/cli_*.sh scripts (sourced): arguments, a temporary
# directory, pass/fail helpers, the phantom data set.
#   MRGAN=$1 (mrgan binary)  FIX=$2 (mkfixture)  T (removed at exit)
set -u
MRGAN=$1 FIX=${2:-}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
n=0
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }
ok() { n=$((n+1)); echo "ok: $*"; }
# check_fail WANT command...: exit status 1 and one stderr line containing WANT
check_fail() {
    local want=$1; shift
    "$@" >/dev/null 2>"$T/err"; local rc=$?
    [ "$rc" = 1 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q -- "$want" "$T/err" || fail "$* -> rc $rc: $(cat "$T/err")"
    echo "ok: $(cat "$T/err")"
    n=$((n+1))
}
# nmse_of: the figure of a command's "NMSE vs fully sampled = X" line on stdin
nmse_of() { sed -n 's/.*NMSE vs fully sampled = \([0-9.e+-]*\).*/\1/p'; }
# the phantom head simulated as 32x32, 4 coils into DIR (default $T/d)
make_data() {
    local d=${1:-$T/d}
    "$FIX" phantom "$T/head.nii.gz" || fail "phantom fixture"
    "$MRGAN" simulate -q --input "$T/head.nii.gz" --matrix 32 --coils 4 --stride 2 "$d" >/dev/null || fail simulate
}

#!/usr/bin/env bash
# scripts/gpu-bundle.sh and scripts/gpu-run.sh (docs/gpu.md "Running on a GPU
# machine without the Debian packages"): the bundle of a GPU build holds its
# programs and every library they load but the C library's, the C++
# runtime's and CUDA's, and with the bundle's lib/ first each program finds
# them all there; gpu-run.sh runs the three GPU checks from it (without a
# device: two SKIPs and a one-line failure of bench, exit 1) and refuses a
# file that is not a bundle. Without the GPU backend in this build: the
# bundle script's refusal only (SKIP).
source "$(dirname "$0")/lib.sh"
S=$(cd "$(dirname "$0")/../scripts" && pwd)
B=$(dirname "$MRGAN")
export XZ_OPT=-0 # the test needs no small archive

if [ ! -x "$B/mrgan-gpu" ]; then
    bash "$S/gpu-bundle.sh" "$B" "$T/b.tar.xz" > /dev/null 2> "$T/err" && fail "gpu-bundle.sh made a bundle without mrgan-gpu"
    [ "$(wc -l < "$T/err")" = 1 ] && grep -q "mrgan-gpu: missing" "$T/err" || fail "refusal: $(cat "$T/err")"
    [ ! -e "$T/b.tar.xz" ] || fail "a refused bundle left a file"
    ok "gpu-bundle.sh without the GPU backend: $(cat "$T/err")"
    echo "$n passed; this build has no GPU backend, so no bundle"
    exit 77
fi

bash "$S/gpu-bundle.sh" "$B" "$T/b.tar.xz" > "$T/out" || fail "gpu-bundle.sh"
[ ! -e "$T/b.tar.xz.tmp" ] || fail "gpu-bundle.sh left its temporary file"
mkdir "$T/x" && tar -C "$T/x" -xJf "$T/b.tar.xz" || fail "the bundle does not unpack"
D=$T/x/mrgan-gpu-bundle
for f in mrgan mrgan-gpu test_gpu mkfixture mkfastmri; do [ -x "$D/bin/$f" ] || fail "bundle lacks bin/$f"; done
[ -s "$D/COMMIT" ] || fail "bundle lacks COMMIT"
ok "bundle: $(cat "$T/out")"

# with lib/ first, every library is the bundle's, except the machine's own
for f in "$D"/bin/*; do
    LD_LIBRARY_PATH=$D/lib ldd "$f" | awk '$2 == "=>" {print $1, $3}' > "$T/ldd"
    [ -s "$T/ldd" ] || fail "ldd listed nothing for $(basename "$f")"
    while read -r name path; do
        case $name in
            libc.so.*|libm.so.*|libdl.so.*|librt.so.*|libpthread.so.*|ld-linux*|libresolv.so.*|libstdc++.so.*|libgcc_s.so.*) ;;
            libcudnn*|libcufft*|libcublas*|libcudart*) ;;
            *) [ "$path" = "$D/lib/$name" ] || fail "$(basename "$f"): $name resolves to $path, not the bundle's" ;;
        esac
    done < "$T/ldd"
done
grep -q "^libdnnl" <(ls "$D/lib") && ! ls "$D/lib" | grep -Eq "^lib(c|stdc\+\+|cudnn|cudart)\.so" || fail "bundle's lib/: $(ls "$D/lib" | tr '\n' ' ')"
ok "every program finds its libraries in the bundle ($(ls "$D/lib" | wc -l) of them)"

bash "$S/gpu-run.sh" "$T/b.tar.xz" "$T/logs" > "$T/run" 2> "$T/runerr"; rc=$?
for c in test_gpu cli_gpu bench_gpu; do [ -s "$T/logs/$c.log" ] || fail "gpu-run.sh wrote no $c.log: $(cat "$T/run" "$T/runerr")"; done
if grep -q "^PASS test_gpu" "$T/run"; then
    [ "$rc" = 0 ] || fail "gpu-run.sh on a GPU: rc $rc: $(cat "$T/run")"
    ok "gpu-run.sh on a GPU: $(grep -c "^PASS" "$T/run") checks passed"
else
    [ "$rc" = 1 ] || fail "gpu-run.sh without a device: rc $rc"
    grep -q "^SKIP test_gpu" "$T/run" && grep -q "^SKIP cli_gpu" "$T/run" \
        && grep -q "^FAIL bench_gpu.*no usable CUDA device" "$T/run" || fail "gpu-run.sh without a device: $(cat "$T/run")"
    ok "gpu-run.sh without a device: two SKIPs and bench's one-line failure, rc 1"
fi

echo "not a bundle" > "$T/junk.tar.xz"
check_fail "junk.tar.xz: not a bundle" bash "$S/gpu-run.sh" "$T/junk.tar.xz" "$T/logs2"
check_fail "cannot read the bundle" bash "$S/gpu-run.sh" "$T/none.tar.xz" "$T/logs3"
echo "$n passed, 0 failed"

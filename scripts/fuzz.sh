#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ (every library
# instrumented for coverage, AddressSanitizer and UndefinedBehaviorSanitizer)
# and runs each for SECONDS (default 600) from its seed corpus in
# fuzz/corpus/<target>, two at a time. New inputs go to
# build-fuzz/fuzz/corpus/<target>; a crash, leak, timeout or sanitizer
# report leaves its input in build-fuzz/fuzz/crashes/<target>/ and fails the
# script. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-spec fuzz-hf-config fuzz-plan \
  fuzz-safetensors fuzz-checkpoint-metadata fuzz-mimo-ir)

bash "$root/scripts/bootstrap.sh" deps
command -v clang++ > /dev/null || {
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -qq --no-install-recommends clang
}
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DMIMO_BUILD_FUZZERS=ON -DMIMO_BUILD_TESTS=OFF \
    -DMIMO_BUILD_BENCHMARKS=OFF -DMIMO_ENABLE_CUDA=OFF -DMIMO_ENABLE_MPI=OFF \
    "-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags"
fi
cmake --build "$build" --target fuzzers -j "${JOBS:-$(nproc)}"

# allow_user_poisoning=0: Debian's libMLIR is not instrumented (as in
# bootstrap.sh sanitize).
export ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
run() {
  local t=$1 out=$build/fuzz
  mkdir -p "$out/corpus/$t" "$out/crashes/$t"
  "$out/$t" "$out/corpus/$t" "$root/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$out/crashes/$t/" -print_final_stats=1 \
    > "$out/$t.log" 2>&1 && echo "ok   $t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$') runs in ${seconds} s, corpus $(ls "$out/corpus/$t" | wc -l) inputs" ||
    { echo "FAIL $t: see $out/$t.log and $out/crashes/$t/"; return 1; }
}
pids=()
for t in "${targets[@]}"; do
  run "$t" & pids+=($!)
  if [ ${#pids[@]} -ge "${FUZZ_PARALLEL:-2}" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status

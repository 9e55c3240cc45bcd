#!/usr/bin/env bash
# Installs what mimo needs (only what is missing), configures and builds it,
# then runs the main job (`demo`) or every test (`test`).
#
#   bash scripts/bootstrap.sh demo     plan a real model, run the pipeline
#   bash scripts/bootstrap.sh test     every test suite (lit, unit, MPI)
#   bash scripts/bootstrap.sh sanitize every test under AddressSanitizer +
#                                      UndefinedBehaviorSanitizer (own build
#                                      folder, about 20 minutes on 2 cores;
#                                      the host code only: CUDA is left out)
#   bash scripts/bootstrap.sh deps     install the dependencies only
#
# Environment: BUILD_DIR (default: build), JOBS (default: nproc).
set -euo pipefail

mode=${1:-demo}
case "$mode" in
  demo|test|build|sanitize|deps) ;;
  *) echo "usage: $0 demo|test|build|sanitize|deps" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
sanitizer_flags=""
if [ "$mode" = sanitize ]; then
  build=${BUILD_DIR:-$root/build-sanitize}
  sanitizer_flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
fi
jobs=${JOBS:-$(nproc)}

# --- dependencies (Debian 12 + LLVM/MLIR 22) --------------------------------
packages=(
  cmake ninja-build g++ ccache python3
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  nlohmann-json3-dev libopenmpi-dev openmpi-bin libopenblas-dev
  libopenblas-openmp-dev
  libgtest-dev libbenchmark-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
fi

[ "$mode" = deps ] && exit 0

# --- configure and build ----------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    ${sanitizer_flags:+-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMIMO_BUILD_BENCHMARKS=OFF} \
    ${sanitizer_flags:+-DMIMO_ENABLE_CUDA=OFF} \
    ${sanitizer_flags:+"-DCMAKE_C_FLAGS=$sanitizer_flags" "-DCMAKE_CXX_FLAGS=$sanitizer_flags"} \
    ${sanitizer_flags:+"-DCMAKE_EXE_LINKER_FLAGS=$sanitizer_flags" "-DCMAKE_SHARED_LINKER_FLAGS=$sanitizer_flags"}
fi
cmake --build "$build" -j "$jobs"

# --- run --------------------------------------------------------------------
case "$mode" in
  demo) exec bash "$root/scripts/main-job.sh" "$build" ;;
  # Idle OpenMP threads must not spin while BLAS and other tests need cores.
  test) cd "$build" && exec env OMP_WAIT_POLICY=passive ctest --output-on-failure -j "$jobs" ;;
  build) ;;
  sanitize)
    # allow_user_poisoning=0: Debian's libMLIR.so is not instrumented, while
    # LLVM's header-inline allocators in our instrumented code poison memory
    # that libMLIR then touches legitimately (false reports otherwise).
    # verify_asan_link_order=0: emitted trainers link the instrumented
    # support library from an uninstrumented CMake project.
    export ASAN_OPTIONS=allow_user_poisoning=0:verify_asan_link_order=0
    export LSAN_OPTIONS=suppressions=$root/test/sanitizers/lsan.supp:print_suppressions=0
    export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
    cd "$build"
    ctest --output-on-failure -j "$jobs" -E '^runtime_mpi'
    # Open MPI's plugins leak at exit from unloaded modules no suppression can
    # name: the MPI tests run with leak detection off.
    ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 \
      ctest --output-on-failure -j "$jobs" -R '^runtime_mpi'
    ;;
esac

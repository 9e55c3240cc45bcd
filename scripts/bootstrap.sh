#!/usr/bin/env bash
# Installs what mimo needs (only what is missing), configures and builds it,
# then runs the main job (`demo`) or every test (`test`).
#
#   bash scripts/bootstrap.sh demo     plan a real model, run the pipeline
#   bash scripts/bootstrap.sh test     every test suite (lit, unit, MPI)
#
# Environment: BUILD_DIR (default: build), JOBS (default: nproc).
set -euo pipefail

mode=${1:-demo}
case "$mode" in
  demo|test|build) ;;
  *) echo "usage: $0 demo|test|build" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

# --- dependencies (Debian 12 + LLVM/MLIR 22) --------------------------------
packages=(
  cmake ninja-build g++ ccache python3
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  nlohmann-json3-dev libopenmpi-dev openmpi-bin libopenblas-dev
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

# --- configure and build ----------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
fi
cmake --build "$build" -j "$jobs"

# --- run --------------------------------------------------------------------
case "$mode" in
  demo) exec bash "$root/scripts/main-job.sh" "$build" ;;
  # Idle OpenMP threads must not spin while BLAS and other tests need cores.
  test) cd "$build" && exec env OMP_WAIT_POLICY=passive ctest --output-on-failure -j "$jobs" ;;
  build) ;;
esac

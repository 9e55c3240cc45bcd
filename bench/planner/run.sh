#!/usr/bin/env bash
# Runs the planner search-time benchmark and prints its figures.
#   bench/planner/run.sh [BUILD_DIR] [REPEATS]
# BUILD_DIR holds the mimo-planner-bench binary (searched for below it).
set -euo pipefail
build=${1:-build}
repeats=${2:-3}
bin=$(find "$build" -type f -name mimo-planner-bench -perm -u+x | head -n 1)
if [[ -z "$bin" ]]; then
  echo "mimo-planner-bench not found under $build (build target mimo-planner-bench)" >&2
  exit 1
fi
echo "machine: $(nproc) cores, $(uname -m)"
"$bin" "$repeats"

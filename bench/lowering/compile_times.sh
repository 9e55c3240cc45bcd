#!/usr/bin/env bash
# Compile times of the lowering, printed side by side with their targets:
#  - the tiny trainer, spec -> executable (`mimoc build`, against this build
#    tree's runtime; target < 60 s), for world 1 and a colocated plan;
#  - the 70B-class example: import + plan search (64 H100) + IR lowering +
#    C++ emission (`mimoc plan --json`, `mimoc build --emit cpp`, world 1 and
#    a 64-GPU plan; target < 10 s).
# Usage: bench/lowering/compile_times.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${1:-$root/build}/bin
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

seconds() { # seconds COMMAND...: wall time of one run
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

tiny=$root/examples/tiny.json
big=$root/examples/vit1b-llm70b.json
t1=$(seconds "$bin/mimoc" build "$tiny" -o "$out/t1")
t2=$(seconds "$bin/mimoc" build "$tiny" --plan "$root/examples/plans/tiny-colocated.json" -o "$out/t2")
p=$(seconds "$bin/mimoc" plan "$big" --hardware h100-sxm --gpus 64 --gpus-per-node 8 --json)
e=$(seconds "$bin/mimoc" build "$big" --emit cpp -o "$out/big")
# The planner's best homogeneous plan for 64 H100s (tp 8, pp 2 interleaved,
# dp 4, sequence parallel, distributed optimizer; its best overall plan uses
# context parallelism, which is not lowered yet).
e64=$(seconds "$bin/mimoc" build "$big" --plan "$root/examples/plans/vit1b-llm70b-64xh100-homogeneous.json" --emit cpp -o "$out/big64")
printf '%-58s %9s %8s %6s\n' "what" "seconds" "target" "ratio"
row() { awk -v w="$1" -v s="$2" -v t="$3" 'BEGIN { printf "%-58s %9.2f %8s %6.2f\n", w, s, t, s / t }'; }
row "tiny: spec -> trainer executable (world 1)" "$t1" 60
row "tiny: spec -> trainer executable (colocated tp2 plan)" "$t2" 60
row "vit1b-llm70b: plan search, 64 x H100" "$p" 10
row "vit1b-llm70b: IR + lowering + C++ emission" "$e" 10
row "vit1b-llm70b: same, 64-GPU plan (tp8 pp2 dp4 SP)" "$e64" 10
row "vit1b-llm70b: both" "$(awk -v a="$p" -v b="$e" 'BEGIN { print a + b }')" 10

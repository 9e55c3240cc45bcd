#!/usr/bin/env bash
# The main job on the shipped examples: import a real model (ViT-1B +
# LLM-7B), report what each module costs and plan it for 16 H100s; then build
# the tiny model's trainer and train it on CPU.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
bin=$build/bin
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

spec=$root/examples/vit1b-llm7b.json
echo "== mimoc import $spec"
"$bin/mimoc" import "$spec" -o "$out/model.mlir"
echo "   $(grep -c 'mimo\.' "$out/model.mlir") mimo ops in $out/model.mlir"

echo "== mimo-opt --mimo-report-costs (per sample, bf16; tp=1 and tp=4)"
"$bin/mimo-opt" "$out/model.mlir" --mimo-report-costs -o /dev/null 2>&1 |
  grep remark | sed 's/.*remark: /   /'
"$bin/mimo-opt" "$out/model.mlir" --mimo-report-costs=tp=4 -o /dev/null 2>&1 |
  grep remark | sed 's/.*remark: /   tp=4 /'

echo "== mimoc plan $spec --hardware h100-sxm --gpus 16 --gpus-per-node 8"
"$bin/mimoc" plan "$spec" --hardware h100-sxm --gpus 16 --gpus-per-node 8 --top 3

# Build the tiny model's trainer (spec -> mimo IR -> backward -> tensor
# partition -> mimort -> C++ -> executable) for a heterogeneous colocated
# plan: the encoder data-parallel over 4 ranks, the LLM tensor-parallel 2 x
# data-parallel 2, with the encoder-to-LLM bridge between them. Train it on
# CPU under mpirun; the loss falls. The synthetic data is a fixed pool of 16
# samples so there is something to learn.
tiny=$root/examples/tiny.json
plan=$root/examples/plans/tiny-colocated.json
echo "== mimoc build $tiny --plan $plan -o trainer"
"$bin/mimoc" build "$tiny" --plan "$plan" --data-samples 16 -o "$out/trainer"
# Idle OpenMP threads must not spin: BLAS and the kernels share the cores.
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
if command -v mpirun >/dev/null; then
  echo "== mpirun -np 4 trainer --steps 30 (colocated: vision tp1 dp4, llm tp2 dp2; CPU)"
  mpirun --allow-run-as-root --oversubscribe -np 4 \
    "$out/trainer" --steps 30 --log-every 5 --json-log "$out/log.jsonl"
else
  echo "== (no mpirun: world-1 trainer instead)"
  "$bin/mimoc" build "$tiny" --data-samples 16 -o "$out/trainer1"
  "$out/trainer1" --steps 30 --log-every 5 --json-log "$out/log.jsonl"
fi
first=$(head -n 1 "$out/log.jsonl" | sed 's/.*"loss":\([0-9.e+-]*\).*/\1/')
last=$(tail -n 1 "$out/log.jsonl" | sed 's/.*"loss":\([0-9.e+-]*\).*/\1/')
echo "   loss $first -> $last"

#!/usr/bin/env bash
# The main job on the shipped examples: import a real model (ViT-1B +
# LLM-7B), report what each module costs, and plan it for 16 H100s.
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

#!/usr/bin/env python3
"""mimo's trainer beside the same model in PyTorch, on one GPU.

Plans the spec for one GPU (or scores --plan), builds the mimo trainer for
it (world 1, CUDA), runs it and bench/e2e/pytorch_reference.py with the same
global and micro batch, and prints step time, tokens/s, TFLOPs/GPU, MFU and
peak memory for both, with the ratio. TFLOPs/GPU use one FLOP count for
both systems: the planner's model FLOPs per iteration (INTERFACES.md,
Megatron's convention with attention scores, `tflops_per_gpu`; and the 6ND
convention, `tflops_per_gpu_6nd`).

On a machine without MLIR, build the trainer elsewhere with
`mimoc build --emit cpp --device cuda` and pass --trainer-source (the
folder is configured and built here) or --trainer (an executable); the
planner's JSON then comes from --prediction (a saved `mimoc plan --json`).

  bench/e2e/mimo_vs_pytorch.py --mimoc build/bin/mimoc \\
      --spec examples/vit1b-llm7b.json --seq 4096 --gbs 8
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import measured, run, run_trainer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--mimoc", help="the compiler (plans and builds)")
    ap.add_argument("--plan", help="a world-1 plan (default: mimoc plan's best)")
    ap.add_argument("--prediction", help="saved `mimoc plan --evaluate --json`")
    ap.add_argument("--trainer", help="a built mimo trainer")
    ap.add_argument("--trainer-source", help="a `--emit cpp` folder to build")
    ap.add_argument("--hardware", default="h200")
    ap.add_argument("--calibration")
    ap.add_argument("--seq", type=int)
    ap.add_argument("--gbs", type=int)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--compile", action="store_true",
                    help="torch.compile the reference")
    ap.add_argument("--workdir", default="/tmp/mimo-vs-pytorch")
    ap.add_argument("--json", help="also write the rows here")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    over = (["--seq", a.seq] if a.seq else []) + \
        (["--gbs", a.gbs] if a.gbs else [])
    spec = json.load(open(a.spec))
    seq = a.seq or spec["data"]["seq_len"]
    gbs = a.gbs or spec["training"]["global_batch_size"]

    # The plan and the planner's FLOP count.
    if a.prediction:
        pred = json.load(open(a.prediction))
    else:
        if not a.mimoc:
            sys.exit("--mimoc or --prediction is needed")
        cmd = [a.mimoc, "plan", a.spec, "--hardware", a.hardware, "--gpus", 1,
               "--gpus-per-node", 1, "--json"] + over
        if a.calibration:
            cmd += ["--calibration", a.calibration]
        if a.plan:
            cmd += ["--evaluate", a.plan]
        pred = json.loads(run(cmd))
        pred = pred.get("best", pred)
    plan = pred.get("plan") or json.load(open(a.plan))
    p = pred["prediction"]
    flops = p["tflops_per_gpu"] * 1e12 * p["iteration_ms"] / 1e3
    flops6 = p["tflops_per_gpu_6nd"] * 1e12 * p["iteration_ms"] / 1e3
    plan_path = os.path.join(a.workdir, "plan.json")
    json.dump(plan, open(plan_path, "w"), indent=2)

    # The mimo trainer.
    exe = a.trainer
    if not exe and a.trainer_source:
        build = os.path.join(a.workdir, "trainer-build")
        run(["cmake", "-S", a.trainer_source, "-B", build, "-G", "Ninja",
             "-DCMAKE_BUILD_TYPE=Release"])
        run(["cmake", "--build", build])
        exe = next(os.path.join(build, f) for f in os.listdir(build)
                   if os.access(os.path.join(build, f), os.X_OK) and
                   os.path.isfile(os.path.join(build, f)))
    if not exe:
        exe = os.path.join(a.workdir, "trainer")
        run([a.mimoc, "build", a.spec, "--plan", plan_path, "--device", "cuda",
             "-o", exe, "--build-dir", exe + "-src"] + over)
    mimo = measured(run_trainer(exe, 1, a.steps,
                                os.path.join(a.workdir, "mimo.jsonl")),
                    a.warmup)

    # The PyTorch reference, same batch and micro-batch.
    ref = json.loads(run([a.python, os.path.join(HERE, "pytorch_reference.py"),
                          "--spec", a.spec, "--seq", seq, "--gbs", gbs,
                          "--micro-batch", plan["micro_batch_size"],
                          "--steps", a.steps, "--warmup", a.warmup] +
                         (["--compile"] if a.compile else [])).splitlines()[-1])

    peak = 989e12 if a.hardware in ("h100-sxm", "h200") else None
    rows = []
    for name, ms, mem in (("mimo", mimo["step_ms"], mimo["peak_memory_bytes"]),
                          ("pytorch", ref["step_ms"],
                           ref["peak_memory_bytes"])):
        tf = flops / (ms / 1e3) / 1e12
        rows.append({"system": name, "step_ms": ms,
                     "tokens_per_s": gbs * seq / (ms / 1e3),
                     "tflops_per_gpu": tf,
                     "tflops_per_gpu_6nd": flops6 / (ms / 1e3) / 1e12,
                     "mfu": tf * 1e12 / peak if peak else None,
                     "peak_memory_gb": mem / 1e9})
    print(f"\n{spec['name']}: seq {seq}, global batch {gbs}, micro-batch "
          f"{plan['micro_batch_size']}, one GPU; planner predicted "
          f"{p['iteration_ms']:.1f} ms, {p['peak_memory_gb']:.1f} GB")
    print(f"{'system':8} {'step ms':>9} {'tokens/s':>10} {'TFLOP/s':>8} "
          f"{'6ND':>7} {'MFU':>6} {'peak GB':>8}")
    for r in rows:
        mfu = f"{r['mfu']:6.1%}" if r["mfu"] is not None else "     -"
        print(f"{r['system']:8} {r['step_ms']:9.1f} {r['tokens_per_s']:10.0f} "
              f"{r['tflops_per_gpu']:8.1f} {r['tflops_per_gpu_6nd']:7.1f} "
              f"{mfu} {r['peak_memory_gb']:8.2f}")
    print(f"mimo / pytorch throughput: "
          f"{rows[1]['step_ms'] / rows[0]['step_ms']:.3f}x")
    if a.json:
        json.dump({"rows": rows, "prediction": p, "plan": plan},
                  open(a.json, "w"), indent=2)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The planner's predicted step time and peak memory beside the trainer's
measured ones, for world-1 plans (with and without recompute and offload).

For each plan: `mimoc plan --evaluate PLAN --json` (the hardware description,
optionally with a `mimo-calibrate` file) gives iteration_ms and the peak
rank's memory; the trainer built for the plan runs --steps steps and its log
gives the median step time after --warmup steps and the allocator's peak.
Prints both side by side with the error. Runs the same on a CPU (the
defaults) and on a GPU (--device cuda --hardware h200).

  bench/e2e/predict_vs_measure.py --mimoc build/bin/mimoc \\
      --calibrate build/bin/mimo-calibrate
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (build_trainer, err, measured, predict, run,  # noqa: E402
                    run_trainer, world_of)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mimoc", required=True)
    ap.add_argument("--spec", default=os.path.join(ROOT, "examples/tiny.json"))
    ap.add_argument("--plan", action="append",
                    help="plan files (default: bench/e2e/plans/world1*.json)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--hardware", default=None,
                    help="default: cpu, or h200 with --device cuda")
    ap.add_argument("--calibration", help="a mimo-calibrate file to use")
    ap.add_argument("--calibrate", help="mimo-calibrate: measure first")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--mpirun", default="mpirun")
    ap.add_argument("--workdir", default="/tmp/mimo-predict-vs-measure")
    ap.add_argument("--json", help="also write the rows here")
    a = ap.parse_args()
    hardware = a.hardware or ("h200" if a.device == "cuda" else "cpu")
    plans = a.plan or sorted(
        os.path.join(HERE, "plans", p) for p in os.listdir(
            os.path.join(HERE, "plans")) if p.startswith("world1"))
    os.makedirs(a.workdir, exist_ok=True)
    calibration = a.calibration
    if a.calibrate and not calibration:
        calibration = os.path.join(a.workdir, "calibration.json")
        sys.stderr.write(run([a.calibrate, "--device", a.device,
                              "--hardware", hardware, "-o", calibration]))

    rows = []
    for path in plans:
        name = os.path.splitext(os.path.basename(path))[0]
        world = world_of(json.load(open(path)))
        pred = predict(a.mimoc, a.spec, path, hardware, calibration)
        p = pred["prediction"]
        exe = build_trainer(a.mimoc, a.spec, path,
                            os.path.join(a.workdir, "trainer-" + name),
                            a.device)
        m = measured(run_trainer(exe, world, a.steps,
                                 os.path.join(a.workdir, name + ".jsonl"),
                                 a.mpirun), a.warmup)
        peak = sum(v for k, v in p["memory_bytes"].items() if k != "offloaded")
        rows.append({"plan": name, "world": world,
                     "predicted_ms": p["iteration_ms"],
                     "measured_ms": m["step_ms"],
                     "predicted_peak_bytes": peak,
                     "measured_peak_bytes": m["peak_memory_bytes"]})

    print(f"\n{a.spec} on {a.device}, hardware {hardware}"
          f"{', calibrated by ' + calibration if calibration else ''}; "
          f"median of steps {a.warmup + 1}..{a.steps}")
    print(f"{'plan':34} {'pred ms':>9} {'meas ms':>9} {'error':>7}"
          f" {'pred MB':>9} {'meas MB':>9} {'error':>7}")
    for r in rows:
        print(f"{r['plan']:34} {r['predicted_ms']:9.1f} {r['measured_ms']:9.1f}"
              f" {err(r['predicted_ms'], r['measured_ms']):+7.1%}"
              f" {r['predicted_peak_bytes'] / 1e6:9.2f}"
              f" {r['measured_peak_bytes'] / 1e6:9.2f}"
              f" {err(r['predicted_peak_bytes'], r['measured_peak_bytes']):+7.1%}")
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=2)


if __name__ == "__main__":
    main()

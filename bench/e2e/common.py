"""What the end-to-end benchmarks share: running commands, the planner's
prediction for a plan, building a trainer and reading its step log."""

import json
import os
import statistics
import subprocess
import sys


def run(cmd, **kwargs):
    print("$ " + " ".join(str(c) for c in cmd), file=sys.stderr, flush=True)
    r = subprocess.run([str(c) for c in cmd], text=True, capture_output=True,
                       **kwargs)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit(f"failed ({r.returncode}): {' '.join(str(c) for c in cmd)}")
    return r.stdout


def world_of(plan):
    world = 0
    for m in plan["modules"].values():
        size = m.get("tp", 1) * m.get("cp", 1) * m.get("pp", 1) * m.get("dp", 1)
        world = max(world, m.get("ranks", [0, size])[0] + size)
    return world


def predict(mimoc, spec, plan_path, hardware, calibration=None):
    """`mimoc plan --evaluate` as JSON: {"prediction": {...}, ...}."""
    world = world_of(json.load(open(plan_path)))
    cmd = [mimoc, "plan", spec, "--hardware", hardware, "--gpus", world,
           "--gpus-per-node", world, "--evaluate", plan_path, "--json"]
    if calibration:
        cmd += ["--calibration", calibration]
    return json.loads(run(cmd))


def build_trainer(mimoc, spec, plan_path, out, device):
    run([mimoc, "build", spec, "--plan", plan_path, "--device", device,
         "-o", out, "--build-dir", out + "-src", "-j", str(os.cpu_count())])
    return out


def run_trainer(exe, world, steps, log, mpirun="mpirun", env=None):
    """Runs `steps` steps; returns the log's records."""
    if os.path.exists(log):
        os.remove(log)
    cmd = [exe, "--steps", steps, "--json-log", log]
    if world > 1:
        cmd = [mpirun, "--allow-run-as-root", "--oversubscribe", "-np",
               world] + cmd
    run(cmd, env=env)
    return [json.loads(line) for line in open(log)]


def measured(records, warmup):
    """Median step time after `warmup` steps and the peak memory."""
    times = [r["step_ms"] for r in records[warmup:]] or \
        [r["step_ms"] for r in records]
    return {"step_ms": statistics.median(times),
            "peak_memory_bytes": max(r["peak_memory_bytes"] for r in records),
            "tflops_per_gpu": statistics.median(
                r["tflops_per_gpu"] for r in records[warmup:] or records),
            "loss": [r["loss"] for r in records]}


def err(predicted, actual):
    return (predicted - actual) / actual if actual else float("inf")

#!/usr/bin/env python3
"""The tiny model's trainer built with `mimoc build --device cuda`.

Without a visible GPU the trainer must stop at start-up with exit status 1
and a message saying no CUDA device is visible (no crash, nothing written).
With one (or with --require-gpu), on one GPU, world 1:
  - the f32 trainer's losses match the CPU trainer's over 10 steps on the
    same fixed sample pool (relative 1e-3: same math, other summation
    orders);
  - the bf16 trainer (training.precision bf16) stays within bf16 tolerance
    of the f32 CPU losses over its first 3 steps (relative 3e-2) and its
    loss falls.
Exit status 0 when every check that applies holds.
"""

import argparse
import json
import os
import shutil
import subprocess

from e2e_util import run, check, must


def gpu_visible():
    try:
        r = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    except OSError:
        return False
    return r.returncode == 0 and "GPU" in r.stdout


def build(mimoc, spec, device, out, workdir, samples):
    must(run([mimoc, "build", spec, "--device", device, "--data-samples",
              str(samples), "-o", out, "-j", "2"]),
         f"mimoc build --device {device} {os.path.basename(spec)}")


def train(trainer, workdir, name, steps):
    log = os.path.join(workdir, name + ".jsonl")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    must(run([trainer, "--steps", str(steps), "--log-every", "100",
              "--json-log", log], env=env), f"trainer '{name}' exits 0")
    with open(log) as f:
        return [r["loss"] for r in map(json.loads, f)]


def close(a, b, rtol):
    return all(abs(x - y) <= rtol * max(abs(y), 1e-6) for x, y in zip(a, b))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mimoc", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--require-gpu", action="store_true")
    a = p.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)

    cuda = os.path.join(a.workdir, "trainer-cuda")
    build(a.mimoc, a.spec, "cuda", cuda, a.workdir, a.samples)

    if not gpu_visible() and not a.require_gpu:
        log = os.path.join(a.workdir, "no-gpu.jsonl")
        r = run([cuda, "--steps", "1", "--json-log", log])
        print(r.stderr)
        check(r.returncode == 1, "without a GPU the CUDA trainer exits 1")
        check("no CUDA device is visible" in r.stderr,
              "and says that no CUDA device is visible")
        check(not os.path.exists(log) or os.path.getsize(log) == 0,
              "and logs no step")
        print("no GPU: the training checks need one (run with a GPU)")
        return

    cpu = os.path.join(a.workdir, "trainer-cpu")
    build(a.mimoc, a.spec, "cpu", cpu, a.workdir, a.samples)
    want = train(cpu, a.workdir, "cpu", a.steps)
    got = train(cuda, a.workdir, "cuda", a.steps)
    print("step  cpu f32        cuda f32")
    for i, (x, y) in enumerate(zip(want, got), 1):
        print(f"{i:4d}  {x:.7f}  {y:.7f}")
    check(len(got) == len(want), "both trainers ran every step")
    check(close(got, want, 1e-3), "f32 CUDA losses match the CPU (1e-3)")

    spec16 = os.path.join(a.workdir, "spec-bf16.json")
    with open(a.spec) as f:
        spec = json.load(f)
    spec["training"]["precision"] = "bf16"
    with open(spec16, "w") as f:
        json.dump(spec, f)
    bf16 = os.path.join(a.workdir, "trainer-bf16")
    build(a.mimoc, spec16, "cuda", bf16, a.workdir, a.samples)
    low = train(bf16, a.workdir, "cuda-bf16", a.steps)
    print("step  cpu f32        cuda bf16")
    for i, (x, y) in enumerate(zip(want, low), 1):
        print(f"{i:4d}  {x:.7f}  {y:.7f}")
    check(close(low[:3], want[:3], 3e-2),
          "bf16 CUDA losses within 3e-2 of f32 over the first 3 steps")
    check(low[-1] < low[0], "the bf16 loss falls")


if __name__ == "__main__":
    main()

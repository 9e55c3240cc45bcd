#!/usr/bin/env python3
"""End-to-end check of the mimort back end on CPU.

Builds a trainer from a hand-written mimort program with `mimoc build-mimort`
and checks, on the JSON step logs:
  - training: the loss of the last step is well below the first;
  - determinism: a second run gives bit-identical losses;
  - resume: a run stopped and checkpointed at step 10 and resumed with --load
    continues with exactly the losses of the uninterrupted run;
  - world size: under `mpirun -np 2` a one-rank trainer exits 1 with a clear
    message from every rank;
  - data parallelism (with --dp-program and --reference-program): the
    program on two data-parallel ranks follows the one-rank program over the
    same global batches within floating-point reassociation.
Exit status 0 when every check holds.
"""

import argparse
import json
import os
import shutil
import time

from e2e_util import run, check


def losses(path):
    with open(path) as f:
        return [(r["step"], r["loss"]) for r in map(json.loads, f)]


def train(trainer, workdir, name, *args):
    log = os.path.join(workdir, name + ".jsonl")
    if os.path.exists(log):
        os.remove(log)
    r = run([trainer, "--log-every", "100", "--json-log", log] + list(args))
    if r.returncode != 0:
        print(r.stdout + r.stderr)
    check(r.returncode == 0, f"trainer run '{name}' exits 0")
    return losses(log)


def build(mimoc, program, workdir, name):
    trainer = os.path.join(workdir, name)
    start = time.time()
    r = run([mimoc, "build-mimort", program, "-o", trainer,
             "--build-dir", os.path.join(workdir, name + "-src"), "-j", "2"])
    if r.returncode != 0:
        print(r.stdout + r.stderr)
    check(r.returncode == 0 and os.access(trainer, os.X_OK),
          f"mimoc build-mimort builds {name} ({time.time() - start:.1f} s)")
    return trainer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mimoc", required=True)
    p.add_argument("--program", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--mpirun", default=shutil.which("mpirun"))
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--dp-program", help="the program on 2 data-parallel ranks")
    p.add_argument("--reference-program",
                   help="the same model and global batch on one rank")
    a = p.parse_args()

    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    start = time.time()
    trainer = build(a.mimoc, a.program, a.workdir, "trainer")

    steps = a.steps
    full = train(trainer, a.workdir, "full", "--steps", str(steps))
    check([s for s, _ in full] == list(range(1, steps + 1)),
          f"one log line per step 1..{steps}")
    first, last = full[0][1], full[-1][1]
    check(last < 0.5 * first,
          f"loss falls: step 1 {first:.4f}, step {steps} {last:.4f}")

    again = train(trainer, a.workdir, "again", "--steps", str(steps))
    check(again == full, "a second run gives bit-identical losses")

    half = steps // 2
    ckpt = os.path.join(a.workdir, "ckpt")
    shutil.rmtree(ckpt, ignore_errors=True)
    train(trainer, a.workdir, "first-half", "--steps", str(half),
          "--save", ckpt, "--save-every", str(half))
    resumed = train(trainer, a.workdir, "resumed", "--steps", str(steps),
                    "--load", ckpt)
    check(resumed == full[half:],
          f"resuming from step {half} reproduces steps {half + 1}..{steps}")

    if a.mpirun:
        r = run([a.mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2",
                 trainer, "--steps", "1"], timeout=120)
        err = r.stdout + r.stderr
        check(r.returncode != 0, "a one-rank trainer under mpirun -np 2 fails")
        for rank in (0, 1):
            check(f"rank {rank}: program 'tiny_lm' was built for a world of 1, "
                  f"but the job has 2 ranks" in err,
                  f"rank {rank} says why")
    else:
        print("skip: no mpirun, world-size check not run")

    if a.mpirun and a.dp_program and a.reference_program:
        reference = build(a.mimoc, a.reference_program, a.workdir, "reference")
        dp = build(a.mimoc, a.dp_program, a.workdir, "dp2")
        ref = train(reference, a.workdir, "reference", "--steps", str(steps))
        log = os.path.join(a.workdir, "dp2.jsonl")
        r = run([a.mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2",
                 dp, "--steps", str(steps), "--log-every", "100",
                 "--json-log", log], timeout=300)
        if r.returncode != 0:
            print(r.stdout + r.stderr)
        check(r.returncode == 0, "the dp=2 trainer runs under mpirun -np 2")
        par = losses(log)
        worst = max(abs(x - y) / abs(x) for (_, x), (_, y) in zip(ref, par))
        check(len(par) == steps and worst < 1e-5,
              f"dp=2 follows one rank over {steps} steps (worst relative "
              f"difference {worst:.2e})")
    print(f"all checks passed in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()

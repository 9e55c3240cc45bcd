#!/usr/bin/env python3
"""End-to-end check of the spec-to-trainer lowering on CPU.

From a model spec (examples/tiny.json): the tool chain
`mimoc import | mimo-opt --mimo-generate-backward --convert-mimo-to-mimort |
mimoc build-mimort` and the one-step `mimoc build` each build a trainer,
which trains for 10 steps on a fixed pool of synthetic samples. Checks:
  - both routes give the same mimort program;
  - the loss is finite and falls (the last step well below the first);
  - the two trainers give bit-identical losses.
Exit status 0 when every check holds.
"""

import argparse
import json
import math
import os
import re
import shutil
import sys

from e2e_util import run, check, must


def train(trainer, workdir, name, steps):
    log = os.path.join(workdir, name + ".jsonl")
    if os.path.exists(log):
        os.remove(log)
    # One thread: the kernels' OpenMP loops spin badly on a loaded machine,
    # and the losses do not depend on the thread count.
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    must(run([trainer, "--steps", str(steps), "--log-every", "100",
              "--json-log", log], env=env), f"trainer '{name}' exits 0")
    with open(log) as f:
        return [r["loss"] for r in map(json.loads, f)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mimoc", required=True)
    p.add_argument("--mimo-opt", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--samples", type=int, default=8)
    a = p.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    lower = f"--convert-mimo-to-mimort=data-samples={a.samples}"

    # The tool chain, one tool at a time.
    mimo = must(run([a.mimoc, "import", a.spec]), "mimoc import")
    program = must(run([a.mimo_opt, "--mimo-generate-backward", lower],
                       input=mimo), "mimo-opt lowers the model")
    chained = os.path.join(a.workdir, "program.mlir")
    with open(chained, "w") as f:
        f.write(program)
    must(run([a.mimoc, "build-mimort", chained, "-o",
              os.path.join(a.workdir, "trainer-chain"), "--build-dir",
              os.path.join(a.workdir, "chain-src"), "-j", "2"]),
         "mimoc build-mimort builds the chained program")

    # mimoc build, in one step.
    direct = must(run([a.mimoc, "build", a.spec, "--emit=mlir",
                       "--data-samples", str(a.samples)]),
                  "mimoc build --emit=mlir")
    check(direct.strip() == program.strip(),
          "mimoc build lowers to the same program")
    must(run([a.mimoc, "build", a.spec, "--data-samples", str(a.samples),
              "-o", os.path.join(a.workdir, "trainer"), "--build-dir",
              os.path.join(a.workdir, "build-src"), "-j", "2"]),
         "mimoc build builds the trainer")

    losses = train(os.path.join(a.workdir, "trainer"), a.workdir, "build",
                   a.steps)
    print("losses: " + ", ".join(f"{x:.4f}" for x in losses), flush=True)
    check(len(losses) == a.steps, f"{a.steps} steps logged")
    check(all(math.isfinite(x) for x in losses), "every loss is finite")
    check(losses[-1] < losses[0] - 0.5,
          f"the loss falls ({losses[0]:.4f} -> {losses[-1]:.4f})")
    chain = train(os.path.join(a.workdir, "trainer-chain"), a.workdir,
                  "chain", a.steps)
    check(chain == losses, "the chained trainer's losses are bit-identical")

    # --keep-temps: the temporary build folder stays, and is named.
    kept = run([a.mimoc, "build", a.spec, "--keep-temps", "-o",
                os.path.join(a.workdir, "trainer-kept"), "-j", "2"])
    must(kept, "mimoc build --keep-temps")
    m = re.search(r"kept in (\S+)", kept.stderr)
    check(m is not None and os.path.isfile(os.path.join(m.group(1),
                                                        "program.cpp")),
          "--keep-temps names the folder, which holds program.cpp")
    if m:
        shutil.rmtree(m.group(1), ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

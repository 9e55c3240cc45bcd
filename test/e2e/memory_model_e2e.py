#!/usr/bin/env python3
"""The planner's predicted memory per category against the trainer's.

For each plan: `mimoc plan --memory-model mimo --evaluate PLAN --json` on the
CPU hardware description gives the peak rank's predicted bytes per category;
the trainer built for the plan runs one step under mpirun and logs the peak
rank's allocator peaks per category (`peak_memory_by_category`). Prints the
table side by side; every category (params, grads, optimizer, activations,
workspace) must agree within --tolerance (docs/planner.md, "Memory").
"""

import argparse
import json
import os
import sys

from e2e_util import must, run

CATEGORIES = ["params", "grads", "optimizer", "activations", "workspace"]


def world_of(plan):
    world = 0
    for m in plan["modules"].values():
        size = m.get("tp", 1) * m.get("cp", 1) * m.get("pp", 1) * m.get("dp", 1)
        off = m.get("ranks", [0, size])[0]
        world = max(world, off + size)
    return world


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mimoc", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--plan", action="append", required=True)
    ap.add_argument("--mpirun", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--tolerance", type=float, default=0.10)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    rows, failures = [], []
    for path in a.plan:
        name = os.path.splitext(os.path.basename(path))[0]
        plan = json.load(open(path))
        world = world_of(plan)
        out = must(run([a.mimoc, "plan", a.spec, "--hardware", "cpu",
                        "--gpus", str(world), "--gpus-per-node", str(world),
                        "--memory-model", "mimo", "--evaluate", path, "--json"]),
                   f"{name}: mimoc plan --evaluate")
        predicted = json.loads(out)["prediction"]["memory_bytes"]
        exe = os.path.join(a.workdir, "trainer-" + name)
        must(run([a.mimoc, "build", a.spec, "--plan", path, "-o", exe,
                  "--build-dir", exe + "-src", "-j", "2"]),
             f"{name}: mimoc build")
        log = os.path.join(a.workdir, name + ".jsonl")
        must(run([a.mpirun, "--allow-run-as-root", "--oversubscribe", "-np",
                  str(world), exe, "--steps", "1", "--json-log", log]),
             f"{name}: the trainer runs one step")
        measured = json.loads(open(log).readline())["peak_memory_by_category"]
        rows.append((name, world, predicted, measured))
        for c in CATEGORIES:
            m, p = measured[c], predicted[c]
            err = (p - m) / m if m else (0.0 if p == 0 else float("inf"))
            if abs(err) > a.tolerance:
                failures.append(f"{name}: {c} predicted {p} B, measured {m} B "
                                f"({err:+.1%})")

    def cell(p, m):
        err = (p - m) / m if m else 0.0
        return f"{p / 1e6:8.3f} {m / 1e6:8.3f} {err:+7.1%}"

    print()
    print("MB: predicted, measured, error (peak rank); "
          f"every category checked within {a.tolerance:.0%}")
    head = f"{'plan':34} {'world':>5}"
    for c in CATEGORIES:
        head += f"  {c:>25}"
    print(head)
    for name, world, p, m in rows:
        line = f"{name:34} {world:>5}"
        for c in CATEGORIES:
            line += "  " + cell(p[c], m[c])
        print(line)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"\n{len(rows)} plans: every category within {a.tolerance:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

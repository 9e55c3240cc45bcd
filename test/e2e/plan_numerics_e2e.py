#!/usr/bin/env python3
"""Sharded trainers from a spec and a plan, checked against world 1.

`mimoc build SPEC --plan PLAN` builds a trainer for each plan (data-,
tensor- and pipeline-parallel grids, 1F1B and interleaved schedules,
homogeneous and colocated layouts); `mimoc build SPEC` builds the world-1
trainer of the same spec. Each trains for a few steps on the same fixed
pool of synthetic samples, the sharded ones under
`mpirun -np WORLD`, and saves a checkpoint at the end. Checks:
  - every step's loss matches world 1 within a relative 1e-5;
  - every rank's final parameters match world 1's within a relative 1e-5
    over the whole parameter vector, ||a - b|| / ||b||, and each tensor
    within a relative 1e-4 (2-norm over the tensor).
    A tensor-parallel rank holds a slice of the tensor: the dim whose size
    differs from world 1's is the split one, and rank r holds part
    r mod (full / local) of it (tp is the fastest grid dim), which is
    compared with the same slice of world 1's tensor. A pipeline stage
    holds its layers of a stacked tensor (chunk c of stage s: layers
    (c * pp + s) * n ...) and is compared on the parameters whose ops it
    runs.
    The gradient sums are reassociated (per rank, then over ranks, and
    row-parallel products in tp parts), so an element whose gradient sum
    nearly cancels carries a large relative rounding error, which Adam's
    normalisation turns into a full-size update difference: a small
    zero-initialised tensor (a bias that moved ~5e-3 in 5 steps) then
    differs by ~2e-5 of its norm while its moments agree to ~3e-6. The
    worst tensor and the element-wise max |a - b| / max |b| are printed. A
    tensor whose world-1 values are all below 1e-6 (a zero-initialised
    parameter with a mathematically zero gradient, e.g. an attention key
    bias, which only moves by rounding noise) is held to an absolute 1e-6;
  - a world-4 trainer under `mpirun -np 2` exits 1, every rank saying why.
Prints a table of the differences. Exit status 0 when every check holds.
"""

import argparse
import glob
import json
import math
import os
import shutil
import struct
import sys
import time

from e2e_util import run, check, must, safetensors_tensors

TOLERANCE = 1e-5
TENSOR_TOLERANCE = 1e-4


def env():
    # One thread per rank: four ranks share the machine's cores.
    return dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def read_safetensors(path):
    """{name: (shape, list of floats)} for the f32 tensors of a file."""
    return {name: (shape, struct.unpack(f"<{len(raw) // 4}f", raw))
            for name, (dtype, shape, raw) in safetensors_tensors(path).items()
            if dtype == "F32"}


def checkpoint_shards(save_dir):
    steps = sorted(glob.glob(os.path.join(save_dir, "step-*")))
    check(len(steps) >= 1, f"{save_dir} holds a checkpoint")
    shards = sorted(glob.glob(os.path.join(steps[-1], "rank*.safetensors")),
                    key=lambda f: int("".join(
                        c for c in os.path.basename(f) if c.isdigit())))
    with open(os.path.join(steps[-1], "metadata.json")) as f:
        meta = json.load(f)
    return shards, meta


def params_of(tensors):
    """The parameters: tensors with Adam moments `.m` and `.v`."""
    return {n: t for n, t in tensors.items()
            if n + ".m" in tensors and n + ".v" in tensors}


NOISE = 1e-6


def differences(a, b):
    """(norm-relative, element max relative, max absolute) of a vs b."""
    diff = [x - y for x, y in zip(a, b)]
    norm = math.sqrt(sum(y * y for y in b))
    scale = max(abs(y) for y in b)
    worst = max(abs(d) for d in diff)
    rel = math.sqrt(sum(d * d for d in diff)) / norm if norm > 0 else worst
    return rel, (worst / scale if scale > 0 else worst), worst


class Placement:
    """Where a rank sits in each module's grid [tp, cp, pp, dp] (tp
    fastest) and which parts of world 1's tensors it holds."""

    def __init__(self, spec, plan):
        self.llm = next(m["name"] for m in spec["modules"]
                        if m["kind"] == "decoder")
        # A tied embedding is read on both ends: every stage keeps it.
        self.tied = any(m.get("tie_embeddings") for m in spec["modules"]
                        if m["kind"] == "decoder")
        self.layers = {m["name"]: m.get("layers", 0) for m in spec["modules"]}
        self.inputs = {m["name"]: m.get("input") for m in spec["modules"]}
        self.grids = plan["modules"]
        self.homogeneous = plan.get("layout") == "homogeneous"
        sched = plan.get("schedule", "1f1b")
        self.chunks = int(sched.split(":")[1]) if ":" in sched else 1

    def grid(self, module):
        # A projector runs on its encoder's grid unless it names its own.
        while module not in self.grids and self.inputs.get(module):
            module = self.inputs[module]
        return self.grids[module]

    def coords(self, module, rank):
        g = self.grid(module)
        rank -= g.get("ranks", [0])[0]
        return rank % g["tp"], (rank // (g["tp"] * g["cp"])) % g["pp"]

    def spans(self, module, rank):
        """Whether the rank is in the module's grid (every rank unless the
        layout is disaggregated)."""
        lo, size = self.grid(module).get("ranks", [0, None])
        return size is None or lo <= rank < lo + size

    def owns(self, name, rank):
        """Whether the rank runs the ops of parameter `name`: every stage
        holds its layers; the LLM's embedding lives on its first pipeline
        stage and the rest outside the layers on its last; modules placed
        on the LLM's first stage (homogeneous layout) there."""
        module = name.split(".")[0]
        if not self.spans(module, rank):
            return False
        pp = self.grid(module)["pp"]
        if pp == 1:
            return True
        _, stage = self.coords(module, rank)
        if module != self.llm:
            return stage == 0
        if ".layers." in name or (self.tied and ".embed" in name):
            return True
        return stage == (0 if ".embed" in name else pp - 1)

    def indices(self, name, shape, local, rank):
        """Per dim, the indices of world 1's tensor this rank holds."""
        module = name.split(".")[0]
        g = self.grid(module)
        tp_rank, stage = self.coords(module, rank)
        out = []
        for d, (full, mine) in enumerate(zip(shape, local)):
            if full == mine:
                out.append(range(full))
            elif d == 0 and module == self.llm and ".layers." in name:
                # Local layer l: layer i of chunk c, global layer
                # (c * pp + stage) * n + i.
                n = full // (g["pp"] * self.chunks)
                check(mine == n * self.chunks,
                      f"{name}: {mine} local layers of {full}")
                out.append([(l // n * g["pp"] + stage) * n + l % n
                            for l in range(mine)])
            else:
                check(full % mine == 0 and full // mine == g["tp"],
                      f"{name}: dim {d} ({mine} of {full}) is a tp split")
                out.append(range(tp_rank * mine, (tp_rank + 1) * mine))
        return out


def local_part(full, local, placement, name, rank):
    """The values of `full` (shape, values) that a rank holding a tensor of
    shape `local` has: all of them, its tensor-parallel slice of one dim,
    and (a pipeline stage) its layers."""
    shape, values = full
    if list(local) == list(shape):
        return values
    check(len(local) == len(shape), f"{name}: local shape {local} has the "
          f"rank of {shape}")
    idx = placement.indices(name, shape, local, rank)
    strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]
    flat = [0]
    for d in range(len(shape)):
        flat = [f + i * strides[d] for f in flat for i in idx[d]]
    return [values[f] for f in flat]


def losses(log):
    with open(log) as f:
        return [r["loss"] for r in map(json.loads, f)]


def train(cmd, workdir, name, steps):
    log = os.path.join(workdir, name + ".jsonl")
    save = os.path.join(workdir, name + "-ckpt")
    must(run(cmd + ["--steps", str(steps), "--log-every", "100",
                    "--json-log", log, "--save", save], env=env(),
             timeout=300), f"trainer '{name}' exits 0")
    return losses(log), save


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mimoc", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--plan", action="append", required=True,
                   help="a plan.json (repeatable)")
    p.add_argument("--mpirun", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--identical", action="append", default=[],
                   metavar="PLAN=BASE",
                   help="plan PLAN (a recompute or offload variant) must "
                        "train bit for bit like plan BASE (names without "
                        ".json; both given with --plan)")
    a = p.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    start = time.time()
    mpirun = [a.mpirun, "--allow-run-as-root", "--oversubscribe"]

    def build(name, extra):
        exe = os.path.join(a.workdir, name)
        must(run([a.mimoc, "build", a.spec, "--data-samples", str(a.samples),
                  "--prebuilt", "auto", "-o", exe, "--build-dir",
                  os.path.join(a.workdir, name + "-src"), "-j", "2"] + extra),
             f"mimoc build {' '.join(extra) or '(world 1)'}")
        return exe

    with open(a.spec) as f:
        spec = json.load(f)
    reference = build("trainer-world1", [])
    ref_losses, ref_save = train([reference], a.workdir, "world1", a.steps)
    check(len(ref_losses) == a.steps, f"world 1 logs {a.steps} steps")
    ref_shards, _ = checkpoint_shards(ref_save)
    check(len(ref_shards) == 1, "world 1 writes one shard")
    ref_params = params_of(read_safetensors(ref_shards[0]))
    check(len(ref_params) > 0, f"world 1 saves {len(ref_params)} parameters")

    rows = []
    trained = {}
    first_dp = None
    for plan in a.plan:
        with open(plan) as f:
            plan_json = json.load(f)
        spans = [m["tp"] * m["cp"] * m["pp"] * m["dp"]
                 for m in plan_json["modules"].values()]
        if plan_json.get("layout") == "disaggregated":
            # Modules on their own rank spans, side by side.
            world = max(m["ranks"][0] + m["ranks"][1]
                        for m in plan_json["modules"].values())
            check(sum(spans) == world,
                  f"{plan}: the module spans tile the world ({world})")
        else:
            check(len(set(spans)) == 1, f"{plan}: every module spans the world")
            world = spans[0]
        name = os.path.splitext(os.path.basename(plan))[0]
        exe = build("trainer-" + name, ["--plan", plan])
        first_dp = first_dp or (exe, world)
        got, save = train(mpirun + ["-np", str(world), exe], a.workdir, name,
                          a.steps)
        check(len(got) == a.steps, f"{name}: {a.steps} steps logged")
        loss_diff = max(abs(x - y) / abs(y) for x, y in zip(got, ref_losses))
        check(loss_diff <= TOLERANCE,
              f"{name}: every step's loss within {TOLERANCE:g} of world 1 "
              f"(worst {loss_diff:.2e})")
        shards, meta = checkpoint_shards(save)
        check(meta.get("world_size") == world and len(shards) == world,
              f"{name}: the checkpoint has {world} rank shards")
        trained[name] = (got, [params_of(read_safetensors(s))
                               for s in shards])
        model_diff = weight_diff = element_diff = noise_diff = 0.0
        worst_tensor = ""
        noise = sorted(n for n, (_, t) in ref_params.items()
                       if max(abs(x) for x in t) < NOISE)
        placement = Placement(spec, plan_json)
        for rank, shard in enumerate(shards):
            params = params_of(read_safetensors(shard))
            # Disaggregated: a rank holds its own modules' parameters only;
            # a pipelined LLM's embedding lives on its first stage, the
            # rest outside the layers on its last, the homogeneous layout's
            # encoder side on the first.
            expected = sorted(n for n in ref_params
                              if placement.owns(n, rank))
            check(sorted(params) == expected,
                  f"{name}: {os.path.basename(shard)} saves world 1's "
                  f"parameters of the modules on rank {rank}")
            diff_sq = ref_sq = 0.0
            for n, (shape, t) in params.items():
                ref = local_part(ref_params[n], shape, placement, n, rank)
                diff_sq += sum((x - y) ** 2 for x, y in zip(t, ref))
                ref_sq += sum(y * y for y in ref)
                rel, elem, worst = differences(t, ref)
                if n in noise:
                    noise_diff = max(noise_diff, worst)
                else:
                    if rel > weight_diff:
                        weight_diff, worst_tensor = rel, n
                    element_diff = max(element_diff, elem)
            model_diff = max(model_diff, math.sqrt(diff_sq / ref_sq))
        check(model_diff <= TOLERANCE,
              f"{name}: final weights of every rank within {TOLERANCE:g} of "
              f"world 1 (worst {model_diff:.2e})")
        check(weight_diff <= TENSOR_TOLERANCE,
              f"{name}: every tensor within {TENSOR_TOLERANCE:g} of world 1 "
              f"(worst {weight_diff:.2e}, {worst_tensor}; element-wise "
              f"{element_diff:.2e})")
        check(noise_diff <= NOISE,
              f"{name}: parameters at rounding level ({', '.join(noise)}) "
              f"within {NOISE:g} absolute (worst {noise_diff:.2e})")
        rows.append((name, world, loss_diff, model_diff, weight_diff,
                     element_diff))

    # Variants that change where values live, not what is computed.
    same_rows = []
    for pair in a.identical:
        name, _, base = pair.partition("=")
        check(name in trained and base in trained,
              f"--identical {pair}: both plans trained")
        got, shards = trained[name]
        base_got, base_shards = trained[base]
        check(got == base_got,
              f"{name}: every step's loss bit-identical to {base}")
        worst = 0.0
        for params, ref in zip(shards, base_shards):
            check(sorted(params) == sorted(ref),
                  f"{name}: saves the parameters of {base}")
            for n, (_, t) in params.items():
                worst = max([worst] + [abs(x - y)
                                       for x, y in zip(t, ref[n][1])])
        check(worst == 0.0,
              f"{name}: final weights of every rank bit-identical to {base} "
              f"(max |diff| {worst:.2e})")
        same_rows.append((name, base, worst))

    # Too few ranks for a world-4 trainer.
    exe, world = first_dp
    wrong = max(1, world // 2)
    r = run(mpirun + ["-np", str(wrong), exe, "--steps", "1"], env=env(),
            timeout=120)
    err = r.stdout + r.stderr
    check(r.returncode == 1, f"a world-{world} trainer under mpirun -np "
          f"{wrong} exits 1 (got {r.returncode})")
    for rank in range(wrong):
        check(f"rank {rank}: program '{spec['name']}' was built for a "
              f"world of {world}, "
              f"but the job has {wrong} ranks" in err, f"rank {rank} says why")

    print()
    print(f"{'plan':<32} {'world':>5} {'max rel loss diff':>18} "
          f"{'max rel weight diff':>20} {'worst tensor':>13} "
          f"{'(element-wise)':>15}")
    for name, world, ld, md, wd, ed in rows:
        print(f"{name:<32} {world:>5} {ld:>18.2e} {md:>20.2e} {wd:>13.2e} "
              f"{ed:>15.2e}")
    if same_rows:
        print()
        print(f"{'plan':<30} {'same as':<24} {'max |weight diff|':>18}")
        for name, base, worst in same_rows:
            print(f"{name:<30} {base:<24} {worst:>18.2e}")
    print(f"\nall checks passed in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

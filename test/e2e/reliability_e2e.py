#!/usr/bin/env python3
"""Reliability of a trainer under mpirun (CPU): kill and resume, the
non-finite guard, keep-last rotation and launch errors.

Builds the tiny spec under a colocated heterogeneous plan (np 4) and checks:
  - kill and resume: a run checkpointing every step is killed with SIGKILL
    at a random moment (while training or while saving); resuming from the
    save directory continues with exactly the losses of an uninterrupted
    run. A newer checkpoint directory left half-written (a `.tmp-` save) is
    never taken as the latest; --keep-last 2 leaves two checkpoints.
  - a checkpoint whose shard is truncated is refused on --load (every rank
    exits 1 naming the file), never half-loaded;
  - non-finite guard: with NaN images on one rank at step 3
    (MIMO_FAULT_NONFINITE_STEP), every rank skips that update, the log says
    so, the run goes on with finite losses, and the state after step 3 is
    bit for bit the state after step 2 of a clean run;
  - launch errors: a missing data directory, a malformed data file and a
    memory limit the program does not fit in each stop every rank within
    seconds with exit status 1 and a message naming the cause.
The random kill point is printed (and taken from --seed) so a failure can be
replayed. Exit status 0 when every check holds.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import time

from e2e_util import run, check, must, safetensors_tensors

STEPS = 10
WORLD = 4


def env():
    e = dict(os.environ)
    e.setdefault("OMP_NUM_THREADS", "1")
    e.setdefault("OPENBLAS_NUM_THREADS", "1")
    return e


def losses(log):
    with open(log) as f:
        return {r["step"]: r for r in map(json.loads, f)}


def shards(ckpt):
    return sorted(f for f in os.listdir(ckpt) if f.endswith(".safetensors"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mimoc", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--plan", required=True)
    p.add_argument("--mpirun", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    seed = a.seed if a.seed is not None else int(time.time())
    print(f"kill-point seed: {seed} (replay with --seed {seed})")
    rng = random.Random(seed)

    exe = os.path.join(a.workdir, "trainer")
    must(run([a.mimoc, "build", a.spec, "--plan", a.plan, "--data-samples",
              "16", "-o", exe, "--build-dir", exe + "-src", "-j", "2"]),
         "mimoc build (colocated plan)")
    mpirun = [a.mpirun, "--allow-run-as-root", "--oversubscribe", "-np",
              str(WORLD), "-x", "OMP_NUM_THREADS", "-x",
              "OPENBLAS_NUM_THREADS"]

    def train(name, *args, extra_env=None, timeout=300):
        log = os.path.join(a.workdir, name + ".jsonl")
        if os.path.exists(log):
            os.remove(log)
        e = env()
        cmd = list(mpirun)
        for k, v in (extra_env or {}).items():
            e[k] = v
            cmd += ["-x", k]
        r = run(cmd + [exe, "--log-every", "100", "--json-log", log] +
                list(args), env=e, timeout=timeout)
        return r, (losses(log) if os.path.exists(log) else {})

    # The uninterrupted reference, checkpointed every step.
    ref_dir = os.path.join(a.workdir, "ref-ckpt")
    start = time.time()
    r, ref = train("ref", "--steps", str(STEPS), "--save", ref_dir,
                   "--save-every", "1")
    wall = time.time() - start
    must(r, f"uninterrupted run ({wall:.1f} s)")
    check(sorted(ref) == list(range(1, STEPS + 1)),
          f"{STEPS} steps logged")

    # Kill and resume.
    save = os.path.join(a.workdir, "ckpt")
    log = os.path.join(a.workdir, "killed.jsonl")
    # The kill point is a step and a delay after that step's log line:
    # the step's checkpoint is written right after it, so short delays kill
    # while saving, longer ones while training the next step (a wall-clock
    # point would depend on the machine's load).
    kill_step = rng.randint(2, STEPS - 3)
    delay = rng.uniform(0.0, 0.3) * wall / STEPS
    cmd = mpirun + [exe, "--steps", str(STEPS), "--save", save,
                    "--save-every", "1", "--keep-last", "2", "--log-every",
                    "100", "--json-log", log]
    print("$ " + " ".join(cmd) + f"  # SIGKILL {delay:.3f} s after the log "
          f"of step {kill_step}", flush=True)
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(log):
            with open(log) as f:
                if sum(1 for _ in f) >= kill_step:
                    break
        time.sleep(0.005)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    subprocess.run(["pkill", "-KILL", "-f", exe], check=False)
    done = losses(log) if os.path.exists(log) else {}
    check(len(done) < STEPS,
          f"the run was killed after step {max(done, default=0)} of {STEPS}")
    complete = sorted(d for d in os.listdir(save) if "." not in d) \
        if os.path.isdir(save) else []
    print(f"checkpoints at the kill: {os.listdir(save) if os.path.isdir(save) else []}")
    check(len(complete) <= 3,
          f"--keep-last 2 rotates (found {len(complete)} complete, one may "
          f"be mid-rotation)")
    # A newer save that never finished must not be taken as the latest.
    fake = os.path.join(save, "step-00000099.tmp-XXXXXX")
    os.makedirs(fake, exist_ok=True)
    with open(os.path.join(fake, "metadata.json"), "w") as f:
        f.write("{\"format_version\": 1, \"step\": 99")
    r, resumed = train("resumed", "--steps", str(STEPS), "--save", save,
                       "--save-every", "1", "--keep-last", "2", "--load",
                       save)
    must(r, "the resumed run exits 0")
    first = min(resumed) if resumed else STEPS + 1
    check(first <= max(done, default=0) + 1 or not complete,
          f"it resumes from the newest complete checkpoint (step {first - 1})")
    same = all(resumed[s]["loss"] == ref[s]["loss"] for s in resumed)
    check(resumed and max(resumed) == STEPS and same,
          f"steps {first}..{STEPS} after the resume have exactly the losses "
          f"of the uninterrupted run")
    left = sorted(os.listdir(save))
    check(left == ["step-%08d" % (STEPS - 1), "step-%08d" % STEPS],
          f"--keep-last 2 keeps the two newest and clears leftovers ({left})")

    # A truncated shard is refused.
    bad = os.path.join(a.workdir, "bad-ckpt")
    shutil.copytree(os.path.join(ref_dir, "step-%08d" % STEPS), bad)
    victim = os.path.join(bad, shards(bad)[1])
    with open(victim, "r+b") as f:
        f.truncate(os.path.getsize(victim) // 2)
    r, _ = train("bad-load", "--steps", str(STEPS + 1), "--load", bad,
                 timeout=60)
    check(r.returncode != 0 and os.path.basename(victim) in r.stderr,
          f"a truncated shard is refused, naming {os.path.basename(victim)} "
          f"(exit {r.returncode})")

    # Non-finite gradients on rank 1 at step 3.
    nan_dir = os.path.join(a.workdir, "nan-ckpt")
    r, nan = train("nonfinite", "--steps", "5", "--save", nan_dir,
                   "--save-every", "1", "--log-every", "1",
                   extra_env={"MIMO_FAULT_NONFINITE_STEP": "3",
                              "MIMO_FAULT_RANK": "1"})
    must(r, "the run with non-finite gradients at step 3 exits 0")
    check(nan[3].get("skipped") is True and nan[3]["grad_norm"] is None,
          "step 3 is logged as skipped with a non-finite gradient norm")
    check("update skipped: non-finite gradients" in r.stdout,
          "the step line says the update was skipped")
    check(all(not nan[s].get("skipped") and nan[s]["loss"] is not None
              for s in (1, 2, 4, 5)),
          "the other steps update, with finite losses")
    after3 = os.path.join(nan_dir, "step-00000003")
    after2 = os.path.join(ref_dir, "step-00000002")
    for shard in shards(after3):
        x, y = ({n: raw for n, (_, _, raw) in
                 safetensors_tensors(os.path.join(d, shard)).items()}
                for d in (after3, after2))
        check(x == y, f"{shard}: parameters and Adam moments after the "
              f"skipped step 3 are those after step 2, bit for bit")

    # Launch errors: every rank exits 1 within seconds, naming the cause.
    def launch_error(name, args, needle):
        start = time.time()
        r, _ = train(name, "--steps", "2", *args, timeout=60)
        took = time.time() - start
        check(r.returncode == 1 and needle in r.stderr and took < 30,
              f"{name}: exit {r.returncode} in {took:.1f} s, saying "
              f"'{needle}'")
    launch_error("missing-data", ["--data", os.path.join(a.workdir, "nope")],
                 "nope")
    junk = os.path.join(a.workdir, "junk-data")
    os.makedirs(junk, exist_ok=True)
    with open(os.path.join(junk, "shard-00000.safetensors"), "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    launch_error("malformed-data", ["--data", junk], "shard-00000.safetensors")
    launch_error("out-of-memory", ["--memory-limit", "1MiB"],
                 "out of memory")
    print("all checks passed")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Gradients of a trainer built by `mimoc build` against finite differences.

The spec (examples/tiny.json) is rewritten so that one optimizer step leaves
the parameters as they were and records the gradient: lr 1e-30, beta1 0 (so
Adam's first moment `.m` after step 1 is exactly the scaled gradient), no
weight decay, no clipping, a global batch of two samples drawn from a
fixed pool. The trainer runs one step and saves a checkpoint; `.m` is then
the gradient of the step's loss (the per-token mean) at the saved
parameters. For each checked parameter the script moves it by +-eps along
the unit gradient direction in copies of the checkpoint, resumes one step
from each and compares the central difference of the two losses with the
gradient's norm. Exit status 0 when every ratio is within the tolerance.
"""

import argparse
import array
import json
import math
import os
import shutil
import struct
import sys
import zlib

from e2e_util import run, check

# One parameter of every op kind: patch embedding, layer norm, attention
# (with and without RoPE), GELU and SwiGLU MLPs, RMS norm, the projector,
# the token embedding (through merge_rows), the LM head.
DEFAULT_PARAMS = [
    "vision.patch.weight", "vision.patch.positions",
    "vision.layers.attn_norm.weight", "vision.layers.attn.q.weight",
    "vision.layers.ffn.fc1.weight", "projector.fc1.weight",
    "llm.embed.weight", "llm.layers.attn.k.weight",
    "llm.layers.ffn.gate.weight", "llm.layers.attn_norm.weight",
    "llm.lm_head.weight",
]


def read_safetensors(path):
    blob = open(path, "rb").read()
    n = struct.unpack("<Q", blob[:8])[0]
    return blob[:8 + n], json.loads(blob[8:8 + n]), bytearray(blob[8 + n:])


def get(header, data, name):
    s, e = header[name]["data_offsets"]
    a = array.array("f")
    a.frombytes(bytes(data[s:e]))
    return a


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mimoc", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--params", nargs="*", default=DEFAULT_PARAMS)
    p.add_argument("--tolerance", type=float, default=0.02)
    a = p.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)

    spec = json.load(open(a.spec))
    spec["training"]["global_batch_size"] = 2
    spec["training"]["optimizer"].update(lr=1e-30, beta1=0.0,
                                         weight_decay=0.0, grad_clip=0.0)
    spec_path = os.path.join(a.workdir, "spec.json")
    json.dump(spec, open(spec_path, "w"), indent=1)
    trainer = os.path.join(a.workdir, "trainer")
    r = run([a.mimoc, "build", spec_path, "--data-samples", "2", "-o", trainer,
             "--build-dir", os.path.join(a.workdir, "src"), "-j", "2"])
    if r.returncode:
        print(r.stdout + r.stderr)
    check(r.returncode == 0, "mimoc build builds the trainer")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")

    def step(load, steps, save=None):
        log = os.path.join(a.workdir, "log.jsonl")
        cmd = [trainer, "--steps", str(steps), "--json-log", log,
               "--log-every", "100"]
        if load:
            cmd += ["--load", load]
        if save:
            cmd += ["--save", save]
        r = run(cmd, env=env)
        if r.returncode:
            print(r.stdout + r.stderr)
            check(False, "the trainer runs")
        with open(log) as f:
            return [json.loads(line) for line in f][-1]["loss"]

    saved = os.path.join(a.workdir, "ckpt")
    step(None, 1, saved)
    ckpt = os.path.join(saved, "step-00000001")
    head, header, data = read_safetensors(
        os.path.join(ckpt, "rank00000.safetensors"))

    def loss_at(name, values):
        moved = bytearray(data)
        s, e = header[name]["data_offsets"]
        moved[s:e] = array.array("f", values).tobytes()
        out = os.path.join(a.workdir, "moved")
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(ckpt, out)
        blob = head + bytes(moved)
        with open(os.path.join(out, "rank00000.safetensors"), "wb") as f:
            f.write(blob)
        meta = json.load(open(os.path.join(out, "metadata.json")))
        meta["shards"][0]["crc32"] = "%08x" % (zlib.crc32(blob) & 0xFFFFFFFF)
        meta["shards"][0]["bytes"] = len(blob)
        json.dump(meta, open(os.path.join(out, "metadata.json"), "w"))
        return step(out, 2)

    for name in a.params:
        check(name in header and name + ".m" in header,
              f"the checkpoint holds '{name}' and its first moment")
        grad = get(header, data, name + ".m")
        norm = math.sqrt(sum(g * g for g in grad))
        check(norm > 0, f"'{name}' has a gradient")
        eps = min(0.5, 2e-3 / norm)
        p0 = get(header, data, name)
        plus = loss_at(name, [x + eps * g / norm for x, g in zip(p0, grad)])
        minus = loss_at(name, [x - eps * g / norm for x, g in zip(p0, grad)])
        slope = (plus - minus) / (2 * eps)
        ratio = slope / norm
        check(abs(ratio - 1) <= a.tolerance,
              f"{name}: finite difference {slope:.5e}, gradient norm "
              f"{norm:.5e} (ratio {ratio:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The bad-input corpus: every case feeds one wrong input (a spec, a plan, a
command-line flag, a data directory, a checkpoint, a Hugging Face config, an
IR file) to a mimo tool and asserts its exit status, that its message names
the cause (a substring of stderr), and that no output file was left behind.

Cases live in cases.json, one object each:
  name      unique; the case's scratch directory
  cmd       argv; placeholders {mimoc} {mimo-opt} {trainer} {tiny} {case}
            {out} {ckpt} {data} and {FILE} for each entry of `files` (its
            name with '.' and '-' as '_')
  files     name -> text written to the case directory, or an object
            {"base": "tiny" | "plan-tp2" | "plan-colocated" | "hf", "patch":
            [[path, value], ...]} for a copy of a valid input with fields
            replaced (dotted path, list indices as numbers; value null
            deletes the field)
  data      (optional) a dataset written to {data}: {"seq_len": N, ...}
            overrides of a valid one (see write_dataset)
  ckpt_edit (optional) how to damage the copy of a valid checkpoint at
            {ckpt}: "truncate", "flip", "metadata" (text), "world"
  exit      expected exit status (1 unless said)
  stderr    substring the error output must contain
  output    (optional) path template that must not exist afterwards
            ({out} by default when the command has one)

Prints one line per case and a table of counts per category; exit status 0
when every case holds.
"""

import argparse
import copy
import json
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def patched(base, patch):
    doc = copy.deepcopy(base)
    for path, value in patch:
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = doc
        for k in keys[:-1]:
            node = node[k]
        if value is None:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return doc


def safetensors(tensors):
    """tensors: name -> (dtype, shape, bytes)."""
    header, body, offset = {}, b"", 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        body += data
        offset += len(data)
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + body


def write_dataset(path, samples=4, seq_len=128, images=2, size=32,
                  drop=None, ids_dtype="I32"):
    os.makedirs(path, exist_ok=True)
    t = {
        "pixels": ("F32", [samples, images, 3, size, size],
                   b"\0" * (4 * samples * images * 3 * size * size)),
        "input_ids": (ids_dtype, [samples, seq_len],
                      b"\0" * (4 * samples * seq_len)),
        "labels": ("I32", [samples, seq_len], b"\0" * (4 * samples * seq_len)),
    }
    if drop:
        del t[drop]
    with open(os.path.join(path, "shard-00000.safetensors"), "wb") as f:
        f.write(safetensors(t))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mimoc", required=True)
    p.add_argument("--mimo-opt", required=True)
    p.add_argument("--examples", required=True)
    p.add_argument("--plans", required=True, help="test/e2e/Inputs")
    p.add_argument("--hf-config", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--only", default=None, help="run the cases whose name "
                   "contains this")
    a = p.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")

    with open(os.path.join(HERE, "cases.json")) as f:
        cases = json.load(f)
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit(f"cases.json: duplicate case names {sorted(dup)}")

    tiny = os.path.join(a.examples, "tiny.json")
    bases = {}
    with open(tiny) as f:
        bases["tiny"] = json.load(f)
    for key, file in (("plan-tp2", "tiny-tp2.json"),
                      ("plan-colocated", "tiny-colocated-fan-in.json"),
                      ("plan-disaggregated", "tiny-disaggregated.json")):
        with open(os.path.join(a.plans, file)) as f:
            bases[key] = json.load(f)
    with open(a.hf_config) as f:
        bases["hf"] = json.load(f)

    # A world-1 trainer of the tiny spec and one checkpoint of it.
    trainer = os.path.join(a.workdir, "trainer")
    r = subprocess.run([a.mimoc, "build", tiny, "-o", trainer, "--build-dir",
                        trainer + "-src", "-j", "2"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.exit("building the tiny trainer failed:\n" + r.stderr)
    good_ckpt = os.path.join(a.workdir, "good-ckpt")
    r = subprocess.run([trainer, "--steps", "1", "--save", good_ckpt,
                        "--log-every", "100"], capture_output=True, text=True,
                       env=env)
    if r.returncode != 0:
        sys.exit("a one-step run of the tiny trainer failed:\n" + r.stderr)
    good_ckpt = os.path.join(good_ckpt, "step-00000001")

    failures, counts = [], {}
    for case in cases:
        name = case["name"]
        if a.only and a.only not in name:
            continue
        d = os.path.join(a.workdir, "cases", name)
        os.makedirs(d)
        subs = {"mimoc": a.mimoc, "mimo-opt": a.mimo_opt, "trainer": trainer,
                "tiny": tiny, "case": d, "out": os.path.join(d, "out"),
                "data": os.path.join(d, "data"),
                "ckpt": os.path.join(d, "ckpt")}
        for fname, content in case.get("files", {}).items():
            path = os.path.join(d, fname)
            subs[fname.replace(".", "_").replace("-", "_")] = path
            if isinstance(content, dict):
                content = json.dumps(patched(bases[content["base"]],
                                             content.get("patch", [])),
                                     indent=1)
            with open(path, "w") as f:
                f.write(content)
        if "data" in case:
            write_dataset(subs["data"], **case["data"])
        if "ckpt_edit" in case:
            ck = subs["ckpt"]
            shutil.copytree(good_ckpt, ck)
            edit = case["ckpt_edit"]
            shard = os.path.join(ck, "rank00000.safetensors")
            meta = os.path.join(ck, "metadata.json")
            if edit == "truncate":
                with open(shard, "r+b") as f:
                    f.truncate(os.path.getsize(shard) // 3)
            elif edit == "flip":
                with open(shard, "r+b") as f:
                    f.seek(os.path.getsize(shard) - 7)
                    byte = f.read(1)
                    f.seek(-1, 1)
                    f.write(bytes([byte[0] ^ 0x40]))
            elif edit == "world":
                with open(meta) as f:
                    m = json.load(f)
                m["world_size"] = 4
                with open(meta, "w") as f:
                    json.dump(m, f)
            elif edit == "no-metadata":
                os.remove(meta)
            else:
                with open(meta, "w") as f:
                    f.write(edit)
        cmd = [c.format(**subs) for c in case["cmd"]]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, env=env,
                               timeout=120)
        except subprocess.TimeoutExpired:
            failures.append((name, "timed out (a hang)"))
            print(f"FAIL {name}: timed out")
            continue
        want_exit = case.get("exit", 1)
        out = case.get("output", "{out}" if "{out}" in case["cmd"] else None)
        left = out and os.path.exists(out.format(**subs))
        problems = []
        if r.returncode != want_exit:
            problems.append(f"exit {r.returncode}, expected {want_exit}")
        if case["stderr"] not in r.stderr:
            problems.append(f"stderr lacks {case['stderr']!r}")
        if left:
            problems.append(f"left {out.format(**subs)} behind")
        category = name.split("-")[0]
        counts.setdefault(category, [0, 0])
        counts[category][0] += 1
        first = (r.stderr.strip().splitlines() or [""])[0]
        if problems:
            failures.append((name, "; ".join(problems)))
            print(f"FAIL {name}: {'; '.join(problems)}\n  $ {' '.join(cmd)}"
                  f"\n  stderr: {r.stderr.strip()[:600]}")
        else:
            counts[category][1] += 1
            print(f"ok   {name}: exit {r.returncode}: {first[:150]}")

    print("\ncategory     cases  passed")
    for k in sorted(counts):
        print(f"{k:<12} {counts[k][0]:>5}  {counts[k][1]:>6}")
    total = sum(c[0] for c in counts.values())
    print(f"{'all':<12} {total:>5}  {total - len(failures):>6}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Helpers the end-to-end test scripts share: run a command, check a
condition (printing ok/FAIL, exit 1 on failure), require a zero exit."""

import json
import struct
import subprocess
import sys


def run(cmd, echo=True, **kwargs):
    if echo:
        print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, text=True, capture_output=True, **kwargs)


def check(ok, message):
    if not ok:
        print("FAIL: " + message, flush=True)
        sys.exit(1)
    print("ok: " + message, flush=True)


def must(r, what):
    if r.returncode != 0:
        print(r.stdout + r.stderr)
    check(r.returncode == 0, what)
    return r.stdout


def safetensors_tensors(path):
    """{name: (dtype, shape, raw bytes)} of every tensor of a .safetensors
    file."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    return {n: (i["dtype"], i["shape"],
                body[i["data_offsets"][0]:i["data_offsets"][1]])
            for n, i in header.items() if n != "__metadata__"}

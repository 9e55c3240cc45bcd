"""Helpers the end-to-end test scripts share: run a command, check a
condition (printing ok/FAIL, exit 1 on failure), require a zero exit."""

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

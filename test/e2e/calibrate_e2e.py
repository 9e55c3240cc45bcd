#!/usr/bin/env python3
"""mimo-calibrate end to end on the CPU: it measures this machine, writes a
calibration file `mimoc plan --calibration` accepts (and that changes the
prediction), measures all-reduce under mpirun, and refuses bad flags with
exit 1 and nothing written."""

import argparse
import json
import os

from e2e_util import check, must, run


def has_gpu():
    try:
        return run(["nvidia-smi", "-L"], echo=False).returncode == 0
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calibrate", required=True)
    ap.add_argument("--mimoc", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--mpirun", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    one = os.path.join(a.workdir, "cpu-1.json")
    two = os.path.join(a.workdir, "cpu-2.json")
    for p in (one, two):
        if os.path.exists(p):
            os.remove(p)

    out = must(run([a.calibrate, "--quick", "-o", one]), "calibrate one rank")
    cal = json.load(open(one))
    for key in ("gemm_efficiency", "attention_fwd_efficiency",
                "attention_bwd_efficiency", "hbm_efficiency",
                "kernel_launch_us"):
        check(key in cal and key in cal["sources"],
              f"{key} measured, with its source")
    effs = [s["efficiency"] for s in cal["gemm_efficiency"]]
    effs += [cal[k] for k in ("attention_fwd_efficiency",
                              "attention_bwd_efficiency", "hbm_efficiency")]
    check(all(0 < e <= 1 for e in effs), f"efficiencies in (0, 1]: {effs}")
    check(cal["gemm_efficiency"][-1]["min_gflops"] == 0,
          "the GEMM curve covers every size")
    check("GEMM:" in out and "attention fit" in out, "a human report")
    check(not os.path.exists(one + ".tmp"), "no temporary left behind")

    must(run([a.mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2",
              a.calibrate, "--quick", "-o", two]), "calibrate two ranks")
    cal2 = json.load(open(two))
    check("nvlink_efficiency" in cal2 and "intra_node_latency_us" in cal2,
          "two ranks on one node measure the intra-node link")

    base = ["plan", a.spec, "--hardware", "cpu", "--gpus", "1",
            "--gpus-per-node", "1", "--evaluate", a.plan, "--json"]
    plain = json.loads(must(run([a.mimoc] + base), "plan, uncalibrated"))
    calibrated = json.loads(must(run([a.mimoc] + base + ["--calibration", one]),
                                 "plan --calibration accepts the file"))
    p0 = plain["prediction"]["iteration_ms"]
    p1 = calibrated["prediction"]["iteration_ms"]
    check(p0 != p1, f"the calibration changes the prediction ({p0} -> {p1} ms)")
    must(run([a.mimoc, "plan", a.spec, "--hardware", "cpu", "--gpus", "2",
              "--gpus-per-node", "2", "--calibration", two]),
         "plan --calibration accepts the two-rank file")

    bad = [
        (["--device", "gpu"], "--device: 'gpu' is not cpu or cuda"),
        (["--dtype", "f16"], "--dtype: 'f16' is not f32 or bf16"),
        (["--dtype", "bf16"], "'bf16' is not available on the cpu"),
        (["--hardware", "/nonexistent/hw.json"], "cannot read"),
        (["--hardware", "no-such-machine"], "--hardware"),
        (["--link", "both"], "--link: 'both'"),
        (["--frobnicate"], "unknown argument '--frobnicate'"),
        (["-o"], "-o: expected a value"),
        (["--quick", "-o", "/nonexistent-dir/cal.json"], "cannot write"),
    ]
    if not has_gpu():
        bad.append((["--device", "cuda", "--quick"], "no CUDA device"))
    for args, message in bad:
        r = run([a.calibrate] + args)
        check(r.returncode == 1 and message in r.stderr,
              f"{' '.join(args)}: exit 1 and '{message}' "
              f"(got {r.returncode}: {r.stderr.strip()[:200]})")
    check(not os.path.exists("/nonexistent-dir/cal.json.tmp"),
          "nothing half-written")
    print("calibration: all checks passed")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The CUDA kernels beside their references, in one run on one GPU.

Runs mimo_kernels_cuda_bench (JSON), times PyTorch's
scaled_dot_product_attention forward + backward on the attention shapes of
that run, and prints one table: GEMM through mimo vs cublasGemmEx (target
>= 95%), attention vs SDPA (target >= 70%), memory-bound kernels as a
fraction of HBM bandwidth (target >= 70%).

  python3 kernels/bench/compare_cuda.py --bench BUILD/bench/mimo_kernels_cuda_bench
"""
import argparse
import json
import re
import subprocess
import sys


def run_bench(path, extra):
    out = subprocess.run([path, "--benchmark_format=json",
                          "--benchmark_min_time=0.2s"] + extra,
                         check=True, capture_output=True, text=True).stdout
    rows = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("error_occurred"):
            sys.exit(f"{b['name']}: {b.get('error_message')}")
        rows[b["name"]] = b
    return rows


def args_of(name):
    return dict((k, int(v)) for k, v in re.findall(r"(\w+):(\d+)", name))


def sdpa_ms(s, h, kv, d, causal, reps=20):
    import torch
    import torch.nn.functional as F
    dev = "cuda"
    q = torch.randn(1, h, s, d, device=dev, dtype=torch.bfloat16,
                    requires_grad=True)
    k = torch.randn(1, kv, s, d, device=dev, dtype=torch.bfloat16,
                    requires_grad=True)
    v = torch.randn(1, kv, s, d, device=dev, dtype=torch.bfloat16,
                    requires_grad=True)
    g = torch.randn(1, h, s, d, device=dev, dtype=torch.bfloat16)
    kw = {"is_causal": bool(causal)}
    if kv != h:
        kw["enable_gqa"] = True

    def step():
        o = F.scaled_dot_product_attention(q, k, v, **kw)
        o.backward(g)

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(reps):
        start.record()
        step()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--no-torch", action="store_true")
    a = ap.parse_args()
    rows = run_bench(a.bench, [])
    ms = lambda r: r["real_time"] * {"ms": 1.0, "us": 1e-3, "ns": 1e-6}[r["time_unit"]]

    print("| GEMM (bf16) M x N x K | cuBLAS TFLOP/s | mimo gemm | mimo linear+bias | gemm/cuBLAS |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        if not name.startswith("BM_CublasGemm/"):
            continue
        tail = name[len("BM_CublasGemm/"):]
        mg = rows.get("BM_MimoGemm/" + tail)
        ml = rows.get("BM_MimoLinearBias/" + tail)
        x = args_of(tail)
        t = lambda b: b["FLOP/s"] / 1e12
        print(f"| {x['M']} x {x['N']} x {x['K']} | {t(r):.0f} | {t(mg):.0f} | "
              f"{t(ml):.0f} | {t(mg) / t(r):.1%} |")

    print()
    print("| attention fwd+bwd (bf16) S, H, KV, D, causal | mimo ms | SDPA ms | mimo/SDPA speed |")
    print("|---|---|---|---|")
    for name, r in rows.items():
        if not name.startswith("BM_AttentionFwdBwd/"):
            continue
        x = args_of(name)
        ref = None if a.no_torch else sdpa_ms(x["S"], x["H"], x["KV"], x["D"],
                                              x["causal"])
        ratio = f"{ref / ms(r):.1%}" if ref else "-"
        print(f"| {x['S']}, {x['H']}, {x['KV']}, {x['D']}, {x['causal']} | "
              f"{ms(r):.2f} | {ref and f'{ref:.2f}' or '-'} | {ratio} |")

    print()
    print("| memory-bound kernel | GB/s | fraction of HBM |")
    print("|---|---|---|")
    for name, r in rows.items():
        if "hbm_fraction" in r:
            print(f"| {name.replace('/manual_time', '')} | "
                  f"{r['bytes_per_second'] / 1e9:.0f} | {r['hbm_fraction']:.1%} |")


if __name__ == "__main__":
    main()

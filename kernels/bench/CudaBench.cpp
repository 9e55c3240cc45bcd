//===- CudaBench.cpp - The CUDA kernels on the GPU ------------------------===//
//
// Timed with CUDA events (manual time), bf16 data. Rows come in pairs or
// carry their reference as a counter:
//   - BM_CublasGemm (cublasGemmEx called directly) beside BM_MimoGemm and
//     BM_MimoLinear (the same shapes through the Kernels interface);
//   - BM_AttentionFwdBwd: forward + backward; bench/cuda/compare.py puts
//     PyTorch's scaled_dot_product_attention on the same shapes beside it;
//   - memory-bound kernels report bytes_per_second and hbm_fraction (of the
//     HBM bandwidth MIMO_BENCH_HBM_GBPS, default 4800 for an H200).
// Without a visible device every benchmark reports an error row and exits.
//
//===----------------------------------------------------------------------===//

#include "mimo/kernels/CudaKernels.h"

#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

namespace mimo::kernels::bench {
namespace {

double hbmBytesPerSecond() {
  const char *env = std::getenv("MIMO_BENCH_HBM_GBPS");
  return (env ? std::atof(env) : 4800.0) * 1e9;
}

bool haveGpu() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return n > 0;
}

/// Device memory filled with N(0, scale) values of the given type.
struct DeviceBuffer {
  void *p = nullptr;
  size_t bytes = 0;
  DeviceBuffer(int64_t n, DType t, float scale = 1.0f, uint32_t seed = 1) {
    bytes = size_t(n) * dtypeSize(t);
    cudaMalloc(&p, bytes < 16 ? 16 : bytes);
    std::mt19937 gen(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    if (t == DType::BF16) {
      std::vector<__nv_bfloat16> h(static_cast<size_t>(n));
      for (auto &x : h)
        x = __float2bfloat16(dist(gen));
      cudaMemcpy(p, h.data(), bytes, cudaMemcpyHostToDevice);
    } else if (t == DType::F32) {
      std::vector<float> h(static_cast<size_t>(n));
      for (auto &x : h)
        x = dist(gen);
      cudaMemcpy(p, h.data(), bytes, cudaMemcpyHostToDevice);
    } else {
      cudaMemset(p, 0, bytes);
    }
  }
  ~DeviceBuffer() { cudaFree(p); }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  TensorView view(DType t, std::initializer_list<int64_t> dims) const {
    return TensorView(p, t, dims);
  }
};

/// Times `body` with events on the default stream, one iteration each.
template <typename F> void timed(benchmark::State &state, F &&body) {
  if (!haveGpu()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  if (!body().ok()) { // warm up
    state.SkipWithError("the warm-up call failed");
    return;
  }
  for (auto _ : state) {
    cudaEventRecord(start);
    rt::Status s = body();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    if (!s.ok()) {
      state.SkipWithError(s.toString().c_str());
      break;
    }
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(double(ms) / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

std::unique_ptr<Kernels> kernelsOrSkip(benchmark::State &state) {
  if (!haveGpu()) {
    state.SkipWithError("no CUDA device");
    return nullptr;
  }
  auto k = createCudaKernels(nullptr);
  if (!k.ok()) {
    state.SkipWithError(k.status().toString().c_str());
    return nullptr;
  }
  return std::move(k).value();
}

void gemmShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"M", "N", "K"});
  for (auto s : std::vector<std::vector<int64_t>>{{8192, 4096, 4096},
                                                  {8192, 11008, 4096},
                                                  {8192, 4096, 11008},
                                                  {4096, 1024, 1024}})
    b->Args(s);
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

void setGemmCounters(benchmark::State &state, int64_t m, int64_t n, int64_t k) {
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * double(m) * double(n) * double(k),
                         benchmark::Counter::kIsIterationInvariantRate);
}

void BM_CublasGemm(benchmark::State &state) {
  int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  if (!haveGpu()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  DeviceBuffer a(m * k, DType::BF16), b(k * n, DType::BF16),
      c(m * n, DType::BF16);
  cublasHandle_t h;
  cublasCreate(&h);
  float alpha = 1.0f, beta = 0.0f;
  timed(state, [&] {
    // Row-major c = a @ b is column-major c^T = b^T a^T.
    cublasStatus_t s = cublasGemmEx(
        h, CUBLAS_OP_N, CUBLAS_OP_N, int(n), int(m), int(k), &alpha, b.p,
        CUDA_R_16BF, int(n), a.p, CUDA_R_16BF, int(k), &beta, c.p, CUDA_R_16BF,
        int(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    return s == CUBLAS_STATUS_SUCCESS
               ? rt::Status::success()
               : rt::internalError("cublasGemmEx failed");
  });
  cublasDestroy(h);
  setGemmCounters(state, m, n, k);
}
BENCHMARK(BM_CublasGemm)->Apply(gemmShapes);

void BM_MimoGemm(benchmark::State &state) {
  int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  DeviceBuffer a(m * k, DType::BF16), b(k * n, DType::BF16),
      c(m * n, DType::BF16);
  TensorView av = a.view(DType::BF16, {m, k}), bv = b.view(DType::BF16, {k, n}),
             cv = c.view(DType::BF16, {m, n});
  timed(state,
        [&] { return kern->gemm(false, false, 1.0f, av, bv, 0.0f, cv); });
  setGemmCounters(state, m, n, k);
}
BENCHMARK(BM_MimoGemm)->Apply(gemmShapes);

void BM_MimoLinearBias(benchmark::State &state) {
  int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  DeviceBuffer x(m * k, DType::BF16), w(k * n, DType::BF16),
      bias(n, DType::BF16), y(m * n, DType::BF16);
  TensorView xv = x.view(DType::BF16, {m, k}), wv = w.view(DType::BF16, {k, n}),
             bv = bias.view(DType::BF16, {n}), yv = y.view(DType::BF16, {m, n});
  timed(state, [&] { return kern->linearForward(xv, wv, bv, yv, false); });
  setGemmCounters(state, m, n, k);
}
BENCHMARK(BM_MimoLinearBias)->Apply(gemmShapes);

/// S, heads, kv heads, head dim, causal.
void attentionShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"S", "H", "KV", "D", "causal"});
  for (auto s : std::vector<std::vector<int64_t>>{{4096, 32, 32, 128, 1},
                                                  {4096, 32, 8, 128, 1},
                                                  {8192, 16, 16, 64, 1},
                                                  {1024, 16, 16, 64, 0},
                                                  {2048, 16, 16, 128, 0}})
    b->Args(s);
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}

void BM_AttentionFwdBwd(benchmark::State &state) {
  AttentionParams p;
  int64_t s = state.range(0);
  p.qHeads = state.range(1);
  p.kvHeads = state.range(2);
  p.headDim = state.range(3);
  p.causal = state.range(4) != 0;
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  int64_t qw = p.qHeads * p.headDim, kw = p.kvHeads * p.headDim;
  DeviceBuffer q(s * qw, DType::BF16), k(s * kw, DType::BF16),
      v(s * kw, DType::BF16), out(s * qw, DType::BF16),
      lse(s * p.qHeads, DType::F32), dout(s * qw, DType::BF16),
      dq(s * qw, DType::BF16), dk(s * kw, DType::BF16), dv(s * kw, DType::BF16);
  size_t wsBytes = kern->attentionBackwardWorkspaceBytes(p, s);
  DeviceBuffer ws(int64_t(wsBytes), DType::U8);
  auto Q = q.view(DType::BF16, {s, qw}), K = k.view(DType::BF16, {s, kw}),
       V = v.view(DType::BF16, {s, kw}), O = out.view(DType::BF16, {s, qw}),
       L = lse.view(DType::F32, {s, p.qHeads}),
       dO = dout.view(DType::BF16, {s, qw}), dQ = dq.view(DType::BF16, {s, qw}),
       dK = dk.view(DType::BF16, {s, kw}), dV = dv.view(DType::BF16, {s, kw});
  timed(state, [&] {
    MIMO_RETURN_IF_ERROR(kern->attentionForward(p, Q, K, V, O, L));
    return kern->attentionBackward(p, Q, K, V, O, L, dO, dQ, dK, dV,
                                   Workspace{ws.p, wsBytes});
  });
  // 4 S^2 H D forward (QK^T and PV), 2.5x that for the backward; causal
  // halves both.
  double fwd = 4.0 * double(s) * double(s) * double(p.qHeads * p.headDim);
  if (p.causal)
    fwd /= 2.0;
  state.counters["FLOP/s"] = benchmark::Counter(
      3.5 * fwd, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AttentionFwdBwd)->Apply(attentionShapes);

void memoryCounters(benchmark::State &state, double bytes) {
  state.SetBytesProcessed(int64_t(bytes) * int64_t(state.iterations()));
  state.counters["hbm_fraction"] =
      benchmark::Counter(bytes / hbmBytesPerSecond(),
                         benchmark::Counter::kIsIterationInvariantRate);
}

void rowShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"T", "H"});
  b->Args({16384, 4096})->Args({16384, 8192});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

void BM_LayerNormForward(benchmark::State &state) {
  int64_t t = state.range(0), h = state.range(1);
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  DeviceBuffer x(t * h, DType::BF16), g(h, DType::BF16), b(h, DType::BF16),
      y(t * h, DType::BF16), mean(t, DType::F32), rstd(t, DType::F32);
  timed(state, [&] {
    return kern->layerNormForward(
        x.view(DType::BF16, {t, h}), g.view(DType::BF16, {h}),
        b.view(DType::BF16, {h}), 1e-5f, y.view(DType::BF16, {t, h}),
        mean.view(DType::F32, {t}), rstd.view(DType::F32, {t}));
  });
  memoryCounters(state,
                 2.0 * 2.0 * double(t * h)); // read x (twice cached) + write y
}
BENCHMARK(BM_LayerNormForward)->Apply(rowShapes);

void BM_RmsNormForward(benchmark::State &state) {
  int64_t t = state.range(0), h = state.range(1);
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  DeviceBuffer x(t * h, DType::BF16), g(h, DType::BF16), y(t * h, DType::BF16),
      rstd(t, DType::F32);
  timed(state, [&] {
    return kern->rmsNormForward(
        x.view(DType::BF16, {t, h}), g.view(DType::BF16, {h}), 1e-6f,
        y.view(DType::BF16, {t, h}), rstd.view(DType::F32, {t}));
  });
  memoryCounters(state, 2.0 * 2.0 * double(t * h));
}
BENCHMARK(BM_RmsNormForward)->Apply(rowShapes);

void elementShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"N"});
  b->Arg(int64_t(1) << 26);
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

void BM_GeluForward(benchmark::State &state) {
  int64_t n = state.range(0);
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  DeviceBuffer x(n, DType::BF16), y(n, DType::BF16);
  timed(state, [&] {
    return kern->geluForward(x.view(DType::BF16, {n}),
                             y.view(DType::BF16, {n}));
  });
  memoryCounters(state, 4.0 * double(n));
}
BENCHMARK(BM_GeluForward)->Apply(elementShapes);

void BM_SwigluForward(benchmark::State &state) {
  int64_t n = state.range(0);
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  DeviceBuffer g(n, DType::BF16), u(n, DType::BF16), o(n, DType::BF16);
  timed(state, [&] {
    return kern->swigluForward(g.view(DType::BF16, {n}),
                               u.view(DType::BF16, {n}),
                               o.view(DType::BF16, {n}));
  });
  memoryCounters(state, 6.0 * double(n));
}
BENCHMARK(BM_SwigluForward)->Apply(elementShapes);

void BM_AdamStep(benchmark::State &state) {
  int64_t n = state.range(0);
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  DeviceBuffer w(n, DType::F32), g(n, DType::F32), m(n, DType::F32),
      v(n, DType::F32, 0.0f);
  AdamParams p;
  timed(state, [&] {
    return kern->adamStep(p, w.view(DType::F32, {n}), g.view(DType::F32, {n}),
                          m.view(DType::F32, {n}), v.view(DType::F32, {n}));
  });
  memoryCounters(state, 4.0 * 7.0 * double(n)); // read w g m v, write w m v
}
BENCHMARK(BM_AdamStep)->Apply(elementShapes);

void BM_RopeForward(benchmark::State &state) {
  int64_t n = state.range(0);
  int64_t d = 128, heads = 32, s = n / (heads * d);
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  DeviceBuffer x(n, DType::BF16);
  TensorView xv = x.view(DType::BF16, {s, heads * d});
  timed(state,
        [&] { return kern->ropeForward(xv, xv, heads, d, 0, 10000.0f); });
  memoryCounters(state, 4.0 * double(n));
}
BENCHMARK(BM_RopeForward)->Apply(elementShapes);

void BM_CrossEntropyForward(benchmark::State &state) {
  int64_t t = 8192, v = state.range(0);
  auto kern = kernelsOrSkip(state);
  if (!kern)
    return;
  DeviceBuffer logits(t * v, DType::BF16), labels(t, DType::I32),
      loss(1, DType::F32), count(1, DType::I32), lse(t, DType::F32);
  timed(state, [&] {
    return kern->crossEntropyForward(
        logits.view(DType::BF16, {t, v}), labels.view(DType::I32, {t}),
        loss.view(DType::F32, {1}), count.view(DType::I32, {1}),
        lse.view(DType::F32, {t}));
  });
  memoryCounters(state, 2.0 * 2.0 * double(t * v)); // two passes over logits
}
BENCHMARK(BM_CrossEntropyForward)
    ->ArgName("V")
    ->Arg(32000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace mimo::kernels::bench

//===- GemmBench.cpp - The linear kernel beside raw cblas_sgemm -----------===//
//
// Same shapes, same buffers: BM_RawSgemm is the BLAS alone, BM_Linear* go
// through the Kernels interface (validation + the same sgemm call). Args are
// {T, in, out}: x [T, in] @ W [in, out], i.e. M = T, K = in, N = out.
//
//===----------------------------------------------------------------------===//

#include "BenchUtil.h"

#include <cblas.h>

namespace mimo::kernels::bench {
namespace {

void shapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"T", "in", "out"});
  b->Args({512, 512, 512});
  b->Args({1024, 1024, 1024});
  b->Args({2048, 768, 3072});
  b->Unit(benchmark::kMillisecond);
  b->UseRealTime();
}

void BM_RawSgemm(benchmark::State &state) {
  int64_t t = state.range(0), in = state.range(1), out = state.range(2);
  Vec x = randn(t * in, 1), w = randn(in * out, 2), y(t * out);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(t), int(out),
                int(in), 1.0f, x.data(), int(in), w.data(), int(out), 0.0f,
                y.data(), int(out));
    benchmark::DoNotOptimize(y.data());
  }
  rates(state, 2.0 * t * in * out, 0);
}
BENCHMARK(BM_RawSgemm)->Apply(shapes);

void BM_LinearForward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), in = state.range(1), out = state.range(2);
  Vec x = randn(t * in, 1), w = randn(in * out, 2), y(t * out);
  for (auto _ : state) {
    check(state, K->linearForward(view(x, {t, in}), view(w, {in, out}), {},
                                  view(y, {t, out}), false));
    benchmark::DoNotOptimize(y.data());
  }
  rates(state, 2.0 * t * in * out, 0);
}
BENCHMARK(BM_LinearForward)->Apply(shapes);

void BM_LinearForwardBias(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), in = state.range(1), out = state.range(2);
  Vec x = randn(t * in, 1), w = randn(in * out, 2), b = randn(out, 3),
      y(t * out);
  for (auto _ : state) {
    check(state, K->linearForward(view(x, {t, in}), view(w, {in, out}),
                                  view(b, {out}), view(y, {t, out}), false));
    benchmark::DoNotOptimize(y.data());
  }
  rates(state, 2.0 * t * in * out, 0);
}
BENCHMARK(BM_LinearForwardBias)->Apply(shapes);

void BM_LinearForwardTransposedW(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), in = state.range(1), out = state.range(2);
  Vec x = randn(t * in, 1), w = randn(in * out, 2), y(t * out);
  for (auto _ : state) {
    check(state, K->linearForward(view(x, {t, in}), view(w, {out, in}), {},
                                  view(y, {t, out}), true));
    benchmark::DoNotOptimize(y.data());
  }
  rates(state, 2.0 * t * in * out, 0);
}
BENCHMARK(BM_LinearForwardTransposedW)->Apply(shapes);

// dx and dW: two GEMMs of the forward's size.
void BM_LinearBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), in = state.range(1), out = state.range(2);
  Vec x = randn(t * in, 1), w = randn(in * out, 2), dy = randn(t * out, 3),
      dx(t * in), dw(in * out, 0.0f);
  for (auto _ : state) {
    check(state, K->linearBackward(view(x, {t, in}), view(w, {in, out}),
                                   view(dy, {t, out}), view(dx, {t, in}),
                                   view(dw, {in, out}), {}, false));
    benchmark::DoNotOptimize(dw.data());
  }
  rates(state, 4.0 * t * in * out, 0);
}
BENCHMARK(BM_LinearBackward)->Apply(shapes);

} // namespace
} // namespace mimo::kernels::bench

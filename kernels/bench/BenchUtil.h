//===- BenchUtil.h - Helpers for the kernel benchmarks ----------*- C++ -*-===//

#ifndef MIMO_KERNELS_BENCH_BENCHUTIL_H
#define MIMO_KERNELS_BENCH_BENCHUTIL_H

#include "mimo/kernels/Kernels.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

namespace mimo::kernels::bench {

using Vec = std::vector<float>;

inline Vec randn(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Vec v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}

inline TensorView view(Vec &v, std::initializer_list<int64_t> dims) {
  return TensorView::f32(v.data(), dims);
}
inline TensorView view(std::vector<int32_t> &v,
                       std::initializer_list<int64_t> dims) {
  return TensorView::i32(v.data(), dims);
}

/// Fails the benchmark run on an error Status.
inline void check(benchmark::State &state, const rt::Status &s) {
  if (!s.ok())
    state.SkipWithError(s.toString().c_str());
}

/// Reports FLOP/s (flops per iteration) and bytes/s.
inline void rates(benchmark::State &state, double flops, double bytes) {
  if (flops > 0)
    state.counters["FLOP/s"] =
        benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                           benchmark::Counter::kIs1000);
  if (bytes > 0)
    state.SetBytesProcessed(int64_t(bytes) * state.iterations());
}

} // namespace mimo::kernels::bench

#endif // MIMO_KERNELS_BENCH_BENCHUTIL_H

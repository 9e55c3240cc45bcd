//===- Elementwise.cpp - add, scale, sum of squares -----------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <vector>

namespace mimo::kernels::cpu {
namespace {

// Fixed chunks, independent of the thread count, keep the sum of squares
// reproducible: per-chunk partials in double, added in chunk order.
constexpr int64_t kChunk = 1 << 14;

template <typename F> void chunked(int64_t n, F &&body) {
  parallelFor((n + kChunk - 1) / kChunk, [&](int64_t i) {
    int64_t b = i * kChunk;
    body(i, b, std::min(n, b + kChunk));
  });
}

} // namespace

Status CpuKernels::add(const TensorView &a, const TensorView &b,
                       const TensorView &out) {
  const char *K = "add";
  MIMO_RETURN_IF_ERROR(checkDType(K, "a", a, DType::F32));
  MIMO_RETURN_IF_ERROR(checkLike(K, "b", b, "a", a));
  MIMO_RETURN_IF_ERROR(checkLike(K, "out", out, "a", a));
  const float *ap = a.f32(), *bp = b.f32();
  float *o = out.f32();
  chunked(a.numel(), [&](int64_t, int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i)
      o[i] = ap[i] + bp[i];
  });
  return Status::success();
}

Status CpuKernels::scale(const TensorView &x, float alpha,
                         const TensorView &out) {
  const char *K = "scale";
  MIMO_RETURN_IF_ERROR(checkDType(K, "x", x, DType::F32));
  MIMO_RETURN_IF_ERROR(checkLike(K, "out", out, "x", x));
  const float *xp = x.f32();
  float *o = out.f32();
  chunked(x.numel(), [&](int64_t, int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i)
      o[i] = alpha * xp[i];
  });
  return Status::success();
}

Status CpuKernels::sumSquares(const TensorView &x, const TensorView &out,
                              bool accumulate) {
  const char *K = "sum_squares";
  MIMO_RETURN_IF_ERROR(checkDType(K, "x", x, DType::F32));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "out", out, DType::F32, {1}));
  int64_t n = x.numel();
  const float *xp = x.f32();
  std::vector<double> partial(size_t((n + kChunk - 1) / kChunk), 0.0);
  chunked(n, [&](int64_t c, int64_t s, int64_t e) {
    double acc = 0.0;
    for (int64_t i = s; i < e; ++i)
      acc += double(xp[i]) * xp[i];
    partial[c] = acc;
  });
  double total = accumulate ? double(out.f32()[0]) : 0.0;
  for (double p : partial)
    total += p;
  out.f32()[0] = float(total);
  return Status::success();
}

} // namespace mimo::kernels::cpu

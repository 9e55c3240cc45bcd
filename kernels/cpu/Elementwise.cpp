//===- Elementwise.cpp - add, scale, sum of squares -----------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <cstring>
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

namespace {
float bf16ToFloat(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t floatToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN stays a (quiet) NaN
    return uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u); // round to nearest even
  return uint16_t(u >> 16);
}
} // namespace

// The one CPU kernel that reads and writes bf16: it moves data between the
// f32 master weights and the bf16 copies a mixed-precision program keeps.
Status CpuKernels::convert(const TensorView &x, const TensorView &y) {
  const char *K = "convert";
  for (auto [name, t] :
       {std::pair<const char *, const TensorView *>{"x", &x}, {"y", &y}})
    MIMO_RETURN_IF_ERROR(checkThat(
        t->defined() && (t->dtype == DType::F32 || t->dtype == DType::BF16), K,
        std::string("argument '") + name + "': expected f32 or bf16, found " +
            (t->defined() ? t->str() : std::string("none"))));
  bool same = x.rank == y.rank;
  for (int i = 0; same && i < x.rank; ++i)
    same = x.shape[i] == y.shape[i];
  MIMO_RETURN_IF_ERROR(checkThat(same, K,
                                 "argument 'y': expected the shape of 'x' " +
                                     x.str() + ", found " + y.str()));
  int64_t n = x.numel();
  if (x.dtype == y.dtype) {
    if (x.data != y.data)
      std::memmove(y.data, x.data, x.bytes());
  } else if (x.dtype == DType::F32) {
    const float *src = x.f32();
    auto *dst = static_cast<uint16_t *>(y.data);
    for (int64_t i = 0; i < n; ++i)
      dst[i] = floatToBf16(src[i]);
  } else {
    const auto *src = static_cast<const uint16_t *>(x.data);
    float *dst = y.f32();
    for (int64_t i = 0; i < n; ++i)
      dst[i] = bf16ToFloat(src[i]);
  }
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

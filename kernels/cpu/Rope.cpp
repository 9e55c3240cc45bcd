//===- Rope.cpp - Rotary position embedding (rotate-half) -----------------===//
//
// Angles are computed in double from the global position (pos0 + s), so a
// chunk of a sequence gets bit-identical rotations to the full sequence at
// the same positions (context parallelism relies on it).
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <cmath>
#include <string>
#include <vector>

namespace mimo::kernels::cpu {
namespace {

Status validate(const char *K, const TensorView &x, const char *xName,
                const TensorView &y, const char *yName, int64_t heads,
                int64_t headDim, int64_t pos0, float theta) {
  MIMO_RETURN_IF_ERROR(checkThat(
      heads > 0 && headDim > 0 && headDim % 2 == 0, K,
      "heads must be positive and head dim positive and even, found heads=" +
          std::to_string(heads) + " headDim=" + std::to_string(headDim)));
  MIMO_RETURN_IF_ERROR(checkThat(
      pos0 >= 0, K, "pos0 must be >= 0, found " + std::to_string(pos0)));
  MIMO_RETURN_IF_ERROR(
      checkThat(theta > 0.0f, K,
                "theta must be positive, found " + std::to_string(theta)));
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, xName, x, DType::F32, {kAny, heads * headDim}));
  return checkLike(K, yName, y, xName, x);
}

// sign = +1 rotates by +angle (forward), -1 by -angle (backward).
void rotate(const float *x, float *y, int64_t s, int64_t heads, int64_t d,
            int64_t pos0, float theta, float sign) {
  int64_t half = d / 2;
  std::vector<double> invFreq(half);
  for (int64_t i = 0; i < half; ++i)
    invFreq[i] = std::pow(double(theta), -2.0 * double(i) / double(d));
  parallelFor(s, [&](int64_t r) {
    double pos = double(pos0 + r);
    std::vector<float> cs(half), sn(half);
    for (int64_t i = 0; i < half; ++i) {
      double a = pos * invFreq[i];
      cs[i] = float(std::cos(a));
      sn[i] = sign * float(std::sin(a));
    }
    for (int64_t h = 0; h < heads; ++h) {
      const float *xr = x + (r * heads + h) * d;
      float *yr = y + (r * heads + h) * d;
      for (int64_t i = 0; i < half; ++i) {
        float x1 = xr[i], x2 = xr[i + half];
        yr[i] = x1 * cs[i] - x2 * sn[i];
        yr[i + half] = x2 * cs[i] + x1 * sn[i];
      }
    }
  });
}

} // namespace

Status CpuKernels::ropeForward(const TensorView &x, const TensorView &y,
                               int64_t heads, int64_t headDim, int64_t pos0,
                               float theta) {
  MIMO_RETURN_IF_ERROR(
      validate("rope_forward", x, "x", y, "y", heads, headDim, pos0, theta));
  rotate(x.f32(), y.f32(), x.dim(0), heads, headDim, pos0, theta, 1.0f);
  return Status::success();
}

Status CpuKernels::ropeBackward(const TensorView &dy, const TensorView &dx,
                                int64_t heads, int64_t headDim, int64_t pos0,
                                float theta) {
  MIMO_RETURN_IF_ERROR(validate("rope_backward", dy, "dy", dx, "dx", heads,
                                headDim, pos0, theta));
  rotate(dy.f32(), dx.f32(), dy.dim(0), heads, headDim, pos0, theta, -1.0f);
  return Status::success();
}

} // namespace mimo::kernels::cpu

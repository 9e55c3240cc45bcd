//===- Activation.cpp - GELU (tanh) and SwiGLU ----------------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <cmath>

namespace mimo::kernels::cpu {
namespace {

constexpr int64_t kChunk = 1 << 14;

// body(begin, end) over [0, n) in fixed-size chunks.
template <typename F> void chunked(int64_t n, F &&body) {
  parallelFor((n + kChunk - 1) / kChunk, [&](int64_t i) {
    int64_t b = i * kChunk;
    body(b, std::min(n, b + kChunk));
  });
}

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCoef = 0.044715f;

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

} // namespace

Status CpuKernels::geluForward(const TensorView &x, const TensorView &y) {
  const char *K = "gelu_forward";
  MIMO_RETURN_IF_ERROR(checkDType(K, "x", x, DType::F32));
  MIMO_RETURN_IF_ERROR(checkLike(K, "y", y, "x", x));
  const float *xp = x.f32();
  float *yp = y.f32();
  chunked(x.numel(), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float v = xp[i];
      float u = kSqrt2OverPi * (v + kGeluCoef * v * v * v);
      yp[i] = 0.5f * v * (1.0f + std::tanh(u));
    }
  });
  return Status::success();
}

Status CpuKernels::geluBackward(const TensorView &x, const TensorView &dy,
                                const TensorView &dx) {
  const char *K = "gelu_backward";
  MIMO_RETURN_IF_ERROR(checkDType(K, "x", x, DType::F32));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dy", dy, "x", x));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dx", dx, "x", x));
  const float *xp = x.f32(), *gp = dy.f32();
  float *dp = dx.f32();
  chunked(x.numel(), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float v = xp[i];
      float th = std::tanh(kSqrt2OverPi * (v + kGeluCoef * v * v * v));
      float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCoef * v * v);
      float d = 0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du;
      dp[i] = gp[i] * d;
    }
  });
  return Status::success();
}

Status CpuKernels::swigluForward(const TensorView &gate, const TensorView &up,
                                 const TensorView &out) {
  const char *K = "swiglu_forward";
  MIMO_RETURN_IF_ERROR(checkDType(K, "gate", gate, DType::F32));
  MIMO_RETURN_IF_ERROR(checkLike(K, "up", up, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkLike(K, "out", out, "gate", gate));
  const float *g = gate.f32(), *u = up.f32();
  float *o = out.f32();
  chunked(gate.numel(), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      o[i] = g[i] * sigmoid(g[i]) * u[i];
  });
  return Status::success();
}

Status CpuKernels::swigluBackward(const TensorView &gate, const TensorView &up,
                                  const TensorView &dout,
                                  const TensorView &dgate,
                                  const TensorView &dup) {
  const char *K = "swiglu_backward";
  MIMO_RETURN_IF_ERROR(checkDType(K, "gate", gate, DType::F32));
  MIMO_RETURN_IF_ERROR(checkLike(K, "up", up, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dout", dout, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dgate", dgate, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dup", dup, "gate", gate));
  const float *g = gate.f32(), *u = up.f32(), *d = dout.f32();
  float *dg = dgate.f32(), *du = dup.f32();
  chunked(gate.numel(), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float s = sigmoid(g[i]);
      float gi = g[i], ui = u[i], di = d[i];
      dg[i] = di * ui * s * (1.0f + gi * (1.0f - s));
      du[i] = di * gi * s;
    }
  });
  return Status::success();
}

} // namespace mimo::kernels::cpu

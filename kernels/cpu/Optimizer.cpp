//===- Optimizer.cpp - Adam and AdamW -------------------------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace mimo::kernels::cpu {

Status CpuKernels::adamStep(const AdamParams &p, const TensorView &param,
                            const TensorView &grad, const TensorView &m,
                            const TensorView &v) {
  const char *K = "adam_step";
  MIMO_RETURN_IF_ERROR(checkDType(K, "param", param, DType::F32));
  MIMO_RETURN_IF_ERROR(checkLike(K, "grad", grad, "param", param));
  MIMO_RETURN_IF_ERROR(checkLike(K, "m", m, "param", param));
  MIMO_RETURN_IF_ERROR(checkLike(K, "v", v, "param", param));
  MIMO_RETURN_IF_ERROR(checkThat(p.step >= 1, K,
                                 "step must be >= 1 (1-based), found " +
                                     std::to_string(p.step)));
  MIMO_RETURN_IF_ERROR(checkThat(
      p.beta1 >= 0.0f && p.beta1 < 1.0f && p.beta2 >= 0.0f && p.beta2 < 1.0f, K,
      "betas must be in [0, 1), found beta1=" + std::to_string(p.beta1) +
          " beta2=" + std::to_string(p.beta2)));
  const float c1 = float(1.0 - std::pow(double(p.beta1), double(p.step)));
  const float c2 = float(1.0 - std::pow(double(p.beta2), double(p.step)));
  const float b1 = p.beta1, b2 = p.beta2, lr = p.lr, eps = p.eps,
              wd = p.weightDecay, gs = p.gradScale;
  const bool decoupled = p.decoupledWeightDecay;
  float *w = param.f32(), *mp = m.f32(), *vp = v.f32();
  const float *g = grad.f32();
  constexpr int64_t kChunk = 1 << 14;
  int64_t n = param.numel();
  parallelFor((n + kChunk - 1) / kChunk, [&](int64_t blk) {
    int64_t e = std::min(n, (blk + 1) * kChunk);
    for (int64_t i = blk * kChunk; i < e; ++i) {
      float gi = gs * g[i];
      if (!decoupled)
        gi += wd * w[i]; // Adam: L2 penalty through the gradient
      mp[i] = b1 * mp[i] + (1.0f - b1) * gi;
      vp[i] = b2 * vp[i] + (1.0f - b2) * gi * gi;
      float update = (mp[i] / c1) / (std::sqrt(vp[i] / c2) + eps);
      if (decoupled)
        update += wd * w[i]; // AdamW: decay the weights directly
      w[i] -= lr * update;
    }
  });
  return Status::success();
}

} // namespace mimo::kernels::cpu

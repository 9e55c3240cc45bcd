//===- CrossEntropy.cpp - Softmax cross-entropy over the vocabulary -------===//
//
// Row reductions accumulate in double; the loss is summed over rows in row
// order, so the result does not depend on the number of threads.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace mimo::kernels::cpu {
namespace {

constexpr int32_t kIgnore = -100;

Status checkLabels(const char *K, const TensorView &labels, int64_t v) {
  const int32_t *l = labels.i32();
  for (int64_t t = 0; t < labels.numel(); ++t)
    if (l[t] != kIgnore && (l[t] < 0 || l[t] >= v))
      return rt::invalidArgument(
          std::string(K) + ": argument 'labels': expected values in [0, " +
          std::to_string(v) + ") or -100, found " + std::to_string(l[t]) +
          " at row " + std::to_string(t));
  return Status::success();
}

// lossSum = sum over kept rows of (lse - target), count = kept rows.
void reduceLoss(int64_t t, const int32_t *labels, const float *lse,
                const float *target, float *lossSum, int32_t *count) {
  double s = 0.0;
  int32_t n = 0;
  for (int64_t r = 0; r < t; ++r) {
    if (labels[r] == kIgnore)
      continue;
    s += double(lse[r]) - double(target[r]);
    ++n;
  }
  *lossSum = float(s);
  *count = n;
}

} // namespace

Status CpuKernels::crossEntropyForward(const TensorView &logits,
                                       const TensorView &labels,
                                       const TensorView &lossSum,
                                       const TensorView &count,
                                       const TensorView &lse) {
  const char *K = "cross_entropy_forward";
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "logits", logits, DType::F32, {kAny, kAny}));
  int64_t t = logits.dim(0), v = logits.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "labels", labels, DType::I32, {t}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lossSum", lossSum, DType::F32, {1}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "count", count, DType::I32, {1}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lse", lse, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkThat(v > 0, K, "vocabulary must not be empty"));
  MIMO_RETURN_IF_ERROR(checkLabels(K, labels, v));
  const float *x = logits.f32();
  const int32_t *lab = labels.i32();
  float *lp = lse.f32();
  std::vector<float> target(size_t(t), 0.0f);
  parallelFor(t, [&](int64_t r) {
    const float *row = x + r * v;
    float m = *std::max_element(row, row + v);
    double s = 0.0;
    for (int64_t c = 0; c < v; ++c)
      s += std::exp(double(row[c]) - m);
    lp[r] = float(double(m) + std::log(s));
    if (lab[r] != kIgnore)
      target[r] = row[lab[r]];
  });
  reduceLoss(t, lab, lp, target.data(), lossSum.f32(), count.i32());
  return Status::success();
}

Status CpuKernels::crossEntropyBackward(const TensorView &logits,
                                        const TensorView &labels,
                                        const TensorView &lse, int64_t v0,
                                        float scale,
                                        const TensorView &dlogits) {
  const char *K = "cross_entropy_backward";
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "logits", logits, DType::F32, {kAny, kAny}));
  int64_t t = logits.dim(0), v = logits.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "labels", labels, DType::I32, {t}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lse", lse, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dlogits", dlogits, "logits", logits));
  MIMO_RETURN_IF_ERROR(
      checkThat(v0 >= 0, K, "v0 must be >= 0, found " + std::to_string(v0)));
  const float *x = logits.f32(), *lp = lse.f32();
  const int32_t *lab = labels.i32();
  float *d = dlogits.f32();
  parallelFor(t, [&](int64_t r) {
    float *drow = d + r * v;
    if (lab[r] == kIgnore) {
      std::fill(drow, drow + v, 0.0f);
      return;
    }
    const float *row = x + r * v;
    for (int64_t c = 0; c < v; ++c)
      drow[c] = scale * std::exp(row[c] - lp[r]);
    int64_t local = int64_t(lab[r]) - v0;
    if (local >= 0 && local < v)
      drow[local] -= scale;
  });
  return Status::success();
}

Status CpuKernels::crossEntropyLocalMax(const TensorView &logits,
                                        const TensorView &rowMax) {
  const char *K = "cross_entropy_local_max";
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "logits", logits, DType::F32, {kAny, kAny}));
  int64_t t = logits.dim(0), v = logits.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "rowMax", rowMax, DType::F32, {t}));
  const float *x = logits.f32();
  float *m = rowMax.f32();
  parallelFor(t, [&](int64_t r) {
    m[r] = v > 0 ? *std::max_element(x + r * v, x + (r + 1) * v)
                 : -std::numeric_limits<float>::infinity();
  });
  return Status::success();
}

Status CpuKernels::crossEntropyLocalSumExp(const TensorView &logits,
                                           const TensorView &globalMax,
                                           const TensorView &sumExp) {
  const char *K = "cross_entropy_local_sum_exp";
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "logits", logits, DType::F32, {kAny, kAny}));
  int64_t t = logits.dim(0), v = logits.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "globalMax", globalMax, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "sumExp", sumExp, DType::F32, {t}));
  const float *x = logits.f32(), *m = globalMax.f32();
  float *s = sumExp.f32();
  parallelFor(t, [&](int64_t r) {
    double acc = 0.0;
    for (int64_t c = 0; c < v; ++c)
      acc += std::exp(double(x[r * v + c]) - m[r]);
    s[r] = float(acc);
  });
  return Status::success();
}

Status CpuKernels::crossEntropyTargetLogit(const TensorView &logits,
                                           const TensorView &labels, int64_t v0,
                                           const TensorView &target) {
  const char *K = "cross_entropy_target_logit";
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "logits", logits, DType::F32, {kAny, kAny}));
  int64_t t = logits.dim(0), v = logits.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "labels", labels, DType::I32, {t}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "target", target, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(
      checkThat(v0 >= 0, K, "v0 must be >= 0, found " + std::to_string(v0)));
  const float *x = logits.f32();
  const int32_t *lab = labels.i32();
  float *tg = target.f32();
  parallelFor(t, [&](int64_t r) {
    int64_t local = int64_t(lab[r]) - v0;
    tg[r] =
        lab[r] != kIgnore && local >= 0 && local < v ? x[r * v + local] : 0.0f;
  });
  return Status::success();
}

Status CpuKernels::crossEntropyCombine(
    const TensorView &globalMax, const TensorView &sumExp,
    const TensorView &target, const TensorView &labels,
    const TensorView &lossSum, const TensorView &count, const TensorView &lse) {
  const char *K = "cross_entropy_combine";
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "globalMax", globalMax, DType::F32, {kAny}));
  int64_t t = globalMax.dim(0);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "sumExp", sumExp, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "target", target, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "labels", labels, DType::I32, {t}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lossSum", lossSum, DType::F32, {1}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "count", count, DType::I32, {1}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lse", lse, DType::F32, {t}));
  const float *m = globalMax.f32(), *s = sumExp.f32();
  float *lp = lse.f32();
  for (int64_t r = 0; r < t; ++r)
    lp[r] = float(double(m[r]) + std::log(double(s[r])));
  reduceLoss(t, labels.i32(), lp, target.f32(), lossSum.f32(), count.i32());
  return Status::success();
}

} // namespace mimo::kernels::cpu

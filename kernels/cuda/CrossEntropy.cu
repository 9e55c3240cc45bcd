//===- CrossEntropy.cu - Softmax cross-entropy over the vocabulary --------===//
//
// One block per token row walks the row's vocabulary (shard) for the max and
// the sum of exponentials (f32 per thread, a fixed tree across threads);
// the loss is summed over rows in row order in double by one thread, as on
// the CPU, so it is deterministic. Label values are checked on the device
// and the first bad row is read back only to name it in the error.
//
//===----------------------------------------------------------------------===//

#include "CudaKernels.h"

#include <string>

namespace mimo::kernels::cuda {
namespace {

constexpr int32_t kIgnore = -100;
constexpr int kThreads = 256;

__global__ void rowMaxKernel(Elems x, int64_t v, float *out) {
  __shared__ float red[32];
  int64_t r = blockIdx.x;
  float m = -INFINITY;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x)
    m = fmaxf(m, x.get(r * v + c));
  m = blockMax(m, red);
  if (threadIdx.x == 0)
    out[r] = m;
}

__global__ void rowSumExpKernel(Elems x, int64_t v, const float *rowMax,
                                float *out) {
  __shared__ float red[32];
  int64_t r = blockIdx.x;
  float m = rowMax[r];
  float s = 0.0f;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x)
    s += expf(x.get(r * v + c) - m);
  s = blockSum(s, red);
  if (threadIdx.x == 0)
    out[r] = s;
}

/// Forward per row: lse, and the target logit (0 for ignored rows); the
/// smallest row with a label outside [0, v) and not -100 goes to *bad.
__global__ void forwardRows(Elems x, const int32_t *labels, int64_t v,
                            float *lse, float *target, int64_t *bad) {
  __shared__ float red[32];
  int64_t r = blockIdx.x;
  float m = -INFINITY;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x)
    m = fmaxf(m, x.get(r * v + c));
  m = blockMax(m, red);
  float s = 0.0f;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x)
    s += expf(x.get(r * v + c) - m);
  s = blockSum(s, red);
  if (threadIdx.x == 0) {
    lse[r] = m + logf(s);
    int32_t l = labels[r];
    if (l != kIgnore && (l < 0 || l >= v)) {
      atomicMin(reinterpret_cast<unsigned long long *>(bad),
                static_cast<unsigned long long>(r));
      target[r] = 0.0f;
    } else {
      target[r] = l == kIgnore ? 0.0f : x.get(r * v + l);
    }
  }
}

__global__ void targetKernel(Elems x, const int32_t *labels, int64_t t,
                             int64_t v, int64_t v0, float *target) {
  MIMO_CUDA_GRID_STRIDE(r, t) {
    int64_t local = int64_t(labels[r]) - v0;
    target[r] = labels[r] != kIgnore && local >= 0 && local < v
                    ? x.get(r * v + local)
                    : 0.0f;
  }
}

__global__ void lseKernel(const float *rowMax, const float *sumExp, int64_t t,
                          float *lse) {
  MIMO_CUDA_GRID_STRIDE(r, t) {
    lse[r] = float(double(rowMax[r]) + log(double(sumExp[r])));
  }
}

/// lossSum = sum over kept rows of (lse - target) in row order, count = kept
/// rows. One thread: the order is the CPU's.
__global__ void reduceLoss(int64_t t, const int32_t *labels, const float *lse,
                           const float *target, float *lossSum,
                           int32_t *count) {
  if (threadIdx.x != 0 || blockIdx.x != 0)
    return;
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

__global__ void backwardKernel(Elems x, const int32_t *labels, const float *lse,
                               int64_t t, int64_t v, int64_t v0, float scale,
                               Elems dx) {
  MIMO_CUDA_GRID_STRIDE(i, t * v) {
    int64_t r = i / v, c = i % v;
    int32_t l = labels[r];
    float d = 0.0f;
    if (l != kIgnore) {
      d = scale * expf(x.get(i) - lse[r]);
      if (int64_t(l) - v0 == c)
        d -= scale;
    }
    dx.set(i, d);
  }
}

Status checkLogits(const char *K, const TensorView &logits,
                   const TensorView &labels, int64_t &t, int64_t &v) {
  MIMO_RETURN_IF_ERROR(checkFloat(K, "logits", logits, {kAny, kAny}));
  t = logits.dim(0);
  v = logits.dim(1);
  return cpu::checkTensor(K, "labels", labels, DType::I32, {t});
}

} // namespace

Status CudaKernels::crossEntropyForward(const TensorView &logits,
                                        const TensorView &labels,
                                        const TensorView &lossSum,
                                        const TensorView &count,
                                        const TensorView &lse) {
  const char *K = "cross_entropy_forward";
  int64_t t, v;
  MIMO_RETURN_IF_ERROR(checkFloat(K, "logits", logits, {kAny, kAny}));
  t = logits.dim(0);
  v = logits.dim(1);
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "labels", labels, DType::I32, {t}));
  MIMO_RETURN_IF_ERROR(
      cpu::checkTensor(K, "lossSum", lossSum, DType::F32, {1}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "count", count, DType::I32, {1}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "lse", lse, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(
      cpu::checkThat(v > 0, K, "vocabulary must not be empty"));
  Scratch scratch(stream_);
  void *target = nullptr, *bad = nullptr;
  MIMO_RETURN_IF_ERROR(scratch.allocate(
      K, size_t(std::max<int64_t>(t, 1)) * sizeof(float), &target));
  MIMO_RETURN_IF_ERROR(scratch.allocate(K, sizeof(int64_t), &bad));
  MIMO_RETURN_IF_ERROR(cudaStatus(
      cudaMemsetAsync(bad, 0xFF, sizeof(int64_t), stream_), K, "memset"));
  if (t > 0) {
    forwardRows<<<unsigned(t), kThreads, 0, stream_>>>(
        elems(logits), labels.i32(), v, lse.f32(), (float *)target,
        (int64_t *)bad);
    MIMO_RETURN_IF_ERROR(launched(K));
  }
  int64_t badRow = -1;
  MIMO_RETURN_IF_ERROR(
      cudaStatus(cudaMemcpyAsync(&badRow, bad, sizeof(badRow),
                                 cudaMemcpyDeviceToHost, stream_),
                 K, "reading the label check"));
  MIMO_RETURN_IF_ERROR(
      cudaStatus(cudaStreamSynchronize(stream_), K, "cudaStreamSynchronize"));
  if (badRow >= 0) {
    int32_t value = 0;
    MIMO_RETURN_IF_ERROR(
        cudaStatus(cudaMemcpy(&value, labels.i32() + badRow, sizeof(value),
                              cudaMemcpyDeviceToHost),
                   K, "reading a label"));
    return rt::invalidArgument(
        std::string(K) + ": argument 'labels': expected values in [0, " +
        std::to_string(v) + ") or -100, found " + std::to_string(value) +
        " at row " + std::to_string(badRow));
  }
  reduceLoss<<<1, 32, 0, stream_>>>(t, labels.i32(), lse.f32(),
                                    (const float *)target, lossSum.f32(),
                                    count.i32());
  return launched(K);
}

Status CudaKernels::crossEntropyBackward(const TensorView &logits,
                                         const TensorView &labels,
                                         const TensorView &lse, int64_t v0,
                                         float scale,
                                         const TensorView &dlogits) {
  const char *K = "cross_entropy_backward";
  int64_t t, v;
  MIMO_RETURN_IF_ERROR(checkLogits(K, logits, labels, t, v));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "lse", lse, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dlogits", dlogits, "logits", logits));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      v0 >= 0, K, "v0 must be >= 0, found " + std::to_string(v0)));
  backwardKernel<<<gridFor(t * v), 256, 0, stream_>>>(
      elems(logits), labels.i32(), lse.f32(), t, v, v0, scale, elems(dlogits));
  return launched(K);
}

Status CudaKernels::crossEntropyLocalMax(const TensorView &logits,
                                         const TensorView &rowMax) {
  const char *K = "cross_entropy_local_max";
  MIMO_RETURN_IF_ERROR(checkFloat(K, "logits", logits, {kAny, kAny}));
  int64_t t = logits.dim(0), v = logits.dim(1);
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "rowMax", rowMax, DType::F32, {t}));
  if (t == 0)
    return Status::success();
  rowMaxKernel<<<unsigned(t), kThreads, 0, stream_>>>(elems(logits), v,
                                                      rowMax.f32());
  return launched(K);
}

Status CudaKernels::crossEntropyLocalSumExp(const TensorView &logits,
                                            const TensorView &globalMax,
                                            const TensorView &sumExp) {
  const char *K = "cross_entropy_local_sum_exp";
  MIMO_RETURN_IF_ERROR(checkFloat(K, "logits", logits, {kAny, kAny}));
  int64_t t = logits.dim(0), v = logits.dim(1);
  MIMO_RETURN_IF_ERROR(
      cpu::checkTensor(K, "globalMax", globalMax, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "sumExp", sumExp, DType::F32, {t}));
  if (t == 0)
    return Status::success();
  rowSumExpKernel<<<unsigned(t), kThreads, 0, stream_>>>(
      elems(logits), v, globalMax.f32(), sumExp.f32());
  return launched(K);
}

Status CudaKernels::crossEntropyTargetLogit(const TensorView &logits,
                                            const TensorView &labels,
                                            int64_t v0,
                                            const TensorView &target) {
  const char *K = "cross_entropy_target_logit";
  int64_t t, v;
  MIMO_RETURN_IF_ERROR(checkLogits(K, logits, labels, t, v));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "target", target, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      v0 >= 0, K, "v0 must be >= 0, found " + std::to_string(v0)));
  targetKernel<<<gridFor(t), 256, 0, stream_>>>(elems(logits), labels.i32(), t,
                                                v, v0, target.f32());
  return launched(K);
}

Status CudaKernels::crossEntropyCombine(
    const TensorView &globalMax, const TensorView &sumExp,
    const TensorView &target, const TensorView &labels,
    const TensorView &lossSum, const TensorView &count, const TensorView &lse) {
  const char *K = "cross_entropy_combine";
  MIMO_RETURN_IF_ERROR(
      cpu::checkTensor(K, "globalMax", globalMax, DType::F32, {kAny}));
  int64_t t = globalMax.dim(0);
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "sumExp", sumExp, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "target", target, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "labels", labels, DType::I32, {t}));
  MIMO_RETURN_IF_ERROR(
      cpu::checkTensor(K, "lossSum", lossSum, DType::F32, {1}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "count", count, DType::I32, {1}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "lse", lse, DType::F32, {t}));
  lseKernel<<<gridFor(t), 256, 0, stream_>>>(globalMax.f32(), sumExp.f32(), t,
                                             lse.f32());
  MIMO_RETURN_IF_ERROR(launched(K));
  reduceLoss<<<1, 32, 0, stream_>>>(t, labels.i32(), lse.f32(), target.f32(),
                                    lossSum.f32(), count.i32());
  return launched(K);
}

} // namespace mimo::kernels::cuda

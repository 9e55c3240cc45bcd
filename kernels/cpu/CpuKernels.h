//===- CpuKernels.h - The fp32 host implementation of Kernels ---*- C++ -*-===//
//
// Private to kernels/cpu. One source file per kernel family implements the
// methods declared here.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_KERNELS_CPU_CPUKERNELS_H
#define MIMO_KERNELS_CPU_CPUKERNELS_H

#include "Check.h"
#include "mimo/kernels/Kernels.h"

#include <cstdint>

namespace mimo::kernels::cpu {

/// Runs body(i) for i in [0, n), split over OpenMP threads when built with
/// OpenMP. Each i must write disjoint memory, which keeps results independent
/// of the thread count.
template <typename F> void parallelFor(int64_t n, F &&body) {
#ifdef MIMO_KERNELS_OPENMP
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    body(i);
#else
  for (int64_t i = 0; i < n; ++i)
    body(i);
#endif
}

/// Row-major c [m, n] = alpha * op(a) op(b) + beta * c through cblas_sgemm,
/// with leading dimensions from the stored shapes (ldc = n).
void sgemmRowMajor(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                   float alpha, const float *a, const float *b, float beta,
                   float *c);

class CpuKernels final : public Kernels {
public:
  const char *name() const override { return "cpu"; }

  Status gemm(bool transA, bool transB, float alpha, const TensorView &a,
              const TensorView &b, float beta, const TensorView &c) override;
  Status linearForward(const TensorView &x, const TensorView &w,
                       const TensorView &b, const TensorView &y,
                       bool transposedWeight) override;
  Status linearBackward(const TensorView &x, const TensorView &w,
                        const TensorView &dy, const TensorView &dx,
                        const TensorView &dw, const TensorView &db,
                        bool transposedWeight) override;
  Status layerNormForward(const TensorView &x, const TensorView &gamma,
                          const TensorView &beta, float eps,
                          const TensorView &y, const TensorView &mean,
                          const TensorView &rstd) override;
  Status layerNormBackward(const TensorView &x, const TensorView &gamma,
                           const TensorView &mean, const TensorView &rstd,
                           const TensorView &dy, const TensorView &dx,
                           const TensorView &dgamma,
                           const TensorView &dbeta) override;
  Status rmsNormForward(const TensorView &x, const TensorView &gamma, float eps,
                        const TensorView &y, const TensorView &rstd) override;
  Status rmsNormBackward(const TensorView &x, const TensorView &gamma,
                         const TensorView &rstd, const TensorView &dy,
                         const TensorView &dx,
                         const TensorView &dgamma) override;
  Status geluForward(const TensorView &x, const TensorView &y) override;
  Status geluBackward(const TensorView &x, const TensorView &dy,
                      const TensorView &dx) override;
  Status swigluForward(const TensorView &gate, const TensorView &up,
                       const TensorView &out) override;
  Status swigluBackward(const TensorView &gate, const TensorView &up,
                        const TensorView &dout, const TensorView &dgate,
                        const TensorView &dup) override;
  Status attentionForward(const AttentionParams &p, const TensorView &q,
                          const TensorView &k, const TensorView &v,
                          const TensorView &out,
                          const TensorView &lse) override;
  size_t attentionBackwardWorkspaceBytes(const AttentionParams &p,
                                         int64_t queries) const override;
  Status attentionBackward(const AttentionParams &p, const TensorView &q,
                           const TensorView &k, const TensorView &v,
                           const TensorView &out, const TensorView &lse,
                           const TensorView &dout, const TensorView &dq,
                           const TensorView &dk, const TensorView &dv,
                           const Workspace &workspace) override;
  Status attentionBlockForward(const AttentionParams &p, int64_t qOffset,
                               int64_t kOffset, const TensorView &q,
                               const TensorView &k, const TensorView &v,
                               const TensorView &out,
                               const TensorView &lse) override;
  Status attentionMerge(const TensorView &out, const TensorView &lse,
                        const TensorView &blockOut,
                        const TensorView &blockLse) override;
  Status attentionBlockBackward(const AttentionParams &p, int64_t qOffset,
                                int64_t kOffset, const TensorView &q,
                                const TensorView &k, const TensorView &v,
                                const TensorView &out, const TensorView &lse,
                                const TensorView &dout, const TensorView &dq,
                                const TensorView &dk, const TensorView &dv,
                                const Workspace &workspace) override;
  Status ropeForward(const TensorView &x, const TensorView &y, int64_t heads,
                     int64_t headDim, int64_t pos0, float theta) override;
  Status ropeBackward(const TensorView &dy, const TensorView &dx, int64_t heads,
                      int64_t headDim, int64_t pos0, float theta) override;
  Status embeddingForward(const TensorView &ids, const TensorView &table,
                          const TensorView &out, int64_t v0,
                          int64_t v1) override;
  Status embeddingBackward(const TensorView &ids, const TensorView &dout,
                           const TensorView &dtable, int64_t v0,
                           int64_t v1) override;
  Status mergeRowsForward(const TensorView &text, const TensorView &ids,
                          int64_t placeholderId, const TensorView &source,
                          const TensorView &out) override;
  Status mergeRowsBackward(const TensorView &dout, const TensorView &ids,
                           int64_t placeholderId, const TensorView &dtext,
                           const TensorView &dsource) override;
  size_t patchEmbedWorkspaceBytes(const PatchEmbedParams &p,
                                  const TensorView &pixels) const override;
  Status patchEmbedForward(const PatchEmbedParams &p, const TensorView &pixels,
                           const TensorView &w, const TensorView &b,
                           const TensorView &pos, const TensorView &cls,
                           const TensorView &out,
                           const Workspace &workspace) override;
  Status patchEmbedBackward(const PatchEmbedParams &p, const TensorView &pixels,
                            const TensorView &dout, const TensorView &dw,
                            const TensorView &db, const TensorView &dpos,
                            const TensorView &dcls,
                            const Workspace &workspace) override;
  Status crossEntropyForward(const TensorView &logits, const TensorView &labels,
                             const TensorView &lossSum, const TensorView &count,
                             const TensorView &lse) override;
  Status crossEntropyBackward(const TensorView &logits,
                              const TensorView &labels, const TensorView &lse,
                              int64_t v0, float scale,
                              const TensorView &dlogits) override;
  Status crossEntropyLocalMax(const TensorView &logits,
                              const TensorView &rowMax) override;
  Status crossEntropyLocalSumExp(const TensorView &logits,
                                 const TensorView &globalMax,
                                 const TensorView &sumExp) override;
  Status crossEntropyTargetLogit(const TensorView &logits,
                                 const TensorView &labels, int64_t v0,
                                 const TensorView &target) override;
  Status crossEntropyCombine(const TensorView &globalMax,
                             const TensorView &sumExp, const TensorView &target,
                             const TensorView &labels,
                             const TensorView &lossSum, const TensorView &count,
                             const TensorView &lse) override;
  Status add(const TensorView &a, const TensorView &b,
             const TensorView &out) override;
  Status scale(const TensorView &x, float alpha,
               const TensorView &out) override;
  Status convert(const TensorView &x, const TensorView &y) override;
  Status sumSquares(const TensorView &x, const TensorView &out,
                    bool accumulate) override;
  Status adamStep(const AdamParams &p, const TensorView &param,
                  const TensorView &grad, const TensorView &m,
                  const TensorView &v) override;
};

} // namespace mimo::kernels::cpu

#endif // MIMO_KERNELS_CPU_CPUKERNELS_H

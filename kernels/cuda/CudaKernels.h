//===- CudaKernels.h - The CUDA implementation of Kernels -------*- C++ -*-===//
//
// Private to kernels/cuda. One source file per kernel family implements the
// methods declared here; Gemm.cu owns the cuBLASLt handle.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_KERNELS_CUDA_CUDAKERNELS_H
#define MIMO_KERNELS_CUDA_CUDAKERNELS_H

#include "CudaCommon.h"

#include <cublasLt.h>

namespace mimo::kernels::cuda {

class CudaKernels final : public Kernels {
public:
  explicit CudaKernels(cudaStream_t stream) : stream_(stream) {}
  ~CudaKernels() override;
  /// Creates the cuBLASLt handle and workspace.
  Status init();

  const char *name() const override { return "cuda"; }
  cudaStream_t stream() const { return stream_; }

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

  /// Row-major c [m, n] = alpha * op(a) op(b) + beta * c through cuBLASLt
  /// (f32 accumulation), a and b of one element type, c f32 or that type;
  /// `bias` [n] (optional) added to every row by the epilogue.
  Status matmul(const char *kernel, bool transA, bool transB, int64_t m,
                int64_t n, int64_t k, float alpha, const TensorView &a,
                const TensorView &b, float beta, const TensorView &c,
                const TensorView &bias = TensorView());

private:
  cudaStream_t stream_;
  cublasLtHandle_t lt_ = nullptr;
  void *ltWorkspace_ = nullptr;
  size_t ltWorkspaceBytes_ = 0;
};

} // namespace mimo::kernels::cuda

#endif // MIMO_KERNELS_CUDA_CUDAKERNELS_H

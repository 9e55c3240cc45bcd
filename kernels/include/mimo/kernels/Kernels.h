//===- Kernels.h - The kernel interface of the mimo runtime -----*- C++ -*-===//
//
// One abstract interface implemented by the CPU kernels (fp32, host memory)
// and the CUDA kernels (bf16/fp32, device memory, a stream per instance).
// Every method validates its arguments and returns a Status; nothing returns
// a pointer into kernel memory, and scratch memory comes in as a Workspace.
//
// Gradient convention, unless a method says otherwise:
//   - input gradients (dx, dq, ...) are OVERWRITTEN;
//   - parameter gradients (dW, db, dgamma, dtable, ...) are ACCUMULATED
//     (+=), so gradient accumulation over microbatches needs no extra add.
// Optional arguments are default-constructed TensorViews.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_KERNELS_KERNELS_H
#define MIMO_KERNELS_KERNELS_H

#include "mimo/kernels/Tensor.h"
#include "mimo/runtime/Status.h"

#include <memory>

namespace mimo::kernels {

using rt::Status;

/// Shape and masking of one attention call. Tokens are rows; heads are
/// packed along the row: q is [S, qHeads * headDim], k and v are
/// [S, kvHeads * headDim]; query head h reads kv head h / (qHeads / kvHeads).
struct AttentionParams {
  int64_t qHeads = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  /// A query at global position i sees keys at positions j <= i.
  bool causal = false;
  /// When > 0, a query sees only keys of its own segment of `segment`
  /// consecutive global positions (floor(i / segment) == floor(j / segment)),
  /// e.g. one image in a ViT. 0 means the whole sequence.
  int64_t segment = 0;
  /// Softmax scale; 0 means 1 / sqrt(headDim).
  float scale = 0.0f;
};

/// Patch embedding of images [N, C, H, W] with square patches.
struct PatchEmbedParams {
  int64_t patch = 0;
  /// Learned tokens prepended to each image's patch tokens.
  int64_t classTokens = 0;
};

/// One Adam/AdamW update.
struct AdamParams {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weightDecay = 0.0f;
  /// true: AdamW (decay applied to the weights, decoupled from the moments);
  /// false: Adam with L2 (weightDecay * param added to the gradient).
  bool decoupledWeightDecay = true;
  /// 1-based step number, for bias correction.
  int64_t step = 1;
  /// Multiplies the gradient before use (global-norm clipping, loss scaling).
  float gradScale = 1.0f;
};

/// The scale to multiply every gradient by for global-norm clipping:
/// min(1, maxNorm / (globalNorm + 1e-6)); 1 when maxNorm <= 0 (no clipping).
/// A non-finite globalNorm yields a non-finite or zero scale: callers should
/// skip the step in that case.
float gradClipScale(float globalNorm, float maxNorm);

class Kernels {
public:
  virtual ~Kernels() = default;

  /// "cpu", "cuda".
  virtual const char *name() const = 0;

  //===--- GEMM and linear --------------------------------------------===//

  /// c = alpha * op(a) @ op(b) + beta * c, op(a) [M, K], op(b) [K, N],
  /// c [M, N]; a is stored [K, M] when transA, b is [N, K] when transB.
  virtual Status gemm(bool transA, bool transB, float alpha,
                      const TensorView &a, const TensorView &b, float beta,
                      const TensorView &c) = 0;

  /// y = x @ W (+ b). x [T, in], W [in, out] or, when transposedWeight,
  /// [out, in] (tied embeddings), b [out] optional, y [T, out] overwritten.
  virtual Status linearForward(const TensorView &x, const TensorView &w,
                               const TensorView &b, const TensorView &y,
                               bool transposedWeight) = 0;
  /// dx (optional) overwritten; dw accumulated (same layout as w); db
  /// (optional) accumulated.
  virtual Status linearBackward(const TensorView &x, const TensorView &w,
                                const TensorView &dy, const TensorView &dx,
                                const TensorView &dw, const TensorView &db,
                                bool transposedWeight) = 0;

  //===--- Normalization (rows of x [T, H]) ---------------------------===//

  /// y = (x - mean) * rstd * gamma + beta; saves mean [T] and rstd [T].
  virtual Status layerNormForward(const TensorView &x, const TensorView &gamma,
                                  const TensorView &beta, float eps,
                                  const TensorView &y, const TensorView &mean,
                                  const TensorView &rstd) = 0;
  /// dx overwritten; dgamma, dbeta accumulated.
  virtual Status layerNormBackward(const TensorView &x, const TensorView &gamma,
                                   const TensorView &mean,
                                   const TensorView &rstd, const TensorView &dy,
                                   const TensorView &dx,
                                   const TensorView &dgamma,
                                   const TensorView &dbeta) = 0;
  /// y = x * rstd * gamma, rstd = 1 / sqrt(mean(x^2) + eps); saves rstd [T].
  virtual Status rmsNormForward(const TensorView &x, const TensorView &gamma,
                                float eps, const TensorView &y,
                                const TensorView &rstd) = 0;
  /// dx overwritten; dgamma accumulated.
  virtual Status rmsNormBackward(const TensorView &x, const TensorView &gamma,
                                 const TensorView &rstd, const TensorView &dy,
                                 const TensorView &dx,
                                 const TensorView &dgamma) = 0;

  //===--- Activations ------------------------------------------------===//

  /// GELU, tanh approximation (GPT-2/Megatron):
  /// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). y may alias x.
  virtual Status geluForward(const TensorView &x, const TensorView &y) = 0;
  /// dx overwritten (may alias dy).
  virtual Status geluBackward(const TensorView &x, const TensorView &dy,
                              const TensorView &dx) = 0;
  /// out = silu(gate) * up; gate, up, out [T, F].
  virtual Status swigluForward(const TensorView &gate, const TensorView &up,
                               const TensorView &out) = 0;
  /// dgate, dup overwritten.
  virtual Status swigluBackward(const TensorView &gate, const TensorView &up,
                                const TensorView &dout, const TensorView &dgate,
                                const TensorView &dup) = 0;

  //===--- Attention (memory-efficient, no S x S matrix) --------------===//

  /// out [S, qHeads*D] overwritten; lse [S, qHeads] (natural-log sum of
  /// exp(score) per query row and head) saved for the backward.
  virtual Status attentionForward(const AttentionParams &p, const TensorView &q,
                                  const TensorView &k, const TensorView &v,
                                  const TensorView &out,
                                  const TensorView &lse) = 0;
  virtual size_t attentionBackwardWorkspaceBytes(const AttentionParams &p,
                                                 int64_t queries) const = 0;
  /// dq, dk, dv overwritten.
  virtual Status attentionBackward(const AttentionParams &p,
                                   const TensorView &q, const TensorView &k,
                                   const TensorView &v, const TensorView &out,
                                   const TensorView &lse,
                                   const TensorView &dout, const TensorView &dq,
                                   const TensorView &dk, const TensorView &dv,
                                   const Workspace &workspace) = 0;

  /// Partial attention of a query block q [Sq, qHeads*D] whose first row has
  /// global position qOffset against a key block k, v [Sk, kvHeads*D] whose
  /// first row has global position kOffset; masks use global positions.
  /// out overwritten with the block's softmax-normalized output, lse
  /// [Sq, qHeads] with its log-sum-exp (-inf and a zero row where every key
  /// is masked). Combine blocks with attentionMerge.
  virtual Status attentionBlockForward(const AttentionParams &p,
                                       int64_t qOffset, int64_t kOffset,
                                       const TensorView &q, const TensorView &k,
                                       const TensorView &v,
                                       const TensorView &out,
                                       const TensorView &lse) = 0;
  /// Folds a partial (blockOut, blockLse) into the running (out, lse):
  /// lse' = log(exp(lse) + exp(blockLse)), out' = weighted by exp(. - lse').
  virtual Status attentionMerge(const TensorView &out, const TensorView &lse,
                                const TensorView &blockOut,
                                const TensorView &blockLse) = 0;
  /// Gradient contribution of one key block given the FINAL (merged) out and
  /// lse of the query rows: dq, dk, dv are ACCUMULATED, so summing over key
  /// blocks (and, for dk/dv, over query blocks) gives the full gradient.
  virtual Status attentionBlockBackward(
      const AttentionParams &p, int64_t qOffset, int64_t kOffset,
      const TensorView &q, const TensorView &k, const TensorView &v,
      const TensorView &out, const TensorView &lse, const TensorView &dout,
      const TensorView &dq, const TensorView &dk, const TensorView &dv,
      const Workspace &workspace) = 0;

  /// Rotary embedding, rotate-half convention (Llama/NeoX): for i < D/2,
  /// angle = (pos0 + s) * theta^(-2i/D), (x_i, x_{i+D/2}) rotated by angle.
  /// x, y [S, heads*D]; y may alias x (in place).
  virtual Status ropeForward(const TensorView &x, const TensorView &y,
                             int64_t heads, int64_t headDim, int64_t pos0,
                             float theta) = 0;
  /// dx = inverse rotation of dy; dx may alias dy.
  virtual Status ropeBackward(const TensorView &dy, const TensorView &dx,
                              int64_t heads, int64_t headDim, int64_t pos0,
                              float theta) = 0;

  //===--- Embeddings -------------------------------------------------===//

  /// out[t] = table[ids[t] - v0] for ids in [v0, v1), else a zero row.
  /// ids i32 [T], table [v1 - v0, H] (this rank's vocabulary rows), out [T, H]
  /// overwritten.
  virtual Status embeddingForward(const TensorView &ids,
                                  const TensorView &table,
                                  const TensorView &out, int64_t v0,
                                  int64_t v1) = 0;
  /// dtable[ids[t] - v0] += dout[t] for ids in range (accumulated).
  virtual Status embeddingBackward(const TensorView &ids,
                                   const TensorView &dout,
                                   const TensorView &dtable, int64_t v0,
                                   int64_t v1) = 0;

  /// Places one source's rows into a token sequence: out [T, H] takes
  /// text [T, H] at rows whose id (ids i32 [T]) is not placeholderId and the
  /// rows of source [n, H], in order, at the n rows whose id is
  /// placeholderId (an error when the count differs). out may alias text,
  /// so several sources merge by chaining calls with different ids.
  virtual Status mergeRowsForward(const TensorView &text, const TensorView &ids,
                                  int64_t placeholderId,
                                  const TensorView &source,
                                  const TensorView &out) = 0;
  /// dtext [T, H] = dout with the placeholderId rows zeroed and dsource
  /// [n, H] = those rows in order; both overwritten. dtext may alias dout.
  virtual Status mergeRowsBackward(const TensorView &dout,
                                   const TensorView &ids, int64_t placeholderId,
                                   const TensorView &dtext,
                                   const TensorView &dsource) = 0;

  /// pixels [N, C, H, W] -> out [N * T, hidden], T = classTokens + (H/p)(W/p).
  /// Patch vectors are channel-major (c, dy, dx) of length C*p*p, multiplied
  /// by w [C*p*p, hidden], plus b [hidden] (optional); class tokens cls
  /// [classTokens, hidden] lead each image; pos [T, hidden] (optional) is
  /// added to every image's tokens.
  virtual size_t patchEmbedWorkspaceBytes(const PatchEmbedParams &p,
                                          const TensorView &pixels) const = 0;
  virtual Status patchEmbedForward(const PatchEmbedParams &p,
                                   const TensorView &pixels,
                                   const TensorView &w, const TensorView &b,
                                   const TensorView &pos, const TensorView &cls,
                                   const TensorView &out,
                                   const Workspace &workspace) = 0;
  /// dw, db, dpos, dcls accumulated (each optional when its forward input
  /// was absent; dw required).
  virtual Status
  patchEmbedBackward(const PatchEmbedParams &p, const TensorView &pixels,
                     const TensorView &dout, const TensorView &dw,
                     const TensorView &db, const TensorView &dpos,
                     const TensorView &dcls, const Workspace &workspace) = 0;

  //===--- Cross-entropy over the vocabulary --------------------------===//

  /// logits [T, V], labels i32 [T] (-100 = ignored). lossSum [1] and count
  /// i32 [1] overwritten with the summed loss and the number of non-ignored
  /// rows; lse [T] saved for the backward.
  virtual Status crossEntropyForward(const TensorView &logits,
                                     const TensorView &labels,
                                     const TensorView &lossSum,
                                     const TensorView &count,
                                     const TensorView &lse) = 0;
  /// dlogits = scale * (softmax(logits) - onehot(label - v0)), zero rows for
  /// ignored labels; overwritten. logits may be this rank's vocabulary shard
  /// [T, Vlocal] starting at v0 (0 for the unsharded form) with the global lse.
  virtual Status crossEntropyBackward(const TensorView &logits,
                                      const TensorView &labels,
                                      const TensorView &lse, int64_t v0,
                                      float scale,
                                      const TensorView &dlogits) = 0;

  // Vocabulary-parallel forward, one shard [T, Vlocal] starting at v0 per
  // rank: localMax -> all-reduce(max) -> localSumExp -> all-reduce(sum),
  // targetLogit -> all-reduce(sum) -> crossEntropyCombine.
  /// rowMax [T] overwritten.
  virtual Status crossEntropyLocalMax(const TensorView &logits,
                                      const TensorView &rowMax) = 0;
  /// sumExp [T] = sum_v exp(logits - globalMax), overwritten.
  virtual Status crossEntropyLocalSumExp(const TensorView &logits,
                                         const TensorView &globalMax,
                                         const TensorView &sumExp) = 0;
  /// target [T] = logits[t, label - v0] when the label is in this shard,
  /// else 0 (so a sum over shards gives the target logit); overwritten.
  virtual Status crossEntropyTargetLogit(const TensorView &logits,
                                         const TensorView &labels, int64_t v0,
                                         const TensorView &target) = 0;
  /// From the reduced globalMax, sumExp, target [T]: lossSum [1], count i32
  /// [1] and lse [T] as crossEntropyForward gives them.
  virtual Status
  crossEntropyCombine(const TensorView &globalMax, const TensorView &sumExp,
                      const TensorView &target, const TensorView &labels,
                      const TensorView &lossSum, const TensorView &count,
                      const TensorView &lse) = 0;

  //===--- Elementwise and reductions ---------------------------------===//

  /// out = a + b (same shape; out may alias a or b).
  virtual Status add(const TensorView &a, const TensorView &b,
                     const TensorView &out) = 0;
  /// out = alpha * x (out may alias x).
  virtual Status scale(const TensorView &x, float alpha,
                       const TensorView &out) = 0;
  /// y = x in y's element type (f32 <-> bf16, rounding to nearest even;
  /// same type: a copy). Same shape. Mixed precision keeps f32 master
  /// weights and refreshes their bf16 copies with it.
  virtual Status convert(const TensorView &x, const TensorView &y) = 0;
  /// out [1] = sum(x^2), or += when accumulate (for a global gradient norm
  /// over many tensors). Deterministic order.
  virtual Status sumSquares(const TensorView &x, const TensorView &out,
                            bool accumulate) = 0;

  //===--- Optimizer --------------------------------------------------===//

  /// One Adam/AdamW step on param with grad and the moments m, v (all same
  /// shape); param, m, v updated in place, grad left untouched.
  virtual Status adamStep(const AdamParams &p, const TensorView &param,
                          const TensorView &grad, const TensorView &m,
                          const TensorView &v) = 0;
};

/// The fp32 reference kernels over host memory (GEMM through CBLAS).
std::unique_ptr<Kernels> createCpuKernels();

} // namespace mimo::kernels

#endif // MIMO_KERNELS_KERNELS_H

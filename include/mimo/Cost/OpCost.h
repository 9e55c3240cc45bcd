//===- OpCost.h - Closed-form cost of mimo ops ------------------*- C++ -*-===//
//
// The one source of truth for what an op costs: parameters, FLOPs, bytes and
// saved activations, as functions of its shapes and a tensor/context-parallel
// split. The `mimo` dialect's cost interface describes each op as an OpDesc
// and calls computeOpCost; the planner consumes the same records. This header
// depends on nothing but the standard library so the planner core and its
// tests build without MLIR.
//
// All figures are per sample (one sequence, or one sample's images) and per
// rank after the split.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_COST_OPCOST_H
#define MIMO_COST_OPCOST_H

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace mimo::cost {

enum class OpKind {
  Param,
  Linear,
  Attention,
  LayerNorm,
  RmsNorm,
  Gelu,
  Swiglu,
  Add,
  Embedding,
  PatchEmbed,
  MergeModalities,
  CrossEntropy,
};

/// How a weight or a linear is split under tensor parallelism.
enum class TpSplit {
  None,   ///< replicated on every TP rank
  Column, ///< output features split (Megatron column-parallel)
  Row,    ///< input features split (Megatron row-parallel)
  Vocab,  ///< vocabulary rows split (embedding, LM head, cross-entropy)
};

/// Shape description of one op. Which fields matter depends on `kind`:
///  Param:           numel, split (how its consumer shards it)
///  Linear:          tokens, in, out, bias, split
///  Attention:       tokens, heads, kvHeads, headDim, causal, rope, segment (0
///  =
///                   whole sequence; otherwise attention stays inside
///                   consecutive segments, e.g. one image's patches)
///  LayerNorm/RmsNorm: tokens, in (hidden)
///  Gelu/Add:        tokens, in (elements per token); split = Column when
///                   the feature dim is TP-split (between a column- and a
///                   row-parallel linear), None when replicated
///  Swiglu:          tokens, in (output elements per token; reads 2x), split
///  Embedding:       tokens, vocab, in (hidden), split (Vocab or None)
///  PatchEmbed:      images, channels, patch, imageTokens (patches per
///                   image), tokens (per image, incl. class tokens), in
///                   (hidden)
///  MergeModalities: tokens (sequence), in (hidden), imageTokens
///  CrossEntropy:    tokens, vocab, split (Vocab or None)
struct OpDesc {
  OpKind kind = OpKind::Add;
  int64_t tokens = 0;
  int64_t in = 0;
  int64_t out = 0;
  int64_t numel = 0;
  int64_t heads = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  int64_t segment = 0;
  int64_t vocab = 0;
  int64_t images = 0;
  int64_t channels = 0;
  int64_t patch = 0;
  int64_t imageTokens = 0;
  bool bias = false;
  bool causal = false;
  bool rope = false; ///< Attention: rotary embeddings applied to q and k
  /// Linear only: an earlier column-parallel linear reads the same input, so
  /// the input-side collective (the gradient all-reduce, or the sequence-
  /// parallel all-gather) is done once for both (Megatron sums the q/k/v
  /// input gradients locally before one all-reduce), and the input is kept
  /// for the backward once.
  bool sharedInput = false;
  TpSplit split = TpSplit::None;
};

/// The parallel context an op is costed in.
struct CostContext {
  int64_t tp = 1;                ///< tensor-parallel size
  int64_t cp = 1;                ///< context-parallel size (splits tokens)
  bool sequenceParallel = false; ///< Megatron sequence parallelism (with tp)
  int64_t bytesPerElement = 2;   ///< activation element size (bf16 = 2)
  bool flashAttention = true;    ///< no s x s score matrix kept
};

enum class CommKind { None, AllReduce, AllGather, ReduceScatter };

const char *toString(CommKind kind);
const char *toString(OpKind kind);

/// One scratch buffer an op's kernels take in mimo's trainer: the trainer
/// reuses a free scratch buffer of the same shape and element size from op
/// to op (docs/lowering.md, "Buffers"). `cols` is 0 for a flat buffer.
struct ScratchBuffer {
  int64_t rows = 0, cols = 0, elementBytes = 4;
  bool operator<(const ScratchBuffer &o) const {
    return std::tie(rows, cols, elementBytes) <
           std::tie(o.rows, o.cols, o.elementBytes);
  }
  double bytes() const {
    return double(rows) * double(cols ? cols : 1) * double(elementBytes);
  }
};

/// What one op costs on one rank for one sample.
struct OpCost {
  /// Parameter elements held on this rank (only Param ops report these, so
  /// a tied weight is counted once).
  double params = 0;
  /// Model FLOPs, Megatron convention: every matmul, full s^2 scores for
  /// causal attention, backward = 2x forward.
  double fwdFlops = 0;
  double bwdFlops = 0;
  /// FLOPs the kernels execute: causal attention computes about half the
  /// score matrix; flash attention's backward recomputes the scores.
  double execFwdFlops = 0;
  double execBwdFlops = 0;
  /// Forward HBM traffic in bytes (inputs + weights read, outputs written).
  double bytesRead = 0;
  double bytesWritten = 0;
  /// Bytes kept from the forward for the backward (Korthikanti et al. 2022,
  /// per-tensor accounting, without dropout masks).
  double savedActivationBytes = 0;
  /// mimo's own trainer (docs/lowering.md "Buffers"): the bytes of the
  /// values the op returns (each takes a buffer of its own; an add's result
  /// takes the dead buffer of its residual stream, so adds report none), the
  /// scratch its forward and backward kernels take (norm statistics, rotated
  /// q and k, unfolded patches, the attention backward's per-row sums), and
  /// the part of savedActivationBytes the trainer recomputes instead of
  /// keeping (norm statistics).
  double outputBytes = 0;
  std::vector<ScratchBuffer> fwdScratch, bwdScratch;
  double recomputedStatBytes = 0;
  /// Representative GEMM (M x N x K) for shape-dependent efficiency; zero
  /// for memory-bound ops.
  bool isMatmul = false;
  int64_t gemmM = 0, gemmN = 0, gemmK = 0;
  /// Tensor-parallel collective each direction needs, and the bytes of the
  /// full (unsplit) tensor it covers.
  CommKind tpFwdComm = CommKind::None;
  CommKind tpBwdComm = CommKind::None;
  double tpFwdCommBytes = 0;
  double tpBwdCommBytes = 0;
  /// Context parallelism (ring attention): bytes this rank sends to its ring
  /// neighbour in the forward and in the backward, point to point.
  double cpFwdP2PBytes = 0;
  double cpBwdP2PBytes = 0;
};

/// Computes the cost of `op` in `ctx`. Pure function of its arguments.
OpCost computeOpCost(const OpDesc &op, const CostContext &ctx);

/// Adds b into a (everything but the GEMM shape, which a keeps unless unset).
void accumulate(OpCost &a, const OpCost &b, double times = 1.0);

} // namespace mimo::cost

#endif // MIMO_COST_OPCOST_H

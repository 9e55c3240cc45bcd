//===- OpCost.cpp - Closed-form cost of mimo ops --------------------------===//
//
// Sources:
//  [N21] Narayanan et al. 2021, "Efficient Large-Scale Language Model
//        Training on GPU Clusters Using Megatron-LM", eq. (3): per layer
//        forward 24*s*h^2 + 4*s^2*h FLOPs, backward 2x forward.
//  [K22] Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
//        Transformer Models", sec. 4: saved activations per tensor; this file
//        follows its per-tensor accounting without dropout masks.
//  [D22] Dao et al. 2022, "FlashAttention": no s x s matrix is saved; the
//        backward recomputes the scores (2.5x the forward matmul FLOPs).
//  [M19] Shoeybi et al. 2019, "Megatron-LM": column/row-parallel linears and
//        the all-reduce each needs; vocabulary-parallel embedding/softmax.
//
//===----------------------------------------------------------------------===//

#include "mimo/Cost/OpCost.h"
#include "mimo/Cost/ModelProfile.h"

#include <algorithm>
#include <cmath>

namespace mimo::cost {

const char *toString(CommKind kind) {
  switch (kind) {
  case CommKind::None:
    return "none";
  case CommKind::AllReduce:
    return "all_reduce";
  case CommKind::AllGather:
    return "all_gather";
  case CommKind::ReduceScatter:
    return "reduce_scatter";
  }
  return "unknown";
}

const char *toString(OpKind kind) {
  switch (kind) {
  case OpKind::Param:
    return "param";
  case OpKind::Linear:
    return "linear";
  case OpKind::Attention:
    return "attention";
  case OpKind::LayerNorm:
    return "layer_norm";
  case OpKind::RmsNorm:
    return "rms_norm";
  case OpKind::Gelu:
    return "gelu";
  case OpKind::Swiglu:
    return "swiglu";
  case OpKind::Add:
    return "add";
  case OpKind::Embedding:
    return "embedding";
  case OpKind::PatchEmbed:
    return "patch_embed";
  case OpKind::MergeModalities:
    return "merge_modalities";
  case OpKind::CrossEntropy:
    return "cross_entropy";
  }
  return "unknown";
}

const char *toString(ModuleKind kind) {
  switch (kind) {
  case ModuleKind::Encoder:
    return "encoder";
  case ModuleKind::Projector:
    return "projector";
  case ModuleKind::LLM:
    return "llm";
  }
  return "unknown";
}

int64_t ModuleProfile::layers() const {
  int64_t n = 0;
  for (const BlockProfile &b : blocks)
    if (b.isLayerStack)
      n += b.count;
  return n;
}

const ModuleProfile *ModelProfile::find(const std::string &name) const {
  for (const ModuleProfile &m : modules)
    if (m.name == name)
      return &m;
  return nullptr;
}

void accumulate(OpCost &a, const OpCost &b, double times) {
  a.params += times * b.params;
  a.fwdFlops += times * b.fwdFlops;
  a.bwdFlops += times * b.bwdFlops;
  a.execFwdFlops += times * b.execFwdFlops;
  a.execBwdFlops += times * b.execBwdFlops;
  a.bytesRead += times * b.bytesRead;
  a.bytesWritten += times * b.bytesWritten;
  a.savedActivationBytes += times * b.savedActivationBytes;
  a.outputBytes += times * b.outputBytes;
  a.fwdScratch.insert(a.fwdScratch.end(), b.fwdScratch.begin(),
                      b.fwdScratch.end());
  a.bwdScratch.insert(a.bwdScratch.end(), b.bwdScratch.begin(),
                      b.bwdScratch.end());
  a.recomputedStatBytes += times * b.recomputedStatBytes;
  a.tpFwdCommBytes += times * b.tpFwdCommBytes;
  a.tpBwdCommBytes += times * b.tpBwdCommBytes;
  a.cpFwdP2PBytes += times * b.cpFwdP2PBytes;
  a.cpBwdP2PBytes += times * b.cpBwdP2PBytes;
  if (!a.isMatmul && b.isMatmul) {
    a.isMatmul = true;
    a.gemmM = b.gemmM;
    a.gemmN = b.gemmN;
    a.gemmK = b.gemmK;
  }
}

namespace {

/// Splits `n` by `parts`; callers guarantee divisibility (verifiers do).
double split(int64_t n, int64_t parts) {
  return static_cast<double>(n) /
         static_cast<double>(std::max<int64_t>(1, parts));
}

bool tpSplitsFeatures(TpSplit s) { return s != TpSplit::None; }

// Per-token fp32 statistics a norm keeps for its backward (mean and rstd for
// LayerNorm, rstd for RMSNorm).
constexpr double kLayerNormStatBytes = 8;
constexpr double kRmsNormStatBytes = 4;
// Cross-entropy keeps its softmax in fp32 for the backward ([M19], as
// Megatron's vocab-parallel cross entropy does).
constexpr double kSoftmaxBytes = 4;

OpCost linearCost(const OpDesc &op, const CostContext &c) {
  OpCost r;
  const double b = c.bytesPerElement;
  const double t = split(op.tokens, c.cp);
  const bool tp = c.tp > 1;
  const bool column = op.split == TpSplit::Column || op.split == TpSplit::Vocab;
  const bool row = op.split == TpSplit::Row;
  const double in = row ? split(op.in, c.tp) : double(op.in);
  const double out = column ? split(op.out, c.tp) : double(op.out);
  // [N21]: a [t, in] x [in, out] matmul is 2*t*in*out FLOPs; backward
  // computes the input and the weight gradients, 2x forward.
  r.fwdFlops = r.execFwdFlops = 2.0 * t * in * out;
  r.bwdFlops = r.execBwdFlops = 2.0 * r.fwdFlops;
  r.bytesRead = b * (t * in + in * out + (op.bias ? out : 0));
  r.bytesWritten = b * t * out;
  r.outputBytes = r.bytesWritten;
  // [K22]: a linear keeps its input. A column-parallel input is replicated
  // unless sequence parallelism keeps only the local sequence shard (the
  // all-gather is redone in the backward).
  double savedTokens = t;
  if (column && tp && c.sequenceParallel)
    savedTokens = t / c.tp;
  // Linears reading one input (q/k/v, gate/up) keep it once [K22].
  r.savedActivationBytes = op.sharedInput ? 0.0 : b * savedTokens * in;
  r.isMatmul = true;
  r.gemmM = static_cast<int64_t>(t);
  r.gemmN = static_cast<int64_t>(out);
  r.gemmK = static_cast<int64_t>(in);
  // [M19]: column-parallel needs an all-reduce of the input gradient (f),
  // row-parallel an all-reduce of the output (g); with sequence parallelism
  // these become all-gather / reduce-scatter pairs [K22].
  if (tp && column && !op.sharedInput) {
    if (c.sequenceParallel) {
      r.tpFwdComm = CommKind::AllGather;
      r.tpFwdCommBytes = b * t * op.in;
      r.tpBwdComm = CommKind::ReduceScatter;
      r.tpBwdCommBytes = b * t * op.in;
    } else {
      r.tpBwdComm = CommKind::AllReduce;
      r.tpBwdCommBytes = b * t * op.in;
    }
  } else if (tp && row) {
    if (c.sequenceParallel) {
      r.tpFwdComm = CommKind::ReduceScatter;
      r.tpFwdCommBytes = b * t * op.out;
      r.tpBwdComm = CommKind::AllGather;
      r.tpBwdCommBytes = b * t * op.out;
    } else {
      r.tpFwdComm = CommKind::AllReduce;
      r.tpFwdCommBytes = b * t * op.out;
    }
  }
  return r;
}

int64_t rowsOf(double n) { return static_cast<int64_t>(std::llround(n)); }

/// The scratch of mimo's attention kernels (the CPU kernels'
/// ...WorkspaceBytes): rotated q and k, the backward's rotated gradients
/// and one f32 per row and head; with context parallelism the ring's
/// double-buffered K/V blocks (and their gradients in the backward) and
/// the partial output and log-sum-exp of a half-chunk (k is rotated into
/// the ring's block).
void attentionScratch(OpCost &r, const OpDesc &op, const CostContext &c,
                      double t, double heads, double kvHeads) {
  const int64_t rows = rowsOf(t), e = c.bytesPerElement;
  const int64_t qw = rowsOf(heads * double(op.headDim));
  const int64_t kw = rowsOf(kvHeads * double(op.headDim));
  if (op.rope) {
    r.fwdScratch.push_back({rows, qw, e});
    r.bwdScratch.push_back({rows, qw, e}); // dq
    r.bwdScratch.push_back({rows, kw, e}); // dk
    r.bwdScratch.push_back({rows, qw, e}); // q
    if (c.cp == 1) {
      r.fwdScratch.push_back({rows, kw, e});
      r.bwdScratch.push_back({rows, kw, e});
    }
  }
  if (c.cp > 1) {
    for (int i = 0; i < 4; ++i) { // k and v, two blocks each
      r.fwdScratch.push_back({rows, kw, e});
      r.bwdScratch.push_back({rows, kw, e});
      r.bwdScratch.push_back({rows, kw, e}); // their gradients
    }
    r.fwdScratch.push_back({rows / 2, qw, e});
    r.fwdScratch.push_back({rows / 2, rowsOf(heads), 4});
  }
  r.bwdScratch.push_back({rowsOf(t * heads), 0, 4});
}

OpCost attentionCost(const OpDesc &op, const CostContext &c) {
  OpCost r;
  const double b = c.bytesPerElement;
  const double seg = op.segment > 0 ? double(op.segment) : double(op.tokens);
  const double segments = double(op.tokens) / seg;
  const double heads = split(op.heads, c.tp);
  const double kvHeads = split(op.kvHeads, c.tp);
  const double d = double(op.headDim);
  const double t = split(op.tokens, c.cp);
  // [N21]: scores Q K^T and the weighted sum P V, 2*s^2*d FLOPs each per
  // head, counted in full even for causal masks (Megatron's convention).
  // Context parallelism splits the queries, every query still sees its keys.
  r.fwdFlops = 4.0 * segments * seg * seg * d * heads / double(c.cp);
  r.bwdFlops = 2.0 * r.fwdFlops;
  // A causal mask computes the lower triangle only: (s+1)/(2s) of the
  // scores. [D22]: the backward recomputes Q K^T: 2.5x the forward.
  const double causalFraction = op.causal ? (seg + 1.0) / (2.0 * seg) : 1.0;
  r.execFwdFlops = r.fwdFlops * causalFraction;
  r.execBwdFlops = 2.5 * r.execFwdFlops;
  const double qkvElems = t * (heads + 2.0 * kvHeads) * d;
  r.bytesRead = b * qkvElems;
  r.bytesWritten = b * t * heads * d + 4.0 * t * heads;
  // The output and its f32 log-sum-exp per row and head.
  r.outputBytes = r.bytesWritten;
  attentionScratch(r, op, c, t, heads, kvHeads);
  // [K22]: Q, K and V are kept (the output is kept by the next linear);
  // [D22] keeps the fp32 log-sum-exp per row instead of the score matrix.
  r.savedActivationBytes = b * qkvElems;
  if (c.flashAttention)
    r.savedActivationBytes += 4.0 * t * heads;
  else
    r.savedActivationBytes +=
        b * heads * segments * seg * seg / double(c.cp); // softmax output
  if (op.rope) {
    // Rotating q and k reads and writes them once more; about 6 FLOPs per
    // element (two multiplies and an add per rotated pair, forward and
    // inverse in the backward). Not model FLOPs.
    const double rotated = t * (heads + kvHeads) * d;
    r.execFwdFlops += 6.0 * rotated;
    r.execBwdFlops += 6.0 * rotated;
    r.bytesRead += b * rotated;
    r.bytesWritten += b * rotated;
  }
  r.isMatmul = true;
  r.gemmM = static_cast<int64_t>(std::min(seg, t));
  r.gemmN = static_cast<int64_t>(seg);
  r.gemmK = static_cast<int64_t>(d);
  // Ring attention as the lowering runs it (docs/lowering.md): each of the
  // cp-1 steps passes the held K/V blocks on; the backward passes K/V with
  // their gradients, and one last shift returns the K/V gradients home.
  if (c.cp > 1) {
    const double kvBytes = b * t * 2.0 * kvHeads * d;
    r.cpFwdP2PBytes = double(c.cp - 1) * kvBytes;
    r.cpBwdP2PBytes = (2.0 * double(c.cp - 1) + 1.0) * kvBytes;
  }
  return r;
}

/// Tokens an op sees locally: the context-parallel shard, further split by
/// tensor parallelism where sequence parallelism applies.
double localTokens(const OpDesc &op, const CostContext &c) {
  double t = split(op.tokens, c.cp);
  if (c.tp > 1 && c.sequenceParallel && !tpSplitsFeatures(op.split))
    t /= double(c.tp);
  return t;
}

OpCost normCost(const OpDesc &op, const CostContext &c, bool rms) {
  OpCost r;
  const double b = c.bytesPerElement;
  const double t = localTokens(op, c);
  const double h = double(op.in);
  r.execFwdFlops = (rms ? 4.0 : 5.0) * t * h;
  r.execBwdFlops = 2.0 * r.execFwdFlops;
  r.bytesRead = b * (t * h + (rms ? 1.0 : 2.0) * h);
  r.bytesWritten = b * t * h;
  // [K22]: a norm keeps its input, plus its per-token statistics.
  const double stats = t * (rms ? kRmsNormStatBytes : kLayerNormStatBytes);
  r.savedActivationBytes = b * t * h + stats;
  // mimo's trainer recomputes the statistics into scratch in both
  // directions; the backward also takes a normalized copy of the input
  // (and a layer norm's beta gradient row).
  r.outputBytes = r.bytesWritten;
  r.recomputedStatBytes = stats;
  const int64_t rows = rowsOf(t), width = op.in, e = c.bytesPerElement;
  for (int i = 0; i < (rms ? 1 : 2); ++i) { // rstd (and mean)
    r.fwdScratch.push_back({rows, 0, 4});
    r.bwdScratch.push_back({rows, 0, 4});
  }
  r.bwdScratch.push_back({rows, width, e}); // the normalized input
  if (!rms)
    r.bwdScratch.push_back({width, 0, 4}); // the beta gradient
  return r;
}

OpCost elementwiseCost(const OpDesc &op, const CostContext &c, double inputs,
                       double flopsPerElem, double savedInputs) {
  OpCost r;
  const double b = c.bytesPerElement;
  const double t = localTokens(op, c);
  const double w =
      tpSplitsFeatures(op.split) ? split(op.in, c.tp) : double(op.in);
  r.execFwdFlops = flopsPerElem * t * w;
  r.execBwdFlops = 2.0 * r.execFwdFlops;
  r.bytesRead = inputs * b * t * w;
  r.bytesWritten = b * t * w;
  r.savedActivationBytes = savedInputs * b * t * w;
  // An add writes into the dead buffer of its residual stream (savedInputs
  // is 0 only for adds).
  r.outputBytes = savedInputs > 0 ? r.bytesWritten : 0.0;
  return r;
}

OpCost embeddingCost(const OpDesc &op, const CostContext &c) {
  OpCost r;
  const double b = c.bytesPerElement;
  const double t = split(op.tokens, c.cp);
  const double h = double(op.in);
  r.bytesRead = b * t * h + 4.0 * t;
  r.bytesWritten = b * t * h;
  r.savedActivationBytes = 4.0 * t; // the ids
  r.outputBytes = r.bytesWritten;
  if (c.tp > 1 && op.split == TpSplit::Vocab) {
    // [M19]: each rank looks up its vocabulary rows, zeros elsewhere; the
    // partial outputs are summed (reduce-scattered with sequence parallel).
    r.tpFwdComm =
        c.sequenceParallel ? CommKind::ReduceScatter : CommKind::AllReduce;
    r.tpFwdCommBytes = b * t * h;
    if (c.sequenceParallel) {
      r.tpBwdComm = CommKind::AllGather;
      r.tpBwdCommBytes = b * t * h;
    }
  }
  return r;
}

OpCost patchEmbedCost(const OpDesc &op, const CostContext &c) {
  OpCost r;
  const double b = c.bytesPerElement;
  const double rows = double(op.images) * double(op.imageTokens);
  const double k = double(op.channels) * op.patch * op.patch;
  const double h = double(op.in);
  // The patch projection is one [patches, C*p*p] x [C*p*p, h] matmul.
  r.fwdFlops = r.execFwdFlops = 2.0 * rows * k * h;
  r.bwdFlops = r.execBwdFlops = 2.0 * r.fwdFlops;
  r.bytesRead = b * (rows * k + k * h);
  r.bytesWritten = b * double(op.images) * double(op.tokens) * h;
  r.savedActivationBytes = b * rows * k; // the unfolded pixels
  // mimo's trainer unfolds the patches from the pixels it holds into
  // scratch in both directions instead of keeping them.
  r.outputBytes = r.bytesWritten;
  ScratchBuffer patches{rowsOf(rows * k), 0, c.bytesPerElement};
  r.fwdScratch.push_back(patches);
  r.bwdScratch.push_back(patches);
  r.recomputedStatBytes = r.savedActivationBytes;
  r.isMatmul = true;
  r.gemmM = static_cast<int64_t>(rows);
  r.gemmN = op.in;
  r.gemmK = static_cast<int64_t>(k);
  return r;
}

OpCost mergeCost(const OpDesc &op, const CostContext &c) {
  OpCost r;
  const double b = c.bytesPerElement;
  const double t = split(op.tokens, c.cp);
  const double h = double(op.in);
  r.bytesRead = b * (t * h) + 4.0 * t;
  r.bytesWritten = b * t * h;
  r.savedActivationBytes = 4.0 * t; // the ids, to route gradients back
  r.outputBytes = r.bytesWritten;
  return r;
}

OpCost crossEntropyCost(const OpDesc &op, const CostContext &c) {
  OpCost r;
  const double b = c.bytesPerElement;
  const double t = split(op.tokens, c.cp);
  const bool vocabSplit = op.split == TpSplit::Vocab && c.tp > 1;
  const double v = vocabSplit ? split(op.vocab, c.tp) : double(op.vocab);
  r.execFwdFlops = 5.0 * t * v;
  r.execBwdFlops = 2.0 * t * v;
  r.bytesRead = b * t * v + 4.0 * t;
  r.bytesWritten = 4.0 * t;
  r.savedActivationBytes = kSoftmaxBytes * t * v + 4.0 * t;
  // mimo's trainer returns the summed loss and recomputes the log-sum-exp
  // per row into scratch in the backward.
  r.outputBytes = 4.0;
  const int64_t rows = rowsOf(t);
  r.bwdScratch.push_back({rows, 0, 4}); // log-sum-exp
  if (vocabSplit) // row max, sum of exponentials, target logit
    for (int i = 0; i < 3; ++i) {
      r.fwdScratch.push_back({rows, 0, 4});
      r.bwdScratch.push_back({rows, 0, 4});
    }
  if (vocabSplit) {
    // [M19]: max, sum of exponentials and the target logit per token.
    r.tpFwdComm = CommKind::AllReduce;
    r.tpFwdCommBytes = 3.0 * 4.0 * t;
  }
  return r;
}

} // namespace

OpCost computeOpCost(const OpDesc &op, const CostContext &ctx) {
  switch (op.kind) {
  case OpKind::Param: {
    OpCost r;
    r.params =
        tpSplitsFeatures(op.split) ? split(op.numel, ctx.tp) : double(op.numel);
    return r;
  }
  case OpKind::Linear:
    return linearCost(op, ctx);
  case OpKind::Attention:
    return attentionCost(op, ctx);
  case OpKind::LayerNorm:
    return normCost(op, ctx, /*rms=*/false);
  case OpKind::RmsNorm:
    return normCost(op, ctx, /*rms=*/true);
  case OpKind::Gelu:
    // Keeps its input for the derivative [K22].
    return elementwiseCost(op, ctx, 1.0, 8.0, 1.0);
  case OpKind::Swiglu:
    // Keeps both inputs, gate and up.
    return elementwiseCost(op, ctx, 2.0, 6.0, 2.0);
  case OpKind::Add:
    return elementwiseCost(op, ctx, 2.0, 1.0, 0.0);
  case OpKind::Embedding:
    return embeddingCost(op, ctx);
  case OpKind::PatchEmbed:
    return patchEmbedCost(op, ctx);
  case OpKind::MergeModalities:
    return mergeCost(op, ctx);
  case OpKind::CrossEntropy:
    return crossEntropyCost(op, ctx);
  }
  return {};
}

} // namespace mimo::cost

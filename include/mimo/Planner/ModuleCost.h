//===- ModuleCost.h - Time, memory and FLOPs of a module's parts -*- C++
//-*-===//
//
// Turns the closed-form op costs (mimo/Cost/OpCost.h) into seconds on a
// Hardware: matmuls at shape-dependent efficiency, attention at flash
// attention's rate, memory-bound ops at HBM bandwidth, tensor-parallel
// collectives and the context-parallel ring on the group's link. Repeated
// layers are costed once per (module, tp, cp, sp, micro-batch, links).
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PLANNER_MODULECOST_H
#define MIMO_PLANNER_MODULECOST_H

#include "mimo/Cost/ModelProfile.h"
#include "mimo/Planner/Collectives.h"
#include "mimo/Planner/Plan.h"

#include <map>
#include <memory>
#include <tuple>
#include <vector>

namespace mimo::planner {

/// One microbatch through one part of a module (one layer of a stack, or
/// the ops before / after the stacks), on one rank.
struct PartCost {
  double fwd = 0, bwd = 0;     ///< kernel time
  double attnFwd = 0;          ///< attention-core forward (selective recompute)
  double tpFwd = 0, tpBwd = 0; ///< tensor-parallel collectives
  double cpFwd = 0, cpBwd = 0; ///< ring-attention transfers not hidden
  double savedBytes = 0;       ///< activations kept for the backward
  double inputBytes = 0;       ///< the part's input (kept by full recompute)
  double params = 0;           ///< parameter elements on this rank
  double launches = 0;         ///< kernels per forward
  /// mimo's own trainer (cost::OpCost): the values the ops return, what it
  /// keeps for the backward (savedBytes less what it recomputes), and the
  /// scratch buffers its forward and backward keep: per shape, the most any
  /// one op takes at once (a scratch buffer is free again after its op).
  double outputBytes = 0;
  double keptBytes = 0;
  double embeddingRows = 0; ///< elements of embedding tables read
  std::map<cost::ScratchBuffer, int64_t> fwdScratch, bwdScratch;

  /// Adds `times` copies of `o` (scratch: the larger count per shape).
  void add(const PartCost &o, double times = 1.0);
};

/// Per shape, the larger count of `a` and `b` into `a`.
void mergeScratch(std::map<cost::ScratchBuffer, int64_t> &a,
                  const std::map<cost::ScratchBuffer, int64_t> &b);
/// Bytes of a scratch pool.
double scratchBytes(const std::map<cost::ScratchBuffer, int64_t> &pool);

/// Exposed seconds of ring attention's exchanges over `cp` ranks, as the
/// lowering runs them (docs/lowering.md "Context parallelism"): every step
/// computes 1/cp of the attention (causal load balancing gives each step
/// the same work) while the exchanges started for it arrive; a step waits
/// for whatever outlasts its computation. `exchange` is one shift of a
/// key/value block pair (latency plus bytes over bandwidth).
///  forward: steps 0..cp-2 each hide the next blocks' shift;
///  backward: step 0 hides the next blocks, steps 1..cp-2 the next blocks
///  and the gradient sums together (one link, so 2 x exchange), step cp-1
///  the sums; the last shift home is exposed.
struct RingExposure {
  double fwd = 0, bwd = 0;
};
RingExposure ringAttentionExposure(int64_t cp, double exchange, double attnFwd,
                                   double attnBwd);

/// A module's parts under one (tp, cp, sp, micro-batch).
struct ModuleParts {
  PartCost pre, post;
  std::vector<PartCost> layers; ///< one entry per stack, in order
  std::vector<int64_t> counts;  ///< layers of each stack
  int64_t totalLayers = 0;
  double outputBytesPerSample = 0; ///< the module's output (bridge, p2p)
};

/// Everything a pipeline stage of one module costs per microbatch.
struct StageCost {
  double fwdCompute = 0, bwdCompute = 0, recompute = 0;
  double tpFwd = 0, tpBwd = 0, cpFwd = 0, cpBwd = 0;
  double activationBytes = 0; ///< saved per microbatch after recompute
  double transientBytes = 0;  ///< one recomputed layer's activations
  double params = 0;          ///< parameter elements on this rank
  int64_t layers = 0;

  double fwd() const { return fwdCompute + tpFwd + cpFwd; }
  double bwd() const { return bwdCompute + recompute + tpBwd + cpBwd; }
  void add(const StageCost &o);
};

/// Costs modules of one model on one cluster, memoizing the parts.
class CostModel {
public:
  CostModel(const cost::ModelProfile &profile, const Hardware &hw,
            int64_t gpusPerNode);

  const cost::ModelProfile &profile() const { return model; }
  const Hardware &hardware() const { return hw; }
  int64_t gpusPerNode() const { return perNode; }

  /// The parts of module `index` under the given split and links.
  const ModuleParts &parts(size_t index, int64_t tp, int64_t cp, bool sp,
                           int64_t microBatch, const Link &tpLink,
                           const Link &cpLink);

  /// Stage `stage` of `pp` for module `index` with `recompute`.
  StageCost stage(const ModuleParts &parts, int64_t pp, int64_t stage,
                  const Recompute &recompute) const;

  /// Model FLOPs of one sample, Megatron convention (fwd + bwd).
  double modelFlopsPerSample() const { return megatronFlops; }
  /// 6 x params x tokens of one sample (INTERFACES.md, 6nd convention).
  double sixNdFlopsPerSample() const { return sixNdFlops; }
  /// Parameters of the whole model (unsplit).
  double totalParams() const { return allParams; }

private:
  using Key = std::tuple<size_t, int64_t, int64_t, bool, int64_t, double,
                         double, double, double>;
  PartCost costOps(const std::vector<cost::OpDesc> &ops,
                   const cost::CostContext &ctx, int64_t microBatch,
                   const Link &tpLink, const Link &cpLink) const;

  const cost::ModelProfile &model;
  Hardware hw;
  int64_t perNode;
  std::map<Key, std::unique_ptr<ModuleParts>> cache;
  double megatronFlops = 0;
  double sixNdFlops = 0;
  double allParams = 0;
};

/// Bytes per parameter kept on the device for weights, gradients and the
/// optimizer (REFERENCE.md: bf16 mixed precision 2 + 4 + 12; fp32: 4 + 4 + 8).
struct StateBytes {
  double weights = 0, grads = 0, optimizer = 0;
};
StateBytes stateBytesPerParam(int64_t bytesPerElement);

} // namespace mimo::planner

#endif // MIMO_PLANNER_MODULECOST_H

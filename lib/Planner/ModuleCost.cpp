//===- ModuleCost.cpp - Time, memory and FLOPs of a module's parts --------===//

#include "mimo/Planner/ModuleCost.h"

#include <algorithm>

namespace mimo::planner {

using cost::CommKind;
using cost::OpCost;
using cost::OpDesc;
using cost::OpKind;

void PartCost::add(const PartCost &o, double times) {
  fwd += times * o.fwd;
  bwd += times * o.bwd;
  attnFwd += times * o.attnFwd;
  tpFwd += times * o.tpFwd;
  tpBwd += times * o.tpBwd;
  cpFwd += times * o.cpFwd;
  cpBwd += times * o.cpBwd;
  savedBytes += times * o.savedBytes;
  params += times * o.params;
  launches += times * o.launches;
  outputBytes += times * o.outputBytes;
  keptBytes += times * o.keptBytes;
  embeddingRows += times * o.embeddingRows;
  if (inputBytes == 0)
    inputBytes = o.inputBytes;
  mergeScratch(fwdScratch, o.fwdScratch);
  mergeScratch(bwdScratch, o.bwdScratch);
}

void mergeScratch(std::map<cost::ScratchBuffer, int64_t> &a,
                  const std::map<cost::ScratchBuffer, int64_t> &b) {
  for (const auto &[shape, count] : b)
    a[shape] = std::max(a[shape], count);
}

double scratchBytes(const std::map<cost::ScratchBuffer, int64_t> &pool) {
  double bytes = 0;
  for (const auto &[shape, count] : pool)
    bytes += double(count) * shape.bytes();
  return bytes;
}

void StageCost::add(const StageCost &o) {
  fwdCompute += o.fwdCompute;
  bwdCompute += o.bwdCompute;
  recompute += o.recompute;
  tpFwd += o.tpFwd;
  tpBwd += o.tpBwd;
  cpFwd += o.cpFwd;
  cpBwd += o.cpBwd;
  activationBytes += o.activationBytes;
  transientBytes = std::max(transientBytes, o.transientBytes);
  params += o.params;
  layers += o.layers;
}

StateBytes stateBytesPerParam(int64_t bytesPerElement) {
  // REFERENCE.md (Rajbhandari et al. 2020, ZeRO sec. 3.1): bf16 weights 2,
  // fp32 gradients 4, fp32 master 4 + Adam moments 8. An fp32 run keeps no
  // master copy: weights 4, gradients 4, moments 8.
  if (bytesPerElement >= 4)
    return {4, 4, 8};
  return {double(bytesPerElement), 4, 12};
}

CostModel::CostModel(const cost::ModelProfile &profile, const Hardware &hw,
                     int64_t gpusPerNode)
    : model(profile), hw(hw), perNode(gpusPerNode) {
  cost::CostContext one;
  one.bytesPerElement = profile.training.bytesPerElement;
  for (const cost::ModuleProfile &m : profile.modules) {
    double stackParams = 0;
    for (const cost::BlockProfile &b : m.blocks)
      for (const OpDesc &op : b.ops) {
        OpCost c = cost::computeOpCost(op, one);
        // Megatron-LM's training-loop count: every matmul incl. attention
        // scores and the LM head, backward 2x forward (Narayanan 2021 eq. 3).
        megatronFlops += double(b.count) * (c.fwdFlops + c.bwdFlops);
        allParams += double(b.count) * c.params;
        if (b.isLayerStack)
          stackParams += double(b.count) * c.params;
        // INTERFACES.md 6nd: + h*V for the LLM's embedding.
        if (op.kind == OpKind::Embedding)
          sixNdFlops += 6.0 * double(op.vocab) * double(op.in) *
                        double(m.tokensPerSample);
      }
    // INTERFACES.md 6nd: 6 x stack parameters x the tokens the module sees.
    sixNdFlops += 6.0 * stackParams * double(m.tokensPerSample);
  }
}

RingExposure ringAttentionExposure(int64_t cp, double exchange, double attnFwd,
                                   double attnBwd) {
  RingExposure e;
  if (cp <= 1)
    return e;
  const double n = double(cp);
  const double stepF = attnFwd / n, stepB = attnBwd / n;
  auto over = [](double comm, double compute) {
    return std::max(0.0, comm - compute);
  };
  e.fwd = (n - 1.0) * over(exchange, stepF);
  e.bwd = 2.0 * over(exchange, stepB) +
          (n - 2.0) * over(2.0 * exchange, stepB) + exchange;
  return e;
}

PartCost CostModel::costOps(const std::vector<OpDesc> &ops,
                            const cost::CostContext &ctx, int64_t mb,
                            const Link &tpLink, const Link &cpLink) const {
  PartCost p;
  const double peak = hw.peakFlops(ctx.bytesPerElement);
  const double hbm = hw.hbmBandwidth * hw.hbmEfficiency;
  const double b = double(mb);
  bool first = true;
  for (const OpDesc &op : ops) {
    OpCost c = cost::computeOpCost(op, ctx);
    if (op.kind == OpKind::Param) {
      p.params += c.params;
      continue;
    }
    if (first) {
      // The part's input, what full recompute keeps (Korthikanti 2022,
      // sec. 5: 2sbh per layer, /t with sequence parallelism).
      double tokens = double(op.tokens) / double(ctx.cp);
      if (ctx.sequenceParallel && ctx.tp > 1)
        tokens /= double(ctx.tp);
      double width = op.in > 0 ? double(op.in) : double(op.out);
      p.inputBytes = b * tokens * width * double(ctx.bytesPerElement);
      first = false;
    }
    // Roofline: an op takes the longer of its FLOPs at the achievable rate
    // and its HBM traffic at the achievable bandwidth (Williams et al. 2009).
    double memFwd = b * (c.bytesRead + c.bytesWritten) / hbm;
    // A backward reads the output gradient and the saved input and writes
    // the input gradient: about twice the forward traffic.
    double memBwd = 2.0 * memFwd;
    double fwd = memFwd, bwd = memBwd;
    if (op.kind == OpKind::Attention) {
      double seg = double(op.segment > 0 ? op.segment : op.tokens);
      // Flash attention's rate grows with sequence length (FlashAttention-3
      // throughput curves); halved at attentionHalfSeq.
      double seqFactor = seg / (seg + hw.attentionHalfSeq);
      fwd = std::max(fwd, b * c.execFwdFlops /
                              (peak * hw.attentionFwdEfficiency * seqFactor));
      bwd = std::max(bwd, b * c.execBwdFlops /
                              (peak * hw.attentionBwdEfficiency * seqFactor));
      p.attnFwd += fwd;
    } else if (c.isMatmul) {
      double m = double(c.gemmM) * b;
      double gemmFlops = 2.0 * m * double(c.gemmN) * double(c.gemmK);
      double minDim = std::min({m, double(c.gemmN), double(c.gemmK)});
      double eff = hw.gemmEfficiency(gemmFlops, minDim);
      fwd = std::max(fwd, b * c.execFwdFlops / (peak * eff));
      bwd = std::max(bwd, b * c.execBwdFlops / (peak * eff));
    }
    // One kernel forward, two backward (input and weight gradients).
    p.fwd += fwd + hw.kernelLaunch;
    p.bwd += bwd + 2.0 * hw.kernelLaunch;
    p.launches += 1;
    auto coll = [](CommKind k) {
      return k == CommKind::AllReduce   ? Collective::AllReduce
             : k == CommKind::AllGather ? Collective::AllGather
                                        : Collective::ReduceScatter;
    };
    if (c.tpFwdComm != CommKind::None)
      p.tpFwd += collectiveSeconds(coll(c.tpFwdComm), b * c.tpFwdCommBytes,
                                   ctx.tp, tpLink);
    if (c.tpBwdComm != CommKind::None)
      p.tpBwd += collectiveSeconds(coll(c.tpBwdComm), b * c.tpBwdCommBytes,
                                   ctx.tp, tpLink);
    if (ctx.cp > 1 && c.cpFwdP2PBytes > 0) {
      // One shift of a key/value block pair; the op's byte counts are its
      // cp-1 forward shifts (OpCost.cpp).
      double exchange = cpLink.latency + b * c.cpFwdP2PBytes /
                                             double(ctx.cp - 1) /
                                             cpLink.bandwidth;
      RingExposure e = ringAttentionExposure(ctx.cp, exchange, fwd, bwd);
      p.cpFwd += e.fwd;
      p.cpBwd += e.bwd;
    }
    p.savedBytes += b * c.savedActivationBytes;
    p.outputBytes += b * c.outputBytes;
    p.keptBytes += b * (c.savedActivationBytes - c.recomputedStatBytes);
    if (op.kind == OpKind::Embedding)
      p.embeddingRows +=
          double(op.in) * (op.split == cost::TpSplit::Vocab && ctx.tp > 1
                               ? double(op.vocab) / double(ctx.tp)
                               : double(op.vocab));
    // Scratch is per sample (mimo's trainer runs one at a time).
    std::map<cost::ScratchBuffer, int64_t> fwdOp, bwdOp;
    for (const cost::ScratchBuffer &s : c.fwdScratch)
      ++fwdOp[s];
    for (const cost::ScratchBuffer &s : c.bwdScratch)
      ++bwdOp[s];
    mergeScratch(p.fwdScratch, fwdOp);
    mergeScratch(p.bwdScratch, bwdOp);
  }
  return p;
}

const ModuleParts &CostModel::parts(size_t index, int64_t tp, int64_t cp,
                                    bool sp, int64_t microBatch,
                                    const Link &tpLink, const Link &cpLink) {
  Key key{index,
          tp,
          cp,
          sp && tp > 1,
          microBatch,
          tp > 1 ? tpLink.bandwidth : 0,
          tp > 1 ? tpLink.latency : 0,
          cp > 1 ? cpLink.bandwidth : 0,
          cp > 1 ? cpLink.latency : 0};
  auto it = cache.find(key);
  if (it != cache.end())
    return *it->second;
  const cost::ModuleProfile &m = model.modules[index];
  cost::CostContext ctx;
  ctx.tp = tp;
  ctx.cp = cp;
  ctx.sequenceParallel = sp && tp > 1;
  ctx.bytesPerElement = model.training.bytesPerElement;
  ctx.flashAttention = true;
  auto result = std::make_unique<ModuleParts>();
  bool seenStack = false;
  // What precedes the layer stack (the embedding, the placement of encoder
  // tokens) runs on the whole sequence on every cp rank; context
  // parallelism splits the stack and what follows it (docs/lowering.md
  // "Context parallelism").
  cost::CostContext whole = ctx;
  whole.cp = 1;
  for (const cost::BlockProfile &b : m.blocks) {
    bool split = seenStack || b.isLayerStack;
    PartCost c =
        costOps(b.ops, split ? ctx : whole, microBatch, tpLink, cpLink);
    if (b.isLayerStack) {
      result->layers.push_back(c);
      result->counts.push_back(b.count);
      result->totalLayers += b.count;
      seenStack = true;
      continue;
    }
    if (!b.isLayerStack && ctx.sequenceParallel) {
      // mimo's trainer keeps sequence parallelism inside the layer stacks:
      // the ops around them work on every token (their scratch shows it).
      cost::CostContext full = split ? ctx : whole;
      full.sequenceParallel = false;
      PartCost whole = costOps(b.ops, full, microBatch, tpLink, cpLink);
      c.fwdScratch = std::move(whole.fwdScratch);
      c.bwdScratch = std::move(whole.bwdScratch);
    }
    PartCost &dst = seenStack ? result->post : result->pre;
    dst.add(c, double(b.count));
  }
  result->outputBytesPerSample = double(m.tokensPerSample) * double(m.hidden) *
                                 double(model.training.bytesPerElement);
  auto &slot = cache[key];
  slot = std::move(result);
  return *slot;
}

StageCost CostModel::stage(const ModuleParts &parts, int64_t pp, int64_t s,
                           const Recompute &rc) const {
  StageCost st;
  auto addPart = [&](const PartCost &p, double times, bool full,
                     bool selective) {
    st.fwdCompute += times * p.fwd;
    st.bwdCompute += times * p.bwd;
    st.tpFwd += times * p.tpFwd;
    st.tpBwd += times * p.tpBwd;
    st.cpFwd += times * p.cpFwd;
    st.cpBwd += times * p.cpBwd;
    st.params += times * p.params;
    // The backward of a part works on gradients about the size of what
    // the part saved (and a recomputed part first rebuilds its
    // activations): one such working set is live at a time.
    st.transientBytes =
        std::max(st.transientBytes, (full ? 2.0 : 1.0) * p.savedBytes);
    if (full) {
      // Full recompute (Chen et al. 2016; Korthikanti 2022 sec. 5): keep
      // the layer input, rerun the forward (with its collectives) in the
      // backward.
      st.activationBytes += times * p.inputBytes;
      st.recompute += times * (p.fwd + p.tpFwd + p.cpFwd);
    } else {
      st.activationBytes += times * p.savedBytes;
      // Selective (Korthikanti 2022 sec. 5): rerun the attention core; with
      // flash attention nothing of it was stored, so it frees no memory.
      if (selective)
        st.recompute += times * p.attnFwd;
    }
  };
  if (s == 0)
    addPart(parts.pre, 1, false, false);
  if (s == pp - 1)
    addPart(parts.post, 1, false, false);
  int64_t perStage = parts.totalLayers / std::max<int64_t>(1, pp);
  int64_t begin = s * perStage, end = begin + perStage;
  int64_t fullLeft = rc.kind == RecomputeKind::Full ? perStage
                     : rc.kind == RecomputeKind::FullLayers
                         ? std::min(rc.layers, perStage)
                         : 0;
  bool selective = rc.kind == RecomputeKind::Selective;
  int64_t index = 0;
  for (size_t k = 0; k < parts.layers.size(); ++k) {
    int64_t lo = std::max(begin, index);
    int64_t hi = std::min(end, index + parts.counts[k]);
    index += parts.counts[k];
    if (hi <= lo)
      continue;
    int64_t n = hi - lo;
    // Megatron's block method: the first N layers of the stage recompute.
    int64_t full = std::min(fullLeft, n);
    fullLeft -= full;
    if (full > 0)
      addPart(parts.layers[k], double(full), true, false);
    if (n - full > 0)
      addPart(parts.layers[k], double(n - full), false, selective);
    st.layers += n;
  }
  return st;
}

} // namespace mimo::planner

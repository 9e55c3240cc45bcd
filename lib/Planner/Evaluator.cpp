//===- Evaluator.cpp - Scores one plan: time, memory, FLOPs ---------------===//
//
// Sources for the schedule and memory rules:
//  [N21] Narayanan et al. 2021 (Megatron-LM PTD-P): 1F1B and interleaved
//        schedules; stage i of 1F1B holds (pp - i) microbatches.
//  [K22] Korthikanti et al. 2022: activation memory; interleaving multiplies
//        stage-0 activations by 1 + (pp-1)/(pp*v) (comes out of the order).
//  [Z20] Rajbhandari et al. 2020 (ZeRO): 2 + 4 + 12 bytes per parameter;
//        the distributed optimizer divides the 12 by DP.
//  [R21] Ren et al. 2021 (ZeRO-Offload): optimizer states on the host, the
//        step bound by host-link transfers.
//  ARCHITECTURE.md: the colocated three-phase schedule and the bridge.
//
//===----------------------------------------------------------------------===//

#include "mimo/Planner/Evaluator.h"
#include "mimo/Planner/PipelineSimulator.h"

#include <algorithm>
#include <cmath>

namespace mimo::planner {

using cost::ModuleKind;
using cost::OpDesc;
using cost::OpKind;

namespace {

constexpr size_t npos = size_t(-1);

std::string str(int64_t v) { return std::to_string(v); }

Grid gridOf(const ModulePlan &m, bool disaggregated) {
  Grid g;
  g.offset = disaggregated ? m.rankOffset : 0;
  g.tp = m.tp;
  g.cp = m.cp;
  g.pp = m.pp;
  g.dp = m.dp;
  return g;
}

/// Time a collective overlapped with `window` seconds of compute adds.
double exposedOverlap(double comm, double window, const Hardware &hw) {
  // The part longer than the window is exposed; the overlapped part slows
  // the kernels it runs beside by overlapSlowdown (REFERENCE.md, 1.1-1.3x).
  return std::max(0.0, comm - window) +
         (hw.overlapSlowdown - 1.0) * std::min(comm, window);
}

/// Memory of one rank's share of one module, split by category.
struct RankMemory {
  double weights = 0, grads = 0, optimizer = 0, activations = 0;
  double transient = 0; ///< one recomputed layer, live in the backward
  double host = 0;      ///< offloaded
  double update = 0;    ///< mimo's trainer: the distributed optimizer's
                        ///< updated parameter shard (a workspace buffer)
  /// Disaggregated: the span the rank is in (0 the encoders', 1 the
  /// LLM's); -1 elsewhere.
  int span = -1;
};

/// One module on its grid: per-stage costs and state.
struct ModuleRun {
  size_t index = npos;
  const ModulePlan *plan = nullptr;
  Grid grid;
  std::vector<StageCost> stages;
  double p2p = 0; ///< per microbatch between its stages
  int64_t microbatches = 0;
  PipelineResult fwd, bwd, train; ///< as simulated
  double fwdNoP2p = 0, bwdNoP2p = 0, trainNoP2p = 0;
};

} // namespace

struct Evaluator::Impl {
  Evaluator &ev;
  const Plan &plan;
  bool record;
  Evaluation &out;
  const Hardware &hw;
  int64_t bpe;
  int64_t gbs;
  int64_t mbs;
  bool disaggregated;

  Impl(Evaluator &ev, const Plan &plan, bool record, Evaluation &out)
      : ev(ev), plan(plan), record(record), out(out),
        hw(ev.clusterInfo.hardware), bpe(ev.model.training.bytesPerElement),
        gbs(ev.model.training.globalBatchSize), mbs(plan.microBatchSize),
        disaggregated(plan.layout == Layout::Disaggregated) {}

  const ModulePlan &planFor(size_t idx) const {
    return *plan.find(ev.model.modules[idx].name);
  }

  Link link(const Grid &g, GridDim d) const {
    return groupLink(hw, g, d, ev.clusterInfo.gpusPerNode);
  }

  /// Stages of module `idx` (an encoder also runs its projector on its last
  /// stage) split over `pp` stages.
  std::vector<StageCost> stagesOf(size_t idx, const ModulePlan &mp,
                                  const Grid &g, int64_t pp, int64_t mb) {
    Link tpL = link(g, GridDim::TP), cpL = link(g, GridDim::CP);
    // Context parallelism splits the LLM's sequence; an encoder on a cp > 1
    // grid (the homogeneous layout's) runs whole on each cp rank, as the
    // lowering executes it (docs/lowering.md "Context parallelism").
    const int64_t cp = idx == ev.llmIdx ? mp.cp : 1;
    const ModuleParts &parts =
        ev.costs.parts(idx, mp.tp, cp, mp.sequenceParallel, mb, tpL, cpL);
    std::vector<StageCost> st;
    for (int64_t s = 0; s < pp; ++s)
      st.push_back(ev.costs.stage(parts, pp, s, mp.recompute));
    size_t proj = ev.projectorOf[idx];
    if (proj != npos) {
      const ModuleParts &pp1 =
          ev.costs.parts(proj, mp.tp, cp, mp.sequenceParallel, mb, tpL, cpL);
      st.back().add(ev.costs.stage(pp1, 1, 0, Recompute()));
    }
    return st;
  }

  /// Activation bytes sent between pipeline stages per microbatch: Megatron
  /// sends the [s/cp, b, h] tensor, split by tp (scatter-gather) [N21 4.1].
  double p2pSeconds(size_t idx, const ModulePlan &mp, const Grid &g,
                    int64_t mb) const {
    if (mp.pp <= 1)
      return 0;
    const cost::ModuleProfile &m = ev.model.modules[idx];
    double bytes = double(mb) * double(m.tokensPerSample) / double(mp.cp) *
                   double(m.hidden) * double(bpe) / double(mp.tp);
    return collectiveSeconds(Collective::P2P, bytes, 2, link(g, GridDim::PP));
  }

  /// Bytes of the projector output for one sample (what the bridge moves).
  double bridgeBytesPerSample(size_t enc) const {
    size_t proj = ev.projectorOf[enc];
    const cost::ModuleProfile &m = ev.model.modules[proj != npos ? proj : enc];
    return double(m.tokensPerSample) * double(m.hidden) * double(bpe);
  }

  RankMemory stateMemory(const StageCost &st, const ModulePlan &mp) const {
    return stateMemory(st.params, mp);
  }
  /// Weights, gradients and optimizer state of `params` parameters under
  /// `mp`'s distributed optimizer and offload.
  RankMemory stateMemory(double params, const ModulePlan &mp) const {
    StateBytes sb = stateBytesPerParam(bpe);
    RankMemory r;
    r.weights = params * sb.weights;
    // With the distributed optimizer the gradients are reduce-scattered
    // into a 1/dp shard beside the full buffer (as the lowering runs it).
    r.grads = params * sb.grads *
              (mp.distributedOptimizer && mp.dp > 1 ? 1.0 + 1.0 / double(mp.dp)
                                                    : 1.0);
    r.optimizer =
        params * sb.optimizer / (mp.distributedOptimizer ? double(mp.dp) : 1.0);
    if (mp.distributedOptimizer && mp.dp > 1)
      r.update = params * sb.weights / double(mp.dp);
    if (mp.offloadOptimizer) {
      r.host += r.optimizer;
      r.optimizer = 0;
    }
    return r;
  }

  /// Gradient sync of one rank's parameters over its DP group [Z20]:
  /// all-reduce of fp32 gradients, or reduce-scatter + parameter all-gather.
  /// With context parallelism the LLM's gradients are each cp rank's
  /// tokens' share: summed over cp x dp (Megatron's dp-cp group), or with
  /// the distributed optimizer all-reduced over cp, then reduce-scattered
  /// over dp (what the lowering emits).
  double dpSyncSeconds(double params, const ModulePlan &mp,
                       const Grid &g) const {
    const int64_t cp = mp.name == ev.model.modules[ev.llmIdx].name ? mp.cp : 1;
    if (mp.dp * cp <= 1)
      return 0;
    StateBytes sb = stateBytesPerParam(bpe);
    Link l = link(g, mp.dp > 1 ? GridDim::DP : GridDim::CP);
    if (mp.distributedOptimizer) {
      double overCp =
          cp > 1 ? collectiveSeconds(Collective::AllReduce, params * sb.grads,
                                     cp, link(g, GridDim::CP))
                 : 0.0;
      if (mp.dp <= 1)
        return overCp;
      return overCp +
             collectiveSeconds(Collective::ReduceScatter, params * sb.grads,
                               mp.dp, l) +
             collectiveSeconds(Collective::AllGather, params * sb.weights,
                               mp.dp, l);
    }
    return collectiveSeconds(Collective::AllReduce, params * sb.grads,
                             mp.dp * cp, l);
  }

  /// Adam step over the rank's shard: memory-bound, 30 bytes per parameter
  /// in bf16 mixed precision (read grad, master, m, v; write master, m, v,
  /// bf16 weights), 28 in fp32. On the host [R21]: gradients down, weights
  /// up, and the step at host-link speed.
  double optimizerSeconds(double params, const ModulePlan &mp) const {
    double local = params / (mp.distributedOptimizer ? double(mp.dp) : 1.0);
    double perParam = bpe >= 4 ? 28.0 : 30.0;
    if (mp.offloadOptimizer) {
      StateBytes sb = stateBytesPerParam(bpe);
      return local * (sb.grads + sb.weights + perParam) /
             (hw.hostLinkBandwidth * hw.hostLinkEfficiency);
    }
    return local * perParam / (hw.hbmBandwidth * hw.hbmEfficiency);
  }

  PipelineStages pipelineOf(const std::vector<StageCost> &st, double p2p,
                            double scale = 1.0) const {
    PipelineStages ps;
    for (const StageCost &s : st) {
      ps.fwd.push_back(s.fwd() * scale);
      ps.bwd.push_back(s.bwd() * scale);
      ps.p2p.push_back(p2p);
    }
    return ps;
  }

  /// Runs `ps` and, for the breakdown, the same without transfers.
  PipelineResult simulate(const PipelineStages &ps, int64_t m, int64_t v,
                          PipelineMode mode, double &noP2p) const {
    PipelineResult r = simulatePipeline(ps, m, v, mode, record);
    noP2p = r.makespan;
    if (ps.fwd.size() > 1 && ev.detailed) {
      PipelineStages z = ps;
      std::fill(z.p2p.begin(), z.p2p.end(), 0.0);
      noP2p = simulatePipeline(z, m, v, mode, false).makespan;
    }
    return r;
  }

  /// Adds a critical stage's work for `m` microbatches to the breakdown.
  void addStageWork(const StageCost &s, double m, double scale, bool fwd,
                    bool bwd) {
    Breakdown &b = out.prediction.breakdown;
    if (fwd) {
      b.compute += m * scale * s.fwdCompute;
      b.tpComm += m * scale * s.tpFwd;
      b.cpComm += m * scale * s.cpFwd;
    }
    if (bwd) {
      b.compute += m * scale * s.bwdCompute;
      b.recompute += m * scale * s.recompute;
      b.tpComm += m * scale * s.tpBwd;
      b.cpComm += m * scale * s.cpBwd;
    }
  }

  static size_t critical(const PipelineResult &r) {
    size_t c = 0;
    for (size_t s = 1; s < r.busy.size(); ++s)
      if (r.busy[s] > r.busy[c])
        c = s;
    return c;
  }

  void emitTasks(const PipelineResult &r, const std::string &group,
                 double offset, const std::string &what) {
    if (!record)
      return;
    for (const PipelineTask &t : r.tasks) {
      TimelineEvent e;
      e.group = group;
      e.stream = "stage " + str(t.stage) + " compute";
      e.name = what + (t.forward ? " F" : " B") + str(t.microbatch) +
               (r.busy.size() && t.chunk ? "." + str(t.chunk) : "");
      e.start = offset + t.start;
      e.duration = t.end - t.start;
      out.timeline.push_back(e);
    }
  }

  void emit(const std::string &group, const std::string &stream,
            const std::string &name, double start, double dur) {
    if (!record || dur <= 0)
      return;
    out.timeline.push_back({group, stream, name, start, dur});
  }

  double evaluateHomogeneous(std::vector<RankMemory> &perStage,
                             std::vector<double> &hostPerStage);
  double evaluateColocated(MemoryBreakdown &mem, double &peak);
  double evaluateDisaggregated(MemoryBreakdown &mem, double &peak);
  void finishMemory(const RankMemory &r, MemoryBreakdown &mem,
                    double &peak) const;

  /// mimo's trainer: its activation and workspace buffers (rank-independent).
  /// mimo's trainer's activation and workspace buffers: those on every
  /// rank, and (disaggregated) those on the encoders' and the LLM's span.
  double trainerActivations = 0, trainerWorkspace = 0;
  double spanActivations[2] = {0, 0}, spanWorkspace[2] = {0, 0};
  void trainerBuffers();
};

// The buffers of mimo's lowered program (docs/lowering.md, "Buffers";
// docs/planner.md, "Memory"): the loaded batch; per module the values one
// sample's forward and backward return (a layer stack's body is one layer,
// reused by every layer; a backward also takes its parameters' gradients
// before adding them), what the backward reads kept per layer and per slot
// (in-flight sample), the stacks' carries, the bridge's staging, and per
// module the largest scratch of each op kind. The trainer runs one sample
// at a time whatever the micro-batch size.
void Evaluator::Impl::trainerBuffers() {
  const cost::ModelProfile &model = ev.model;
  const int64_t seq = model.training.seqLen;
  // The loader runs on the grid with the smallest dp (the disaggregated
  // layout's on the world) and holds that grid's whole local batch.
  int64_t loaderDp = 0;
  for (const ModulePlan &m : plan.modules)
    loaderDp = loaderDp ? std::min(loaderDp, m.dp) : m.dp;
  if (disaggregated || loaderDp < 1)
    loaderDp = 1;
  const double localBatch = double(gbs / loaderDp);
  double pixelsPerSample = 0;
  for (size_t e : ev.encoderIdx)
    for (const cost::BlockProfile &blk : model.modules[e].blocks)
      for (const OpDesc &op : blk.ops)
        if (op.kind == OpKind::PatchEmbed)
          pixelsPerSample = std::max(
              pixelsPerSample, double(op.images) * double(op.imageTokens) *
                                   double(op.channels) * double(op.patch) *
                                   double(op.patch));
  // Token ids and labels (i32), pixels (f32, as loaded).
  double common = localBatch * (8.0 * double(seq) + 4.0 * pixelsPerSample);
  double commonWs = 0;
  spanActivations[0] = spanActivations[1] = 0;
  spanWorkspace[0] = spanWorkspace[1] = 0;

  const ModulePlan &lp = planFor(ev.llmIdx);
  // In-flight samples of a pipelined LLM: a ring of the first stage's
  // warm-up + 1 per virtual stage (MimoToMimort's pipeline slots).
  int64_t P = lp.pp, V = std::max<int64_t>(1, plan.virtualStages);
  int64_t micro = gbs / std::max<int64_t>(1, lp.dp);
  int64_t warm = V == 1 ? P - 1 : (P - 1) * 2 + (V - 1) * P;
  int64_t ring = std::min(micro, warm + 1);
  const bool phased = plan.layout != Layout::Homogeneous;

  // A module's buffers: on its span's ranks only in the disaggregated
  // layout (MimoToMimort declares them on its grid), else on every rank.
  auto addModule = [&](size_t idx, const ModulePlan &mp, bool isLlm,
                       double slots, double layersKept) {
    double &act = disaggregated ? spanActivations[isLlm ? 1 : 0] : common;
    double &ws = disaggregated ? spanWorkspace[isLlm ? 1 : 0] : commonWs;
    Grid g = gridOf(mp, disaggregated);
    Link tpL = link(g, GridDim::TP), cpL = link(g, GridDim::CP);
    const ModuleParts &parts = ev.costs.parts(idx, mp.tp, isLlm ? mp.cp : 1,
                                              mp.sequenceParallel, 1, tpL, cpL);
    // The largest layer of the module's stacks, and the module's forward and
    // backward scratch pools (each part's, the larger count per shape).
    double layerOutputs = 0, layerParams = 0;
    double perLayerKept = 0, perLayerInput = 0;
    std::map<cost::ScratchBuffer, int64_t> fwdPool = parts.pre.fwdScratch;
    std::map<cost::ScratchBuffer, int64_t> bwdPool = parts.pre.bwdScratch;
    mergeScratch(fwdPool, parts.post.fwdScratch);
    mergeScratch(bwdPool, parts.post.bwdScratch);
    for (const PartCost &l : parts.layers) {
      layerOutputs = std::max(layerOutputs, l.outputBytes);
      layerParams = std::max(layerParams, l.params);
      perLayerKept = std::max(perLayerKept, l.keptBytes);
      perLayerInput = std::max(perLayerInput, l.inputBytes);
      mergeScratch(fwdPool, l.fwdScratch);
      mergeScratch(bwdPool, l.bwdScratch);
    }
    const bool full = mp.recompute.kind == RecomputeKind::Full;
    double outputs =
        parts.pre.outputBytes + layerOutputs + parts.post.outputBytes;
    // (An embedding's gradient rows are added into its .grad buffer.)
    double gradTemps =
        double(bpe) * (parts.pre.params + layerParams + parts.post.params -
                       parts.pre.embeddingRows - parts.post.embeddingRows);
    // Forward values, then their gradients and the parameter gradients.
    act += 2.0 * outputs + gradTemps;
    // What the backward reads, per layer and slot (full recompute keeps
    // each layer's input and reruns one layer into its own buffers).
    act += slots * layersKept * (full ? perLayerInput : perLayerKept);
    if (full)
      act += perLayerKept;
    // What the backward reads outside the stacks: one copy is among the
    // values above, the other slots have buffers of their own.
    if (slots > 1)
      act += (slots - 1.0) * (parts.pre.keptBytes + parts.post.keptBytes);
    // The stack's carried value, forward and backward.
    if (!parts.layers.empty())
      act += 2.0 * parts.layers.front().inputBytes;
    ws += scratchBytes(fwdPool) + scratchBytes(bwdPool);
  };

  double bridgeToken = 0;
  for (size_t e : ev.encoderIdx) {
    const ModulePlan &ep = planFor(e);
    const cost::ModuleProfile &m = model.modules[e];
    // Encoders keep what their backward reads per encoder sample until the
    // phase that runs it (colocated, disaggregated), or per pipeline slot
    // on the LLM's first stage.
    double slots = phased  ? double(gbs / std::max<int64_t>(1, ep.dp))
                   : P > 1 ? double(V * ring)
                           : 1.0;
    addModule(e, ep, false, slots, double(m.layers()));
    size_t proj = ev.projectorOf[e];
    if (proj != npos) {
      const ModulePlan *own = plan.find(model.modules[proj].name);
      addModule(proj, own ? *own : ep, false, slots, 0.0);
      const cost::ModuleProfile &pm = model.modules[proj];
      bridgeToken =
          double(pm.tokensPerSample) * double(pm.hidden) * double(bpe);
    }
    if (phased) {
      // The bridge's staging: encoder outputs and their gradients per
      // encoder sample, the LLM's inputs and gradients per LLM sample, and
      // a fan-in's gathered outputs.
      int64_t bEnc = gbs / std::max<int64_t>(1, ep.dp);
      int64_t bLlm = gbs / std::max<int64_t>(1, lp.dp);
      common += bridgeToken * double(2 * bEnc + 2 * bLlm);
      if (ep.dp > lp.dp)
        common += bridgeToken * double(bEnc * (ep.dp / lp.dp));
    }
  }
  double llmLayers = double(model.modules[ev.llmIdx].layers());
  addModule(ev.llmIdx, lp, true, P > 1 ? double(V * ring) : 1.0,
            P > 1 ? llmLayers / double(P * V) : llmLayers);
  trainerActivations = common;
  trainerWorkspace = commonWs;
}

void Evaluator::Impl::finishMemory(const RankMemory &r, MemoryBreakdown &mem,
                                   double &peak) const {
  MemoryBreakdown m;
  m.params = r.weights;
  m.grads = r.grads;
  m.optimizer = r.optimizer;
  m.offloaded = r.host;
  if (ev.clusterInfo.memoryModel == MemoryModel::Mimo) {
    // The trainer's activation and workspace buffers are declared for the
    // whole program: the same on every rank (disaggregated: on every rank
    // of the module's span).
    m.activations = trainerActivations;
    m.workspace = trainerWorkspace + r.update;
    for (int span : {0, 1})
      if (r.span < 0 || r.span == span) {
        m.activations += spanActivations[span];
        m.workspace += spanWorkspace[span];
      }
  } else {
    m.activations = r.activations + r.transient;
    double allocated = m.params + m.grads + m.optimizer + m.activations;
    // Library workspaces plus the caching allocator's reserve.
    m.workspace = hw.workspaceBytes + hw.fragmentation * allocated;
  }
  if (m.peak() > peak) {
    peak = m.peak();
    mem = m;
  }
}

//===-- Homogeneous: one grid, modules chained in one pipeline ------------===//

double Evaluator::Impl::evaluateHomogeneous(std::vector<RankMemory> &perStage,
                                            std::vector<double> &) {
  const ModulePlan &lp = planFor(ev.llmIdx);
  Grid g = gridOf(lp, false);
  int64_t pp = lp.pp;
  int64_t m = gbs / (mbs * lp.dp);
  // The LLM's layers split over the stages; encoders and projectors run
  // whole on the first stage (Megatron LLaVA places the vision model there).
  std::vector<StageCost> st = stagesOf(ev.llmIdx, lp, g, pp, mbs);
  // Each module's parameters keep their own plan's distributed optimizer
  // and offload (the trainer syncs and updates them per module).
  const double llmFirstParams = st[0].params;
  std::vector<std::pair<double, const ModulePlan *>> encParams;
  for (size_t e : ev.encoderIdx) {
    StageCost ec = stagesOf(e, planFor(e), g, 1, mbs)[0];
    st[0].add(ec);
    encParams.push_back({ec.params, &planFor(e)});
  }
  double p2p = p2pSeconds(ev.llmIdx, lp, g, mbs);
  PipelineStages ps = pipelineOf(st, p2p);
  double noP2p = 0;
  PipelineResult r =
      simulate(ps, m, plan.virtualStages, PipelineMode::Train, noP2p);
  if (!r.ok) {
    out.invalid = true;
    out.reason = "schedule: the pipeline order could not be simulated";
    return 0;
  }
  emitTasks(r, "homogeneous", 0, "mb");
  // Gradient sync per stage overlaps the backward of its last microbatch
  // (Megatron overlap_grad_reduce); the iteration ends with the latest
  // stage's sync and the optimizer step.
  double end = 0, dpExposed = 0, opt = 0;
  size_t cs = critical(r);
  for (int64_t s = 0; s < pp; ++s) {
    double params = s == 0 ? llmFirstParams : st[size_t(s)].params;
    double sync = dpSyncSeconds(params, lp, g);
    double o = optimizerSeconds(params, lp);
    if (s == 0)
      for (auto [n, ep] : encParams) {
        sync += dpSyncSeconds(n, *ep, g);
        o += optimizerSeconds(n, *ep);
      }
    double window = st[size_t(s)].bwd();
    double ex = exposedOverlap(sync, window, hw);
    double e = r.stageEnd[size_t(s)] + ex + o;
    emit("homogeneous", "stage " + str(s) + " comm", "grad sync",
         r.stageEnd[size_t(s)] - std::min(sync, window), sync);
    emit("homogeneous", "stage " + str(s) + " compute", "optimizer",
         r.stageEnd[size_t(s)] + ex, o);
    if (e > end) {
      end = e;
      dpExposed = ex;
      opt = o;
    }
  }
  Breakdown &b = out.prediction.breakdown;
  addStageWork(st[cs], double(m), 1.0, true, true);
  b.ppP2p = r.makespan - noP2p;
  b.dpComm = dpExposed;
  b.optimizer = opt;
  // Memory: stage s holds the microbatches in flight there [N21, K22].
  perStage.assign(size_t(pp), {});
  for (int64_t s = 0; s < pp; ++s) {
    RankMemory rm =
        stateMemory(s == 0 ? llmFirstParams : st[size_t(s)].params, lp);
    if (s == 0)
      for (auto [n, ep] : encParams) {
        RankMemory e = stateMemory(n, *ep);
        rm.weights += e.weights;
        rm.grads += e.grads;
        rm.optimizer += e.optimizer;
        rm.update += e.update;
        rm.host += e.host;
      }
    rm.activations = r.maxInFlight[size_t(s)] * st[size_t(s)].activationBytes;
    rm.transient = st[size_t(s)].transientBytes;
    perStage[size_t(s)] = rm;
  }
  return end;
}

//===-- Colocated: encoder phase, LLM pipeline, encoder backward ----------===//

double Evaluator::Impl::evaluateColocated(MemoryBreakdown &mem, double &peak) {
  const int64_t world = ev.clusterInfo.gpus;
  double t = 0;
  Breakdown &b = out.prediction.breakdown;
  std::vector<ModuleRun> encRuns;
  // Phase 1: every encoder's forward for all its microbatches.
  double offloadD2H = 0, offloadH2D = 0, paramCopy = 0;
  for (size_t e : ev.encoderIdx) {
    ModuleRun run;
    run.index = e;
    run.plan = &planFor(e);
    run.grid = gridOf(*run.plan, false);
    run.stages = stagesOf(e, *run.plan, run.grid, run.plan->pp, mbs);
    run.p2p = p2pSeconds(e, *run.plan, run.grid, mbs);
    run.microbatches = gbs / (mbs * run.plan->dp);
    PipelineStages ps = pipelineOf(run.stages, run.p2p);
    run.fwd = simulate(ps, run.microbatches, 1, PipelineMode::ForwardOnly,
                       run.fwdNoP2p);
    const std::string &name = ev.model.modules[e].name;
    emitTasks(run.fwd, name, t, "fwd");
    size_t cs = critical(run.fwd);
    addStageWork(run.stages[cs], double(run.microbatches), 1.0, true, false);
    b.ppP2p += run.fwd.makespan - run.fwdNoP2p;
    b.bubble += run.fwdNoP2p - run.fwd.busy[cs];
    if (run.plan->offloadActivations) {
      // Activations stream to the host during the forward (side stream).
      double bytes = 0;
      for (const StageCost &s : run.stages)
        bytes = std::max(bytes, s.activationBytes);
      double copy = double(run.microbatches) * bytes /
                    (hw.hostLinkBandwidth * hw.hostLinkEfficiency);
      offloadD2H += exposedOverlap(copy, run.fwd.makespan, hw);
      offloadH2D += copy;
      emit(name, "host link", "activations to host", t, copy);
    }
    if (run.plan->offloadParams) {
      double params = 0;
      for (const StageCost &s : run.stages)
        params = std::max(params, s.params);
      StateBytes sb = stateBytesPerParam(bpe);
      paramCopy += 2.0 * params * sb.weights /
                   (hw.hostLinkBandwidth * hw.hostLinkEfficiency);
    }
    t += run.fwd.makespan;
    encRuns.push_back(std::move(run));
  }
  b.offload += offloadD2H;
  t += offloadD2H;

  // The bridge: projector outputs from each encoder grid to the LLM grid.
  const ModulePlan &lp = planFor(ev.llmIdx);
  Grid lg = gridOf(lp, false);
  double bridge = 0, bcast = 0;
  for (const ModuleRun &run : encRuns) {
    int64_t de = run.plan->dp, dl = lp.dp;
    double perSample = bridgeBytesPerSample(run.index);
    if (de != dl) {
      // Fan-in gathers k = de/dl encoder replicas' outputs along tokens;
      // fan-out gathers gradients in the backward (ARCHITECTURE.md).
      int64_t k = de > dl ? de / dl : dl / de;
      int64_t stride = de > dl ? run.grid.tp * run.grid.cp * run.grid.pp
                               : lg.tp * lg.cp * lg.pp;
      Grid bg;
      bg.tp = stride;
      bg.cp = k;
      bg.dp = world / (stride * k);
      Link l = link(bg, GridDim::CP);
      double samples = double(gbs) / double(std::min(de, dl));
      bridge +=
          collectiveSeconds(Collective::AllGather, samples * perSample, k, l);
    }
    if (lp.pp > 1) {
      // Encoder-output gradients broadcast from LLM stage 0 to the others.
      double samples = double(gbs) / double(dl);
      bcast += collectiveSeconds(Collective::Broadcast, samples * perSample,
                                 lp.pp, link(lg, GridDim::PP));
    }
  }
  emit("bridge", "comm", "bridge", t, bridge);
  t += bridge;

  // Phase 2: the LLM pipeline over its microbatches.
  ModuleRun lr;
  lr.index = ev.llmIdx;
  lr.plan = &lp;
  lr.grid = lg;
  lr.stages = stagesOf(ev.llmIdx, lp, lg, lp.pp, mbs);
  lr.p2p = p2pSeconds(ev.llmIdx, lp, lg, mbs);
  lr.microbatches = gbs / (mbs * lp.dp);
  PipelineStages lps = pipelineOf(lr.stages, lr.p2p);
  lr.train = simulate(lps, lr.microbatches, plan.virtualStages,
                      PipelineMode::Train, lr.trainNoP2p);
  if (!lr.train.ok) {
    out.invalid = true;
    out.reason = "schedule: the pipeline order could not be simulated";
    return 0;
  }
  const std::string &llmName = ev.model.modules[ev.llmIdx].name;
  emitTasks(lr.train, llmName, t, "mb");
  size_t lcs = critical(lr.train);
  addStageWork(lr.stages[lcs], double(lr.microbatches), 1.0, true, true);
  b.ppP2p += lr.train.makespan - lr.trainNoP2p;
  b.bubble += lr.trainNoP2p - lr.train.busy[lcs];
  double phase2Start = t;
  t += lr.train.makespan;
  // Encoder parameters leave and come back during the LLM phase.
  double paramExposed = std::max(0.0, paramCopy - lr.train.makespan);
  emit("host link", "host link", "encoder params to host and back", phase2Start,
       paramCopy);
  b.offload += paramExposed;
  t += paramExposed;
  emit("bridge", "comm", "encoder-output gradient broadcast", t, bcast);
  t += bcast;
  b.bridge = bridge + bcast;

  // Phase 3: encoder backward (with recompute), prefetching offloaded
  // activations, then gradient sync and the optimizer for both modules.
  double phase3 = 0, encSyncExposed = 0, encOpt = 0;
  for (ModuleRun &run : encRuns) {
    PipelineStages ps = pipelineOf(run.stages, run.p2p);
    run.bwd = simulate(ps, run.microbatches, 1, PipelineMode::BackwardOnly,
                       run.bwdNoP2p);
    const std::string &name = ev.model.modules[run.index].name;
    emitTasks(run.bwd, name, t + phase3, "bwd");
    size_t cs = critical(run.bwd);
    addStageWork(run.stages[cs], double(run.microbatches), 1.0, false, true);
    b.ppP2p += run.bwd.makespan - run.bwdNoP2p;
    b.bubble += run.bwdNoP2p - run.bwd.busy[cs];
    phase3 += run.bwd.makespan;
    double worstSync = 0, worstOpt = 0;
    for (const StageCost &s : run.stages) {
      double sync = dpSyncSeconds(s.params, *run.plan, run.grid);
      worstSync = std::max(worstSync, exposedOverlap(sync, s.bwd(), hw));
      worstOpt = std::max(worstOpt, optimizerSeconds(s.params, *run.plan));
    }
    encSyncExposed += worstSync;
    encOpt += worstOpt;
  }
  double h2dExposed = exposedOverlap(offloadH2D, phase3, hw);
  b.offload += h2dExposed;
  t += phase3 + h2dExposed;
  // The LLM's gradient sync overlaps its last backward and the encoder
  // backward phase.
  double llmSync = 0, llmOpt = 0;
  for (const StageCost &s : lr.stages) {
    double sync = dpSyncSeconds(s.params, lp, lg);
    llmSync = std::max(llmSync, exposedOverlap(sync, s.bwd() + phase3, hw));
    llmOpt = std::max(llmOpt, optimizerSeconds(s.params, lp));
  }
  emit(llmName, "comm", "grad sync", t - phase3, llmSync);
  b.dpComm = encSyncExposed + llmSync;
  b.optimizer = encOpt + llmOpt;
  t += b.dpComm + b.optimizer;

  // Memory per rank: each rank holds one stage of every module.
  for (int64_t rank = 0; rank < world; ++rank) {
    RankMemory phase2, phase13;
    for (const ModuleRun &run : encRuns) {
      const Grid &g = run.grid;
      int64_t s = (rank / (g.tp * g.cp)) % g.pp;
      const StageCost &st = run.stages[size_t(s)];
      RankMemory state = stateMemory(st, *run.plan);
      // Encoder activations live from phase 1 to phase 3 (all microbatches);
      // offloaded, two stay on the device (double buffering).
      double held = double(run.microbatches) * st.activationBytes;
      double device = run.plan->offloadActivations
                          ? std::min<double>(2, double(run.microbatches)) *
                                st.activationBytes
                          : held;
      RankMemory p13 = state;
      p13.activations = device;
      p13.transient = st.transientBytes;
      p13.host += held - device;
      RankMemory p2 = state;
      p2.activations = device;
      p2.host += held - device;
      if (run.plan->offloadParams) {
        p2.host += p2.weights + p2.grads;
        p2.weights = p2.grads = 0;
      }
      for (RankMemory *dst : {&phase2, &phase13}) {
        const RankMemory &src = dst == &phase2 ? p2 : p13;
        dst->weights += src.weights;
        dst->grads += src.grads;
        dst->optimizer += src.optimizer;
        dst->update += src.update;
        dst->activations += src.activations;
        dst->transient = std::max(dst->transient, src.transient);
        dst->host += src.host;
      }
    }
    int64_t ls = (rank / (lg.tp * lg.cp)) % lg.pp;
    const StageCost &st = lr.stages[size_t(ls)];
    RankMemory state = stateMemory(st, lp);
    for (RankMemory *dst : {&phase2, &phase13}) {
      dst->weights += state.weights;
      dst->grads += state.grads;
      dst->optimizer += state.optimizer;
      dst->update += state.update;
      dst->host += state.host;
    }
    phase2.activations += lr.train.maxInFlight[size_t(ls)] * st.activationBytes;
    phase2.transient = std::max(phase2.transient, st.transientBytes);
    finishMemory(phase2, mem, peak);
    finishMemory(phase13, mem, peak);
  }
  return t;
}

//===-- Disaggregated: one pipeline across module groups ------------------===//

double Evaluator::Impl::evaluateDisaggregated(MemoryBreakdown &mem,
                                              double &peak) {
  const ModulePlan &lp = planFor(ev.llmIdx);
  Grid lg = gridOf(lp, true);
  int64_t m = gbs / (mbs * lp.dp);
  int64_t ppe = planFor(ev.encoderIdx.front()).pp;
  // (The plan rules keep an encoder here on one stage: ppe == 1.)
  const int64_t V = plan.virtualStages;
  // Encoder stages: encoders run side by side on their own ranks; per LLM
  // microbatch step each encoder replica handles dp_llm/dp_enc of one.
  std::vector<double> scale;
  std::vector<std::vector<StageCost>> encStages;
  PipelineStages ps;
  ps.fwd.assign(size_t(ppe), 0.0);
  ps.bwd.assign(size_t(ppe), 0.0);
  ps.p2p.assign(size_t(ppe), 0.0);
  double bridge = 0;
  for (size_t e : ev.encoderIdx) {
    const ModulePlan &ep = planFor(e);
    Grid eg = gridOf(ep, true);
    std::vector<StageCost> st = stagesOf(e, ep, eg, ep.pp, mbs);
    double r = double(lp.dp) / double(ep.dp);
    double p2p = p2pSeconds(e, ep, eg, mbs) * r;
    for (int64_t s = 0; s < ppe; ++s) {
      ps.fwd[size_t(s)] = std::max(ps.fwd[size_t(s)], st[size_t(s)].fwd() * r);
      ps.bwd[size_t(s)] = std::max(ps.bwd[size_t(s)], st[size_t(s)].bwd() * r);
      ps.p2p[size_t(s)] = std::max(ps.p2p[size_t(s)], p2p);
    }
    // A leader per replica sends to the receiving leaders, which broadcast
    // to their TP group (ARCHITECTURE.md).
    int64_t perNode = ev.clusterInfo.gpusPerNode;
    int64_t lastEnc = ep.rankOffset + ep.rankSize - 1;
    bool sameNode = lastEnc / perNode == lg.offset / perNode;
    Link l = sameNode ? intraNodeLink(hw) : interNodeLink(hw);
    double bytes = double(mbs) * bridgeBytesPerSample(e);
    double per =
        collectiveSeconds(Collective::P2P, bytes * std::max(1.0, r), 2, l) +
        collectiveSeconds(Collective::Broadcast, bytes, lp.tp,
                          link(lg, GridDim::TP));
    bridge = std::max(bridge, per);
    scale.push_back(r);
    encStages.push_back(std::move(st));
  }
  ps.p2p[size_t(ppe) - 1] = bridge;
  std::vector<StageCost> lst = stagesOf(ev.llmIdx, lp, lg, lp.pp, mbs);
  double lp2p = p2pSeconds(ev.llmIdx, lp, lg, mbs);
  for (const StageCost &s : lst) {
    ps.fwd.push_back(s.fwd());
    ps.bwd.push_back(s.bwd());
    ps.p2p.push_back(lp2p);
  }
  double noP2p = 0;
  PipelineResult r;
  if (V == 1) {
    r = simulate(ps, m, 1, PipelineMode::Train, noP2p);
  } else {
    // The encoder's ranks feed the LLM's interleaved pipeline: every
    // forward, each sample leaving once projected, then each backward as
    // its gradient returns (docs/lowering.md, "The disaggregated
    // schedule"). Seen as a pipeline whose stage 0 is the encoder.
    PipelineStages llmOnly;
    llmOnly.fwd.assign(ps.fwd.begin() + 1, ps.fwd.end());
    llmOnly.bwd.assign(ps.bwd.begin() + 1, ps.bwd.end());
    llmOnly.p2p.assign(ps.p2p.begin() + 1, ps.p2p.end());
    auto fed = [&](double link, const PipelineStages &st, bool rec) {
      return simulateFedPipeline(st, PipelineFeeder{ps.fwd[0], ps.bwd[0], link},
                                 m, V, rec);
    };
    PipelineResult lr = fed(bridge, llmOnly, record);
    // As simulate(): the run without transfers only for a detailed
    // breakdown (the search scores without it).
    noP2p = lr.makespan;
    if (ev.detailed) {
      PipelineStages z = llmOnly;
      std::fill(z.p2p.begin(), z.p2p.end(), 0.0);
      noP2p = fed(0.0, z, false).makespan;
    }
    r.ok = lr.ok;
    r.makespan = lr.makespan;
    r.busy = {lr.feederBusy};
    r.stageEnd = {lr.feederEnd};
    r.maxInFlight = {double(m)};
    r.busy.insert(r.busy.end(), lr.busy.begin(), lr.busy.end());
    r.stageEnd.insert(r.stageEnd.end(), lr.stageEnd.begin(), lr.stageEnd.end());
    r.maxInFlight.insert(r.maxInFlight.end(), lr.maxInFlight.begin(),
                         lr.maxInFlight.end());
    for (PipelineTask t : lr.tasks) {
      ++t.stage;
      r.tasks.push_back(t);
    }
  }
  if (!r.ok) {
    out.invalid = true;
    out.reason = "schedule: the pipeline order could not be simulated";
    return 0;
  }
  if (record)
    for (const PipelineTask &t : r.tasks) {
      bool enc = t.stage < ppe;
      TimelineEvent ev2;
      ev2.group = enc ? "encoders" : ev.model.modules[ev.llmIdx].name;
      ev2.stream = "stage " + str(enc ? t.stage : t.stage - ppe) + " compute";
      ev2.name = std::string(t.forward ? "F" : "B") + str(t.microbatch) +
                 (t.chunk ? "." + str(t.chunk) : "");
      ev2.start = t.start;
      ev2.duration = t.end - t.start;
      out.timeline.push_back(ev2);
    }
  Breakdown &b = out.prediction.breakdown;
  size_t cs = critical(r);
  if (cs < size_t(ppe)) {
    // The critical stage is an encoder stage: its slowest encoder.
    size_t best = 0;
    for (size_t i = 1; i < encStages.size(); ++i)
      if (encStages[i][cs].fwd() * scale[i] >
          encStages[best][cs].fwd() * scale[best])
        best = i;
    addStageWork(encStages[best][cs], double(m), scale[best], true, true);
  } else {
    addStageWork(lst[cs - size_t(ppe)], double(m), 1.0, true, true);
  }
  double p2pTotal = r.makespan - noP2p;
  // The bridge's share of the transfers on the critical path.
  double bridgeShare = 2.0 * bridge;
  b.bridge = std::min(p2pTotal, bridgeShare);
  b.ppP2p = p2pTotal - b.bridge;

  // Each group ends with its gradient sync and optimizer step.
  double end = 0;
  double bestDp = 0, bestOpt = 0;
  auto tail = [&](const std::vector<StageCost> &st, const ModulePlan &mp,
                  const Grid &g, int64_t firstStage, double sc) {
    for (size_t s = 0; s < st.size(); ++s) {
      double sync = dpSyncSeconds(st[s].params, mp, g);
      double ex = exposedOverlap(sync, st[s].bwd() * sc, hw);
      double o = optimizerSeconds(st[s].params, mp);
      double e = r.stageEnd[size_t(firstStage) + s] + ex + o;
      if (e > end) {
        end = e;
        bestDp = ex;
        bestOpt = o;
      }
    }
  };
  for (size_t i = 0; i < ev.encoderIdx.size(); ++i) {
    const ModulePlan &ep = planFor(ev.encoderIdx[i]);
    tail(encStages[i], ep, gridOf(ep, true), 0, scale[i]);
  }
  tail(lst, lp, lg, ppe, 1.0);
  b.dpComm = bestDp;
  b.optimizer = bestOpt;

  // Memory: each group's ranks hold only their module.
  for (size_t i = 0; i < ev.encoderIdx.size(); ++i) {
    const ModulePlan &ep = planFor(ev.encoderIdx[i]);
    for (int64_t s = 0; s < ppe; ++s) {
      const StageCost &st = encStages[i][size_t(s)];
      RankMemory rm = stateMemory(st, ep);
      rm.span = 0;
      rm.activations = r.maxInFlight[size_t(s)] * st.activationBytes *
                       std::max(1.0, scale[i]);
      rm.transient = st.transientBytes;
      finishMemory(rm, mem, peak);
    }
  }
  for (size_t s = 0; s < lst.size(); ++s) {
    RankMemory rm = stateMemory(lst[s], lp);
    rm.span = 1;
    rm.activations = r.maxInFlight[size_t(ppe) + s] * lst[s].activationBytes;
    rm.transient = lst[s].transientBytes;
    finishMemory(rm, mem, peak);
  }
  return end;
}

//===-- Evaluator ---------------------------------------------------------===//

Evaluator::Evaluator(const cost::ModelProfile &profile, const Cluster &cluster)
    : model(profile), clusterInfo(cluster),
      costs(profile, cluster.hardware,
            std::max<int64_t>(1, cluster.gpusPerNode)) {
  projectorOf.assign(profile.modules.size(), npos);
  bool haveLlm = false;
  for (size_t i = 0; i < profile.modules.size(); ++i) {
    const cost::ModuleProfile &m = profile.modules[i];
    switch (m.kind) {
    case ModuleKind::Encoder:
      encoderIdx.push_back(i);
      break;
    case ModuleKind::Projector:
      projectorIdx.push_back(i);
      break;
    case ModuleKind::LLM:
      if (haveLlm)
        profileError = "model: more than one LLM module";
      llmIdx = i;
      haveLlm = true;
      for (const cost::BlockProfile &b : m.blocks)
        for (const OpDesc &op : b.ops)
          if (op.kind == OpKind::Embedding)
            vocabSize = op.vocab;
      break;
    }
  }
  if (!haveLlm)
    profileError = "model: no LLM module";
  for (size_t p : projectorIdx) {
    const cost::ModuleProfile &m = profile.modules[p];
    if (m.inputs.empty())
      continue;
    for (size_t e : encoderIdx)
      if (profile.modules[e].name == m.inputs.front())
        projectorOf[e] = p;
  }
}

ModuleSummary Evaluator::colocatedModule(size_t idx, const ModulePlan &mp,
                                         int64_t microBatch,
                                         int64_t virtualStages) {
  ModuleSummary sum;
  Plan plan;
  plan.layout = Layout::Colocated;
  plan.microBatchSize = microBatch;
  plan.virtualStages = virtualStages;
  plan.modules.push_back(mp);
  Evaluation scratch;
  Impl impl(*this, plan, false, scratch);
  const cost::ModuleProfile &m = model.modules[idx];
  const int64_t gbs = model.training.globalBatchSize;
  if (gbs % (microBatch * mp.dp) != 0 || m.layers() % mp.pp != 0) {
    sum.reason = "divisibility";
    return sum;
  }
  Grid g = gridOf(mp, false);
  std::vector<StageCost> st = impl.stagesOf(idx, mp, g, mp.pp, microBatch);
  double p2p = impl.p2pSeconds(idx, mp, g, microBatch);
  int64_t mbs = gbs / (microBatch * mp.dp);
  PipelineStages ps = impl.pipelineOf(st, p2p);
  double worstSync = 0, worstOpt = 0, worstMem = 0;
  if (m.kind == ModuleKind::LLM) {
    if (virtualStages > 1 && (mp.pp < 2 || mbs % mp.pp != 0 ||
                              m.layers() % (mp.pp * virtualStages) != 0)) {
      sum.reason = "interleaving";
      return sum;
    }
    PipelineResult r =
        simulatePipeline(ps, mbs, virtualStages, PipelineMode::Train);
    if (!r.ok)
      return sum;
    sum.seconds = r.makespan;
    for (size_t s = 0; s < st.size(); ++s) {
      RankMemory rm = impl.stateMemory(st[s], mp);
      double bytes = rm.weights + rm.grads + rm.optimizer +
                     r.maxInFlight[s] * st[s].activationBytes +
                     st[s].transientBytes;
      worstMem = std::max(worstMem, bytes);
      worstSync = std::max(
          worstSync, exposedOverlap(impl.dpSyncSeconds(st[s].params, mp, g),
                                    st[s].bwd(), clusterInfo.hardware));
      worstOpt = std::max(worstOpt, impl.optimizerSeconds(st[s].params, mp));
    }
  } else {
    PipelineResult f = simulatePipeline(ps, mbs, 1, PipelineMode::ForwardOnly);
    PipelineResult b = simulatePipeline(ps, mbs, 1, PipelineMode::BackwardOnly);
    if (!f.ok || !b.ok)
      return sum;
    sum.seconds = f.makespan + b.makespan;
    const Hardware &hw = clusterInfo.hardware;
    double maxHeld = 0;
    for (size_t s = 0; s < st.size(); ++s) {
      RankMemory rm = impl.stateMemory(st[s], mp);
      double held = double(mbs) * st[s].activationBytes;
      maxHeld = std::max(maxHeld, held);
      if (mp.offloadActivations)
        held = std::min<double>(2, double(mbs)) * st[s].activationBytes;
      double bytes =
          rm.weights + rm.grads + rm.optimizer + held + st[s].transientBytes;
      worstMem = std::max(worstMem, bytes);
      worstSync = std::max(
          worstSync, exposedOverlap(impl.dpSyncSeconds(st[s].params, mp, g),
                                    st[s].bwd(), hw));
      worstOpt = std::max(worstOpt, impl.optimizerSeconds(st[s].params, mp));
    }
    if (mp.offloadActivations) {
      // Out during the forward phase, back during the backward phase.
      double copy = maxHeld / (hw.hostLinkBandwidth * hw.hostLinkEfficiency);
      sum.seconds += exposedOverlap(copy, f.makespan, hw) +
                     exposedOverlap(copy, b.makespan, hw);
    }
  }
  sum.seconds += worstSync + worstOpt;
  sum.memoryBytes = worstMem;
  sum.valid = true;
  return sum;
}

ModuleSummary Evaluator::disaggregatedModule(size_t idx, const ModulePlan &mp,
                                             int64_t microBatch,
                                             double inFlight) {
  ModuleSummary sum;
  Plan plan;
  plan.layout = Layout::Disaggregated;
  plan.microBatchSize = microBatch;
  plan.modules.push_back(mp);
  Evaluation scratch;
  Impl impl(*this, plan, false, scratch);
  if (model.modules[idx].layers() % mp.pp != 0)
    return sum;
  Grid g = gridOf(mp, true);
  std::vector<StageCost> st = impl.stagesOf(idx, mp, g, mp.pp, microBatch);
  for (const StageCost &s : st) {
    RankMemory rm = impl.stateMemory(s, mp);
    sum.seconds = std::max(sum.seconds, s.fwd() + s.bwd());
    sum.memoryBytes = std::max(
        sum.memoryBytes, rm.weights + rm.grads + rm.optimizer +
                             inFlight * s.activationBytes + s.transientBytes);
  }
  sum.valid = true;
  return sum;
}

Evaluation Evaluator::evaluate(const Plan &plan, bool recordTimeline) {
  Evaluation out;
  out.plan = plan;
  out.reason = validate(plan);
  if (!out.reason.empty()) {
    out.invalid = true;
    return out;
  }
  Impl impl(*this, plan, recordTimeline, out);
  if (clusterInfo.memoryModel == MemoryModel::Mimo)
    impl.trainerBuffers();
  MemoryBreakdown mem;
  double peak = 0;
  double seconds = 0;
  switch (plan.layout) {
  case Layout::Homogeneous: {
    std::vector<RankMemory> perStage;
    std::vector<double> host;
    seconds = impl.evaluateHomogeneous(perStage, host);
    for (const RankMemory &r : perStage)
      impl.finishMemory(r, mem, peak);
    break;
  }
  case Layout::Colocated:
    seconds = impl.evaluateColocated(mem, peak);
    break;
  case Layout::Disaggregated:
    seconds = impl.evaluateDisaggregated(mem, peak);
    break;
  }
  if (out.invalid)
    return out;
  Prediction &p = out.prediction;
  Breakdown &b = p.breakdown;
  p.iterationSeconds = seconds;
  // Whatever the components above do not cover is pipeline idle time.
  b.bubble = 0;
  b.bubble = std::max(0.0, seconds - b.total());
  const double gbs = double(model.training.globalBatchSize);
  const double gpus = double(clusterInfo.gpus);
  const Hardware &hw = clusterInfo.hardware;
  p.tflopsPerGpu = costs.modelFlopsPerSample() * gbs / (seconds * gpus) / 1e12;
  p.tflopsPerGpu6nd =
      costs.sixNdFlopsPerSample() * gbs / (seconds * gpus) / 1e12;
  p.mfu = p.tflopsPerGpu * 1e12 / hw.peakFlops(model.training.bytesPerElement);
  p.tokensPerSecond = gbs * double(model.training.seqLen) / seconds;
  p.memory = mem;
  p.peakMemoryBytes = peak;
  if (peak > hw.hbmBytes) {
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  "memory: the peak rank needs %.1f GB, the device has %.1f GB",
                  peak / kBytesPerGB, hw.hbmBytes / kBytesPerGB);
    out.reason = buf;
    out.feasible = false;
  } else if (mem.offloaded > hw.hostBytes) {
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  "memory: the peak rank offloads %.1f GB, the host has "
                  "%.1f GB per GPU",
                  mem.offloaded / kBytesPerGB, hw.hostBytes / kBytesPerGB);
    out.reason = buf;
    out.feasible = false;
  } else {
    out.feasible = true;
  }
  return out;
}

} // namespace mimo::planner

//===- PlanRules.cpp - What makes a plan fit a model and a cluster --------===//
//
// Structural rules checked before a plan is costed: every encoder and the LLM
// has an entry, projectors share their encoder's grid, grid sizes match the
// ranks, spans are disjoint, and the splits divide what they split (heads,
// kv heads, linear widths and vocabulary by tp; layers by pp and pp*V;
// tokens by 2*cp for causal context parallelism; the batch by mbs*dp).
// Messages name the field, the value and the rule.
//
//===----------------------------------------------------------------------===//

#include "mimo/Planner/Evaluator.h"

namespace mimo::planner {

using cost::ModuleKind;
using cost::OpDesc;
using cost::OpKind;

namespace {

constexpr size_t npos = size_t(-1);

std::string str(int64_t v) { return std::to_string(v); }

} // namespace

std::string Evaluator::validate(const Plan &plan) const {
  if (!profileError.empty())
    return profileError;
  const int64_t world = clusterInfo.gpus;
  const int64_t gbs = model.training.globalBatchSize;
  const int64_t mbs = plan.microBatchSize;
  for (const ModulePlan &mp : plan.modules)
    if (!model.find(mp.name)) {
      std::string names;
      for (const cost::ModuleProfile &m : model.modules)
        names += (names.empty() ? "" : ", ") + m.name;
      return "modules." + mp.name + ": no such module in the model (" + names +
             ")";
    }
  std::vector<size_t> roots = encoderIdx;
  roots.push_back(llmIdx);
  for (size_t i : roots)
    if (!plan.find(model.modules[i].name))
      return "modules." + model.modules[i].name +
             ": missing (every encoder and the LLM need an entry)";
  // A projector runs on its encoder's grid; an entry of its own must agree.
  for (size_t e : encoderIdx) {
    size_t p = projectorOf[e];
    if (p == npos)
      continue;
    const ModulePlan *pp = plan.find(model.modules[p].name);
    const ModulePlan *ep = plan.find(model.modules[e].name);
    if (pp && !pp->sameGrid(*ep))
      return "modules." + pp->name +
             ": a projector runs on its encoder's "
             "grid (" +
             ep->name + ": tp " + str(ep->tp) + ", cp " + str(ep->cp) +
             ", pp " + str(ep->pp) + ", dp " + str(ep->dp) + ")";
  }
  const ModulePlan &lp = *plan.find(model.modules[llmIdx].name);
  const bool dis = plan.layout == Layout::Disaggregated;
  if (dis && encoderIdx.empty())
    return "layout: disaggregated needs an encoder module (the model has "
           "none)";
  std::vector<std::pair<int64_t, int64_t>> spans;
  for (size_t i : roots) {
    const cost::ModuleProfile &m = model.modules[i];
    const ModulePlan &mp = *plan.find(m.name);
    const std::string path = "modules." + m.name;
    if (!dis && mp.size() != world)
      return path + ": tp*cp*pp*dp = " + str(mp.size()) +
             " must equal the GPUs (" + str(world) + ")";
    if (dis) {
      if (mp.rankOffset + mp.rankSize > world)
        return path + ".ranks: [" + str(mp.rankOffset) + ", " +
               str(mp.rankSize) + "] exceeds the GPUs (" + str(world) + ")";
      for (auto &s : spans)
        if (mp.rankOffset < s.first + s.second &&
            s.first < mp.rankOffset + mp.rankSize)
          return path + ".ranks: [" + str(mp.rankOffset) + ", " +
                 str(mp.rankSize) + "] overlaps another module's span";
      spans.push_back({mp.rankOffset, mp.rankSize});
    }
    if (plan.layout == Layout::Homogeneous && i != llmIdx && !mp.sameGrid(lp))
      return path +
             ": the homogeneous layout needs one grid for all "
             "modules (tp " +
             str(mp.tp) + ", cp " + str(mp.cp) + ", pp " + str(mp.pp) +
             ", dp " + str(mp.dp) + " vs " + lp.name + ": tp " + str(lp.tp) +
             ", cp " + str(lp.cp) + ", pp " + str(lp.pp) + ", dp " +
             str(lp.dp) + ")";
    // mimo's trainer pipelines only the LLM: on a grid of its own an
    // encoder runs its phases on one stage (docs/lowering.md, "The
    // colocated schedule").
    if (plan.layout != Layout::Homogeneous && i != llmIdx && mp.pp != 1)
      return path + ".pp: the " + toString(plan.layout) +
             " layout runs an encoder on one pipeline stage (mimo's trainer "
             "pipelines only the LLM), got pp " +
             str(mp.pp);
    if (m.heads > 0 && m.heads % mp.tp != 0)
      return path + ".tp: heads (" + str(m.heads) +
             ") must be divisible by tp (" + str(mp.tp) + ")";
    if (m.kvHeads > 0 && m.kvHeads % mp.tp != 0)
      return path + ".tp: kv_heads (" + str(m.kvHeads) +
             ") must be divisible by tp (" + str(mp.tp) + ")";
    for (const cost::BlockProfile &b : m.blocks)
      for (const OpDesc &op : b.ops) {
        int64_t dim = op.kind != OpKind::Linear           ? 0
                      : op.split == cost::TpSplit::Column ? op.out
                      : op.split == cost::TpSplit::Row    ? op.in
                                                          : 0;
        if (dim % mp.tp != 0)
          return path + ".tp: linear width (" + str(dim) +
                 ") must be divisible by tp (" + str(mp.tp) + ")";
        if (op.vocab > 0 && op.split == cost::TpSplit::Vocab &&
            op.vocab % mp.tp != 0)
          return path + ".tp: vocab (" + str(op.vocab) +
                 ") must be divisible by tp (" + str(mp.tp) + ")";
      }
    bool pipelined = !(plan.layout == Layout::Homogeneous && i != llmIdx);
    int64_t layers = m.layers();
    if (pipelined && layers % mp.pp != 0)
      return path + ".pp: layers (" + str(layers) +
             ") must be divisible by pp (" + str(mp.pp) + ")";
    if (mp.sequenceParallel && mp.tp == 1)
      return path + ".sequence_parallel: shards tokens over the tp group, "
                    "which needs tp > 1 (got tp = 1)";
    if (mp.cp > 1 && m.kind != ModuleKind::LLM &&
        plan.layout != Layout::Homogeneous)
      return path + ".cp: context parallelism splits the LLM's sequence; " +
             "an encoder takes cp = 1 outside the homogeneous layout (got " +
             str(mp.cp) + ")";
    if (mp.cp > 1) {
      // Causal load balancing splits the sequence into 2*cp chunks.
      int64_t unit = m.kind == ModuleKind::LLM ? 2 * mp.cp : mp.cp;
      if (m.tokensPerSample % unit != 0)
        return path + ".cp: tokens per sample (" + str(m.tokensPerSample) +
               ") must be divisible by " +
               (m.kind == ModuleKind::LLM ? "2*cp (" : "cp (") + str(unit) +
               ")";
    }
    if (gbs % (mbs * mp.dp) != 0)
      return path + ".dp: global batch (" + str(gbs) +
             ") must be divisible by micro_batch_size*dp (" + str(mbs) + "*" +
             str(mp.dp) + ")";
    int64_t perStage = pipelined ? layers / mp.pp : layers;
    if (mp.recompute.kind == RecomputeKind::FullLayers &&
        mp.recompute.layers > perStage)
      return path + ".recompute.full_layers: " + str(mp.recompute.layers) +
             " exceeds the layers per stage (" + str(perStage) + ")";
    bool encoderColocated =
        m.kind == ModuleKind::Encoder && plan.layout == Layout::Colocated;
    if ((mp.offloadActivations || mp.offloadParams) && !encoderColocated)
      return path + ".offload: \"" +
             (mp.offloadActivations ? "activations" : "params") +
             "\" is modeled for encoders in the colocated layout only (the "
             "encoder state idles during the LLM phase)";
  }
  if (plan.virtualStages > 1) {
    if (lp.pp < 2)
      return "schedule: interleaved:" + str(plan.virtualStages) +
             " needs the LLM's pp >= 2 (pp " + str(lp.pp) + ")";
    int64_t layers = model.modules[llmIdx].layers();
    if (layers % (lp.pp * plan.virtualStages) != 0)
      return "schedule: interleaved:" + str(plan.virtualStages) +
             " needs layers (" + str(layers) + ") divisible by pp*V (" +
             str(lp.pp * plan.virtualStages) + ")";
    int64_t m = gbs / (mbs * lp.dp);
    if (m % lp.pp != 0)
      return "schedule: interleaved:" + str(plan.virtualStages) +
             " needs microbatches (" + str(m) + ") divisible by pp (" +
             str(lp.pp) + ")";
  }
  if (dis) {
    int64_t ppe = plan.find(model.modules[encoderIdx.front()].name)->pp;
    for (size_t e : encoderIdx)
      if (plan.find(model.modules[e].name)->pp != ppe)
        return "modules." + model.modules[e].name +
               ".pp: encoders of a disaggregated plan need the same pp (" +
               str(ppe) + ")";
  }
  return "";
}

} // namespace mimo::planner

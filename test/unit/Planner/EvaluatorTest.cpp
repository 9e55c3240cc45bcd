//===- EvaluatorTest.cpp - Plan scoring: rules, memory, time, FLOPs -------===//

#include "TestModels.h"

#include "mimo/Planner/Evaluator.h"

#include <gtest/gtest.h>

using namespace mimo::planner;
using namespace mimo::planner::test;

namespace {

Plan homogeneous(int64_t tp, int64_t dp, int64_t pp = 1, int64_t cp = 1) {
  Plan p;
  p.layout = Layout::Homogeneous;
  p.modules = {module("vision", tp, dp, pp, cp), module("llm", tp, dp, pp, cp)};
  return p;
}

Plan colocated(ModulePlan v, ModulePlan l) {
  Plan p;
  p.layout = Layout::Colocated;
  p.modules = {v, l};
  return p;
}

TEST(Evaluator, FlopConventions) {
  mimo::cost::ModelProfile prof = referenceProfile("vit-1b", "llm-7b");
  Evaluator ev(prof, cluster("h100-sxm", 16));
  CostModel &cm = ev.costModel();
  // INTERFACES.md 6nd: L(12h^2 + 4h) per stack x its tokens, + hV for the
  // LLM embedding x the sequence.
  auto stack = [](double L, double h) { return L * (12 * h * h + 4 * h); };
  double enc = 7.0 * 1024;
  double expect6 =
      6 * (stack(40, 1408) * enc + (stack(32, 4096) + 4096.0 * 32000) * 8192);
  EXPECT_NEAR(cm.sixNdFlopsPerSample() / expect6, 1.0, 1e-9);
  // Megatron, LLM part (Narayanan 2021): 72 s L h^2 (1 + s/6h + V/12Lh)
  // per sample; the encoder and projector add theirs.
  double s = 8192, L = 32, h = 4096, V = 32000;
  double llm = 72 * s * L * h * h * (1 + s / (6 * h) + V / (12 * L * h));
  EXPECT_GT(cm.modelFlopsPerSample(), llm);
  EXPECT_LT(cm.modelFlopsPerSample(), llm * 1.2);
}

TEST(Evaluator, RulesNameFieldValueAndRule) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-14b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  // 40 heads do not split 16 ways... use tp 16? tp must also fit the grid:
  // 40 % 16 != 0.
  Plan p = colocated(module("vision", 1, 16), module("llm", 16, 1));
  std::string r = ev.validate(p);
  EXPECT_NE(r.find("modules.llm.tp"), std::string::npos) << r;
  EXPECT_NE(r.find("(40)"), std::string::npos) << r;
  EXPECT_NE(r.find("(16)"), std::string::npos) << r;

  p = colocated(module("vision", 1, 1, 16), module("llm", 1, 1, 16));
  r = ev.validate(p);
  EXPECT_NE(r.find("modules.vision.pp: the colocated layout runs an encoder "
                   "on one pipeline stage"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("got pp 16"), std::string::npos) << r;

  // The homogeneous layout's encoders run whole on the first stage.
  p = homogeneous(1, 1, 16);
  EXPECT_EQ(ev.validate(p), "");

  p = colocated(module("vision", 1, 8), module("llm", 2, 8));
  r = ev.validate(p);
  EXPECT_NE(r.find("modules.vision"), std::string::npos) << r;
  EXPECT_NE(r.find("must equal the GPUs (16)"), std::string::npos) << r;

  p = colocated(module("vision", 1, 16), module("llm", 2, 8));
  p.microBatchSize = 16;
  r = ev.validate(p);
  EXPECT_NE(r.find("global batch (64)"), std::string::npos) << r;

  p = homogeneous(2, 8);
  p.modules[0].tp = 1;
  p.modules[0].dp = 16;
  r = ev.validate(p);
  EXPECT_NE(r.find("one grid"), std::string::npos) << r;

  p = colocated(module("vision", 1, 16), module("llm", 2, 8));
  p.modules[1].offloadParams = true;
  r = ev.validate(p);
  EXPECT_NE(r.find("modules.llm.offload"), std::string::npos) << r;

  p = colocated(module("vision", 1, 16), module("llm", 2, 4, 2));
  p.virtualStages = 5;
  r = ev.validate(p);
  EXPECT_NE(r.find("interleaved:5"), std::string::npos) << r;
  EXPECT_NE(r.find("layers (48)"), std::string::npos) << r;

  p = colocated(module("vision", 1, 16), module("llm", 2, 8));
  p.modules.push_back(module("audio", 1, 16));
  r = ev.validate(p);
  EXPECT_NE(r.find("modules.audio: no such module"), std::string::npos) << r;

  p = colocated(module("vision", 1, 16), module("llm", 1, 2, 1, 8));
  p.modules[1].cp = 8;
  r = ev.validate(p);
  EXPECT_EQ(r, "") << r; // 8192 % 16 == 0

  Evaluation e =
      ev.evaluate(colocated(module("vision", 1, 16), module("llm", 1, 16)));
  EXPECT_FALSE(e.invalid);
  EXPECT_FALSE(e.feasible); // a 14B LLM replicated 16 ways does not fit
  EXPECT_NE(e.reason.find("memory"), std::string::npos) << e.reason;
}

TEST(Evaluator, BreakdownAddsUpToTheIteration) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  for (Plan p : {homogeneous(4, 2, 2),
                 colocated(module("vision", 1, 16), module("llm", 4, 2, 2))}) {
    Evaluation e = ev.evaluate(p);
    ASSERT_FALSE(e.invalid) << e.reason;
    const Prediction &pr = e.prediction;
    EXPECT_NEAR(pr.breakdown.total(), pr.iterationSeconds,
                1e-6 * pr.iterationSeconds);
    EXPECT_GT(pr.breakdown.bubble, 0); // pp = 2
    EXPECT_GT(pr.breakdown.ppP2p, 0);
    EXPECT_GT(pr.breakdown.tpComm, 0);
  }
}

TEST(Evaluator, EncoderTpOneHasNoEncoderTpTraffic) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Evaluation a =
      ev.evaluate(colocated(module("vision", 1, 16), module("llm", 1, 16)));
  ASSERT_FALSE(a.invalid) << a.reason;
  EXPECT_DOUBLE_EQ(a.prediction.breakdown.tpComm, 0);
  Evaluation b =
      ev.evaluate(colocated(module("vision", 4, 4), module("llm", 1, 16)));
  EXPECT_GT(b.prediction.breakdown.tpComm, 0);
  // Equal DP: no bridge traffic; different DP: a fan-in all-gather.
  EXPECT_GT(a.prediction.breakdown.bridge, -1);
  Evaluation c =
      ev.evaluate(colocated(module("vision", 1, 16), module("llm", 4, 4)));
  EXPECT_GT(c.prediction.breakdown.bridge, 0);
  EXPECT_DOUBLE_EQ(a.prediction.breakdown.bridge, 0);
}

TEST(Evaluator, RecomputeTradesTimeForMemory) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Plan base = colocated(module("vision", 1, 16), module("llm", 4, 4));
  Plan full = base;
  full.modules[0].recompute.kind = RecomputeKind::Full;
  Plan half = base;
  half.modules[0].recompute = {RecomputeKind::FullLayers, 20};
  Evaluation a = ev.evaluate(base), b = ev.evaluate(full),
             c = ev.evaluate(half);
  EXPECT_LT(b.prediction.peakMemoryBytes, c.prediction.peakMemoryBytes);
  EXPECT_LT(c.prediction.peakMemoryBytes, a.prediction.peakMemoryBytes);
  EXPECT_GT(b.prediction.iterationSeconds, c.prediction.iterationSeconds);
  EXPECT_GT(c.prediction.iterationSeconds, a.prediction.iterationSeconds);
  EXPECT_GT(b.prediction.breakdown.recompute, 0);
  // Recompute is never counted as model FLOPs: same work, more time.
  EXPECT_LT(b.prediction.tflopsPerGpu, a.prediction.tflopsPerGpu);
}

TEST(Evaluator, MemoryCategories) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Plan p = homogeneous(4, 4);
  Evaluation a = ev.evaluate(p);
  const MemoryBreakdown &m = a.prediction.memory;
  // REFERENCE.md bytes: bf16 params 2, fp32 grads 4, master+moments 12.
  EXPECT_NEAR(m.grads / m.params, 2.0, 1e-9);
  EXPECT_NEAR(m.optimizer / m.params, 6.0, 1e-9);
  double params = ev.costModel().totalParams() / 4; // TP 4 split (approx)
  EXPECT_NEAR(m.params / 2.0 / params, 1.0, 0.02);
  // The distributed optimizer divides the 12 bytes by DP.
  for (ModulePlan &mp : p.modules)
    mp.distributedOptimizer = true;
  Evaluation b = ev.evaluate(p);
  EXPECT_NEAR(b.prediction.memory.optimizer, m.optimizer / 4,
              1e-3 * m.optimizer);
  // ... and reduce-scatters the gradients into a 1/DP shard beside the
  // full buffer (the lowering's .grad_shard).
  EXPECT_NEAR(b.prediction.memory.grads, m.grads * (1 + 1.0 / 4),
              1e-3 * m.grads);
  // Offloading the optimizer moves it to the host.
  for (ModulePlan &mp : p.modules)
    mp.offloadOptimizer = true;
  Evaluation c = ev.evaluate(p);
  EXPECT_DOUBLE_EQ(c.prediction.memory.optimizer, 0);
  EXPECT_GT(c.prediction.memory.offloaded, 0);
  EXPECT_GT(c.prediction.iterationSeconds, b.prediction.iterationSeconds);
}

TEST(Evaluator, ColocatedEncoderActivationsAndOffload) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Plan p = colocated(module("vision", 1, 16), module("llm", 4, 4));
  Evaluation held = ev.evaluate(p);
  // Encoder activations of all 4 microbatches live through the LLM phase:
  // Korthikanti, no TP: 34 s b h per layer less dropout masks.
  double perLayer = 7168.0 * 1408 * 2 * 16;
  EXPECT_GT(held.prediction.memory.activations, 4 * 40 * perLayer * 0.9);
  // Encoder parameters leave during the LLM phase, their copies hidden
  // behind it.
  p.modules[0].offloadParams = true;
  Evaluation params = ev.evaluate(p);
  EXPECT_LT(params.prediction.peakMemoryBytes, held.prediction.peakMemoryBytes);
  EXPECT_GT(params.prediction.memory.offloaded, 0);
  EXPECT_NEAR(params.prediction.iterationSeconds,
              held.prediction.iterationSeconds,
              0.01 * held.prediction.iterationSeconds);
  // 55 GB of activations take ~1 s each way on PCIe: mostly exposed.
  p.modules[0].offloadActivations = true;
  Evaluation acts = ev.evaluate(p);
  EXPECT_LT(acts.prediction.peakMemoryBytes, params.prediction.peakMemoryBytes);
  EXPECT_GT(acts.prediction.breakdown.offload, 1.0);
}

TEST(Evaluator, InterleavingShrinksTheBubble) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Plan p = colocated(module("vision", 1, 16), module("llm", 2, 2, 4));
  Evaluation a = ev.evaluate(p);
  p.virtualStages = 2;
  Evaluation b = ev.evaluate(p);
  ASSERT_FALSE(b.invalid) << b.reason;
  EXPECT_LT(b.prediction.breakdown.bubble, a.prediction.breakdown.bubble);
  EXPECT_GT(b.prediction.memory.activations, a.prediction.memory.activations);
}

TEST(Evaluator, DisaggregatedIsBoundedByItsSlowestGroup) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Plan p;
  p.layout = Layout::Disaggregated;
  ModulePlan v = module("vision", 1, 2);
  v.rankOffset = 0;
  ModulePlan l = module("llm", 2, 7);
  l.rankOffset = 2;
  p.modules = {v, l};
  EXPECT_NE(ev.validate(p).find("global batch"), std::string::npos);
  // 4 encoder GPUs feeding 12 LLM GPUs vs 2 feeding 14: the small encoder
  // group becomes the bottleneck.
  v = module("vision", 1, 4);
  l = module("llm", 4, 2, 1, 1);
  l.rankOffset = 4;
  l.rankSize = 8;
  p.modules = {v, l};
  Evaluation a = ev.evaluate(p);
  ASSERT_FALSE(a.invalid) << a.reason;
  v = module("vision", 1, 1);
  l.rankOffset = 1;
  p.modules = {v, l};
  Evaluation b = ev.evaluate(p);
  ASSERT_FALSE(b.invalid) << b.reason;
  EXPECT_GT(b.prediction.iterationSeconds, a.prediction.iterationSeconds);
  EXPECT_GT(a.prediction.breakdown.bridge, 0);
  // Interleaving the LLM's group, fed by the encoder's ranks (as mimo's
  // trainer runs it): the LLM's bubble shrinks; an encoder on two stages
  // is refused (the trainer pipelines only the LLM).
  l = module("llm", 4, 1, 2, 1);
  l.rankOffset = 8;
  l.rankSize = 8;
  p.modules = {module("vision", 1, 8), l};
  p.virtualStages = 1;
  Evaluation plain = ev.evaluate(p);
  ASSERT_FALSE(plain.invalid) << plain.reason;
  p.virtualStages = 2;
  EXPECT_EQ(ev.validate(p), "");
  Evaluation c = ev.evaluate(p, true);
  ASSERT_FALSE(c.invalid) << c.reason;
  EXPECT_GT(c.prediction.iterationSeconds, 0);
  EXPECT_LT(c.prediction.breakdown.bubble, plain.prediction.breakdown.bubble);
  bool chunk1 = false;
  for (const TimelineEvent &e : c.timeline)
    chunk1 |= e.name.find(".1") != std::string::npos;
  EXPECT_TRUE(chunk1) << "second-chunk tasks on the timeline";
  ModulePlan twoStages = module("vision", 1, 4, 2);
  p.modules = {twoStages, l};
  Evaluation d = ev.evaluate(p);
  EXPECT_TRUE(d.invalid);
  EXPECT_NE(d.reason.find("modules.vision.pp: the disaggregated layout runs "
                          "an encoder on one pipeline stage"),
            std::string::npos)
      << d.reason;
}

TEST(Evaluator, TimelineHasTracksPerGroupAndStream) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Evaluation e = ev.evaluate(
      colocated(module("vision", 1, 16), module("llm", 4, 2, 2)), true);
  ASSERT_FALSE(e.timeline.empty());
  bool vision = false, llm = false;
  for (const TimelineEvent &t : e.timeline) {
    vision |= t.group == "vision";
    llm |= t.group == "llm";
    EXPECT_GE(t.duration, 0);
    EXPECT_LE(t.start, e.prediction.iterationSeconds + 1e-9);
  }
  EXPECT_TRUE(vision);
  EXPECT_TRUE(llm);
}

} // namespace

// Context parallelism as the lowering runs it: each cp rank's gradients are
// its tokens' share, summed over cp even without data parallelism; an
// encoder takes cp > 1 only on the homogeneous layout's shared grid.
TEST(Evaluator, ContextParallelGradientsSumOverCp) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 16384, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Evaluation e = ev.evaluate(homogeneous(8, 1, 1, 2));
  ASSERT_FALSE(e.invalid) << e.reason;
  EXPECT_GT(e.prediction.breakdown.dpComm, 0);
  EXPECT_GT(e.prediction.breakdown.cpComm, 0);
  Evaluation none = ev.evaluate(homogeneous(8, 2, 1, 1));
  ASSERT_FALSE(none.invalid) << none.reason;
  EXPECT_DOUBLE_EQ(none.prediction.breakdown.cpComm, 0);

  std::string r = ev.validate(
      colocated(module("vision", 1, 8, 1, 2), module("llm", 8, 1, 1, 2)));
  EXPECT_NE(r.find("modules.vision.cp"), std::string::npos) << r;
  EXPECT_NE(r.find("outside the homogeneous layout (got 2)"), std::string::npos)
      << r;
}

namespace {
Evaluation evaluateWith(MemoryModel model, const Plan &p, int64_t gpus) {
  static mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 4096, 64);
  Cluster c = cluster("h100-sxm", gpus);
  c.memoryModel = model;
  Evaluator ev(prof, c);
  return ev.evaluate(p);
}
} // namespace

// --memory-model mimo follows mimo's trainer (docs/planner.md "Memory"):
// model state as Megatron's, no allocator reserve or library workspace,
// activations that grow with the pipeline's in-flight slots, and scratch
// that tensor parallelism splits.
// In the homogeneous layout each module keeps its own distributed
// optimizer: the first stage's optimizer state is the LLM's shard plus the
// encoder's whole state when only the LLM shards it.
TEST(Evaluator, HomogeneousModulesKeepTheirOwnOptimizerFlags) {
  auto with = [](bool visionShards, bool llmShards) {
    Plan p = homogeneous(2, 4);
    p.modules[0].distributedOptimizer = visionShards;
    p.modules[1].distributedOptimizer = llmShards;
    return evaluateWith(MemoryModel::Megatron, p, 8).prediction.memory;
  };
  MemoryBreakdown both = with(true, true), llmOnly = with(false, true),
                  none = with(false, false), visionOnly = with(true, false);
  EXPECT_LT(both.optimizer, llmOnly.optimizer);
  EXPECT_LT(llmOnly.optimizer, none.optimizer);
  // Sharding is additive over the modules: each module's saving is the same
  // whichever module shards the other.
  EXPECT_NEAR(none.optimizer - llmOnly.optimizer,
              visionOnly.optimizer - both.optimizer, 1.0);
  EXPECT_NEAR(none.optimizer - visionOnly.optimizer,
              llmOnly.optimizer - both.optimizer, 1.0);
  EXPECT_GT(none.optimizer - visionOnly.optimizer, 0);
}

TEST(Evaluator, MimoTrainerMemoryModel) {
  Plan p = homogeneous(2, 4);
  Evaluation meg = evaluateWith(MemoryModel::Megatron, p, 8);
  Evaluation mimo = evaluateWith(MemoryModel::Mimo, p, 8);
  const MemoryBreakdown &a = meg.prediction.memory, &b = mimo.prediction.memory;
  EXPECT_DOUBLE_EQ(a.params, b.params);
  EXPECT_DOUBLE_EQ(a.grads, b.grads);
  EXPECT_DOUBLE_EQ(a.optimizer, b.optimizer);
  EXPECT_GT(b.activations, 0);
  // Scratch only: far below the 1 GiB of library workspace Megatron's has.
  EXPECT_GT(b.workspace, 0);
  EXPECT_LT(b.workspace, 0.25 * a.workspace);
  EXPECT_DOUBLE_EQ(meg.prediction.iterationSeconds,
                   mimo.prediction.iterationSeconds);
  // Tensor parallelism splits the per-sample buffers.
  Evaluation tp4 = evaluateWith(MemoryModel::Mimo, homogeneous(4, 2), 8);
  EXPECT_LT(tp4.prediction.memory.activations, b.activations);
  EXPECT_LT(tp4.prediction.memory.workspace, b.workspace);
  // A pipeline keeps its stage's layers once per in-flight slot (a ring of
  // pp slots here) instead of every layer once: the same residual bytes for
  // pp = 2, and the distributed optimizer adds its update shard.
  Plan pp = homogeneous(2, 2, 2);
  for (ModulePlan &mp : pp.modules)
    mp.distributedOptimizer = true;
  Evaluation piped = evaluateWith(MemoryModel::Mimo, pp, 8);
  EXPECT_GT(piped.prediction.memory.workspace, b.workspace);
  EXPECT_GT(piped.prediction.memory.activations, 0.9 * b.activations);
  // Full recompute keeps each layer's input instead of its residuals.
  Plan full = homogeneous(2, 4);
  for (ModulePlan &mp : full.modules)
    mp.recompute.kind = RecomputeKind::Full;
  Evaluation rc = evaluateWith(MemoryModel::Mimo, full, 8);
  EXPECT_LT(rc.prediction.memory.activations, 0.5 * b.activations);
}

TEST(Evaluator, MemoryModelNames) {
  MemoryModel m;
  EXPECT_TRUE(parseMemoryModel("mimo", m));
  EXPECT_EQ(m, MemoryModel::Mimo);
  EXPECT_TRUE(parseMemoryModel("megatron", m));
  EXPECT_EQ(m, MemoryModel::Megatron);
  EXPECT_FALSE(parseMemoryModel("pytorch", m));
  EXPECT_STREQ(toString(MemoryModel::Mimo), "mimo");
}

//===- CalibrationTest.cpp - Predictions against the published runs -------===//
//
// REFERENCE.md, "The motivating measurement": 1B ViT (40L, 1408h, 16 heads)
// + 7B LLM (32L, 4096h, 32 heads), FFN 4h, vocab 32000, H100, GBS 64, 8K
// sequence, ~90% vision tokens at 1024 tokens per image (7 images),
// colocated. TFLOPs/GPU in the 6nd convention. No figure of the hardware
// file was fitted to these rows (docs/planner.md, "Calibration").
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include <gtest/gtest.h>

using namespace mimo::planner;
using namespace mimo::planner::test;

namespace {

struct Published {
  double tflops;
  double memoryGB;
};

void expectWithin(double predicted, double published, double tolerance,
                  const char *what) {
  EXPECT_NEAR(predicted / published, 1.0, tolerance)
      << what << ": predicted " << predicted << ", published " << published;
}

// The plans of the published table. What the table leaves open (sequence
// parallelism, distributed optimizer, recompute) is Megatron-LM's default
// except where the article's text names it: the heterogeneous plan uses
// encoder activation recompute and a DP=16 encoder with the distributed
// optimizer (its replicated 1B parameters otherwise cost 17 GB per GPU).
Plan homogeneous16() {
  Plan p;
  p.layout = Layout::Homogeneous;
  p.modules = {module("vision", 4, 4), module("llm", 4, 4)};
  return p;
}

Plan heterogeneous16() {
  Plan p;
  p.layout = Layout::Colocated;
  ModulePlan v = module("vision", 1, 16);
  v.recompute.kind = RecomputeKind::Full;
  v.distributedOptimizer = true;
  p.modules = {v, module("llm", 4, 4)};
  return p;
}

TEST(Calibration, SixteenH100sWithinTenPercent) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  ASSERT_EQ(prof.modules[0].tokensPerSample, 7 * 1024);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Evaluation h = ev.evaluate(homogeneous16());
  Evaluation x = ev.evaluate(heterogeneous16());
  ASSERT_TRUE(h.feasible) << h.reason;
  ASSERT_TRUE(x.feasible) << x.reason;
  const Published ph{333.8, 66.3}, px{360.8, 62.2};
  expectWithin(h.prediction.tflopsPerGpu6nd, ph.tflops, 0.10,
               "homogeneous TFLOPs/GPU");
  expectWithin(h.prediction.peakMemoryBytes / kBytesPerGB, ph.memoryGB, 0.10,
               "homogeneous memory");
  expectWithin(x.prediction.tflopsPerGpu6nd, px.tflops, 0.10,
               "heterogeneous TFLOPs/GPU");
  expectWithin(x.prediction.peakMemoryBytes / kBytesPerGB, px.memoryGB, 0.10,
               "heterogeneous memory");
  // The heterogeneous plan is ahead, by about the published +8.1%.
  double gain = x.prediction.tflopsPerGpu6nd / h.prediction.tflopsPerGpu6nd;
  EXPECT_GT(gain, 1.03);
  EXPECT_LT(gain, 1.15);
  // The chain the article states: encoder TP=1 removes encoder TP traffic.
  EXPECT_LT(x.prediction.breakdown.tpComm, h.prediction.breakdown.tpComm);
}

TEST(Calibration, EightH100sSameCountingAsSixteen) {
  // The 8-GPU run (REFERENCE.md, "A smaller public run") gives TFLOPs/GPU
  // but not its global batch. TP4/DP2 does the same work per GPU as the
  // 16-GPU TP4/DP4 run, whose 333.8 the model matches; the published 8-GPU
  // 272-275 is 18% below that with no hardware difference to explain it,
  // so no single hardware description can match both (docs/planner.md).
  // What is checked here: the same per-GPU work predicts the same rate,
  // communication is mostly the LLM's TP all-reduces, the bridge is
  // negligible (published 0.2% of CUDA time).
  mimo::cost::ModelProfile prof8 =
      referenceProfile("vit-1b", "llm-7b", 8192, 16);
  mimo::cost::ModelProfile prof16 =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev8(prof8, cluster("h100-sxm", 8));
  Evaluator ev16(prof16, cluster("h100-sxm", 16));
  Plan h8;
  h8.layout = Layout::Homogeneous;
  h8.modules = {module("vision", 4, 2), module("llm", 4, 2)};
  Evaluation a = ev8.evaluate(h8);
  Evaluation b = ev16.evaluate(homogeneous16());
  ASSERT_TRUE(a.feasible) << a.reason;
  expectWithin(a.prediction.tflopsPerGpu6nd, b.prediction.tflopsPerGpu6nd, 0.05,
               "8 vs 16 GPUs");
  Plan c8;
  c8.layout = Layout::Colocated;
  ModulePlan v = module("vision", 2, 4);
  v.recompute.kind = RecomputeKind::Full;
  c8.modules = {v, module("llm", 4, 2)};
  Evaluation c = ev8.evaluate(c8);
  ASSERT_TRUE(c.feasible) << c.reason;
  const Breakdown &bd = c.prediction.breakdown;
  EXPECT_GT(bd.tpComm, bd.dpComm + bd.bridge + bd.ppP2p + bd.cpComm);
  EXPECT_LT(bd.bridge / c.prediction.iterationSeconds, 0.01);
  // Micro-batch 4 does not fit (published: out of memory). GBS 16 is the
  // smallest batch micro-batch 4 divides with encoder DP 4.
  c8.microBatchSize = 4;
  Evaluation d = ev8.evaluate(c8);
  EXPECT_FALSE(d.feasible);
}

} // namespace

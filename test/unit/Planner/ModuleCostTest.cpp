//===- ModuleCostTest.cpp - Op costs turned into seconds and bytes --------===//

#include "TestModels.h"

#include "mimo/Planner/ModuleCost.h"

#include <gtest/gtest.h>

using namespace mimo;
using namespace mimo::planner;
using namespace mimo::planner::test;

namespace {

/// One module: a stack of `layers` copies of one column-parallel linear.
cost::ModelProfile linearModel(int64_t tokens, int64_t in, int64_t out,
                               int64_t layers) {
  cost::ModelProfile p;
  p.training.seqLen = tokens;
  p.training.globalBatchSize = 8;
  cost::ModuleProfile m;
  m.name = "llm";
  m.kind = cost::ModuleKind::LLM;
  m.tokensPerSample = tokens;
  m.hidden = in;
  cost::BlockProfile b;
  b.isLayerStack = true;
  b.count = layers;
  cost::OpDesc w;
  w.kind = cost::OpKind::Param;
  w.numel = in * out;
  w.split = cost::TpSplit::Column;
  cost::OpDesc lin;
  lin.kind = cost::OpKind::Linear;
  lin.tokens = tokens;
  lin.in = in;
  lin.out = out;
  lin.split = cost::TpSplit::Column;
  b.ops = {w, lin};
  m.blocks = {b};
  p.modules = {m};
  return p;
}

TEST(ModuleCost, MatmulAtShapeEfficiency) {
  Cluster c = cluster("h100-sxm", 8);
  cost::ModelProfile p = linearModel(8192, 8192, 8192, 4);
  CostModel cm(p, c.hardware, 8);
  Link nv = intraNodeLink(c.hardware);
  const ModuleParts &parts = cm.parts(0, 1, 1, false, 1, nv, nv);
  ASSERT_EQ(parts.layers.size(), 1u);
  double flops = 2.0 * 8192 * 8192 * 8192;
  double eff = c.hardware.gemmEfficiency(flops, 8192);
  // Forward: one GEMM at the curve's rate plus a launch; backward twice.
  EXPECT_NEAR(parts.layers[0].fwd,
              flops / (989e12 * eff) + c.hardware.kernelLaunch, 1e-9);
  EXPECT_NEAR(parts.layers[0].bwd,
              2 * flops / (989e12 * eff) + 2 * c.hardware.kernelLaunch, 1e-9);
  // Tensor parallelism splits the GEMM and adds the input-gradient
  // all-reduce of the full [tokens, in] tensor.
  const ModuleParts &tp2 = cm.parts(0, 2, 1, false, 1, nv, nv);
  EXPECT_LT(tp2.layers[0].fwd, parts.layers[0].fwd);
  EXPECT_NEAR(
      tp2.layers[0].tpBwd,
      collectiveSeconds(Collective::AllReduce, 2.0 * 8192 * 8192, 2, nv),
      1e-12);
  EXPECT_DOUBLE_EQ(tp2.layers[0].params, 8192.0 * 8192 / 2);
}

TEST(ModuleCost, LayersAreCostedOncePerSplit) {
  Cluster c = cluster("h100-sxm", 8);
  cost::ModelProfile p = linearModel(4096, 1024, 1024, 32);
  CostModel cm(p, c.hardware, 8);
  Link nv = intraNodeLink(c.hardware);
  const ModuleParts &a = cm.parts(0, 2, 1, true, 2, nv, nv);
  const ModuleParts &b = cm.parts(0, 2, 1, true, 2, nv, nv);
  EXPECT_EQ(&a, &b); // memoized
  const ModuleParts &d = cm.parts(0, 2, 1, true, 4, nv, nv);
  EXPECT_NE(&a, &d);
  // Stages split the stack evenly; the stack is one costed layer.
  StageCost s0 = cm.stage(a, 4, 0, Recompute());
  EXPECT_EQ(s0.layers, 8);
  EXPECT_NEAR(s0.fwdCompute, 8 * a.layers[0].fwd, 1e-12);
  // Full recompute keeps the layer input and redoes the forward.
  StageCost full = cm.stage(a, 4, 0, {RecomputeKind::Full, 0});
  EXPECT_NEAR(full.recompute, 8 * (a.layers[0].fwd + a.layers[0].tpFwd), 1e-12);
  EXPECT_NEAR(full.activationBytes, 8 * a.layers[0].inputBytes, 1e-6);
  StageCost some = cm.stage(a, 4, 0, {RecomputeKind::FullLayers, 3});
  EXPECT_NEAR(some.recompute, 3 * (a.layers[0].fwd + a.layers[0].tpFwd), 1e-12);
}

// Context parallelism splits the layer stack and what follows it; what
// precedes it (a block before the stack: the embedding, the placement of
// encoder tokens) runs on the whole sequence on every cp rank.
TEST(ModuleCost, ContextParallelSplitsFromTheStackOn) {
  Cluster c = cluster("h100-sxm", 8);
  cost::ModelProfile p = linearModel(8192, 4096, 4096, 4);
  cost::BlockProfile pre = p.modules[0].blocks[0];
  pre.isLayerStack = false;
  pre.count = 1;
  cost::BlockProfile post = pre;
  p.modules[0].blocks = {pre, p.modules[0].blocks[0], post};
  CostModel cm(p, c.hardware, 8);
  Link nv = intraNodeLink(c.hardware);
  const ModuleParts &one = cm.parts(0, 1, 1, false, 1, nv, nv);
  const ModuleParts &cp2 = cm.parts(0, 1, 2, false, 1, nv, nv);
  EXPECT_DOUBLE_EQ(cp2.pre.fwd, one.pre.fwd);
  EXPECT_LT(cp2.post.fwd, one.post.fwd);
  EXPECT_LT(cp2.layers[0].fwd, one.layers[0].fwd);
  EXPECT_DOUBLE_EQ(cp2.post.fwd, cp2.layers[0].fwd);
}

// Ring attention's exposed exchange time, step by step as the lowering
// runs it (hand-computed cases).
TEST(ModuleCost, RingAttentionExposure) {
  EXPECT_DOUBLE_EQ(ringAttentionExposure(1, 5, 1, 1).fwd, 0);
  EXPECT_DOUBLE_EQ(ringAttentionExposure(1, 5, 1, 1).bwd, 0);
  // cp 4, compute-bound: forward steps of 2 s hide 1 s shifts; backward
  // steps of 4 s hide the next blocks and the gradient sums (2 s); only
  // the shift home shows.
  RingExposure hidden = ringAttentionExposure(4, 1, 8, 16);
  EXPECT_DOUBLE_EQ(hidden.fwd, 0);
  EXPECT_DOUBLE_EQ(hidden.bwd, 1);
  // cp 4, 3 s shifts: forward 3 x (3 - 2); backward steps 0 and 3 show
  // 3 - 4 < 0, steps 1 and 2 show 6 - 4, plus the shift home.
  RingExposure slow = ringAttentionExposure(4, 3, 8, 16);
  EXPECT_DOUBLE_EQ(slow.fwd, 3);
  EXPECT_DOUBLE_EQ(slow.bwd, 2 * 2 + 3);
  // cp 2: one forward shift; the backward's step 0 hides the next blocks,
  // step 1 the sums, then the shift home.
  RingExposure two = ringAttentionExposure(2, 3, 2, 4);
  EXPECT_DOUBLE_EQ(two.fwd, 3 - 1);
  EXPECT_DOUBLE_EQ(two.bwd, 2 * (3 - 2) + 3);
  // Nothing to hide behind: every shift shows, the backward's 2(cp-1)+1.
  RingExposure bare = ringAttentionExposure(4, 1, 0, 0);
  EXPECT_DOUBLE_EQ(bare.fwd, 3);
  EXPECT_DOUBLE_EQ(bare.bwd, 7);
}

TEST(ModuleCost, StateBytesPerParameter) {
  StateBytes bf16 = stateBytesPerParam(2);
  EXPECT_DOUBLE_EQ(bf16.weights + bf16.grads + bf16.optimizer, 18);
  StateBytes fp32 = stateBytesPerParam(4);
  EXPECT_DOUBLE_EQ(fp32.weights + fp32.grads + fp32.optimizer, 16);
}

} // namespace

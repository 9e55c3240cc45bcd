//===- PipelineSimulatorTest.cpp - The simulator against closed forms -----===//
//
// Narayanan et al. 2021, sec. 2.2: 1F1B bubble fraction (p-1)/(m+p-1) of
// the makespan, i.e. makespan (m+p-1)(tf+tb); interleaving with v chunks
// cuts the bubble to (p-1)(tf+tb)/v. Korthikanti et al. 2022: stage i holds
// (p-i) microbatches; interleaving multiplies stage 0 by 1+(p-1)/(p*v).
//
//===----------------------------------------------------------------------===//

#include "mimo/Planner/PipelineSimulator.h"

#include <gtest/gtest.h>

using namespace mimo::planner;

namespace {

PipelineStages uniform(int p, double f, double b, double c = 0) {
  PipelineStages s;
  s.fwd.assign(size_t(p), f);
  s.bwd.assign(size_t(p), b);
  s.p2p.assign(size_t(p), c);
  return s;
}

TEST(PipelineSimulator, OneFOneBMakespanAndBubble) {
  for (int p : {1, 2, 4, 8})
    for (int m : {1, 3, 8, 32}) {
      PipelineResult r =
          simulatePipeline(uniform(p, 1.0, 2.0), m, 1, PipelineMode::Train);
      ASSERT_TRUE(r.ok);
      EXPECT_NEAR(r.makespan, (m + p - 1) * 3.0, 1e-9) << p << " " << m;
      double bubble = (r.makespan - r.busy[0]) / r.makespan;
      EXPECT_NEAR(bubble, double(p - 1) / double(m + p - 1), 1e-9);
    }
}

TEST(PipelineSimulator, OneFOneBHoldsPMinusIMicrobatches) {
  int p = 4, m = 16;
  PipelineResult r =
      simulatePipeline(uniform(p, 1.0, 2.0), m, 1, PipelineMode::Train);
  ASSERT_TRUE(r.ok);
  for (int i = 0; i < p; ++i)
    EXPECT_DOUBLE_EQ(r.maxInFlight[size_t(i)], double(p - i));
  // Fewer microbatches than stages: all of them.
  PipelineResult few =
      simulatePipeline(uniform(p, 1.0, 2.0), 2, 1, PipelineMode::Train);
  EXPECT_DOUBLE_EQ(few.maxInFlight[0], 2.0);
}

TEST(PipelineSimulator, InterleavingCutsTheBubbleByV) {
  for (int p : {2, 4})
    for (int v : {2, 4}) {
      int m = 4 * p;
      PipelineResult r =
          simulatePipeline(uniform(p, 1.0, 2.0), m, v, PipelineMode::Train);
      ASSERT_TRUE(r.ok) << p << " " << v;
      double ideal = m * 3.0;
      EXPECT_NEAR(r.makespan - ideal, (p - 1) * 3.0 / v, 1e-9) << p << " " << v;
      // Stage 0 holds p * (1 + (p-1)/(p*v)) microbatches' activations.
      EXPECT_NEAR(r.maxInFlight[0], p * (1.0 + (p - 1.0) / (p * v)), 1e-9);
    }
}

TEST(PipelineSimulator, InterleavingNeedsMicrobatchesDivisibleByStages) {
  PipelineResult r =
      simulatePipeline(uniform(4, 1, 2), 6, 2, PipelineMode::Train);
  EXPECT_FALSE(r.ok);
}

TEST(PipelineSimulator, ForwardAndBackwardOnly) {
  PipelineResult f =
      simulatePipeline(uniform(3, 1.0, 2.0), 5, 1, PipelineMode::ForwardOnly);
  ASSERT_TRUE(f.ok);
  EXPECT_NEAR(f.makespan, (5 + 3 - 1) * 1.0, 1e-9);
  PipelineResult b =
      simulatePipeline(uniform(3, 1.0, 2.0), 5, 1, PipelineMode::BackwardOnly);
  ASSERT_TRUE(b.ok);
  EXPECT_NEAR(b.makespan, (5 + 3 - 1) * 2.0, 1e-9);
}

TEST(PipelineSimulator, SlowestStageBoundsTheSteadyState) {
  PipelineStages s = uniform(3, 1.0, 2.0);
  s.fwd[1] = 2.0;
  s.bwd[1] = 4.0;
  int m = 20;
  PipelineResult r = simulatePipeline(s, m, 1, PipelineMode::Train);
  ASSERT_TRUE(r.ok);
  // At least m slow-stage steps plus the fill and drain of the others.
  EXPECT_GE(r.makespan, m * 6.0 + 3.0 - 1e-9);
  EXPECT_LE(r.makespan, m * 6.0 + 2 * 6.0 + 1e-9);
}

TEST(PipelineSimulator, TransfersAddToTheCriticalPath) {
  int p = 4, m = 8;
  double c = 0.25;
  PipelineResult r =
      simulatePipeline(uniform(p, 1.0, 2.0, c), m, 1, PipelineMode::Train);
  ASSERT_TRUE(r.ok);
  // Fill and drain cross p-1 links in both directions; in the steady state
  // a stage also waits for round trips, so more is exposed, but never more
  // than one round trip per microbatch and stage.
  double base = (m + p - 1) * 3.0;
  EXPECT_GE(r.makespan, base + 2 * (p - 1) * c - 1e-9);
  EXPECT_LE(r.makespan, base + 2 * (m + p - 1) * c + 1e-9);
}

} // namespace

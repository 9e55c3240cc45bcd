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

// A feeder (the disaggregated encoder as mimo's trainer runs it): all its
// forwards first, then each backward once its gradient is back. By hand:
// feeder F0 0-3, F1 3-6; stage F0 3.5-4.5, B0 4.5-6.5, F1 6.5-7.5,
// B1 7.5-9.5; feeder B0 7-8 (gradient back at 7), B1 10-11.
TEST(PipelineSimulator, FeederRunsForwardsThenBackwards) {
  PipelineFeeder feeder{3.0, 1.0, 0.5};
  PipelineResult r =
      simulateFedPipeline(uniform(1, 1.0, 2.0), feeder, 2, 1, true);
  ASSERT_TRUE(r.ok);
  EXPECT_DOUBLE_EQ(r.stageEnd[0], 9.5);
  EXPECT_DOUBLE_EQ(r.feederEnd, 11.0);
  EXPECT_DOUBLE_EQ(r.makespan, 11.0);
  EXPECT_DOUBLE_EQ(r.feederBusy, 8.0);
  ASSERT_EQ(r.tasks.size(), 8u);
  EXPECT_EQ(r.tasks[0].stage, -1);
  EXPECT_DOUBLE_EQ(r.tasks[3].start, 10.0); // feeder B1
  // A free feeder leaves an interleaved pipeline as it was.
  PipelineResult plain =
      simulatePipeline(uniform(2, 1.0, 2.0), 4, 2, PipelineMode::Train);
  PipelineResult fed =
      simulateFedPipeline(uniform(2, 1.0, 2.0), PipelineFeeder{}, 4, 2);
  ASSERT_TRUE(fed.ok);
  EXPECT_DOUBLE_EQ(fed.makespan, plain.makespan);
  EXPECT_EQ(fed.maxInFlight, plain.maxInFlight);
  // A slow feeder (forwards at 10, 20, 30, 40): Megatron's interleaved
  // order gives stage 0 the forward of microbatch 3's first chunk (40-40.5),
  // then microbatch 1's second-chunk backward (40.5-41.5) and microbatch 2's
  // second-chunk forward (41.5-42) before microbatch 0's first-chunk
  // backward (42-43); the feeder's four backwards then run from 43.
  PipelineResult slow = simulateFedPipeline(uniform(2, 1.0, 2.0),
                                            PipelineFeeder{10, 10, 0}, 4, 2);
  EXPECT_DOUBLE_EQ(slow.makespan, 43 + 4 * 10);
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

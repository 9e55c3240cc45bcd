//===- TestModels.h - Profiles and clusters the planner tests share -------===//

#ifndef MIMO_TEST_UNIT_PLANNER_TESTMODELS_H
#define MIMO_TEST_UNIT_PLANNER_TESTMODELS_H

#include "mimo/Planner/Evaluator.h"
#include "mimo/Planner/ReferenceModels.h"

#include <gtest/gtest.h>

namespace mimo::planner::test {

/// A REFERENCE.md pair ("vit-1b", "llm-7b", ...) at `seq`, `gbs`; encoder
/// 1024 tokens per image and images filling ~90% of the sequence.
inline cost::ModelProfile referenceProfile(const char *vit, const char *llm,
                                           int64_t seq = 8192,
                                           int64_t gbs = 64) {
  MultimodalShape s;
  EXPECT_TRUE(referenceShape(vit, s.vit));
  EXPECT_TRUE(referenceShape(llm, s.llm));
  s.seqLen = seq;
  s.globalBatchSize = gbs;
  s.imagesPerSample = std::max<int64_t>(1, (seq * 9 / 10) / 1024);
  return makeMultimodalProfile(s);
}

inline Cluster cluster(const char *hw, int64_t gpus, int64_t perNode = 8) {
  Cluster c;
  std::string err;
  EXPECT_TRUE(loadHardware(hw, c.hardware, err)) << err;
  c.gpus = gpus;
  c.gpusPerNode = perNode;
  return c;
}

inline ModulePlan module(const char *name, int64_t tp, int64_t dp,
                         int64_t pp = 1, int64_t cp = 1) {
  ModulePlan m;
  m.name = name;
  m.tp = tp;
  m.dp = dp;
  m.pp = pp;
  m.cp = cp;
  m.rankSize = m.size();
  return m;
}

} // namespace mimo::planner::test

#endif // MIMO_TEST_UNIT_PLANNER_TESTMODELS_H

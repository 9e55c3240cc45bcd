//===- SearchTest.cpp - The search: determinism, gains, long context ------===//

#include "TestModels.h"

#include "mimo/Planner/Search.h"

#include <gtest/gtest.h>

using namespace mimo::planner;
using namespace mimo::planner::test;

namespace {

TEST(Search, DeterministicAndRanked) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Cluster c = cluster("h100-sxm", 16);
  SearchResult a = searchPlans(prof, c);
  SearchResult b = searchPlans(prof, c);
  ASSERT_TRUE(a.haveBest);
  ASSERT_TRUE(a.haveBestHomogeneous);
  EXPECT_EQ(planToJson(a.best.plan), planToJson(b.best.plan));
  ASSERT_EQ(a.top.size(), b.top.size());
  for (size_t i = 0; i < a.top.size(); ++i)
    EXPECT_EQ(planToJson(a.top[i].plan), planToJson(b.top[i].plan));
  for (size_t i = 1; i < a.top.size(); ++i)
    EXPECT_LE(a.top[i - 1].prediction.iterationSeconds,
              a.top[i].prediction.iterationSeconds);
  EXPECT_GT(a.searched, a.evaluated);
  EXPECT_GT(a.feasible, 0);
  // Every returned plan re-evaluates to the same prediction and fits.
  Evaluator ev(prof, c);
  for (const Evaluation &e : a.top) {
    Evaluation again = ev.evaluate(e.plan);
    EXPECT_TRUE(again.feasible) << again.reason;
    EXPECT_DOUBLE_EQ(again.prediction.iterationSeconds,
                     e.prediction.iterationSeconds);
  }
  // The best plan beats the best homogeneous one, as published.
  EXPECT_LE(a.best.prediction.iterationSeconds,
            a.bestHomogeneous.prediction.iterationSeconds);
}

TEST(Search, HeterogeneousBeatsHomogeneousOn64H100s) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 128);
  SearchResult r = searchPlans(prof, cluster("h100-sxm", 64));
  ASSERT_TRUE(r.haveBest && r.haveBestHomogeneous);
  EXPECT_NE(r.best.plan.layout, Layout::Homogeneous);
  EXPECT_GT(r.bestHomogeneous.prediction.iterationSeconds /
                r.best.prediction.iterationSeconds,
            1.02);
  // The encoder leaves tensor parallelism behind.
  const ModulePlan *v = r.best.plan.find("vision");
  ASSERT_NE(v, nullptr);
  EXPECT_LT(v->tp, r.bestHomogeneous.plan.find("vision")->tp);
}

TEST(Search, SixtyFourGpusInWellUnderASecond) {
  // bench/planner measures ~0.2-0.5 s here; the bound leaves room for a
  // loaded machine.
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 128);
  SearchResult r = searchPlans(prof, cluster("h100-sxm", 64));
  EXPECT_LT(r.seconds, 5.0);
}

TEST(Search, LongContextUsesContextParallelism) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 65536, 64);
  SearchResult r = searchPlans(prof, cluster("h100-sxm", 64));
  ASSERT_TRUE(r.haveBest);
  const ModulePlan *l = r.best.plan.find("llm");
  ASSERT_NE(l, nullptr);
  EXPECT_GT(l->cp * l->tp, 1);
  EXPECT_TRUE(r.best.feasible);
}

TEST(Search, LayoutsCanBeRestricted) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  SearchOptions o;
  o.layouts = {Layout::Homogeneous};
  SearchResult r = searchPlans(prof, cluster("h100-sxm", 16), o);
  ASSERT_TRUE(r.haveBest);
  for (const Evaluation &e : r.top)
    EXPECT_EQ(e.plan.layout, Layout::Homogeneous);
}

TEST(Search, LanguageModelAlone) {
  MultimodalShape s;
  ASSERT_TRUE(referenceShape("llm-7b", s.llm));
  s.imagesPerSample = 0;
  s.seqLen = 4096;
  s.globalBatchSize = 256;
  mimo::cost::ModelProfile prof = makeMultimodalProfile(s);
  ASSERT_EQ(prof.modules.size(), 1u);
  SearchResult r = searchPlans(prof, cluster("h100-sxm", 16));
  ASSERT_TRUE(r.haveBest);
  EXPECT_EQ(r.best.plan.layout, Layout::Homogeneous);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Plan p = r.best.plan;
  p.layout = Layout::Disaggregated;
  EXPECT_NE(ev.validate(p).find("needs an encoder"), std::string::npos);
}

TEST(Search, NothingFitsSaysSo) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-3b", "llm-70b", 8192, 8);
  SearchResult r = searchPlans(prof, cluster("h100-sxm", 2, 2));
  EXPECT_FALSE(r.haveBest);
  EXPECT_TRUE(r.top.empty());
}

} // namespace

//===- PlanTest.cpp - plan.json reading, writing and its errors -----------===//

#include "mimo/Planner/Plan.h"

#include <gtest/gtest.h>

using namespace mimo::planner;

namespace {

const char *kExample = R"({
  "layout": "colocated",
  "micro_batch_size": 1,
  "schedule": "1f1b",
  "modules": {
    "vision": {"tp": 1, "cp": 1, "pp": 1, "dp": 64, "recompute": "full",
               "offload": ["params"], "sequence_parallel": false,
               "distributed_optimizer": true},
    "llm":    {"tp": 2, "cp": 1, "pp": 2, "dp": 16, "recompute": "none",
               "offload": [], "sequence_parallel": true,
               "distributed_optimizer": true}
  }
})";

std::string parseError(const std::string &text) {
  Plan p;
  std::string err;
  EXPECT_FALSE(parsePlan(text, "plan.json", p, err));
  return err;
}

TEST(Plan, ParsesTheInterfaceExample) {
  Plan p;
  std::string err;
  ASSERT_TRUE(parsePlan(kExample, "plan.json", p, err)) << err;
  EXPECT_EQ(p.layout, Layout::Colocated);
  ASSERT_EQ(p.modules.size(), 2u);
  EXPECT_EQ(p.modules[0].name, "vision"); // file order kept
  EXPECT_EQ(p.modules[0].dp, 64);
  EXPECT_EQ(p.modules[0].recompute.kind, RecomputeKind::Full);
  EXPECT_TRUE(p.modules[0].offloadParams);
  EXPECT_FALSE(p.modules[0].offloadActivations);
  EXPECT_TRUE(p.modules[1].sequenceParallel);
  EXPECT_EQ(p.modules[1].pp, 2);
  EXPECT_EQ(p.virtualStages, 1);
}

TEST(Plan, RoundTrips) {
  Plan p;
  std::string err;
  ASSERT_TRUE(parsePlan(kExample, "plan.json", p, err)) << err;
  p.virtualStages = 3;
  p.modules[1].recompute = {RecomputeKind::FullLayers, 4};
  p.modules[1].offloadOptimizer = true;
  std::string text = planToJson(p);
  Plan q;
  ASSERT_TRUE(parsePlan(text, "again.json", q, err)) << err;
  EXPECT_EQ(planToJson(q), text);
  EXPECT_NE(text.find("\"interleaved:3\""), std::string::npos);
  EXPECT_NE(text.find("\"full_layers\": 4"), std::string::npos);
}

TEST(Plan, DisaggregatedSpans) {
  Plan p;
  std::string err;
  ASSERT_TRUE(parsePlan(R"({"layout": "disaggregated", "modules": {
      "vision": {"tp": 1, "dp": 8, "ranks": [0, 8]},
      "llm": {"tp": 4, "dp": 6, "ranks": [8, 24]}}})",
                        "p.json", p, err))
      << err;
  EXPECT_EQ(p.modules[1].rankOffset, 8);
  EXPECT_EQ(p.modules[1].rankSize, 24);
  std::string e = parseError(R"({"layout": "disaggregated", "modules": {
      "llm": {"tp": 4, "dp": 4, "ranks": [8, 24]}}})");
  EXPECT_NE(e.find("modules.llm"), std::string::npos) << e;
  EXPECT_NE(e.find("16"), std::string::npos) << e;
  EXPECT_NE(e.find("24"), std::string::npos) << e;
  e = parseError(R"({"layout": "disaggregated", "modules": {
      "llm": {"tp": 4}}})");
  EXPECT_NE(e.find("modules.llm.ranks"), std::string::npos) << e;
}

TEST(Plan, ErrorsNameFieldAndValue) {
  std::string e = parseError(R"({"layout": "colocated", "modules": {
      "llm": {"tp": 2, "recompute": "sometimes"}}})");
  EXPECT_NE(e.find("plan.json"), std::string::npos) << e;
  EXPECT_NE(e.find("modules.llm.recompute"), std::string::npos) << e;
  EXPECT_NE(e.find("sometimes"), std::string::npos) << e;

  e = parseError(R"({"layout": "colocated", "modules": {
      "llm": {"offload": ["gradients"]}}})");
  EXPECT_NE(e.find("modules.llm.offload[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("gradients"), std::string::npos) << e;

  e = parseError(R"({"layout": "colocated", "modules": {
      "llm": {"tp": "2"}}})");
  EXPECT_NE(e.find("modules.llm.tp"), std::string::npos) << e;
  EXPECT_NE(e.find("positive integer"), std::string::npos) << e;

  e = parseError(R"({"layout": "colocated", "modules": {
      "llm": {"tp": 2, "zero": 3}}})");
  EXPECT_NE(e.find("modules.llm.zero"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown field"), std::string::npos) << e;

  e = parseError(R"({"layout": "mixed", "modules": {"llm": {}}})");
  EXPECT_NE(e.find("layout"), std::string::npos) << e;
  EXPECT_NE(e.find("mixed"), std::string::npos) << e;

  e = parseError(R"({"layout": "colocated", "schedule": "gpipe",
                     "modules": {"llm": {}}})");
  EXPECT_NE(e.find("schedule"), std::string::npos) << e;
  EXPECT_NE(e.find("gpipe"), std::string::npos) << e;

  e = parseError(
      R"({"layout": "colocated", "extra": 1, "modules": {"llm": {}}})");
  EXPECT_NE(e.find("extra"), std::string::npos) << e;

  e = parseError(R"({"modules": {"llm": {}}})");
  EXPECT_NE(e.find("layout: missing"), std::string::npos) << e;

  e = parseError(R"({"layout": "colocated", "modules": {
      "llm": {"sequence_parallel": 1}}})");
  EXPECT_NE(e.find("modules.llm.sequence_parallel"), std::string::npos) << e;

  e = parseError("[1, 2");
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
}

} // namespace

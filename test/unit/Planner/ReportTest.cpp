//===- ReportTest.cpp - JSON objects, human report, trace files -----------===//

#include "TestModels.h"

#include "mimo/Planner/Report.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace mimo::planner;
using namespace mimo::planner::test;
using json = nlohmann::json;

namespace {

TEST(Report, SearchJsonHasTheInterfaceKeys) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Cluster c = cluster("h100-sxm", 16);
  SearchOptions o;
  o.topK = 3;
  SearchResult r = searchPlans(prof, c, o);
  json j = json::parse(searchResultToJson(r));
  for (const char *k : {"best", "best_homogeneous", "gain", "top", "searched",
                        "feasible", "search_seconds"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["top"].size(), 3u);
  const json &p = j["best"]["prediction"];
  for (const char *k :
       {"iteration_ms", "tflops_per_gpu", "tflops_per_gpu_6nd", "mfu",
        "tokens_per_second", "peak_memory_gb", "memory_gb", "breakdown_ms"})
    EXPECT_TRUE(p.contains(k)) << k;
  for (const char *k : {"params", "grads", "optimizer", "activations",
                        "workspace", "offloaded"})
    EXPECT_TRUE(p["memory_gb"].contains(k)) << k;
  // Bytes beside the rounded GB, agreeing with them.
  for (const char *k : {"params", "grads", "optimizer", "activations",
                        "workspace", "offloaded"})
    EXPECT_NEAR(p["memory_bytes"][k].get<double>() / kBytesPerGB,
                p["memory_gb"][k].get<double>(), 5e-4)
        << k;
  for (const char *k : {"compute", "recompute", "tp_comm", "cp_comm", "dp_comm",
                        "pp_p2p", "bridge", "bubble", "offload"})
    EXPECT_TRUE(p["breakdown_ms"].contains(k)) << k;
  // The plan inside is a valid plan.json.
  Plan back;
  std::string err;
  EXPECT_TRUE(parsePlan(j["best"]["plan"].dump(), "best", back, err)) << err;

  std::ostringstream os;
  printSearchReport(os, r, prof, c);
  std::string text = os.str();
  EXPECT_NE(text.find("best homogeneous"), std::string::npos) << text;
  EXPECT_NE(text.find("vision TP/DP/PP/CP"), std::string::npos) << text;
  EXPECT_NE(text.find("gain"), std::string::npos) << text;
  EXPECT_NE(text.find("breakdown"), std::string::npos) << text;
}

TEST(Report, EvaluationJsonSaysWhyInfeasible) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Plan p;
  p.layout = Layout::Colocated;
  p.modules = {module("vision", 1, 16), module("llm", 3, 5)};
  json j = json::parse(evaluationToJson(ev.evaluate(p)));
  EXPECT_FALSE(j["feasible"].get<bool>());
  EXPECT_NE(j["reason"].get<std::string>().find("modules"), std::string::npos);
  for (const char *k : {"plan", "prediction", "feasible", "reason"})
    EXPECT_TRUE(j.contains(k)) << k;
}

TEST(Report, TraceIsChromeJsonAndWrittenAtomically) {
  mimo::cost::ModelProfile prof =
      referenceProfile("vit-1b", "llm-7b", 8192, 64);
  Evaluator ev(prof, cluster("h100-sxm", 16));
  Plan p;
  p.layout = Layout::Colocated;
  p.modules = {module("vision", 1, 16), module("llm", 4, 2, 2)};
  Evaluation e = ev.evaluate(p, true);
  std::string text = timelineToTraceJson(e);
  json j = json::parse(text);
  ASSERT_TRUE(j["traceEvents"].is_array());
  int spans = 0, names = 0;
  for (const json &ev2 : j["traceEvents"]) {
    spans += ev2["ph"] == "X";
    names += ev2["ph"] == "M";
  }
  EXPECT_GT(spans, 10);
  EXPECT_GT(names, 3);
  std::string path = ::testing::TempDir() + "trace.json";
  std::string err;
  ASSERT_TRUE(writeFileAtomically(path, text, err)) << err;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), text);
  EXPECT_FALSE(writeFileAtomically("/nonexistent-dir/x.json", text, err));
  EXPECT_NE(err.find("/nonexistent-dir/x.json"), std::string::npos);
}

} // namespace

//===- StepLoggerTest.cpp -------------------------------------------------===//

#include "mimo/runtime/StepLogger.h"
#include "TestUtil.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

using namespace mimo::rt;

TEST(StepLogger, WritesJsonLinesEveryStepAndHumanLinesEveryN) {
  test::TempDir dir;
  std::FILE *out = std::tmpfile();
  StepLoggerOptions o;
  o.totalSteps = 5;
  o.logEvery = 2;
  o.jsonPath = dir.file("log.jsonl");
  o.out = out;
  o.progressBar = false;
  auto logger = StepLogger::create(o);
  ASSERT_TRUE(logger.ok()) << logger.status().toString();
  for (int s = 1; s <= 5; ++s) {
    StepRecord r;
    r.step = s;
    r.loss = 10.0 / s;
    r.stepMs = 100 + s;
    r.tflopsPerGpu = 1.5;
    r.peakMemoryBytes = 3u << 30;
    if (s == 3)
      r.tokensPerSecond = 1000.0;
    ASSERT_OK((*logger)->log(r));
  }
  logger->reset();

  std::istringstream lines(test::readFile(dir.file("log.jsonl")));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    ++n;
    EXPECT_EQ(j["step"], n);
    EXPECT_DOUBLE_EQ(j["loss"].get<double>(), 10.0 / n);
    EXPECT_DOUBLE_EQ(j["step_ms"].get<double>(), 100 + n);
    EXPECT_DOUBLE_EQ(j["tflops_per_gpu"].get<double>(), 1.5);
    EXPECT_EQ(j["peak_memory_bytes"].get<std::uint64_t>(), 3ull << 30);
    EXPECT_EQ(j.contains("tokens_per_second"), n == 3);
  }
  EXPECT_EQ(n, 5);

  std::rewind(out);
  std::string human;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), out))
    human += buf;
  std::fclose(out);
  // Steps 2, 4 and the last one.
  EXPECT_NE(human.find("step 2/5 | loss 5.0000 | 102.0 ms | 1.50 TFLOPs/GPU "
                       "| peak 3.00 GiB"),
            std::string::npos)
      << human;
  EXPECT_NE(human.find("step 4/5"), std::string::npos);
  EXPECT_NE(human.find("step 5/5"), std::string::npos);
  EXPECT_EQ(human.find("step 3/5"), std::string::npos);
}

TEST(StepLogger, ProgressBarWhenAsked) {
  StepLoggerOptions o;
  o.totalSteps = 10;
  o.out = nullptr;
  o.progressBar = true;
  auto logger = StepLogger::create(o);
  ASSERT_TRUE(logger.ok());
  StepRecord r;
  r.step = 5;
  EXPECT_EQ(
      (*logger)->humanLine(r).rfind("[##########..........] step  5/10", 0), 0u)
      << (*logger)->humanLine(r);
}

TEST(StepLogger, BadOptions) {
  StepLoggerOptions o;
  o.logEvery = 0;
  EXPECT_FALSE(StepLogger::create(o).ok());
  o.logEvery = 1;
  o.jsonPath = "/nonexistent-dir/x/log.jsonl";
  auto r = StepLogger::create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent-dir/x/log.jsonl"),
            std::string::npos);
}

TEST(StepLogger, SkippedStepSaysSo) {
  StepRecord r;
  r.step = 3;
  r.loss = std::nan("");
  r.gradNorm = std::nan("");
  r.skipped = true;
  auto j = nlohmann::json::parse(StepLogger::jsonLine(r));
  EXPECT_TRUE(j["skipped"].get<bool>());
  EXPECT_TRUE(j["grad_norm"].is_null());
  StepRecord fine;
  fine.gradNorm = 0.5;
  auto k = nlohmann::json::parse(StepLogger::jsonLine(fine));
  EXPECT_FALSE(k.contains("skipped"));
  EXPECT_DOUBLE_EQ(k["grad_norm"].get<double>(), 0.5);

  StepLoggerOptions o;
  o.totalSteps = 5;
  o.progressBar = false;
  auto logger = StepLogger::create(o);
  ASSERT_TRUE(logger.ok());
  EXPECT_NE((*logger)->humanLine(r).find(
                "| update skipped: non-finite gradients (norm nan)"),
            std::string::npos)
      << (*logger)->humanLine(r);
  EXPECT_EQ((*logger)->humanLine(fine).find("skipped"), std::string::npos);
}

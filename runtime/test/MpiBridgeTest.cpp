//===- MpiBridgeTest.cpp - The bridge for every grid pair -----------------===//
//
// For each layout and each pair of grids the world size allows, forward and
// backward are checked against the rows each rank must hold (Bridge.h): row
// g of the global projector output is a known function of g, so every rank
// can compute its expected slice locally. Ranks that provide no input pass
// NaN-filled buffers, which must never reach an output.
//
//===----------------------------------------------------------------------===//

#include "MpiTestUtil.h"
#include "TestUtil.h"

#include "mimo/runtime/Bridge.h"

#include <cmath>
#include <limits>

using namespace mimo::rt;
using mimo::rt::test::world;

namespace {
constexpr std::int64_t kHidden = 3;
constexpr std::int64_t kTokensPerSample = 2;

float activation(std::int64_t row, std::int64_t h) {
  return static_cast<float>(row * 16 + h) + 0.5f;
}
float gradient(std::int64_t row, std::int64_t h) {
  return -static_cast<float>(row * 16 + h) - 0.25f;
}

struct Counts {
  int pairs = 0;
  int fanIn = 0, fanOut = 0, pass = 0;
};

void checkPair(LayoutKind layout, const ProcessGrid &enc,
               const ProcessGrid &llm, Counts &counts) {
  Communicator &w = world();
  std::string what = std::string(layoutKindName(layout)) + " encoder " +
                     enc.toString() + " llm " + llm.toString();
  SCOPED_TRACE(what);
  int maxDp = std::max(enc.dp(), llm.dp());
  std::int64_t globalSamples = 2 * maxDp;
  std::int64_t encRows = globalSamples / enc.dp() * kTokensPerSample;
  auto bridge = Bridge::create(w, layout, enc, llm, encRows, kHidden);
  ASSERT_TRUE(bridge.ok()) << bridge.status().toString();
  ++counts.pairs;
  counts.fanIn += bridge->mode() == BridgeMode::FanIn;
  counts.fanOut += bridge->mode() == BridgeMode::FanOut;
  counts.pass += bridge->mode() == BridgeMode::PassThrough;
  std::int64_t llmRows = bridge->llmRows();
  ASSERT_EQ(llmRows * llm.dp(), globalSamples * kTokensPerSample);

  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> encBuf(encRows * kHidden, nan),
      llmBuf(llmRows * kHidden, nan);
  auto [eBegin, eEnd] = bridge->encoderRowRange();
  auto [lBegin, lEnd] = bridge->llmRowRange();
  if (bridge->providesForwardInput()) {
    ASSERT_EQ(eEnd - eBegin, encRows);
    for (std::int64_t r = 0; r < encRows; ++r)
      for (std::int64_t h = 0; h < kHidden; ++h)
        encBuf[r * kHidden + h] = activation(eBegin + r, h);
  }
  ASSERT_OK(bridge->forward(encBuf.data(), llmBuf.data()));
  if (bridge->receivesForwardOutput()) {
    ASSERT_EQ(lEnd - lBegin, llmRows);
    for (std::int64_t r = 0; r < llmRows; ++r)
      for (std::int64_t h = 0; h < kHidden; ++h)
        ASSERT_EQ(llmBuf[r * kHidden + h], activation(lBegin + r, h))
            << "forward, rank " << w.rank() << " row " << r;
  }

  std::vector<float> gradIn(llmRows * kHidden, nan),
      gradOut(encRows * kHidden, nan);
  if (bridge->providesBackwardInput())
    for (std::int64_t r = 0; r < llmRows; ++r)
      for (std::int64_t h = 0; h < kHidden; ++h)
        gradIn[r * kHidden + h] = gradient(lBegin + r, h);
  ASSERT_OK(bridge->backward(gradIn.data(), gradOut.data()));
  if (bridge->receivesBackwardOutput())
    for (std::int64_t r = 0; r < encRows; ++r)
      for (std::int64_t h = 0; h < kHidden; ++h)
        ASSERT_EQ(gradOut[r * kHidden + h], gradient(eBegin + r, h))
            << "backward, rank " << w.rank() << " row " << r;
}

bool compatible(const GridShape &e, const GridShape &l) {
  int a = std::max(e.dp, l.dp), b = std::min(e.dp, l.dp);
  return a % b == 0;
}
} // namespace

TEST(MpiBridge, HomogeneousAndColocated) {
  Communicator &w = world();
  int n = w.size();
  Counts counts;
  for (GridShape es : test::gridShapes(n, /*cpOne=*/true)) {
    auto enc = ProcessGrid::create(es, n, "vision");
    checkPair(LayoutKind::Homogeneous, *enc, *enc, counts);
    for (GridShape ls : test::gridShapes(n)) {
      if (!compatible(es, ls))
        continue;
      auto llm = ProcessGrid::create(ls, n, "llm");
      checkPair(LayoutKind::Colocated, *enc, *llm, counts);
      if (HasFatalFailure())
        return;
    }
  }
  if (n >= 2) {
    EXPECT_GT(counts.fanIn, 0);
    EXPECT_GT(counts.fanOut, 0);
  }
  EXPECT_GT(counts.pass, 0);
  if (w.rank() == 0)
    std::printf("bridge: %d homogeneous/colocated grid pairs at world %d "
                "(%d fan-in, %d fan-out, %d pass-through)\n",
                counts.pairs, n, counts.fanIn, counts.fanOut, counts.pass);
}

TEST(MpiBridge, Disaggregated) {
  Communicator &w = world();
  int n = w.size();
  if (n < 2)
    GTEST_SKIP() << "disaggregated needs two ranks";
  Counts counts;
  for (int encSize = 1; encSize < n; ++encSize) {
    // Encoder first, then LLM first, so both span orders are covered.
    for (bool encFirst : {true, false}) {
      int encOffset = encFirst ? 0 : n - encSize;
      int llmOffset = encFirst ? encSize : 0;
      for (GridShape es : test::gridShapes(encSize, /*cpOne=*/true))
        for (GridShape ls : test::gridShapes(n - encSize)) {
          if (!compatible(es, ls))
            continue;
          auto enc = ProcessGrid::create(es, encOffset, encSize, n, "vision");
          auto llm = ProcessGrid::create(ls, llmOffset, n - encSize, n, "llm");
          ASSERT_TRUE(enc.ok() && llm.ok());
          checkPair(LayoutKind::Disaggregated, *enc, *llm, counts);
          if (HasFatalFailure())
            return;
        }
    }
  }
  EXPECT_GT(counts.pairs, 0);
  if (n >= 3) {
    EXPECT_GT(counts.fanIn, 0);
    EXPECT_GT(counts.fanOut, 0);
  }
  if (w.rank() == 0)
    std::printf("bridge: %d disaggregated grid pairs at world %d "
                "(%d fan-in, %d fan-out, %d pass-through)\n",
                counts.pairs, n, counts.fanIn, counts.fanOut, counts.pass);
}

TEST(MpiBridge, RejectsIncompatibleGrids) {
  Communicator &w = world();
  int n = w.size();
  if (n < 2)
    GTEST_SKIP();
  auto enc = ProcessGrid::create({1, n, 1, 1}, n);
  auto llm = ProcessGrid::create({1, 1, 1, n}, n);
  auto b = Bridge::create(w, LayoutKind::Colocated, *enc, *llm, 4 * n, 2);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("encoder cp"), std::string::npos);
  auto e2 = ProcessGrid::create({1, 1, 1, n}, n);
  auto overlap = Bridge::create(w, LayoutKind::Disaggregated, *e2, *llm, 4, 2);
  EXPECT_FALSE(overlap.ok());
  auto odd = Bridge::create(w, LayoutKind::Colocated,
                            *ProcessGrid::create({n, 1, 1, 1}, n), *llm,
                            /*rows not divisible by n*/ 1, 2);
  EXPECT_FALSE(odd.ok());
}

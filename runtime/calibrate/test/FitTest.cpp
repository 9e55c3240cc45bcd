//===- FitTest.cpp - Calibration fits against closed forms ----------------===//

#include "mimo/calibrate/Fit.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mimo::calibrate;

TEST(CalibrateFit, MedianOddEvenEmpty) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(median({}), 0);
}

TEST(CalibrateFit, GemmCurveBucketsByThresholdAndTakesMedians) {
  const double peak = 1e12;
  // 2mnk / (s * peak): shapes of 2.0, 0.016 and 0.000128 GFLOP.
  auto at = [&](int64_t d, double eff) {
    GemmSample s{d, d, d, 0};
    s.seconds = gemmFlops(s) / (eff * peak);
    return s;
  };
  std::vector<GemmSample> samples = {at(1000, 0.7), at(1000, 0.8),
                                     at(1000, 0.9), at(200, 0.5), at(40, 0.1)};
  // Thresholds in any order; 1 and 0.01 GFLOP, and 0.
  auto curve = gemmCurve(samples, peak, {0.01, 0, 1});
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_DOUBLE_EQ(curve[0].minGflops, 1);
  EXPECT_NEAR(curve[0].efficiency, 0.8, 1e-12);
  EXPECT_EQ(curve[0].samples, 3);
  EXPECT_DOUBLE_EQ(curve[1].minGflops, 0.01);
  EXPECT_NEAR(curve[1].efficiency, 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(curve[2].minGflops, 0);
  EXPECT_NEAR(curve[2].efficiency, 0.1, 1e-12);
}

TEST(CalibrateFit, GemmCurveKeepsTheLowestStepWhenNothingFellInIt) {
  const double peak = 1e12;
  GemmSample big{1000, 1000, 1000, 0};
  big.seconds = gemmFlops(big) / (0.6 * peak);
  auto curve = gemmCurve({big}, peak, {1, 0.01, 0});
  ASSERT_EQ(curve.size(), 2u);
  EXPECT_DOUBLE_EQ(curve[1].minGflops, 0);
  EXPECT_NEAR(curve[1].efficiency, 0.6, 1e-12);
  EXPECT_EQ(curve[1].samples, 0);
  EXPECT_TRUE(gemmCurve({}, peak, {1, 0}).empty());
}

TEST(CalibrateFit, LineRecoversSlopeAndIntercept) {
  LineFit f;
  std::string err;
  ASSERT_TRUE(fitLine({{1, 5}, {2, 7}, {4, 11}}, f, err)) << err;
  EXPECT_NEAR(f.slope, 2, 1e-12);
  EXPECT_NEAR(f.intercept, 3, 1e-12);
  EXPECT_FALSE(fitLine({{1, 5}}, f, err));
  EXPECT_FALSE(fitLine({{1, 5}, {1, 6}}, f, err));
  EXPECT_NE(err.find("distinct"), std::string::npos);
}

TEST(CalibrateFit, SaturatingRecoversScaleAndHalfPoint) {
  // e(s) = 0.6 s / (s + 512), exactly.
  std::vector<std::pair<double, double>> xy;
  for (double s : {512.0, 1024.0, 2048.0, 4096.0, 8192.0})
    xy.push_back({s, 0.6 * s / (s + 512)});
  SaturatingFit f;
  std::string err;
  ASSERT_TRUE(fitSaturating(xy, f, err)) << err;
  EXPECT_NEAR(f.scale, 0.6, 1e-9);
  EXPECT_NEAR(f.halfPoint, 512, 1e-6);
}

TEST(CalibrateFit, SaturatingWithoutAPlateauKeepsTheFastestPoint) {
  // Efficiency falling with the sequence: the fitted intercept is negative.
  SaturatingFit f;
  std::string err;
  ASSERT_TRUE(fitSaturating({{64, 0.3}, {128, 0.1}, {256, 0.05}}, f, err));
  EXPECT_GT(f.scale, 0);
  EXPECT_GE(f.halfPoint, 0);
  EXPECT_FALSE(fitSaturating({{64, 0}, {128, 0.1}}, f, err));
  EXPECT_NE(err.find("positive"), std::string::npos);
}

TEST(CalibrateFit, AttentionFlopsFollowThePlannersCount) {
  // 4 s^2 d h; causal keeps (s+1)/(2s); backward 2.5x.
  EXPECT_DOUBLE_EQ(attentionExecFwdFlops(8, 2, 4, false), 4.0 * 64 * 4 * 2);
  EXPECT_DOUBLE_EQ(attentionExecFwdFlops(8, 2, 4, true),
                   4.0 * 64 * 4 * 2 * 9.0 / 16.0);
  EXPECT_DOUBLE_EQ(attentionExecBwdFlops(8, 2, 4, true),
                   2.5 * attentionExecFwdFlops(8, 2, 4, true));
}

TEST(CalibrateFit, AllReduceInvertsTheRingModel) {
  // 4 ranks, 100 GB/s bus, 10 us per step: t = 6 * 1e-5 + 1.5 * m / 1e11.
  const int64_t n = 4;
  std::vector<std::pair<double, double>> samples;
  for (double m : {4e3, 4e5, 4e7})
    samples.push_back({m, 6 * 1e-5 + allReduceBusFactor(n) * m / 1e11});
  LinkFit f;
  std::string err;
  ASSERT_TRUE(fitAllReduce(samples, n, f, err)) << err;
  EXPECT_NEAR(f.bandwidth, 1e11, 1e3);
  EXPECT_NEAR(f.latency, 1e-5, 1e-12);
  EXPECT_DOUBLE_EQ(allReduceBusFactor(1), 0);
  EXPECT_DOUBLE_EQ(allReduceBusFactor(2), 1);
  EXPECT_FALSE(fitAllReduce(samples, 1, f, err));
  // Noise that tilts the line below the origin: through 4 KB in 2 us and
  // 4 MB in 3 ms the intercept is about -1 us, and so is the small
  // message's time beyond its bytes; the latency is then that message's
  // whole time over the ring's 2(n-1) = 6 steps.
  ASSERT_TRUE(fitAllReduce({{4e3, 2e-6}, {4e6, 3e-3}}, n, f, err)) << err;
  EXPECT_NEAR(f.latency, 2e-6 / 6, 1e-15);
  EXPECT_FALSE(fitAllReduce({{4e3, 1e-3}, {4e5, 1e-3}}, n, f, err));
  EXPECT_NE(err.find("does not grow"), std::string::npos);
}

TEST(CalibrateFit, RateAgainstRaisesATooLowNominal) {
  RateFigure r = rateAgainst(80, 100);
  EXPECT_DOUBLE_EQ(r.efficiency, 0.8);
  EXPECT_FALSE(r.nominalRaised);
  r = rateAgainst(150, 100);
  EXPECT_DOUBLE_EQ(r.nominal, 150);
  EXPECT_DOUBLE_EQ(r.efficiency, 1);
  EXPECT_TRUE(r.nominalRaised);
}

//===- PhiloxTest.cpp -----------------------------------------------------===//

#include "mimo/runtime/Philox.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace mimo::rt;

// Known-answer vectors of Random123 (kat_vectors, philox4x32 10 rounds).
TEST(Philox, KnownAnswers) {
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                          {0xffffffff, 0xffffffff}),
            (PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                          {0xa4093822, 0x299f31d0}),
            (PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, ValueDependsOnlyOnSeedStreamAndIndex) {
  PhiloxStream s(42, {7, 3});
  std::vector<float> whole(1003), slice(500);
  s.fillUniform(whole.data(), 0, whole.size());
  // A TP rank filling [a, b) sees exactly the single-rank values.
  for (auto [a, b] :
       {std::pair<int, int>{0, 500}, {1, 501}, {503, 1003}, {2, 3}}) {
    slice.resize(b - a);
    PhiloxStream(42, {7, 3}).fillUniform(slice.data(), a, b);
    for (int i = a; i < b; ++i)
      ASSERT_EQ(slice[i - a], whole[i]) << i;
  }
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(s.uniform(i), whole[i]);
  EXPECT_NE(PhiloxStream(43, {7, 3}).uniform(0), whole[0]);
  EXPECT_NE(PhiloxStream(42, {3, 7}).uniform(0), whole[0]);
}

TEST(Philox, NormalSlicesMatchAndAreStandard) {
  PhiloxStream s(1, 99);
  const int n = 40000;
  std::vector<float> v(n);
  s.fillNormal(v.data(), 0, n, 0.0f, 1.0f);
  std::vector<float> part(7);
  s.fillNormal(part.data(), 13, 20);
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(part[i], v[13 + i]);
  EXPECT_EQ(s.normal(5), v[5]);
  double sum = 0, sq = 0;
  for (float x : v) {
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sq += double(x) * x;
  }
  double mean = sum / n, var = sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.03);
  EXPECT_NEAR(var, 1.0, 0.03);
  std::vector<float> scaled(4);
  s.fillNormal(scaled.data(), 0, 4, 2.0f, 0.5f);
  EXPECT_FLOAT_EQ(scaled[1], 2.0f + 0.5f * v[1]);
}

TEST(Philox, UniformRangeAndIntegers) {
  PhiloxStream s(5, 6);
  std::vector<float> v(10000);
  s.fillUniform(v.data(), 0, v.size(), -1.0f, 1.0f);
  double sum = 0;
  for (float x : v) {
    ASSERT_GE(x, -1.0f);
    ASSERT_LT(x, 1.0f);
    sum += x;
  }
  EXPECT_NEAR(sum / v.size(), 0.0, 0.05);
  for (int i = 0; i < 1000; ++i)
    ASSERT_LT(s.uniformInt(i, 7), 7u);
}

TEST(Philox, RngStateStreamsAdvanceWithOffset) {
  RngState a{1234, 0}, b{1234, 1};
  RngState same{1234, 0};
  EXPECT_EQ(a.stream({1}).uniform(0), same.stream({1}).uniform(0));
  EXPECT_NE(a.stream({1}).uniform(0), b.stream({1}).uniform(0));
  EXPECT_NE(deriveStreamId({1, 2}), deriveStreamId({2, 1}));
}

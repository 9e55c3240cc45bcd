//===- RopeTest.cpp - rotary embedding ------------------------------------===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

const int64_t S = 9, H = 3, D = 8;
const float kTheta = 10000.0f;

DVec naiveRope(const Vec &x, int64_t pos0) {
  DVec y(x.size());
  for (int64_t s = 0; s < S; ++s)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < D / 2; ++i) {
        double a = double(pos0 + s) * std::pow(10000.0, -2.0 * i / D);
        double x1 = x[(s * H + h) * D + i], x2 = x[(s * H + h) * D + i + D / 2];
        y[(s * H + h) * D + i] = x1 * std::cos(a) - x2 * std::sin(a);
        y[(s * H + h) * D + i + D / 2] = x2 * std::cos(a) + x1 * std::sin(a);
      }
  return y;
}

TEST(Rope, ForwardMatchesNaiveWithOffset) {
  auto K = createCpuKernels();
  for (int64_t pos0 : {0, 37}) {
    Vec x = randn(S * H * D, 1), y(S * H * D);
    ASSERT_OK(K->ropeForward(view(x, {S, H * D}), view(y, {S, H * D}), H, D,
                             pos0, kTheta));
    expectClose(y, naiveRope(x, pos0), 1e-5,
                "rope pos0=" + std::to_string(pos0));
    // In place gives the same bits.
    ASSERT_OK(K->ropeForward(view(x, {S, H * D}), view(x, {S, H * D}), H, D,
                             pos0, kTheta));
    EXPECT_EQ(x, y);
  }
}

TEST(Rope, ChunksMatchFullSequenceExactly) {
  auto K = createCpuKernels();
  const int64_t s = 12, w = H * D;
  Vec x = randn(s * w, 1), full(s * w);
  ASSERT_OK(
      K->ropeForward(view(x, {s, w}), view(full, {s, w}), H, D, 0, kTheta));
  for (int64_t c0 : {0, 5, 8}) {
    int64_t n = s - c0;
    Vec xc(x.begin() + c0 * w, x.end()), yc(n * w);
    ASSERT_OK(
        K->ropeForward(view(xc, {n, w}), view(yc, {n, w}), H, D, c0, kTheta));
    EXPECT_EQ(yc, Vec(full.begin() + c0 * w, full.end())) << "chunk at " << c0;
  }
}

TEST(Rope, BackwardIsInverseAndMatchesFiniteDifferences) {
  auto K = createCpuKernels();
  Vec x = randn(S * H * D, 1), y(S * H * D), back(S * H * D),
      r = randn(S * H * D, 2), dx(S * H * D);
  ASSERT_OK(K->ropeForward(view(x, {S, H * D}), view(y, {S, H * D}), H, D, 3,
                           kTheta));
  ASSERT_OK(K->ropeBackward(view(y, {S, H * D}), view(back, {S, H * D}), H, D,
                            3, kTheta));
  expectClose(back, x, 1e-5, "inverse rotation");
  auto loss = [&] {
    EXPECT_OK(K->ropeForward(view(x, {S, H * D}), view(y, {S, H * D}), H, D, 3,
                             kTheta));
    return project(y, r);
  };
  ASSERT_OK(K->ropeBackward(view(r, {S, H * D}), view(dx, {S, H * D}), H, D, 3,
                            kTheta));
  gradCheck("dx", x, dx, loss);
}

TEST(Rope, RejectsOddHeadDimAndWrongWidth) {
  auto K = createCpuKernels();
  Vec x(S * 21), y(S * 21);
  expectError(
      K->ropeForward(view(x, {S, 21}), view(y, {S, 21}), 3, 7, 0, kTheta),
      {"rope_forward", "headDim=7"});
  expectError(
      K->ropeForward(view(x, {S, 21}), view(y, {S, 21}), 3, 8, 0, kTheta),
      {"rope_forward", "'x'", "expected f32[?, 24]", "found f32[9, 21]"});
}

} // namespace
} // namespace mimo::kernels::test

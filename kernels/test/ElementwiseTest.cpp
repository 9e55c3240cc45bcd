//===- ElementwiseTest.cpp - add, scale, sum of squares -------------------===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

TEST(Elementwise, AddAndScale) {
  auto K = createCpuKernels();
  const int64_t n = 40000; // several parallel chunks
  Vec a = randn(n, 1), b = randn(n, 2), out(n);
  ASSERT_OK(
      K->add(view(a, {200, 200}), view(b, {200, 200}), view(out, {200, 200})));
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(out[i], a[i] + b[i]);
  Vec a0 = a;
  ASSERT_OK(K->scale(view(a, {n}), -0.5f, view(a, {n}))); // in place
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(a[i], -0.5f * a0[i]);
}

TEST(Elementwise, SumSquaresOverwritesOrAccumulates) {
  auto K = createCpuKernels();
  const int64_t n = 50001;
  Vec x = randn(n, 1), y = randn(17, 2), out = {123.0f};
  double want = 0;
  for (float v : x)
    want += double(v) * v;
  ASSERT_OK(K->sumSquares(view(x, {n}), view(out, {1}), false));
  expectClose(out, DVec{want}, 1e-6, "sum of squares");
  for (float v : y)
    want += double(v) * v;
  ASSERT_OK(K->sumSquares(view(y, {17}), view(out, {1}), true));
  expectClose(out, DVec{want}, 1e-6, "accumulated sum of squares");
}

TEST(Elementwise, ConvertRoundsToBf16AndBack) {
  auto k = createCpuKernels();
  // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one.
  Vec x = {1.0f, -2.5f, 1.0f + 1.0f / 256.0f, 1.0f + 3.0f / 256.0f, 3.0e38f};
  std::vector<uint16_t> half(x.size());
  TensorView h(half.data(), DType::BF16, {int64_t(x.size())});
  ASSERT_OK(k->convert(view(x, {int64_t(x.size())}), h));
  EXPECT_EQ(half[0], 0x3f80);
  EXPECT_EQ(half[1], 0xc020);
  EXPECT_EQ(half[2], 0x3f80);
  EXPECT_EQ(half[3], 0x3f82);
  Vec back(x.size());
  ASSERT_OK(k->convert(h, view(back, {int64_t(x.size())})));
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], -2.5f);
  EXPECT_EQ(back[2], 1.0f);
  EXPECT_EQ(back[3], 1.0f + 4.0f / 256.0f);
  EXPECT_NEAR(back[4], 3.0e38f, 3.0e38f / 128.0f);
  Vec copy(x.size());
  ASSERT_OK(k->convert(view(x, {int64_t(x.size())}),
                       view(copy, {int64_t(x.size())})));
  EXPECT_EQ(copy, x);
  Vec wrong(3);
  expectError(k->convert(view(x, {int64_t(x.size())}), view(wrong, {3})),
              {"convert", "'y'", "shape"});
}

TEST(Elementwise, RejectsShapeMismatch) {
  auto K = createCpuKernels();
  Vec a(6), b(6), out(6);
  expectError(K->add(view(a, {2, 3}), view(b, {3, 2}), view(out, {2, 3})),
              {"add", "'b'", "f32[2, 3]", "found f32[3, 2]"});
  expectError(K->sumSquares(view(a, {6}), view(out, {2}), false),
              {"sum_squares", "'out'", "expected f32[1]"});
}

} // namespace
} // namespace mimo::kernels::test

// The finite-difference helper itself must catch a wrong gradient.
#include <gtest/gtest-spi.h>

namespace mimo::kernels::test {
namespace {

TEST(GradCheckHelper, FlagsAWrongGradient) {
  Vec x = randn(10, 1), r = randn(10, 2);
  auto loss = [&] {
    double s = 0;
    for (size_t i = 0; i < x.size(); ++i)
      s += double(x[i]) * x[i] * r[i];
    return s;
  };
  Vec good(10);
  double norm = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    good[i] = 2 * x[i] * r[i];
    norm += double(good[i]) * good[i];
  }
  gradCheck("good", x, good, loss);
  // One coordinate off by a fifth of the gradient's norm.
  Vec bad = good;
  bad[3] += 0.2f * float(std::sqrt(norm));
  EXPECT_NONFATAL_FAILURE(gradCheck("bad", x, bad, loss, 99, /*directions=*/1),
                          "bad direction 0");
}

} // namespace
} // namespace mimo::kernels::test

//===- GemmTest.cpp - gemm and linear -------------------------------------===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

// Naive c = alpha op(a) op(b) + beta c in double.
DVec naiveGemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
               const Vec &a, const Vec &b, float beta, const Vec &c) {
  DVec out(size_t(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (int64_t p = 0; p < k; ++p)
        s += double(ta ? a[p * m + i] : a[i * k + p]) *
             (tb ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = alpha * s + double(beta) * c[i * n + j];
    }
  return out;
}

TEST(Gemm, AllTransposesWithAlphaBeta) {
  auto K = createCpuKernels();
  const int64_t m = 7, n = 5, k = 9;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      Vec a = randn(m * k, 1), b = randn(k * n, 2), c = randn(m * n, 3);
      DVec want = naiveGemm(ta, tb, m, n, k, 0.7f, a, b, 0.3f, c);
      TensorView av = ta ? view(a, {k, m}) : view(a, {m, k});
      TensorView bv = tb ? view(b, {n, k}) : view(b, {k, n});
      ASSERT_OK(K->gemm(ta, tb, 0.7f, av, bv, 0.3f, view(c, {m, n})));
      expectClose(c, want, 1e-5,
                  "gemm ta=" + std::to_string(ta) +
                      " tb=" + std::to_string(tb));
    }
}

TEST(Gemm, RejectsMismatchedInnerDimension) {
  auto K = createCpuKernels();
  Vec a(6), b(12), c(8);
  expectError(K->gemm(false, false, 1, view(a, {2, 3}), view(b, {4, 3}), 0,
                      view(c, {2, 3})),
              {"gemm", "'b'", "expected f32[3, ?]", "found f32[4, 3]"});
}

struct LinearCase {
  bool transposed, bias;
};

class Linear : public ::testing::TestWithParam<LinearCase> {};

TEST_P(Linear, ForwardMatchesNaive) {
  auto [transposed, bias] = GetParam();
  auto K = createCpuKernels();
  const int64_t t = 6, in = 10, out = 7;
  Vec x = randn(t * in, 1), w = randn(in * out, 2), b = randn(out, 3),
      y(t * out);
  TensorView wv = transposed ? view(w, {out, in}) : view(w, {in, out});
  ASSERT_OK(K->linearForward(view(x, {t, in}), wv,
                             bias ? view(b, {out}) : TensorView(),
                             view(y, {t, out}), transposed));
  DVec want(t * out);
  for (int64_t r = 0; r < t; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = bias ? b[o] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        s += double(x[r * in + i]) *
             (transposed ? w[o * in + i] : w[i * out + o]);
      want[r * out + o] = s;
    }
  expectClose(y, want, 1e-5, "linear forward");
}

TEST_P(Linear, BackwardMatchesFiniteDifferences) {
  auto [transposed, bias] = GetParam();
  auto K = createCpuKernels();
  const int64_t t = 5, in = 8, out = 6;
  Vec x = randn(t * in, 1), w = randn(in * out, 2), b = randn(out, 3),
      y(t * out), r = randn(t * out, 4);
  auto wv = [&] {
    return transposed ? view(w, {out, in}) : view(w, {in, out});
  };
  auto loss = [&] {
    EXPECT_OK(K->linearForward(view(x, {t, in}), wv(),
                               bias ? view(b, {out}) : TensorView(),
                               view(y, {t, out}), transposed));
    return project(y, r);
  };
  // Weight grads accumulate: start from a known non-zero value.
  Vec dx(t * in), dw0 = randn(in * out, 5), dw = dw0, db0 = randn(out, 6),
                  db = db0;
  TensorView dwv = transposed ? view(dw, {out, in}) : view(dw, {in, out});
  ASSERT_OK(K->linearBackward(
      view(x, {t, in}), wv(), view(r, {t, out}), view(dx, {t, in}), dwv,
      bias ? view(db, {out}) : TensorView(), transposed));
  gradCheck("dx", x, dx, loss);
  gradCheck("dw", w, minus(dw, dw0), loss);
  if (bias)
    gradCheck("db", b, minus(db, db0), loss);
  else
    EXPECT_EQ(db, db0);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, Linear,
    ::testing::Values(LinearCase{false, false}, LinearCase{false, true},
                      LinearCase{true, false}, LinearCase{true, true}),
    [](const auto &info) {
      return std::string(info.param.transposed ? "TransposedW" : "PlainW") +
             (info.param.bias ? "Bias" : "NoBias");
    });

TEST(Linear, RejectsBf16AndWrongShapes) {
  auto K = createCpuKernels();
  Vec x(12), w(12), y(16);
  TensorView xb(x.data(), DType::BF16, {4, 3});
  expectError(K->linearForward(xb, view(w, {3, 4}), {}, view(y, {4, 4}), false),
              {"linear_forward", "'x'", "bf16", "not supported"});
  expectError(K->linearForward(view(x, {4, 3}), view(w, {4, 3}), {},
                               view(y, {4, 4}), false),
              {"linear_forward", "'w'", "expected f32[3, ?]", "f32[4, 3]"});
  expectError(K->linearForward(view(x, {4, 3}), view(w, {3, 4}), {},
                               view(y, {2, 8}), false),
              {"linear_forward", "'y'", "expected f32[4, 4]", "f32[2, 8]"});
  Vec dx(12), dw(12), dy(16);
  expectError(K->linearBackward(view(x, {4, 3}), view(w, {3, 4}),
                                view(dy, {4, 4}), view(dx, {4, 3}),
                                view(dw, {4, 3}), {}, false),
              {"linear_backward", "'dw'"});
}

} // namespace
} // namespace mimo::kernels::test

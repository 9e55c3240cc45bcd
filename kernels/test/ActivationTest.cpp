//===- ActivationTest.cpp - gelu and swiglu -------------------------------===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

const int64_t T = 6, F = 11;

TEST(Gelu, ForwardMatchesTanhFormula) {
  auto K = createCpuKernels();
  Vec x = randn(T * F, 1, 2.0f), y(T * F);
  ASSERT_OK(K->geluForward(view(x, {T, F}), view(y, {T, F})));
  DVec want(T * F);
  for (size_t i = 0; i < x.size(); ++i) {
    double v = x[i];
    want[i] =
        0.5 * v *
        (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
  }
  expectClose(y, want, 1e-5, "gelu");
  // In place.
  ASSERT_OK(K->geluForward(view(x, {T, F}), view(x, {T, F})));
  EXPECT_EQ(x, y);
}

TEST(Gelu, BackwardMatchesFiniteDifferences) {
  auto K = createCpuKernels();
  Vec x = randn(T * F, 1, 2.0f), y(T * F), r = randn(T * F, 2), dx(T * F);
  auto loss = [&] {
    EXPECT_OK(K->geluForward(view(x, {T, F}), view(y, {T, F})));
    return project(y, r);
  };
  ASSERT_OK(
      K->geluBackward(view(x, {T, F}), view(r, {T, F}), view(dx, {T, F})));
  gradCheck("dx", x, dx, loss);
}

TEST(Swiglu, ForwardMatchesNaive) {
  auto K = createCpuKernels();
  Vec g = randn(T * F, 1, 2.0f), u = randn(T * F, 2), o(T * F);
  ASSERT_OK(
      K->swigluForward(view(g, {T, F}), view(u, {T, F}), view(o, {T, F})));
  DVec want(T * F);
  for (size_t i = 0; i < g.size(); ++i)
    want[i] = double(g[i]) / (1.0 + std::exp(-double(g[i]))) * u[i];
  expectClose(o, want, 1e-5, "swiglu");
}

TEST(Swiglu, BackwardMatchesFiniteDifferences) {
  auto K = createCpuKernels();
  Vec g = randn(T * F, 1, 2.0f), u = randn(T * F, 2), o(T * F),
      r = randn(T * F, 3), dg(T * F), du(T * F);
  auto loss = [&] {
    EXPECT_OK(
        K->swigluForward(view(g, {T, F}), view(u, {T, F}), view(o, {T, F})));
    return project(o, r);
  };
  ASSERT_OK(K->swigluBackward(view(g, {T, F}), view(u, {T, F}), view(r, {T, F}),
                              view(dg, {T, F}), view(du, {T, F})));
  gradCheck("dgate", g, dg, loss);
  gradCheck("dup", u, du, loss);
}

TEST(Activation, RejectsMismatchedShapes) {
  auto K = createCpuKernels();
  Vec a(T * F), b(T * F), c(T * F);
  expectError(
      K->swigluForward(view(a, {T, F}), view(b, {F, T}), view(c, {T, F})),
      {"swiglu_forward", "'up'", "f32[6, 11]", "f32[11, 6]"});
  std::vector<int32_t> ids(4);
  expectError(K->geluForward(view(ids, {4}), view(c, {4})),
              {"gelu_forward", "'x'", "i32[4]"});
}

} // namespace
} // namespace mimo::kernels::test

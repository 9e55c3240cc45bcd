//===- OptimizerTest.cpp - Adam, AdamW, clipping --------------------------===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

// Three steps of the textbook update in double.
void naiveAdam(const AdamParams &p0, DVec &w, DVec &m, DVec &v,
               const std::vector<Vec> &grads) {
  for (size_t s = 0; s < grads.size(); ++s) {
    double t = double(s + 1);
    for (size_t i = 0; i < w.size(); ++i) {
      double g = double(p0.gradScale) * grads[s][i];
      if (!p0.decoupledWeightDecay)
        g += p0.weightDecay * w[i];
      m[i] = p0.beta1 * m[i] + (1 - double(p0.beta1)) * g;
      v[i] = p0.beta2 * v[i] + (1 - double(p0.beta2)) * g * g;
      double mh = m[i] / (1 - std::pow(double(p0.beta1), t));
      double vh = v[i] / (1 - std::pow(double(p0.beta2), t));
      double upd = mh / (std::sqrt(vh) + p0.eps);
      if (p0.decoupledWeightDecay)
        upd += p0.weightDecay * w[i];
      w[i] -= p0.lr * upd;
    }
  }
}

class Adam : public ::testing::TestWithParam<bool> {};

TEST_P(Adam, ThreeStepsMatchNaive) {
  auto K = createCpuKernels();
  const int64_t n = 33;
  AdamParams p;
  p.lr = 1e-2f;
  p.beta1 = 0.9f;
  p.beta2 = 0.95f;
  p.eps = 1e-8f;
  p.weightDecay = 0.1f;
  p.decoupledWeightDecay = GetParam();
  p.gradScale = 0.5f;
  Vec w = randn(n, 1), m(n, 0.0f), v(n, 0.0f);
  DVec dw(w.begin(), w.end()), dm(n, 0.0), dv(n, 0.0);
  std::vector<Vec> grads = {randn(n, 2), randn(n, 3), randn(n, 4)};
  for (size_t s = 0; s < grads.size(); ++s) {
    p.step = int64_t(s + 1);
    ASSERT_OK(K->adamStep(p, view(w, {3, 11}), view(grads[s], {3, 11}),
                          view(m, {3, 11}), view(v, {3, 11})));
  }
  naiveAdam(p, dw, dm, dv, grads);
  expectClose(w, dw, 1e-5, "weights");
  expectClose(m, dm, 1e-5, "first moment");
  expectClose(v, dv, 1e-5, "second moment");
}

INSTANTIATE_TEST_SUITE_P(Variants, Adam, ::testing::Bool(),
                         [](const auto &info) {
                           return info.param ? "AdamW" : "AdamL2";
                         });

TEST(Adam, RejectsStepZeroAndShapeMismatch) {
  auto K = createCpuKernels();
  Vec w(4), g(4), m(4), v(5);
  AdamParams p;
  p.step = 0;
  expectError(
      K->adamStep(p, view(w, {4}), view(g, {4}), view(m, {4}), view(v, {4})),
      {"adam_step", "step must be >= 1", "found 0"});
  p.step = 1;
  expectError(
      K->adamStep(p, view(w, {4}), view(g, {4}), view(m, {4}), view(v, {5})),
      {"adam_step", "'v'", "f32[4]", "found f32[5]"});
}

TEST(GradClip, ScaleFromGlobalNorm) {
  EXPECT_FLOAT_EQ(gradClipScale(0.5f, 1.0f), 1.0f);
  EXPECT_NEAR(gradClipScale(4.0f, 1.0f), 0.25f, 1e-6f);
  EXPECT_FLOAT_EQ(gradClipScale(4.0f, 0.0f), 1.0f); // clipping off
  EXPECT_TRUE(std::isnan(gradClipScale(NAN, 1.0f)));
}

} // namespace
} // namespace mimo::kernels::test

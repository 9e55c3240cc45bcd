//===- NormTest.cpp - layer_norm and rms_norm -----------------------------===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

const int64_t T = 5, H = 12;
const float kEps = 1e-5f;

TEST(LayerNorm, ForwardMatchesNaive) {
  auto K = createCpuKernels();
  Vec x = randn(T * H, 1, 2.0f), g = randn(H, 2), b = randn(H, 3), y(T * H),
      mean(T), rstd(T);
  ASSERT_OK(K->layerNormForward(view(x, {T, H}), view(g, {H}), view(b, {H}),
                                kEps, view(y, {T, H}), view(mean, {T}),
                                view(rstd, {T})));
  DVec want(T * H), wm(T), wr(T);
  for (int64_t r = 0; r < T; ++r) {
    double mu = 0, var = 0;
    for (int64_t c = 0; c < H; ++c)
      mu += x[r * H + c];
    mu /= H;
    for (int64_t c = 0; c < H; ++c)
      var += (x[r * H + c] - mu) * (x[r * H + c] - mu);
    var /= H;
    wm[r] = mu;
    wr[r] = 1.0 / std::sqrt(var + kEps);
    for (int64_t c = 0; c < H; ++c)
      want[r * H + c] = (x[r * H + c] - mu) * wr[r] * g[c] + b[c];
  }
  expectClose(y, want, 1e-5, "y");
  expectClose(mean, wm, 1e-5, "mean");
  expectClose(rstd, wr, 1e-5, "rstd");
}

TEST(LayerNorm, BackwardMatchesFiniteDifferences) {
  auto K = createCpuKernels();
  Vec x = randn(T * H, 1), g = randn(H, 2), b = randn(H, 3), y(T * H), mean(T),
      rstd(T), r = randn(T * H, 4);
  auto loss = [&] {
    EXPECT_OK(K->layerNormForward(view(x, {T, H}), view(g, {H}), view(b, {H}),
                                  kEps, view(y, {T, H}), view(mean, {T}),
                                  view(rstd, {T})));
    return project(y, r);
  };
  loss();
  Vec dx(T * H), dg0 = randn(H, 5), dg = dg0, db0 = randn(H, 6), db = db0;
  ASSERT_OK(K->layerNormBackward(
      view(x, {T, H}), view(g, {H}), view(mean, {T}), view(rstd, {T}),
      view(r, {T, H}), view(dx, {T, H}), view(dg, {H}), view(db, {H})));
  gradCheck("dx", x, dx, loss);
  gradCheck("dgamma", g, minus(dg, dg0), loss);
  gradCheck("dbeta", b, minus(db, db0), loss);
}

TEST(RmsNorm, ForwardMatchesNaive) {
  auto K = createCpuKernels();
  Vec x = randn(T * H, 1, 2.0f), g = randn(H, 2), y(T * H), rstd(T);
  ASSERT_OK(K->rmsNormForward(view(x, {T, H}), view(g, {H}), kEps,
                              view(y, {T, H}), view(rstd, {T})));
  DVec want(T * H), wr(T);
  for (int64_t r = 0; r < T; ++r) {
    double ms = 0;
    for (int64_t c = 0; c < H; ++c)
      ms += double(x[r * H + c]) * x[r * H + c];
    wr[r] = 1.0 / std::sqrt(ms / H + kEps);
    for (int64_t c = 0; c < H; ++c)
      want[r * H + c] = x[r * H + c] * wr[r] * g[c];
  }
  expectClose(y, want, 1e-5, "y");
  expectClose(rstd, wr, 1e-5, "rstd");
}

TEST(RmsNorm, BackwardMatchesFiniteDifferences) {
  auto K = createCpuKernels();
  Vec x = randn(T * H, 1), g = randn(H, 2), y(T * H), rstd(T),
      r = randn(T * H, 4);
  auto loss = [&] {
    EXPECT_OK(K->rmsNormForward(view(x, {T, H}), view(g, {H}), kEps,
                                view(y, {T, H}), view(rstd, {T})));
    return project(y, r);
  };
  loss();
  Vec dx(T * H), dg0 = randn(H, 5), dg = dg0;
  ASSERT_OK(K->rmsNormBackward(view(x, {T, H}), view(g, {H}), view(rstd, {T}),
                               view(r, {T, H}), view(dx, {T, H}),
                               view(dg, {H})));
  gradCheck("dx", x, dx, loss);
  gradCheck("dgamma", g, minus(dg, dg0), loss);
}

TEST(Norm, RejectsWrongShapes) {
  auto K = createCpuKernels();
  Vec x(T * H), g(H + 1), b(H), y(T * H), m(T), rs(T);
  expectError(
      K->layerNormForward(view(x, {T, H}), view(g, {H + 1}), view(b, {H}), kEps,
                          view(y, {T, H}), view(m, {T}), view(rs, {T})),
      {"layer_norm_forward", "'gamma'", "expected f32[12]", "found f32[13]"});
  expectError(K->rmsNormForward(view(x, {T, H}), view(b, {H}), kEps,
                                view(y, {T, H}), view(m, {T - 1})),
              {"rms_norm_forward", "'rstd'", "expected f32[5]"});
}

} // namespace
} // namespace mimo::kernels::test

//===- CrossEntropyTest.cpp - cross-entropy, whole and vocabulary-parallel ===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

const int64_t T = 7, V = 23;

std::vector<int32_t> labels() { return {4, -100, 22, 0, 11, -100, 17}; }

TEST(CrossEntropy, ForwardMatchesNaive) {
  auto K = createCpuKernels();
  Vec logits = randn(T * V, 1, 3.0f), loss(1), lse(T);
  auto lab = labels();
  std::vector<int32_t> count(1);
  ASSERT_OK(K->crossEntropyForward(view(logits, {T, V}), view(lab, {T}),
                                   view(loss, {1}), view(count, {1}),
                                   view(lse, {T})));
  double want = 0.0;
  int n = 0;
  DVec wl(T);
  for (int64_t r = 0; r < T; ++r) {
    double z = 0;
    for (int64_t c = 0; c < V; ++c)
      z += std::exp(double(logits[r * V + c]));
    wl[r] = std::log(z);
    if (lab[r] == -100)
      continue;
    want += wl[r] - logits[r * V + lab[r]];
    ++n;
  }
  EXPECT_EQ(count[0], n);
  expectClose(loss, DVec{want}, 1e-5, "loss sum");
  expectClose(lse, wl, 1e-5, "lse");
}

TEST(CrossEntropy, BackwardMatchesFiniteDifferences) {
  auto K = createCpuKernels();
  Vec logits = randn(T * V, 1, 3.0f), loss(1), lse(T), d(T * V);
  auto lab = labels();
  std::vector<int32_t> count(1);
  const float scale = 1.0f / 5.0f; // 1 / number of loss tokens
  auto f = [&] {
    EXPECT_OK(K->crossEntropyForward(view(logits, {T, V}), view(lab, {T}),
                                     view(loss, {1}), view(count, {1}),
                                     view(lse, {T})));
    return double(loss[0]) * scale;
  };
  f();
  ASSERT_OK(K->crossEntropyBackward(view(logits, {T, V}), view(lab, {T}),
                                    view(lse, {T}), 0, scale, view(d, {T, V})));
  for (int64_t c = 0; c < V; ++c)
    EXPECT_EQ(d[1 * V + c], 0.0f) << "ignored row";
  gradCheck("dlogits", logits, d, f);
}

// Shards of the vocabulary combined as a TP group would (max, sum, sum).
TEST(CrossEntropy, VocabularyParallelEqualsWhole) {
  auto K = createCpuKernels();
  Vec logits = randn(T * V, 1, 3.0f), loss(1), lse(T), d(T * V);
  auto lab = labels();
  std::vector<int32_t> count(1);
  ASSERT_OK(K->crossEntropyForward(view(logits, {T, V}), view(lab, {T}),
                                   view(loss, {1}), view(count, {1}),
                                   view(lse, {T})));
  ASSERT_OK(K->crossEntropyBackward(view(logits, {T, V}), view(lab, {T}),
                                    view(lse, {T}), 0, 0.25f, view(d, {T, V})));
  for (int shards = 2; shards <= 4; ++shards) {
    std::vector<int64_t> bounds;
    for (int s = 0; s <= shards; ++s)
      bounds.push_back(V * s / shards);
    std::vector<Vec> parts;
    for (int s = 0; s < shards; ++s) {
      int64_t v0 = bounds[s], n = bounds[s + 1] - v0;
      Vec part(T * n);
      for (int64_t r = 0; r < T; ++r)
        std::copy(logits.begin() + r * V + v0, logits.begin() + r * V + v0 + n,
                  part.begin() + r * n);
      parts.push_back(part);
    }
    Vec gmax(T, -INFINITY), sum(T, 0.0f), target(T, 0.0f);
    for (int s = 0; s < shards; ++s) {
      int64_t n = bounds[s + 1] - bounds[s];
      Vec m(T);
      ASSERT_OK(K->crossEntropyLocalMax(view(parts[s], {T, n}), view(m, {T})));
      for (int64_t r = 0; r < T; ++r)
        gmax[r] = std::max(gmax[r], m[r]);
    }
    for (int s = 0; s < shards; ++s) {
      int64_t n = bounds[s + 1] - bounds[s];
      Vec se(T), tg(T);
      ASSERT_OK(K->crossEntropyLocalSumExp(view(parts[s], {T, n}),
                                           view(gmax, {T}), view(se, {T})));
      ASSERT_OK(K->crossEntropyTargetLogit(
          view(parts[s], {T, n}), view(lab, {T}), bounds[s], view(tg, {T})));
      for (int64_t r = 0; r < T; ++r) {
        sum[r] += se[r];
        target[r] += tg[r];
      }
    }
    Vec sl(1), slse(T);
    std::vector<int32_t> sc(1);
    ASSERT_OK(K->crossEntropyCombine(
        view(gmax, {T}), view(sum, {T}), view(target, {T}), view(lab, {T}),
        view(sl, {1}), view(sc, {1}), view(slse, {T})));
    std::string what = std::to_string(shards) + " shards";
    EXPECT_EQ(sc[0], count[0]) << what;
    expectClose(sl, loss, 1e-5, what + " loss");
    expectClose(slse, lse, 1e-5, what + " lse");
    for (int s = 0; s < shards; ++s) {
      int64_t v0 = bounds[s], n = bounds[s + 1] - v0;
      Vec ds(T * n), want(T * n);
      ASSERT_OK(K->crossEntropyBackward(view(parts[s], {T, n}), view(lab, {T}),
                                        view(slse, {T}), v0, 0.25f,
                                        view(ds, {T, n})));
      for (int64_t r = 0; r < T; ++r)
        for (int64_t c = 0; c < n; ++c)
          want[r * n + c] = d[r * V + v0 + c];
      expectClose(ds, want, 1e-5, what + " dlogits");
    }
  }
}

TEST(CrossEntropy, RejectsOutOfRangeLabelsAndShapes) {
  auto K = createCpuKernels();
  Vec logits(T * V), loss(1), lse(T);
  std::vector<int32_t> lab = labels(), count(1);
  lab[3] = 23;
  expectError(K->crossEntropyForward(view(logits, {T, V}), view(lab, {T}),
                                     view(loss, {1}), view(count, {1}),
                                     view(lse, {T})),
              {"cross_entropy_forward", "'labels'", "[0, 23)", "found 23"});
  expectError(
      K->crossEntropyForward(view(logits, {T, V}), view(lab, {T - 1}),
                             view(loss, {1}), view(count, {1}), view(lse, {T})),
      {"cross_entropy_forward", "'labels'", "expected i32[7]", "found i32[6]"});
}

} // namespace
} // namespace mimo::kernels::test

//===- MergeRowsTest.cpp - encoder rows into a token sequence -------------===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

const int64_t H = 5;
const int32_t P = 9, Q = 8;

TEST(MergeRows, ForwardMatchesNaiveAndChainsSources) {
  auto K = createCpuKernels();
  std::vector<int32_t> ids = {1, P, P, 4, Q, P, 2};
  const int64_t t = int64_t(ids.size());
  Vec text = randn(t * H, 1), a = randn(3 * H, 2), b = randn(1 * H, 3);
  Vec out(t * H, -7.0f);
  ASSERT_OK(K->mergeRowsForward(view(text, {t, H}), view(ids, {t}), P,
                                view(a, {3, H}), view(out, {t, H})));
  // In place with a second source.
  ASSERT_OK(K->mergeRowsForward(view(out, {t, H}), view(ids, {t}), Q,
                                view(b, {1, H}), view(out, {t, H})));
  Vec want(t * H);
  for (int64_t i = 0; i < t * H; ++i)
    want[i] = text[i];
  int64_t na = 0, nb = 0;
  // The naive reference counts placeholders row by row.
  for (int64_t r = 0; r < t; ++r) {
    for (int64_t c = 0; c < H; ++c) {
      if (ids[r] == P)
        want[r * H + c] = a[na * H + c];
      else if (ids[r] == Q)
        want[r * H + c] = b[nb * H + c];
    }
    na += ids[r] == P;
    nb += ids[r] == Q;
  }
  EXPECT_EQ(out, want);
}

TEST(MergeRows, BackwardRoutesRowsAndMatchesFiniteDifferences) {
  auto K = createCpuKernels();
  std::vector<int32_t> ids = {P, 3, P, 0, P};
  const int64_t t = int64_t(ids.size());
  Vec text = randn(t * H, 4), src = randn(3 * H, 5), out(t * H);
  Vec r = randn(t * H, 6);
  Vec dtext(t * H, 3.0f), dsrc(3 * H, 3.0f);
  ASSERT_OK(K->mergeRowsBackward(view(r, {t, H}), view(ids, {t}), P,
                                 view(dtext, {t, H}), view(dsrc, {3, H})));
  auto loss = [&] {
    EXPECT_OK(K->mergeRowsForward(view(text, {t, H}), view(ids, {t}), P,
                                  view(src, {3, H}), view(out, {t, H})));
    return project(out, r);
  };
  gradCheck("dtext", text, dtext, loss);
  gradCheck("dsource", src, dsrc, loss);
  // In place: dtext aliasing dout gives the same result.
  Vec inplace = r, dsrc2(3 * H);
  ASSERT_OK(K->mergeRowsBackward(view(inplace, {t, H}), view(ids, {t}), P,
                                 view(inplace, {t, H}), view(dsrc2, {3, H})));
  EXPECT_EQ(inplace, dtext);
  EXPECT_EQ(dsrc2, dsrc);
}

TEST(MergeRows, RejectsPlaceholderCountMismatch) {
  auto K = createCpuKernels();
  std::vector<int32_t> ids = {P, 1, 2};
  Vec text(3 * H), src(2 * H), out(3 * H);
  expectError(K->mergeRowsForward(view(text, {3, H}), view(ids, {3}), P,
                                  view(src, {2, H}), view(out, {3, H})),
              {"merge_rows_forward", "source has 2 rows", "1 placeholders"});
}

} // namespace
} // namespace mimo::kernels::test

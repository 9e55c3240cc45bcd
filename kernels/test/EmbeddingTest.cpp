//===- EmbeddingTest.cpp - token embedding with a vocabulary range --------===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

const int64_t V = 10, H = 6;

TEST(Embedding, ForwardWholeAndShardedVocabulary) {
  auto K = createCpuKernels();
  std::vector<int32_t> ids = {3, 0, 9, 3, 7, 5};
  const int64_t t = int64_t(ids.size());
  Vec table = randn(V * H, 1), full(t * H);
  ASSERT_OK(K->embeddingForward(view(ids, {t}), view(table, {V, H}),
                                view(full, {t, H}), 0, V));
  for (int64_t r = 0; r < t; ++r)
    for (int64_t c = 0; c < H; ++c)
      EXPECT_EQ(full[r * H + c], table[ids[r] * H + c]);
  // Shards [0,4), [4,7), [7,10) each give their rows; the sum is the whole.
  Vec sum(t * H, 0.0f);
  for (auto [v0, v1] : {std::pair<int64_t, int64_t>{0, 4}, {4, 7}, {7, 10}}) {
    Vec shard(table.begin() + v0 * H, table.begin() + v1 * H), out(t * H, 5.0f);
    ASSERT_OK(K->embeddingForward(view(ids, {t}), view(shard, {v1 - v0, H}),
                                  view(out, {t, H}), v0, v1));
    for (int64_t r = 0; r < t; ++r) {
      bool in = ids[r] >= v0 && ids[r] < v1;
      for (int64_t c = 0; c < H; ++c) {
        if (!in)
          EXPECT_EQ(out[r * H + c], 0.0f);
        sum[r * H + c] += out[r * H + c];
      }
    }
  }
  EXPECT_EQ(sum, full);
}

TEST(Embedding, BackwardMatchesFiniteDifferencesPerShard) {
  auto K = createCpuKernels();
  std::vector<int32_t> ids = {3, 0, 9, 3, 7, 5, 3};
  const int64_t t = int64_t(ids.size());
  for (auto [v0, v1] : {std::pair<int64_t, int64_t>{0, V}, {2, 6}}) {
    int64_t n = v1 - v0;
    Vec table = randn(n * H, 1), out(t * H), r = randn(t * H, 2);
    auto loss = [&] {
      EXPECT_OK(K->embeddingForward(view(ids, {t}), view(table, {n, H}),
                                    view(out, {t, H}), v0, v1));
      return project(out, r);
    };
    Vec d0 = randn(n * H, 3), d = d0;
    ASSERT_OK(K->embeddingBackward(view(ids, {t}), view(r, {t, H}),
                                   view(d, {n, H}), v0, v1));
    gradCheck("dtable", table, minus(d, d0), loss);
  }
}

TEST(Embedding, RejectsTableNotMatchingRange) {
  auto K = createCpuKernels();
  std::vector<int32_t> ids = {1, 2};
  Vec table(V * H), out(2 * H);
  expectError(K->embeddingForward(view(ids, {2}), view(table, {V, H}),
                                  view(out, {2, H}), 2, 6),
              {"embedding_forward", "'table'", "expected f32[4, ?]",
               "found f32[10, 6]"});
  Vec fids(2);
  expectError(K->embeddingForward(view(fids, {2}), view(table, {V, H}),
                                  view(out, {2, H}), 0, V),
              {"embedding_forward", "'ids'", "expected i32[?]"});
}

} // namespace
} // namespace mimo::kernels::test

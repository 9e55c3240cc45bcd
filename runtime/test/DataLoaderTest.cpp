//===- DataLoaderTest.cpp -------------------------------------------------===//

#include "mimo/runtime/DataLoader.h"
#include "TestUtil.h"
#include "mimo/runtime/SyntheticData.h"

#include <algorithm>

using namespace mimo::rt;

namespace {
/// Sample i has every pixel and id equal to i.
class CountingSource final : public SampleSource {
public:
  explicit CountingSource(std::optional<std::int64_t> n) : n_(n) {
    shape_ = {1, 1, 1, 2, 3};
  }
  const SampleShape &shape() const override { return shape_; }
  std::optional<std::int64_t> numSamples() const override { return n_; }
  Status readSample(std::int64_t i, Sample &out) const override {
    out.pixels.assign(2, static_cast<float>(i));
    out.inputIds.assign(3, static_cast<std::int32_t>(i));
    out.labels.assign(3, -100);
    return Status::success();
  }

private:
  SampleShape shape_;
  std::optional<std::int64_t> n_;
};
} // namespace

TEST(DataLoader, ShardsEachGlobalBatchContiguously) {
  CountingSource src(std::nullopt);
  std::vector<std::int64_t> seen;
  for (int r = 0; r < 4; ++r) {
    auto dl = DataLoader::create(src, 8, r, 4);
    ASSERT_TRUE(dl.ok());
    EXPECT_EQ(dl->localBatch(), 2);
    for (int step = 0; step < 3; ++step) {
      Batch b;
      ASSERT_OK(dl->next(b));
      std::vector<std::int64_t> expect = {step * 8 + 2 * r,
                                          step * 8 + 2 * r + 1};
      EXPECT_EQ(b.sampleIndices, expect);
      EXPECT_EQ(b.pixels[2], static_cast<float>(expect[1]));
      EXPECT_EQ(b.inputIds[0], expect[0]);
      EXPECT_EQ(b.inputIds.size(), 6u);
      seen.insert(seen.end(), expect.begin(), expect.end());
    }
    EXPECT_EQ(dl->position().nextSample, 24);
  }
  std::sort(seen.begin(), seen.end());
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(seen[i], i);
}

TEST(DataLoader, WrapsBoundedSourcesAndResumesExactly) {
  CountingSource src(5);
  auto dl = DataLoader::create(src, 4, 1, 2);
  ASSERT_TRUE(dl.ok());
  Batch b;
  ASSERT_OK(dl->next(b));
  EXPECT_EQ(b.sampleIndices, (std::vector<std::int64_t>{2, 3}));
  ASSERT_OK(dl->next(b));
  EXPECT_EQ(b.sampleIndices, (std::vector<std::int64_t>{1, 2})); // 6, 7 mod 5

  auto saved = DataPosition::fromJson(dl->position().toJson());
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->nextSample, 8);
  Batch expect, got;
  ASSERT_OK(dl->next(expect));
  auto resumed = DataLoader::create(src, 4, 1, 2);
  ASSERT_OK(resumed->seek(*saved));
  ASSERT_OK(resumed->next(got));
  EXPECT_EQ(got.sampleIndices, expect.sampleIndices);
  EXPECT_EQ(got.pixels, expect.pixels);
}

TEST(DataLoader, Validation) {
  CountingSource src(5);
  EXPECT_FALSE(DataLoader::create(src, 6, 0, 4).ok());
  EXPECT_FALSE(DataLoader::create(src, 8, 4, 4).ok());
  EXPECT_FALSE(DataLoader::create(src, 0, 0, 1).ok());
  EXPECT_FALSE(DataPosition::fromJson("{}").ok());
  EXPECT_FALSE(DataPosition::fromJson("{\"next_sample\": -1}").ok());
  EXPECT_FALSE(DataPosition::fromJson("garbage").ok());
}

TEST(DataLoader, SyntheticBatchesMatchAcrossDpSizes) {
  SyntheticDataConfig c;
  c.shape = {1, 1, 2, 2, 8};
  c.tokensPerImage = 2;
  c.vocab = 10;
  c.imageTokenId = 9;
  auto src = SyntheticSource::create(c);
  ASSERT_TRUE(src.ok());
  Batch whole;
  ASSERT_OK(DataLoader::create(*src, 4, 0, 1)->next(whole));
  for (int r = 0; r < 2; ++r) {
    Batch part;
    ASSERT_OK(DataLoader::create(*src, 4, r, 2)->next(part));
    for (std::size_t i = 0; i < part.inputIds.size(); ++i)
      ASSERT_EQ(part.inputIds[i], whole.inputIds[r * 16 + i]);
  }
}

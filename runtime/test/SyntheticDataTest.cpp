//===- SyntheticDataTest.cpp ----------------------------------------------===//

#include "mimo/runtime/SyntheticData.h"
#include "TestUtil.h"

using namespace mimo::rt;

namespace {
SyntheticDataConfig config() {
  SyntheticDataConfig c;
  c.shape = {2, 3, 8, 8, 64};
  c.tokensPerImage = 16;
  c.vocab = 100;
  c.imageTokenId = 42;
  c.seed = 7;
  return c;
}
} // namespace

TEST(SyntheticData, SampleDependsOnlyOnSeedAndIndex) {
  auto src = SyntheticSource::create(config());
  ASSERT_TRUE(src.ok()) << src.status().toString();
  Sample a, b, c;
  ASSERT_OK(src->readSample(5, a));
  ASSERT_OK(src->readSample(6, c));
  ASSERT_OK(src->readSample(5, b)); // after another sample: no hidden state
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.inputIds, b.inputIds);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_NE(a.pixels, c.pixels);
  auto other = config();
  other.seed = 8;
  Sample d;
  ASSERT_OK(SyntheticSource::create(other)->readSample(5, d));
  EXPECT_NE(a.inputIds, d.inputIds);
}

TEST(SyntheticData, PlaceholdersAndLabels) {
  auto src = SyntheticSource::create(config());
  ASSERT_TRUE(src.ok());
  for (std::int64_t i = 0; i < 20; ++i) {
    Sample s;
    ASSERT_OK(src->readSample(i, s));
    ASSERT_EQ(s.pixels.size(), 2u * 3 * 8 * 8);
    ASSERT_EQ(s.inputIds.size(), 64u);
    for (float p : s.pixels) {
      ASSERT_GE(p, 0.0f);
      ASSERT_LT(p, 1.0f);
    }
    std::vector<bool> image(64, false);
    auto starts = src->imageStarts(i);
    ASSERT_EQ(starts.size(), 2u);
    for (std::size_t m = 0; m < starts.size(); ++m) {
      EXPECT_GE(starts[m], static_cast<std::int64_t>(m) * 32);
      EXPECT_LE(starts[m] + 16, static_cast<std::int64_t>(m + 1) * 32);
      for (int t = 0; t < 16; ++t)
        image[starts[m] + t] = true;
    }
    int placeholders = 0;
    for (int t = 0; t < 64; ++t) {
      bool isImage = s.inputIds[t] == 42;
      placeholders += isImage;
      EXPECT_EQ(isImage, image[t]) << "sample " << i << " pos " << t;
      ASSERT_GE(s.inputIds[t], 0);
      ASSERT_LT(s.inputIds[t], 100);
      if (image[t] || t == 63 || image[t + 1])
        EXPECT_EQ(s.labels[t], kIgnoreLabel);
      else
        EXPECT_EQ(s.labels[t], s.inputIds[t + 1]);
    }
    EXPECT_EQ(placeholders, 32);
  }
}

TEST(SyntheticData, ValidatesConfig) {
  auto c = config();
  c.tokensPerImage = 40; // 2 x 40 > 64
  EXPECT_NE(SyntheticSource::create(c).status().message().find("exceeds"),
            std::string::npos);
  c = config();
  c.imageTokenId = 100;
  EXPECT_FALSE(SyntheticSource::create(c).ok());
  c = config();
  c.vocab = 1;
  EXPECT_FALSE(SyntheticSource::create(c).ok());
  c = config();
  c.shape.seqLen = 0;
  EXPECT_FALSE(SyntheticSource::create(c).ok());
  Sample s;
  EXPECT_FALSE(SyntheticSource::create(config())->readSample(-1, s).ok());
}

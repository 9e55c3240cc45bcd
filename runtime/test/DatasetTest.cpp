//===- DatasetTest.cpp ----------------------------------------------------===//

#include "mimo/runtime/Dataset.h"
#include "TestUtil.h"
#include "mimo/runtime/SyntheticData.h"

using namespace mimo::rt;

namespace {
/// Writes `samples` samples starting at `first` of a synthetic source.
void writeShard(const std::string &path, const SyntheticSource &src,
                std::int64_t first, std::int64_t samples, bool u8) {
  const SampleShape &s = src.shape();
  std::vector<float> pixels;
  std::vector<std::uint8_t> pixels8;
  std::vector<std::int32_t> ids, labels;
  for (std::int64_t i = first; i < first + samples; ++i) {
    Sample x;
    ASSERT_OK(src.readSample(i, x));
    for (float p : x.pixels)
      pixels8.push_back(static_cast<std::uint8_t>(p * 255.0f));
    pixels.insert(pixels.end(), x.pixels.begin(), x.pixels.end());
    ids.insert(ids.end(), x.inputIds.begin(), x.inputIds.end());
    labels.insert(labels.end(), x.labels.begin(), x.labels.end());
  }
  SafetensorsWriter w;
  std::vector<std::int64_t> pshape = {samples, s.imagesPerSample, s.channels,
                                      s.imageHeight, s.imageWidth};
  if (u8)
    ASSERT_OK(w.add("pixels", pshape, pixels8));
  else
    ASSERT_OK(w.add("pixels", pshape, pixels));
  ASSERT_OK(w.add("input_ids", {samples, s.seqLen}, ids));
  ASSERT_OK(w.add("labels", {samples, s.seqLen}, labels));
  ASSERT_TRUE(w.write(path).ok());
}

SyntheticSource source() {
  SyntheticDataConfig c;
  c.shape = {1, 3, 4, 4, 32};
  c.tokensPerImage = 8;
  c.vocab = 50;
  c.imageTokenId = 49;
  c.seed = 3;
  return *SyntheticSource::create(c);
}
} // namespace

TEST(Dataset, ReadsShardsInNameOrder) {
  test::TempDir dir;
  SyntheticSource src = source();
  writeShard(dir.file("part-001.safetensors"), src, 3, 4, false);
  writeShard(dir.file("part-000.safetensors"), src, 0, 3, false);
  test::writeFile(dir.file("README.txt"), "not a shard");
  auto ds = Dataset::open(dir.path());
  ASSERT_TRUE(ds.ok()) << ds.status().toString();
  EXPECT_EQ((*ds)->numSamples(), 7);
  EXPECT_EQ((*ds)->numShards(), 2u);
  EXPECT_TRUE((*ds)->shape() == src.shape());
  for (std::int64_t i = 0; i < 7; ++i) {
    Sample a, b;
    ASSERT_OK((*ds)->readSample(i, a));
    ASSERT_OK(src.readSample(i, b));
    EXPECT_EQ(a.pixels, b.pixels) << i;
    EXPECT_EQ(a.inputIds, b.inputIds) << i;
    EXPECT_EQ(a.labels, b.labels) << i;
  }
  Sample x;
  EXPECT_FALSE((*ds)->readSample(7, x).ok());
}

TEST(Dataset, U8PixelsAreScaled) {
  test::TempDir dir;
  SyntheticSource src = source();
  writeShard(dir.file("a.safetensors"), src, 0, 2, true);
  auto ds = Dataset::open(dir.path());
  ASSERT_TRUE(ds.ok()) << ds.status().toString();
  Sample a, b;
  ASSERT_OK((*ds)->readSample(1, a));
  ASSERT_OK(src.readSample(1, b));
  for (std::size_t i = 0; i < a.pixels.size(); ++i)
    ASSERT_NEAR(a.pixels[i], b.pixels[i], 1.0f / 255.0f + 1e-6f);
}

TEST(Dataset, ClearErrors) {
  test::TempDir dir;
  EXPECT_EQ(Dataset::open(dir.file("nope")).status().code(),
            StatusCode::NotFound);
  EXPECT_EQ(Dataset::open(dir.path()).status().code(), StatusCode::NotFound);

  SafetensorsWriter w;
  std::vector<std::int32_t> ids(4, 1);
  ASSERT_OK(w.add("input_ids", {1, 4}, ids));
  ASSERT_TRUE(w.write(dir.file("a.safetensors")).ok());
  auto missing = Dataset::open(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing tensor 'pixels'"),
            std::string::npos)
      << missing.status().message();

  SyntheticSource src = source();
  writeShard(dir.file("a.safetensors"), src, 0, 2, false);
  std::string bytes = test::readFile(dir.file("a.safetensors"));
  test::writeFile(dir.file("a.safetensors"), bytes.substr(0, bytes.size() - 9));
  auto truncated = Dataset::open(dir.path());
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::DataLoss);
  EXPECT_NE(truncated.status().message().find("a.safetensors"),
            std::string::npos);
}

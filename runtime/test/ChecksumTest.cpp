//===- ChecksumTest.cpp ---------------------------------------------------===//

#include "mimo/runtime/Checksum.h"
#include "TestUtil.h"

#include <vector>

using namespace mimo::rt;

TEST(Checksum, Crc32KnownValues) {
  EXPECT_EQ(crc32("", 0), 0u);
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u); // the CRC-32 check value
  EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog", 43),
            0x414FA339u);
  EXPECT_EQ(crc32Hex(0xCBF43926u), "cbf43926");
}

TEST(Checksum, IncrementalEqualsWhole) {
  std::vector<unsigned char> data(10007);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<unsigned char>(i * 131 + 7);
  std::uint32_t whole = crc32(data.data(), data.size());
  std::uint32_t part = crc32Update(0, data.data(), 333);
  part = crc32Update(part, data.data() + 333, data.size() - 333);
  EXPECT_EQ(whole, part);
}

TEST(Checksum, DigestFile) {
  test::TempDir dir;
  test::writeFile(dir.file("a"), "123456789");
  auto d = digestFile(dir.file("a"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->bytes, 9u);
  EXPECT_EQ(d->crc32, 0xCBF43926u);
  EXPECT_EQ(digestFile(dir.file("missing")).status().code(),
            StatusCode::NotFound);
}

//===- SafetensorsTest.cpp ------------------------------------------------===//

#include "mimo/runtime/Safetensors.h"
#include "TestUtil.h"

#include <cstring>

using namespace mimo::rt;

namespace {
/// A file from a raw header and data, for malformed inputs.
std::string rawFile(const std::string &header, const std::string &data) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

std::string refused(const std::string &path) {
  auto r = SafetensorsReader::open(path);
  EXPECT_FALSE(r.ok());
  if (r.ok())
    return "";
  EXPECT_EQ(r.status().code(), StatusCode::DataLoss) << r.status().toString();
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  return r.status().message();
}
} // namespace

TEST(Safetensors, RoundTripEveryDtype) {
  test::TempDir dir;
  SafetensorsWriter w;
  std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -0.0f};
  std::vector<double> f64 = {1.0 / 3.0, -7.0};
  std::vector<std::int32_t> i32 = {1, -2, 2147483647};
  std::vector<std::int64_t> i64 = {-1, 1LL << 40};
  std::vector<std::uint8_t> u8 = {0, 255, 7};
  std::uint16_t half[2] = {0x3c00, 0xc000};
  ASSERT_OK(w.add("w.f32", {2, 3}, f32));
  ASSERT_OK(w.add("f64", {2}, f64));
  ASSERT_OK(w.add("i32", {3}, i32));
  ASSERT_OK(w.add("i64", {2}, i64));
  ASSERT_OK(w.add("u8", {3}, u8));
  ASSERT_OK(w.add("f16", DataType::F16, {2}, half, 4));
  ASSERT_OK(w.addView("bf16", DataType::BF16, {1, 2}, half, 4));
  ASSERT_OK(w.add("empty", DataType::F32, {0, 4}, nullptr, 0));
  w.setMetadata("format", "pt");
  auto d = w.write(dir.file("a.safetensors"));
  ASSERT_TRUE(d.ok()) << d.status().toString();
  std::string bytes = test::readFile(dir.file("a.safetensors"));
  EXPECT_EQ(d->bytes, bytes.size());
  EXPECT_EQ(d->crc32, crc32(bytes.data(), bytes.size()));
  std::uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes.data(), 8);
  EXPECT_EQ((8 + headerLen) % 8, 0u); // data section aligned

  auto r = SafetensorsReader::open(dir.file("a.safetensors"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->tensors().size(), 8u);
  EXPECT_EQ(r->metadata().at("format"), "pt");
  EXPECT_EQ(*r->readAll<float>("w.f32"), f32);
  EXPECT_EQ(*r->readAll<double>("f64"), f64);
  EXPECT_EQ(*r->readAll<std::int32_t>("i32"), i32);
  EXPECT_EQ(*r->readAll<std::int64_t>("i64"), i64);
  EXPECT_EQ(*r->readAll<std::uint8_t>("u8"), u8);
  EXPECT_EQ(r->find("w.f32")->shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(r->find("bf16")->dtype, DataType::BF16);
  std::uint16_t back[2];
  ASSERT_OK(r->read("f16", back, 4));
  EXPECT_EQ(back[1], 0xc000);
  EXPECT_EQ(r->readAll<float>("i32").status().code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(r->readAll<float>("nope").status().code(), StatusCode::NotFound);
  float two[2];
  ASSERT_OK(r->readRange(*r->find("w.f32"), 8, 8, two));
  EXPECT_EQ(two[0], 3.25f);
  EXPECT_FALSE(r->readRange(*r->find("w.f32"), 20, 8, two).ok());
}

TEST(Safetensors, WriterRejectsBadEntries) {
  SafetensorsWriter w;
  float x[4] = {};
  ASSERT_OK(w.add("x", DataType::F32, {4}, x, 16));
  EXPECT_FALSE(w.add("x", DataType::F32, {4}, x, 16).ok());
  EXPECT_FALSE(w.add("y", DataType::F32, {5}, x, 16).ok());
  EXPECT_FALSE(w.add("__metadata__", DataType::F32, {4}, x, 16).ok());
  EXPECT_FALSE(w.add("z", DataType::F32, {-1}, x, 16).ok());
}

TEST(Safetensors, TruncatedFileIsDataLossNamingTheTensor) {
  test::TempDir dir;
  SafetensorsWriter w;
  std::vector<float> a(10, 1.0f), b(10, 2.0f);
  ASSERT_OK(w.add("a", {10}, a));
  ASSERT_OK(w.add("b", {10}, b));
  ASSERT_TRUE(w.write(dir.file("t.safetensors")).ok());
  std::string bytes = test::readFile(dir.file("t.safetensors"));
  test::writeFile(dir.file("t.safetensors"), bytes.substr(0, bytes.size() - 5));
  std::string m = refused(dir.file("t.safetensors"));
  EXPECT_NE(m.find("tensor 'b'"), std::string::npos) << m;
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;

  test::writeFile(dir.file("short.safetensors"), bytes.substr(0, 5));
  EXPECT_NE(refused(dir.file("short.safetensors")).find("too short"),
            std::string::npos);
  test::writeFile(dir.file("hdr.safetensors"), bytes.substr(0, 20));
  EXPECT_NE(refused(dir.file("hdr.safetensors")).find("header length"),
            std::string::npos);
}

TEST(Safetensors, CorruptedHeadersAreRefused) {
  test::TempDir dir;
  auto check = [&](const std::string &name, const std::string &header,
                   const std::string &data, const char *expect) {
    std::string path = dir.file(name);
    test::writeFile(path, rawFile(header, data));
    std::string m = refused(path);
    EXPECT_NE(m.find(expect), std::string::npos) << name << ": " << m;
  };
  std::string d8(8, '\0');
  check("json", "{not json", d8, "not a JSON object");
  check("dtype", R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,8]}})", d8,
        "unsupported dtype 'F8'");
  check("size", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", d8,
        "needs 12");
  check("overlap",
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
        d8, "overlap");
  check("gap", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", d8,
        "gap");
  check("trailing", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
        d8, "tensors cover 4");
  check("bounds", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
        d8, "tensor 'a': data ends at byte 16");
  check("shape", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
        d8, "non-negative");
  check("offsets", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}})",
        d8, "data_offsets");
  check("meta", R"({"__metadata__":{"k":1}})", "", "__metadata__.k");
  EXPECT_EQ(SafetensorsReader::open(dir.file("absent")).status().code(),
            StatusCode::NotFound);
}

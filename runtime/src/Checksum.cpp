//===- Checksum.cpp - CRC-32 ----------------------------------------------===//

#include "mimo/runtime/Checksum.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace mimo::rt {

namespace {
/// Slicing-by-4 tables: checkpoints of gigabytes are checksummed on load.
struct Crc32Tables {
  std::array<std::array<std::uint32_t, 256>, 4> t;
  Crc32Tables() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (std::uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 4; ++s)
        t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
};
const Crc32Tables &tables() {
  static const Crc32Tables tables;
  return tables;
}
} // namespace

std::uint32_t crc32Update(std::uint32_t crc, const void *data,
                          std::size_t bytes) {
  const auto &t = tables().t;
  const auto *p = static_cast<const unsigned char *>(data);
  crc = ~crc;
  while (bytes >= 4) {
    crc ^= static_cast<std::uint32_t>(p[0]) |
           static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 |
           static_cast<std::uint32_t>(p[3]) << 24;
    crc = t[3][crc & 0xFF] ^ t[2][(crc >> 8) & 0xFF] ^
          t[1][(crc >> 16) & 0xFF] ^ t[0][crc >> 24];
    p += 4;
    bytes -= 4;
  }
  while (bytes--)
    crc = t[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

StatusOr<FileDigest> digestFile(const std::string &path) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (errno == ENOENT)
      return notFound(path + ": no such file");
    return ioError(path + ": " + std::strerror(errno));
  }
  FileDigest d;
  std::vector<unsigned char> buf(1 << 20);
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    d.crc32 = crc32Update(d.crc32, buf.data(), n);
    d.bytes += n;
  }
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed)
    return ioError(path + ": read error");
  return d;
}

std::string crc32Hex(std::uint32_t crc) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", crc);
  return buf;
}

} // namespace mimo::rt

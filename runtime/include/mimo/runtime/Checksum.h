//===- Checksum.h - CRC-32 of buffers and files -----------------*- C++ -*-===//
//
// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the checksum zlib
// and zip use, so shards can be checked with standard tools too.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_CHECKSUM_H
#define MIMO_RUNTIME_CHECKSUM_H

#include "mimo/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace mimo::rt {

/// Continues `crc` (0 to start) over `bytes` bytes.
std::uint32_t crc32Update(std::uint32_t crc, const void *data,
                          std::size_t bytes);
inline std::uint32_t crc32(const void *data, std::size_t bytes) {
  return crc32Update(0, data, bytes);
}

struct FileDigest {
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
};

StatusOr<FileDigest> digestFile(const std::string &path);

/// "1a2b3c4d".
std::string crc32Hex(std::uint32_t crc);

} // namespace mimo::rt

#endif // MIMO_RUNTIME_CHECKSUM_H

//===- FuzzSafetensors.cpp - libFuzzer target: the safetensors reader -----===//
//
// Any bytes as a .safetensors file: open it and read every tensor it
// lists. The reader opens files, so the input goes to a per-process file.
//
//===----------------------------------------------------------------------===//

#include "mimo/runtime/Safetensors.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  static const std::string path =
      "/tmp/mimo-fuzz-" + std::to_string(::getpid()) + ".safetensors";
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto reader = mimo::rt::SafetensorsReader::open(path);
  if (!reader.ok())
    return 0;
  for (const mimo::rt::TensorInfo &t : reader->tensors()) {
    if (t.bytes() > (1u << 24))
      continue;
    std::vector<unsigned char> buf(t.bytes());
    (void)reader->read(t.name, buf.data(), buf.size());
    if (t.bytes() >= 2)
      (void)reader->readRange(t, 1, t.bytes() - 1, buf.data());
  }
  return 0;
}

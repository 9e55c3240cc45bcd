//===- FuzzCheckpointMetadata.cpp - libFuzzer target: metadata.json -------===//
//
// Any bytes as a checkpoint's metadata.json: parse; parsed metadata must
// write and parse back to the same text.
//
//===----------------------------------------------------------------------===//

#include "mimo/runtime/Checkpoint.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  auto meta = mimo::rt::CheckpointMetadata::fromJson(text, "metadata.json");
  if (!meta.ok())
    return 0;
  std::string written = meta->toJson();
  auto again = mimo::rt::CheckpointMetadata::fromJson(written, "written");
  if (!again.ok() || again->toJson() != written)
    __builtin_trap(); // metadata must round-trip
  if (meta->findShard("rank00000.safetensors"))
    (void)meta->shards.size();
  return 0;
}

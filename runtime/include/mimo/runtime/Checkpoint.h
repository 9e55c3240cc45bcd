//===- Checkpoint.h - Atomic, verified checkpoint directories ---*- C++ -*-===//
//
// A checkpoint is a directory: metadata.json (format version, spec and plan
// text, step, data position, RNG state, and each shard's size and CRC-32)
// beside .safetensors shards, one or more per rank. It is written into
// DIR.tmp-XXXXXX and renamed into place only after every shard and the
// metadata are on disk, so a crash never leaves a half directory that looks
// valid. Loading verifies every shard's size and checksum.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_CHECKPOINT_H
#define MIMO_RUNTIME_CHECKPOINT_H

#include "mimo/runtime/Communicator.h"
#include "mimo/runtime/DataLoader.h"
#include "mimo/runtime/Philox.h"
#include "mimo/runtime/Safetensors.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mimo::rt {

inline constexpr int kCheckpointFormatVersion = 1;

struct ShardRecord {
  std::string file; ///< name inside the checkpoint directory
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
  int rank = 0; ///< world rank that wrote it
};

struct CheckpointMetadata {
  int formatVersion = kCheckpointFormatVersion;
  std::string spec; ///< the model spec text
  std::string plan; ///< the plan text
  std::int64_t step = 0;
  int worldSize = 1;
  DataPosition data;
  RngState rng;
  /// Filled by saveCheckpoint().
  std::vector<ShardRecord> shards;

  std::string toJson() const;
  /// `origin` names the file in errors.
  static StatusOr<CheckpointMetadata> fromJson(const std::string &text,
                                               const std::string &origin);
  const ShardRecord *findShard(const std::string &file) const;
};

/// One shard this rank writes.
struct ShardToWrite {
  std::string file; ///< plain file name, e.g. "rank00003.safetensors"
  const SafetensorsWriter *contents = nullptr;
};

/// Collective over `comm` (pass the world). Every rank writes its shards;
/// rank 0 writes metadata.json (from its own `metadata`, shards filled in)
/// and renames the directory into place, replacing an existing checkpoint
/// at `dir`. Every rank returns the same Status.
Status saveCheckpoint(Communicator &comm, const std::string &dir,
                      const CheckpointMetadata &metadata,
                      const std::vector<ShardToWrite> &shards);

class Checkpoint {
public:
  /// Reads metadata.json and verifies every shard's size and CRC-32 (with
  /// `verify`); a missing, truncated or corrupted file is a DataLoss Status
  /// naming it.
  static StatusOr<Checkpoint> load(const std::string &dir, bool verify = true);

  const std::string &directory() const { return dir_; }
  const CheckpointMetadata &metadata() const { return metadata_; }
  /// Opens a shard listed in the metadata.
  StatusOr<SafetensorsReader> openShard(const std::string &file) const;

private:
  std::string dir_;
  CheckpointMetadata metadata_;
};

/// "step-00000100": the name --save uses under its directory.
std::string checkpointName(std::int64_t step);
/// Checkpoints (complete directories named by checkpointName) under `root`,
/// by increasing step.
StatusOr<std::vector<std::pair<std::int64_t, std::string>>>
listCheckpoints(const std::string &root);
/// Removes all but the newest `keep` checkpoints under `root`, and leftover
/// temporary directories of interrupted saves. keep >= 1.
Status keepLastCheckpoints(const std::string &root, int keep);

} // namespace mimo::rt

#endif // MIMO_RUNTIME_CHECKPOINT_H

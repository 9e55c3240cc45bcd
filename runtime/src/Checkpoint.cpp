//===- Checkpoint.cpp - Atomic, verified checkpoint directories -----------===//

#include "mimo/runtime/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <limits>
#include <set>
#include <unistd.h>

namespace mimo::rt {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
constexpr const char *kMetadataFile = "metadata.json";

std::string stripSlashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  return dir;
}

/// Makes a rename or a new file durable: fsync on the directory.
void syncDirectory(const std::string &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

Status writeFileDurably(const std::string &path, const std::string &text) {
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return ioError(path + ": cannot create: " + std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = ok && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  int err = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok)
    return ioError(path + ": write failed: " + std::strerror(err));
  return Status::success();
}

bool isPlainShardName(const std::string &name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." &&
         name != ".." && name != kMetadataFile;
}

std::string encodeStatus(const Status &s) {
  return std::to_string(static_cast<int>(s.code())) + "\n" + s.message();
}

Status decodeStatus(const std::string &text) {
  auto nl = text.find('\n');
  int code = std::atoi(text.substr(0, nl).c_str());
  if (code == 0)
    return Status::success();
  return Status(static_cast<StatusCode>(code),
                nl == std::string::npos ? "" : text.substr(nl + 1));
}

/// Rank 0's part of a save once every shard is written: metadata, rename.
Status finishSave(const std::string &dir, const std::string &tmp,
                  CheckpointMetadata metadata,
                  const std::vector<std::string> &gathered) {
  std::set<std::string> files;
  for (std::size_t r = 0; r < gathered.size(); ++r) {
    const std::string &g = gathered[r];
    if (!g.empty() && g[0] == '!')
      return decodeStatus(g.substr(1))
          .withContext("rank " + std::to_string(r) + " writing its shards");
    json list = json::parse(g, nullptr, false);
    for (const json &s : list) {
      ShardRecord rec;
      rec.file = s.at("file").get<std::string>();
      rec.bytes = s.at("bytes").get<std::uint64_t>();
      rec.crc32 = s.at("crc32").get<std::uint32_t>();
      rec.rank = static_cast<int>(r);
      if (!files.insert(rec.file).second)
        return invalidArgument("checkpoint " + dir + ": shard file '" +
                               rec.file + "' is written by two ranks");
      metadata.shards.push_back(rec);
    }
  }
  metadata.worldSize = static_cast<int>(gathered.size());
  MIMO_RETURN_IF_ERROR(
      writeFileDurably(tmp + "/" + kMetadataFile, metadata.toJson()));
  syncDirectory(tmp);

  std::error_code ec;
  std::string old;
  if (fs::exists(dir, ec)) {
    // Move the previous checkpoint aside first: rename cannot replace a
    // non-empty directory, and the new one must appear in a single step.
    old = dir + ".old-" + tmp.substr(tmp.size() - 6);
    if (std::rename(dir.c_str(), old.c_str()) != 0)
      return ioError(dir + ": cannot move the previous checkpoint aside: " +
                     std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), dir.c_str()) != 0)
    return ioError(tmp + ": cannot rename to " + dir + ": " +
                   std::strerror(errno));
  std::string parent = fs::path(dir).parent_path().string();
  syncDirectory(parent.empty() ? "." : parent);
  if (!old.empty())
    fs::remove_all(old, ec);
  return Status::success();
}
} // namespace

//===----------------------------------------------------------------------===//
// Metadata
//===----------------------------------------------------------------------===//

std::string CheckpointMetadata::toJson() const {
  json shardList = json::array();
  for (const ShardRecord &s : shards)
    shardList.push_back({{"file", s.file},
                         {"bytes", s.bytes},
                         {"crc32", crc32Hex(s.crc32)},
                         {"rank", s.rank}});
  json j = {{"format_version", formatVersion},
            {"step", step},
            {"world_size", worldSize},
            {"data_position", {{"next_sample", data.nextSample}}},
            {"rng", {{"seed", rng.seed}, {"offset", rng.offset}}},
            {"spec", spec},
            {"plan", plan},
            {"shards", shardList}};
  return j.dump(2) + "\n";
}

StatusOr<CheckpointMetadata>
CheckpointMetadata::fromJson(const std::string &text,
                             const std::string &origin) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return dataLoss(origin + ": not a JSON object (corrupted or truncated?)");
  auto field = [&](const char *name, auto check,
                   const char *what) -> StatusOr<const json *> {
    auto it = j.find(name);
    if (it == j.end() || !check(*it))
      return dataLoss(origin + ": field '" + name + "' must be " + what);
    return &*it;
  };
  // An integer in [lo, hi], whatever width the JSON number was parsed at
  // (a huge unsigned must not wrap into range).
  auto inRange = [](const json &v, std::int64_t lo, std::int64_t hi) {
    if (v.is_number_unsigned()) {
      std::uint64_t u = v.get<std::uint64_t>();
      return hi >= 0 && u <= static_cast<std::uint64_t>(hi) &&
             (lo <= 0 || u >= static_cast<std::uint64_t>(lo));
    }
    if (!v.is_number_integer())
      return false;
    std::int64_t x = v.get<std::int64_t>();
    return x >= lo && x <= hi;
  };
  constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
  auto isVersion = [&](const json &v) { return inRange(v, 0, kIntMax); };
  auto isStep = [&](const json &v) {
    return inRange(v, 0, std::numeric_limits<std::int64_t>::max());
  };
  auto isWorld = [&](const json &v) { return inRange(v, 1, kIntMax); };
  auto isStr = [](const json &v) { return v.is_string(); };
  auto isObj = [](const json &v) { return v.is_object(); };
  auto isArr = [](const json &v) { return v.is_array(); };

  CheckpointMetadata m;
  MIMO_ASSIGN_OR_RETURN(const json *version, field("format_version", isVersion,
                                                   "a non-negative integer"));
  m.formatVersion = version->get<int>();
  if (m.formatVersion != kCheckpointFormatVersion)
    return failedPrecondition(origin + ": checkpoint format version " +
                              std::to_string(m.formatVersion) +
                              " is not supported (this runtime reads " +
                              std::to_string(kCheckpointFormatVersion) + ")");
  MIMO_ASSIGN_OR_RETURN(const json *step,
                        field("step", isStep, "a non-negative integer"));
  m.step = step->get<std::int64_t>();
  MIMO_ASSIGN_OR_RETURN(const json *world,
                        field("world_size", isWorld, "a positive integer"));
  m.worldSize = world->get<int>();
  MIMO_ASSIGN_OR_RETURN(const json *spec, field("spec", isStr, "a string"));
  m.spec = spec->get<std::string>();
  MIMO_ASSIGN_OR_RETURN(const json *plan, field("plan", isStr, "a string"));
  m.plan = plan->get<std::string>();
  MIMO_ASSIGN_OR_RETURN(const json *data,
                        field("data_position", isObj, "an object"));
  MIMO_ASSIGN_OR_RETURN(m.data, DataPosition::fromJson(data->dump()));
  MIMO_ASSIGN_OR_RETURN(const json *rng, field("rng", isObj, "an object"));
  if (!rng->contains("seed") || !(*rng)["seed"].is_number_unsigned() ||
      !rng->contains("offset") || !(*rng)["offset"].is_number_unsigned())
    return dataLoss(origin +
                    ": field 'rng' must hold unsigned 'seed' and 'offset'");
  m.rng.seed = (*rng)["seed"].get<std::uint64_t>();
  m.rng.offset = (*rng)["offset"].get<std::uint64_t>();
  MIMO_ASSIGN_OR_RETURN(const json *shards, field("shards", isArr, "an array"));
  for (std::size_t i = 0; i < shards->size(); ++i) {
    const json &s = (*shards)[i];
    std::string where = origin + ": shards[" + std::to_string(i) + "]";
    if (!s.is_object() || !s.contains("file") || !s["file"].is_string() ||
        !s.contains("bytes") || !s["bytes"].is_number_unsigned() ||
        !s.contains("crc32") || !s["crc32"].is_string() ||
        !s.contains("rank") || !s["rank"].is_number_unsigned())
      return dataLoss(where + " must hold file, bytes, crc32 and rank");
    if (!inRange(s["rank"], 0, m.worldSize - 1))
      return dataLoss(where + ": rank " + s["rank"].dump() +
                      " is not a rank of the world (" +
                      std::to_string(m.worldSize) + " ranks)");
    ShardRecord r;
    r.file = s["file"].get<std::string>();
    if (!isPlainShardName(r.file))
      return dataLoss(where + ": file '" + r.file +
                      "' is not a plain file name");
    r.bytes = s["bytes"].get<std::uint64_t>();
    std::string hex = s["crc32"].get<std::string>();
    char *end = nullptr;
    unsigned long crc = std::strtoul(hex.c_str(), &end, 16);
    if (hex.size() != 8 || *end != '\0')
      return dataLoss(where + ": crc32 '" + hex + "' is not 8 hex digits");
    r.crc32 = static_cast<std::uint32_t>(crc);
    r.rank = s["rank"].get<int>();
    m.shards.push_back(r);
  }
  return m;
}

const ShardRecord *CheckpointMetadata::findShard(const std::string &f) const {
  for (const ShardRecord &s : shards)
    if (s.file == f)
      return &s;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Save and load
//===----------------------------------------------------------------------===//

Status saveCheckpoint(Communicator &comm, const std::string &dirIn,
                      const CheckpointMetadata &metadata,
                      const std::vector<ShardToWrite> &shards) {
  std::string dir = stripSlashes(dirIn);
  // Rank 0 picks the temporary directory; everyone writes into it.
  std::string tmpOrError;
  if (comm.rank() == 0) {
    std::error_code ec;
    fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty())
      fs::create_directories(parent, ec);
    std::string pattern = dir + ".tmp-XXXXXX";
    if (ec)
      tmpOrError =
          "!" + encodeStatus(ioError(parent.string() +
                                     ": cannot create: " + ec.message()));
    else if (::mkdtemp(pattern.data()) == nullptr)
      tmpOrError = "!" + encodeStatus(ioError(pattern + ": cannot create: " +
                                              std::strerror(errno)));
    else
      tmpOrError = pattern;
  }
  MIMO_RETURN_IF_ERROR(comm.broadcastString(tmpOrError, 0));
  if (!tmpOrError.empty() && tmpOrError[0] == '!')
    return decodeStatus(tmpOrError.substr(1));
  const std::string &tmp = tmpOrError;

  // Every rank reports success or its error, so no rank is left waiting.
  Status mine;
  json records = json::array();
  for (const ShardToWrite &s : shards) {
    if (!isPlainShardName(s.file) || !s.contents) {
      mine = invalidArgument("checkpoint shard '" + s.file +
                             "' must be a plain file name with contents");
      break;
    }
    StatusOr<FileDigest> d = s.contents->write(tmp + "/" + s.file);
    if (!d.ok()) {
      mine = d.status();
      break;
    }
    records.push_back(
        {{"file", s.file}, {"bytes", d->bytes}, {"crc32", d->crc32}});
  }
  std::string report = mine.ok() ? records.dump() : "!" + encodeStatus(mine);
  MIMO_ASSIGN_OR_RETURN(std::vector<std::string> gathered,
                        comm.allGatherStrings(report));

  std::string result;
  if (comm.rank() == 0) {
    Status s = finishSave(dir, tmp, metadata, gathered);
    if (!s.ok()) {
      std::error_code ec;
      fs::remove_all(tmp, ec);
    }
    result = encodeStatus(s.withContext("saving checkpoint " + dir));
  }
  MIMO_RETURN_IF_ERROR(comm.broadcastString(result, 0));
  return decodeStatus(result);
}

StatusOr<Checkpoint> Checkpoint::load(const std::string &dirIn, bool verify) {
  std::string dir = stripSlashes(dirIn);
  std::string metaPath = dir + "/" + kMetadataFile;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return notFound(dir + ": no checkpoint directory");
  std::FILE *f = std::fopen(metaPath.c_str(), "rb");
  if (!f)
    return dataLoss(metaPath + ": missing; " + dir +
                    " is not a complete checkpoint");
  std::string text;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    text.append(buf, n);
  std::fclose(f);

  Checkpoint c;
  c.dir_ = dir;
  MIMO_ASSIGN_OR_RETURN(c.metadata_,
                        CheckpointMetadata::fromJson(text, metaPath));
  if (!verify)
    return c;
  for (const ShardRecord &s : c.metadata_.shards) {
    std::string path = dir + "/" + s.file;
    StatusOr<FileDigest> d = digestFile(path);
    if (!d.ok()) {
      if (d.status().code() == StatusCode::NotFound)
        return dataLoss(path + ": shard listed in metadata.json is missing");
      return d.status();
    }
    if (d->bytes != s.bytes)
      return dataLoss(path + ": " + std::to_string(d->bytes) +
                      " bytes, metadata.json says " + std::to_string(s.bytes) +
                      " (truncated or overwritten)");
    if (d->crc32 != s.crc32)
      return dataLoss(path + ": checksum mismatch (crc32 " +
                      crc32Hex(d->crc32) + ", metadata.json says " +
                      crc32Hex(s.crc32) + "): the shard is corrupted");
  }
  return c;
}

StatusOr<SafetensorsReader>
Checkpoint::openShard(const std::string &file) const {
  if (!metadata_.findShard(file))
    return notFound(dir_ + ": no shard '" + file + "' in metadata.json");
  return SafetensorsReader::open(dir_ + "/" + file);
}

//===----------------------------------------------------------------------===//
// Rotation
//===----------------------------------------------------------------------===//

std::string checkpointName(std::int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "step-%08lld", static_cast<long long>(step));
  return buf;
}

namespace {
/// The step of "step-NNNNNNNN" (digits only), or -1.
std::int64_t parseCheckpointName(const std::string &name) {
  if (name.size() <= 5 || name.compare(0, 5, "step-") != 0)
    return -1;
  for (std::size_t i = 5; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9')
      return -1;
  return std::atoll(name.c_str() + 5);
}
} // namespace

StatusOr<std::vector<std::pair<std::int64_t, std::string>>>
listCheckpoints(const std::string &root) {
  std::vector<std::pair<std::int64_t, std::string>> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return out;
  for (const auto &e : fs::directory_iterator(root, ec)) {
    std::string name = e.path().filename().string();
    std::int64_t step = parseCheckpointName(name);
    if (step < 0 || !e.is_directory() || !fs::exists(e.path() / kMetadataFile))
      continue;
    out.emplace_back(step, e.path().string());
  }
  if (ec)
    return ioError(root + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Status keepLastCheckpoints(const std::string &root, int keep) {
  if (keep < 1)
    return invalidArgument("keep-last count must be at least 1, got " +
                           std::to_string(keep));
  MIMO_ASSIGN_OR_RETURN(auto all, listCheckpoints(root));
  std::error_code ec;
  for (std::size_t i = 0; i + keep < all.size(); ++i) {
    // Renamed aside first (atomic), then deleted: a run killed while
    // deleting leaves a ".old-" leftover, never a half-deleted "step-N".
    std::string aside = all[i].second + ".old-pruned";
    fs::remove_all(aside, ec);
    if (std::rename(all[i].second.c_str(), aside.c_str()) != 0)
      return ioError(all[i].second +
                     ": cannot move aside to remove: " + std::strerror(errno));
    fs::remove_all(aside, ec);
    if (ec)
      return ioError(aside + ": cannot remove: " + ec.message());
  }
  // Leftovers of interrupted saves and removals: "step-N.tmp-XXXXXX",
  // "step-N.old-XXXXXX", and "step-N" directories without metadata.json
  // older than the newest checkpoint (a save only ever renames a complete
  // directory into place, so these are half-deleted ones).
  std::int64_t newest = all.empty() ? -1 : all.back().first;
  for (const auto &e : fs::directory_iterator(root, ec)) {
    std::string name = e.path().filename().string();
    auto dot = name.find('.');
    if (dot == std::string::npos) {
      std::int64_t step = parseCheckpointName(name);
      if (step >= 0 && step < newest && e.is_directory() &&
          !fs::exists(e.path() / kMetadataFile))
        fs::remove_all(e.path(), ec);
      continue;
    }
    if (parseCheckpointName(name.substr(0, dot)) < 0)
      continue;
    std::string rest = name.substr(dot);
    if (rest.size() == 11 &&
        (rest.compare(0, 5, ".tmp-") == 0 || rest.compare(0, 5, ".old-") == 0))
      fs::remove_all(e.path(), ec);
  }
  return Status::success();
}

} // namespace mimo::rt

//===- MpiCheckpointTest.cpp - Every rank writes its shard ----------------===//

#include "MpiTestUtil.h"
#include "TestUtil.h"

#include "mimo/runtime/Checkpoint.h"

#include <cstring>
#include <filesystem>

using namespace mimo::rt;
using mimo::rt::test::world;
namespace fs = std::filesystem;

namespace {
/// A directory made by rank 0 and known to every rank.
std::string sharedTempDir() {
  Communicator &w = world();
  std::string dir;
  if (w.rank() == 0) {
    std::string pattern =
        (fs::temp_directory_path() / "mimo-rt-mpi-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
  }
  EXPECT_TRUE(w.broadcastString(dir, 0).ok());
  return dir;
}
} // namespace

TEST(MpiCheckpoint, EveryRankRoundTripsItsShard) {
  Communicator &w = world();
  std::string root = sharedTempDir();
  std::vector<float> mine(100 + w.rank());
  for (std::size_t i = 0; i < mine.size(); ++i)
    mine[i] = static_cast<float>(w.rank()) + 1.0f / (i + 1);
  SafetensorsWriter shard;
  ASSERT_OK(shard.addView("w", DataType::F32,
                          {static_cast<std::int64_t>(mine.size())}, mine.data(),
                          mine.size() * 4));
  char name[32];
  std::snprintf(name, sizeof(name), "rank%05d.safetensors", w.rank());
  CheckpointMetadata meta;
  meta.step = 5;
  meta.spec = "spec";
  meta.plan = "plan";
  std::string dir = root + "/" + checkpointName(5);
  ASSERT_OK(saveCheckpoint(w, dir, meta, {{name, &shard}}));

  auto c = Checkpoint::load(dir);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->metadata().worldSize, w.size());
  EXPECT_EQ(c->metadata().shards.size(), static_cast<std::size_t>(w.size()));
  EXPECT_EQ(c->metadata().findShard(name)->rank, w.rank());
  auto reader = c->openShard(name);
  ASSERT_TRUE(reader.ok());
  auto back = reader->readAll<float>("w");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::memcmp(back->data(), mine.data(), mine.size() * 4), 0);

  // A failure on one rank fails the save on every rank, without a hang and
  // without a directory that looks valid.
  std::string bad = w.rank() == w.size() - 1 ? "../bad" : name;
  Status s = saveCheckpoint(w, root + "/broken", meta, {{bad, &shard}});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("rank " + std::to_string(w.size() - 1)),
            std::string::npos)
      << s.toString();
  EXPECT_FALSE(fs::exists(root + "/broken"));

  ASSERT_OK(w.barrier());
  if (w.rank() == 0)
    fs::remove_all(root);
}

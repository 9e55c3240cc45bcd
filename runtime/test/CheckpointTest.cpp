//===- CheckpointTest.cpp -------------------------------------------------===//

#include "mimo/runtime/Checkpoint.h"
#include "TestUtil.h"
#include "mimo/runtime/Philox.h"

#include <cstring>
#include <filesystem>

using namespace mimo::rt;
namespace fs = std::filesystem;

namespace {
struct Fixture {
  std::vector<float> weights, moments;
  std::vector<std::int64_t> counts = {1, -2, 1LL << 50};
  CheckpointMetadata meta;
  SafetensorsWriter shardA, shardB;

  Fixture() {
    weights.resize(1000);
    moments.resize(77);
    PhiloxStream(9, {1}).fillNormal(weights.data(), 0, weights.size());
    PhiloxStream(9, {2}).fillNormal(moments.data(), 0, moments.size());
    weights[3] = -0.0f;
    weights[4] = 1e-42f; // a denormal survives bit-exactly
    meta.spec = R"({"mimo_spec": 1, "name": "tiny"})";
    meta.plan = R"({"layout": "colocated"})";
    meta.step = 42;
    meta.data.nextSample = 336;
    meta.rng = {1234, 42};
    EXPECT_OK(shardA.addView("llm.w", DataType::F32, {10, 100}, weights.data(),
                             weights.size() * 4));
    EXPECT_OK(shardB.add("adam.m", {77}, moments));
    EXPECT_OK(shardB.add("counts", {3}, counts));
  }
  std::vector<ShardToWrite> shards() const {
    return {{"rank00000.safetensors", &shardA}, {"opt.safetensors", &shardB}};
  }
};

std::string loadError(const std::string &dir) {
  auto c = Checkpoint::load(dir);
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.status().toString();
}
} // namespace

TEST(Checkpoint, RoundTripIsBitExact) {
  test::TempDir root;
  Fixture f;
  auto comm = createSelfCommunicator();
  std::string dir = root.file(checkpointName(42));
  ASSERT_OK(saveCheckpoint(*comm, dir, f.meta, f.shards()));

  auto c = Checkpoint::load(dir);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  const CheckpointMetadata &m = c->metadata();
  EXPECT_EQ(m.formatVersion, kCheckpointFormatVersion);
  EXPECT_EQ(m.spec, f.meta.spec);
  EXPECT_EQ(m.plan, f.meta.plan);
  EXPECT_EQ(m.step, 42);
  EXPECT_EQ(m.worldSize, 1);
  EXPECT_TRUE(m.data == f.meta.data);
  EXPECT_TRUE(m.rng == f.meta.rng);
  ASSERT_EQ(m.shards.size(), 2u);

  auto a = c->openShard("rank00000.safetensors");
  ASSERT_TRUE(a.ok());
  auto w = a->readAll<float>("llm.w");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(std::memcmp(w->data(), f.weights.data(), f.weights.size() * 4), 0);
  auto b = c->openShard("opt.safetensors");
  EXPECT_EQ(*b->readAll<float>("adam.m"), f.moments);
  EXPECT_EQ(*b->readAll<std::int64_t>("counts"), f.counts);
  EXPECT_FALSE(c->openShard("other.safetensors").ok());

  // No temporary directories are left behind.
  int entries = 0;
  for (const auto &e : fs::directory_iterator(root.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(Checkpoint, OverwriteReplacesAtomically) {
  test::TempDir root;
  Fixture f;
  auto comm = createSelfCommunicator();
  std::string dir = root.file("ckpt");
  ASSERT_OK(saveCheckpoint(*comm, dir, f.meta, f.shards()));
  f.meta.step = 43;
  ASSERT_OK(
      saveCheckpoint(*comm, dir, f.meta, {{"only.safetensors", &f.shardB}}));
  auto c = Checkpoint::load(dir);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->metadata().step, 43);
  EXPECT_FALSE(fs::exists(dir + "/rank00000.safetensors"));
}

TEST(Checkpoint, TruncatedOrCorruptedShardsAreRefused) {
  test::TempDir root;
  Fixture f;
  auto comm = createSelfCommunicator();
  std::string dir = root.file("ckpt");
  ASSERT_OK(saveCheckpoint(*comm, dir, f.meta, f.shards()));
  std::string shard = dir + "/rank00000.safetensors";
  std::string bytes = test::readFile(shard);

  test::writeFile(shard, bytes.substr(0, bytes.size() - 100));
  std::string m = loadError(dir);
  EXPECT_NE(m.find("data loss"), std::string::npos) << m;
  EXPECT_NE(m.find(shard), std::string::npos) << m;
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;

  std::string flipped = bytes;
  flipped[bytes.size() - 7] ^= 0x10;
  test::writeFile(shard, flipped);
  m = loadError(dir);
  EXPECT_NE(m.find(shard), std::string::npos) << m;
  EXPECT_NE(m.find("checksum mismatch"), std::string::npos) << m;
  // Without verification the metadata still loads.
  EXPECT_TRUE(Checkpoint::load(dir, /*verify=*/false).ok());

  fs::remove(shard);
  m = loadError(dir);
  EXPECT_NE(m.find("missing"), std::string::npos) << m;
}

TEST(Checkpoint, BrokenMetadataIsRefused) {
  test::TempDir root;
  Fixture f;
  auto comm = createSelfCommunicator();
  std::string dir = root.file("ckpt");
  ASSERT_OK(saveCheckpoint(*comm, dir, f.meta, f.shards()));
  std::string meta = dir + "/metadata.json";
  std::string text = test::readFile(meta);

  test::writeFile(meta, text.substr(0, text.size() / 2));
  std::string m = loadError(dir);
  EXPECT_NE(m.find("data loss"), std::string::npos) << m;
  EXPECT_NE(m.find("metadata.json"), std::string::npos) << m;

  std::string noStep = text;
  noStep.replace(noStep.find("\"step\""), 6, "\"stop\"");
  test::writeFile(meta, noStep);
  EXPECT_NE(loadError(dir).find("'step'"), std::string::npos);

  fs::remove(meta);
  EXPECT_NE(loadError(dir).find("not a complete checkpoint"),
            std::string::npos);
  EXPECT_EQ(Checkpoint::load(root.file("none")).status().code(),
            StatusCode::NotFound);
}

// Numbers out of their field's range are refused, not wrapped (found by
// fuzz-checkpoint-metadata: a shard rank of 2937177882 became negative).
TEST(Checkpoint, MetadataNumbersOutOfRange) {
  CheckpointMetadata m;
  m.worldSize = 2;
  m.step = 7;
  m.shards.push_back({"rank00000.safetensors", 10, 0x12345678u, 0});
  std::string good = m.toJson();
  ASSERT_TRUE(CheckpointMetadata::fromJson(good, "m").ok());
  auto with = [&](const std::string &from, const std::string &to) {
    std::string t = good;
    auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    t.replace(at, from.size(), to);
    auto r = CheckpointMetadata::fromJson(t, "m");
    EXPECT_FALSE(r.ok()) << to;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(with("\"rank\": 0", "\"rank\": 2937177882"),
            "m: shards[0]: rank 2937177882 is not a rank of the world (2 "
            "ranks)");
  EXPECT_EQ(with("\"rank\": 0", "\"rank\": 2"),
            "m: shards[0]: rank 2 is not a rank of the world (2 ranks)");
  EXPECT_EQ(with("\"world_size\": 2", "\"world_size\": 4294967298"),
            "m: field 'world_size' must be a positive integer");
  EXPECT_EQ(with("\"format_version\": 1", "\"format_version\": 4294967297"),
            "m: field 'format_version' must be a non-negative integer");
  EXPECT_EQ(with("\"step\": 7", "\"step\": 18446744073709551615"),
            "m: field 'step' must be a non-negative integer");
  EXPECT_EQ(with("\"step\": 7", "\"step\": -1"),
            "m: field 'step' must be a non-negative integer");
}

TEST(Checkpoint, RejectsBadShardNames) {
  test::TempDir root;
  Fixture f;
  auto comm = createSelfCommunicator();
  Status s = saveCheckpoint(*comm, root.file("c"), f.meta,
                            {{"../escape.safetensors", &f.shardA}});
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(fs::exists(root.file("c")));
  s = saveCheckpoint(
      *comm, root.file("c"), f.meta,
      {{"x.safetensors", &f.shardA}, {"x.safetensors", &f.shardB}});
  EXPECT_FALSE(s.ok()) << "duplicate shard names";
}

TEST(Checkpoint, KeepLastRotation) {
  test::TempDir root;
  Fixture f;
  auto comm = createSelfCommunicator();
  for (int step : {10, 20, 30, 40}) {
    f.meta.step = step;
    ASSERT_OK(saveCheckpoint(*comm, root.file(checkpointName(step)), f.meta,
                             {{"a.safetensors", &f.shardB}}));
  }
  // Leftovers of an interrupted save and unrelated files.
  fs::create_directory(root.file("step-00000050.tmp-abc123"));
  fs::create_directory(root.file("step-00000060")); // no metadata: incomplete
  test::writeFile(root.file("notes.txt"), "keep me");
  // A checkpoint half deleted by a run killed while pruning (metadata gone
  // first), and one moved aside for deletion.
  fs::create_directory(root.file("step-00000005"));
  test::writeFile(root.file("step-00000005/a.safetensors"), "stale");
  fs::create_directory(root.file("step-00000007.old-pruned"));

  auto listed = listCheckpoints(root.path());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 4u);
  EXPECT_EQ(listed->back().first, 40);

  ASSERT_OK(keepLastCheckpoints(root.path(), 2));
  listed = listCheckpoints(root.path());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].first, 30);
  EXPECT_EQ((*listed)[1].first, 40);
  EXPECT_FALSE(fs::exists(root.file("step-00000050.tmp-abc123")));
  EXPECT_FALSE(fs::exists(root.file("step-00000005")));
  EXPECT_FALSE(fs::exists(root.file("step-00000007.old-pruned")));
  EXPECT_FALSE(fs::exists(root.file("step-00000010.old-pruned")));
  // Newer than every checkpoint: not a leftover this rotation can judge.
  EXPECT_TRUE(fs::exists(root.file("step-00000060")));
  EXPECT_TRUE(fs::exists(root.file("notes.txt")));
  EXPECT_FALSE(keepLastCheckpoints(root.path(), 0).ok());
  EXPECT_EQ(checkpointName(7), "step-00000007");
}

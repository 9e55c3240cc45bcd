//===- ProgramTest.cpp - The support layer on one process -----------------===//

#include "mimo/program/Context.h"
#include "mimo/program/Program.h"
#include "mimo/program/Support.h"

#include "mimo/runtime/Communicator.h"
#include "mimo/runtime/Safetensors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include <unistd.h>

using namespace mimo;
using namespace mimo::program;

namespace {

ProgramDesc smallProgram() {
  ProgramDesc d;
  setProgram(&d, "test", 1, 1.0e6);
  addGrid(&d, "llm", 1, 1, 1, 1, 0, 1);
  addGroup(&d, "llm", rt::kDpMask);
  addBuffer(&d, "full", rt::MemoryCategory::Params, kernels::DType::F32,
            {4, 8});
  addBuffer(&d, "shard", rt::MemoryCategory::Params, kernels::DType::F32,
            {4, 4});
  addBuffer(&d, "stack", rt::MemoryCategory::Activations, kernels::DType::F32,
            {3, 2, 4});
  addBuffer(&d, "ids", rt::MemoryCategory::Activations, kernels::DType::I32,
            {2, 8});
  addBuffer(&d, "labels", rt::MemoryCategory::Activations, kernels::DType::I32,
            {2, 8});
  setData(&d, "llm", 2, 8, 32, 31, 0, 0, 3, 1, 2);
  return d;
}

class ProgramTest : public ::testing::Test {
protected:
  void SetUp() override {
    world = rt::createSelfCommunicator();
    auto made = ProgramContext::create(smallProgram(), *world, 7, "");
    ASSERT_TRUE(made.ok()) << made.status().toString();
    ctx = std::move(*made);
    setCurrentContext(ctx.get());
  }
  void TearDown() override { setCurrentContext(nullptr); }

  std::vector<float> values(const TensorView &v) {
    return std::vector<float>(v.f32(), v.f32() + v.numel());
  }

  std::unique_ptr<rt::Communicator> world;
  std::unique_ptr<ProgramContext> ctx;
};

TEST_F(ProgramTest, BuffersAreAllocatedZeroedAndAccounted) {
  TensorView full = buffer("full");
  EXPECT_EQ(full.str(), "f32[4, 8]");
  for (float v : values(full))
    EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(ctx->allocator().stats().currentOf(rt::MemoryCategory::Params),
            (32u + 16u) * 4u);
}

TEST_F(ProgramTest, ShardDrawsItsSliceOfTheFullTensor) {
  TensorView full = buffer("full"), shard = buffer("shard");
  initNormal(full, "w", 0.5f, 0, 8);
  // Columns [4, 8) of the [4, 8] tensor: first element 4, rows of 8.
  initNormal(shard, "w", 0.5f, 4, 8);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      EXPECT_EQ(shard.f32()[r * 4 + c], full.f32()[r * 8 + 4 + c]);
  // Another name is another stream.
  initNormal(shard, "u", 0.5f, 4, 8);
  EXPECT_NE(shard.f32()[0], full.f32()[4]);
}

TEST_F(ProgramTest, SliceAndReshapeViewTheSameMemory) {
  TensorView stack = buffer("stack");
  TensorView layer = slice(stack, 2);
  EXPECT_EQ(layer.str(), "f32[2, 4]");
  EXPECT_EQ(layer.f32(), stack.f32() + 16);
  TensorView flat = reshape(stack, {24});
  EXPECT_EQ(flat.data, stack.data);
  EXPECT_EQ(flat.str(), "f32[24]");
  EXPECT_FALSE(absent().defined());
}

TEST_F(ProgramTest, FillCopyAndReadScalar) {
  TensorView full = buffer("full"), shard = buffer("shard");
  fill(shard, 2.5f);
  EXPECT_EQ(readF32(shard, 15), 2.5f);
  copy(shard, reshape(slice(reshape(full, {2, 16}), 1), {4, 4}));
  EXPECT_EQ(readF32(full, 16), 2.5f);
  EXPECT_EQ(readF32(full, 15), 0.0f);
  fill(buffer("ids"), std::int32_t(9));
  EXPECT_EQ(readI32(buffer("ids"), 3), 9);
}

TEST_F(ProgramTest, KernelsAndCollectivesRunOnTheContext) {
  TensorView shard = buffer("shard");
  fill(shard, 1.5f);
  callKernel("add", &kernels::Kernels::add, shard, shard, shard);
  EXPECT_EQ(readF32(shard, 0), 3.0f);
  allReduce(shard, "llm", rt::kDpMask, rt::ReduceOp::Sum);
  EXPECT_EQ(readF32(shard, 0), 3.0f);
  EXPECT_EQ(gridCoord("llm", rt::GridDim::DP), 0);
  kernels::AdamParams p =
      adamParams(0.1f, 0.8f, 0.9f, 1e-6f, 0.01f, true, 3, 0.5f);
  EXPECT_EQ(p.step, 3);
  EXPECT_EQ(p.gradScale, 0.5f);
  EXPECT_TRUE(p.decoupledWeightDecay);
}

TEST_F(ProgramTest, SamplePoolRepeatsItsBatches) {
  TensorView ids = buffer("ids"), labels = buffer("labels");
  nextBatch(ids, labels);
  std::vector<std::int32_t> first(ids.i32(), ids.i32() + 16);
  nextBatch(ids, labels);
  EXPECT_EQ(std::vector<std::int32_t>(ids.i32(), ids.i32() + 16), first);
  EXPECT_EQ(ctx->dataLoader()->position().nextSample, 4);
}

TEST_F(ProgramTest, OffloadAndFetchKeepTheContents) {
  fill(buffer("stack"), 4.0f);
  offload("stack");
  EXPECT_FALSE(ctx->view("stack").ok());
  EXPECT_GT(ctx->allocator().stats().currentOf(rt::MemoryCategory::Offloaded),
            0u);
  fetch("stack");
  EXPECT_EQ(readF32(buffer("stack"), 23), 4.0f);
}

TEST(ProgramContextTest, WorldSizeMustMatch) {
  ProgramDesc d = smallProgram();
  d.worldSize = 2;
  auto world = rt::createSelfCommunicator();
  auto made = ProgramContext::create(d, *world, 1, "");
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().message(),
            "program 'test' was built for 2 ranks but the job has 1");
}

TEST(ProgramContextTest, BuffersOnAGrid) {
  ProgramDesc d = smallProgram();
  addBuffer(&d, "mine", rt::MemoryCategory::Params, kernels::DType::F32, {4},
            "llm");
  auto world = rt::createSelfCommunicator();
  auto made = ProgramContext::create(d, *world, 1, "");
  ASSERT_TRUE(made.ok()) << made.status().toString();
  EXPECT_TRUE((*made)->view("mine").ok());

  ProgramDesc bad = smallProgram();
  addBuffer(&bad, "lost", rt::MemoryCategory::Params, kernels::DType::F32, {4},
            "vision");
  auto refused = ProgramContext::create(bad, *world, 1, "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "buffer 'lost' on unknown grid 'vision'");
}

TEST(ProgramContextTest, UnknownGridIsAnError) {
  ProgramDesc d = smallProgram();
  addGroup(&d, "vision", rt::kTpMask);
  auto world = rt::createSelfCommunicator();
  auto made = ProgramContext::create(d, *world, 1, "");
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().message(), "group on unknown grid 'vision'");
}

} // namespace

namespace {

/// A dataset directory with one shard of four samples of eight tokens whose
/// ids are 100 * sample + position.
std::string writeDataset(const std::string &name, std::int64_t seqLen) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     (name + "-" + std::to_string(::getpid())))
                        .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<std::int32_t> ids(4 * seqLen), labels(4 * seqLen, -100);
  for (std::int64_t i = 0; i < 4 * seqLen; ++i)
    ids[i] = static_cast<std::int32_t>(100 * (i / seqLen) + i % seqLen);
  rt::SafetensorsWriter w;
  EXPECT_TRUE(w.add<float>("pixels", {4, 1, 1, 1, 1}, {0, 0, 0, 0}).ok());
  EXPECT_TRUE(w.add<std::int32_t>("input_ids", {4, seqLen}, ids).ok());
  EXPECT_TRUE(w.add<std::int32_t>("labels", {4, seqLen}, labels).ok());
  EXPECT_TRUE(w.write(dir + "/shard0.safetensors").ok());
  return dir;
}

TEST(ProgramContextTest, BatchesComeFromADatasetDirectory) {
  std::string dir = writeDataset("mimo-program-dataset", 8);
  auto world = rt::createSelfCommunicator();
  auto made = ProgramContext::create(smallProgram(), *world, 1, dir);
  ASSERT_TRUE(made.ok()) << made.status().toString();
  setCurrentContext(made->get());
  TensorView ids = buffer("ids"), labels = buffer("labels");
  nextBatch(ids, labels);
  nextBatch(ids, labels);
  // The second global batch of two: samples 2 and 3.
  EXPECT_EQ(readI32(ids, 0), 200);
  EXPECT_EQ(readI32(ids, 15), 307);
  setCurrentContext(nullptr);
  std::filesystem::remove_all(dir);
}

TEST(ProgramContextTest, DatasetShapeMustMatch) {
  std::string dir = writeDataset("mimo-program-dataset-short", 6);
  auto world = rt::createSelfCommunicator();
  auto made = ProgramContext::create(smallProgram(), *world, 1, dir);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("samples have seq_len 6"),
            std::string::npos)
      << made.status().message();
  std::filesystem::remove_all(dir);
}

} // namespace

// A trainer compiled against other headers than the library's stops before
// running anything, naming both interface hashes.
TEST(ProgramAbiTest, AMismatchedTrainerStopsWithAClearError) {
  static bool described = false;
  auto factory = []() -> Program {
    described = true;
    return Program{};
  };
  char name[] = "trainer";
  char *argv[] = {name, nullptr};
  testing::internal::CaptureStderr();
  int rc = trainerMainChecked(1, argv, factory, "0123456789abcdef");
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_FALSE(described);
  EXPECT_NE(err.find("'0123456789abcdef'"), std::string::npos) << err;
  EXPECT_NE(err.find(std::string("'") + programAbi() + "'"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("rebuild the trainer"), std::string::npos) << err;
}

TEST(ProgramAbiTest, TheLibraryAndThisTestShareTheHeaders) {
  EXPECT_STREQ(programAbi(), MIMO_PROGRAM_ABI);
  EXPECT_EQ(std::string(programAbi()).size(), 16u);
}

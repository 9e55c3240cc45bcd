//===- HostStagingTest.cpp ------------------------------------------------===//

#include "mimo/runtime/HostStaging.h"
#include "TestUtil.h"

using namespace mimo::rt;

TEST(HostStaging, OffloadAndFetchPreserveContentsAndAccounting) {
  CpuDevice dev;
  Allocator alloc(dev);
  HostStaging staging(alloc);
  auto buf = alloc.allocate(256 * sizeof(float), MemoryCategory::Activations,
                            "vision.act");
  ASSERT_TRUE(buf.ok());
  for (int i = 0; i < 256; ++i)
    buf->as<float>()[i] = 0.25f * i;

  auto staged = staging.offload(*buf);
  ASSERT_TRUE(staged.ok()) << staged.status().toString();
  EXPECT_FALSE(buf->valid());
  EXPECT_EQ(alloc.stats().currentOf(MemoryCategory::Activations), 0u);
  EXPECT_EQ(alloc.stats().currentOf(MemoryCategory::Offloaded), 1024u);
  EXPECT_EQ(staged->originalCategory(), MemoryCategory::Activations);

  auto back = staging.fetch(*staged);
  ASSERT_TRUE(back.ok()) << back.status().toString();
  EXPECT_OK(staging.synchronize());
  EXPECT_EQ(back->category(), MemoryCategory::Activations);
  EXPECT_EQ(back->name(), "vision.act");
  EXPECT_EQ(alloc.stats().currentOf(MemoryCategory::Offloaded), 0u);
  EXPECT_EQ(alloc.stats().currentOf(MemoryCategory::Activations), 1024u);
  for (int i = 0; i < 256; ++i)
    ASSERT_EQ(back->as<float>()[i], 0.25f * i);
}

TEST(HostStaging, OffloadFreesDeviceRoomUnderACapacity) {
  CpuDevice dev;
  Allocator alloc(dev, 1000);
  HostStaging staging(alloc);
  auto a = alloc.allocate(800, MemoryCategory::Activations);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(alloc.allocate(800, MemoryCategory::Params).ok());
  auto staged = staging.offload(*a);
  ASSERT_TRUE(staged.ok());
  auto p = alloc.allocate(800, MemoryCategory::Params);
  ASSERT_TRUE(p.ok());
  // No room to bring it back while the params are resident.
  auto back = staging.fetch(*staged);
  EXPECT_EQ(back.status().code(), StatusCode::OutOfMemory);
  EXPECT_TRUE(staged->valid());
  p->reset();
  EXPECT_TRUE(staging.fetch(*staged).ok());
  EXPECT_FALSE(staged->valid());
}

TEST(HostStaging, RejectsEmptyBuffers) {
  CpuDevice dev;
  Allocator alloc(dev);
  HostStaging staging(alloc);
  Buffer empty;
  OffloadedBuffer none;
  EXPECT_FALSE(staging.offload(empty).ok());
  EXPECT_FALSE(staging.fetch(none).ok());
}

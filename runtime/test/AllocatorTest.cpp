//===- AllocatorTest.cpp --------------------------------------------------===//

#include "mimo/runtime/Allocator.h"
#include "TestUtil.h"

using namespace mimo::rt;

TEST(Allocator, AccountsCurrentAndPeakPerCategory) {
  CpuDevice dev;
  Allocator alloc(dev);
  {
    auto p = alloc.allocate(1000, MemoryCategory::Params, "w");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->bytes(), 1000u);
    EXPECT_EQ(p->category(), MemoryCategory::Params);
    EXPECT_EQ(p->name(), "w");
    {
      auto a = alloc.allocate(500, MemoryCategory::Activations);
      ASSERT_TRUE(a.ok());
      EXPECT_EQ(alloc.stats().currentTotal, 1500u);
    }
    EXPECT_EQ(alloc.stats().currentOf(MemoryCategory::Activations), 0u);
    EXPECT_EQ(alloc.stats().peakOf(MemoryCategory::Activations), 500u);
    auto g = alloc.allocate(200, MemoryCategory::Grads);
    ASSERT_TRUE(g.ok());
    // Peak of the sum (1500), not the sum of the peaks (1700).
    EXPECT_EQ(alloc.stats().peakTotal, 1500u);
    auto moved = std::move(*g);
    EXPECT_EQ(alloc.stats().currentOf(MemoryCategory::Grads), 200u);
  }
  EXPECT_EQ(alloc.stats().currentTotal, 0u);
  alloc.resetPeaks();
  EXPECT_EQ(alloc.stats().peakTotal, 0u);
}

TEST(Allocator, OffloadedIsNotDeviceMemory) {
  CpuDevice dev;
  Allocator alloc(dev, 1000);
  auto host = alloc.allocate(5000, MemoryCategory::Offloaded);
  ASSERT_TRUE(host.ok()) << host.status().toString();
  EXPECT_EQ(alloc.stats().currentTotal, 0u);
  EXPECT_EQ(alloc.stats().currentOf(MemoryCategory::Offloaded), 5000u);
}

TEST(Allocator, CapacityGivesOutOfMemoryNamingTheCategory) {
  CpuDevice dev;
  Allocator alloc(dev, 1024);
  auto a = alloc.allocate(1000, MemoryCategory::Params);
  ASSERT_TRUE(a.ok());
  auto b = alloc.allocate(100, MemoryCategory::Optimizer, "adam.m");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::OutOfMemory);
  const std::string &m = b.status().message();
  EXPECT_NE(m.find("optimizer"), std::string::npos) << m;
  EXPECT_NE(m.find("adam.m"), std::string::npos) << m;
  EXPECT_NE(m.find("100 bytes"), std::string::npos) << m;
  EXPECT_NE(m.find("24 bytes"), std::string::npos) << m;
  EXPECT_EQ(alloc.stats().currentTotal, 1000u);
  auto c = alloc.allocate(24, MemoryCategory::Workspace);
  EXPECT_TRUE(c.ok());
}

TEST(Allocator, TableListsEveryCategory) {
  CpuDevice dev;
  Allocator alloc(dev, 1 << 20);
  auto a = alloc.allocate(3 << 10, MemoryCategory::Activations);
  std::string t = alloc.table();
  for (const char *c : {"params", "grads", "optimizer", "activations",
                        "workspace", "offloaded", "total", "capacity"})
    EXPECT_NE(t.find(c), std::string::npos) << c << "\n" << t;
  EXPECT_NE(t.find("3.00 KiB"), std::string::npos) << t;
}

TEST(Allocator, CategoryNamesRoundTrip) {
  for (int i = 0; i < static_cast<int>(kNumMemoryCategories); ++i) {
    auto c = static_cast<MemoryCategory>(i);
    EXPECT_EQ(parseMemoryCategory(memoryCategoryName(c)), c);
  }
  EXPECT_FALSE(parseMemoryCategory("weights").has_value());
  EXPECT_EQ(formatBytes(512), "512 B");
  EXPECT_EQ(formatBytes(1536ull << 20), "1.50 GiB");
}

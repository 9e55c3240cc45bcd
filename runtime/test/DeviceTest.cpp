//===- DeviceTest.cpp -----------------------------------------------------===//

#include "mimo/runtime/Device.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

using namespace mimo::rt;

TEST(Device, CpuAllocatesAlignedMemory) {
  CpuDevice dev;
  EXPECT_EQ(dev.kind(), DeviceKind::Cpu);
  EXPECT_EQ(dev.name(), "cpu");
  for (std::size_t align : {8u, 64u, 4096u}) {
    auto p = dev.allocator().allocate(100, align);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(*p) % align, 0u);
    dev.allocator().deallocate(*p, 100);
  }
  auto zero = dev.allocator().allocate(0, 64);
  ASSERT_TRUE(zero.ok());
  EXPECT_NE(*zero, nullptr);
  dev.allocator().deallocate(*zero, 0);
  EXPECT_EQ(dev.allocator().allocate(8, 3).status().code(),
            StatusCode::InvalidArgument);
}

TEST(Device, CopyAndFill) {
  CpuDevice dev;
  char a[8] = "abcdefg", b[8] = {};
  ASSERT_TRUE(dev.copy(b, a, 8, CopyKind::HostToDevice).ok());
  EXPECT_STREQ(b, "abcdefg");
  ASSERT_TRUE(dev.fill(b, 'z', 3).ok());
  EXPECT_EQ(std::string(b, 4), "zzzd");
  EXPECT_FALSE(dev.copy(nullptr, a, 8, CopyKind::HostToHost).ok());
  EXPECT_TRUE(dev.synchronize().ok());
}

TEST(Device, FactoryReportsMissingBackends) {
  auto cpu = createDevice(DeviceKind::Cpu);
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ((*cpu)->kind(), DeviceKind::Cpu);
  auto cuda = createDevice(DeviceKind::Cuda);
  EXPECT_EQ(cuda.status().code(), StatusCode::Unavailable);
  EXPECT_NE(cuda.status().message().find("cuda"), std::string::npos);
}

//===- DeviceTest.cpp -----------------------------------------------------===//

#include "mimo/runtime/Device.h"
#include "mimo/runtime/CudaDevice.h"
#include "mimo/runtime/NcclCommunicator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

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
#ifndef MIMO_RUNTIME_HAS_CUDA
  auto cuda = createDevice(DeviceKind::Cuda);
  EXPECT_EQ(cuda.status().code(), StatusCode::Unavailable);
  EXPECT_NE(cuda.status().message().find("cuda"), std::string::npos);
#endif
}

TEST(Device, CudaHelpersOnOtherDevices) {
  CpuDevice cpu;
  EXPECT_EQ(cudaStreamOf(cpu), nullptr);
  EXPECT_EQ(cudaCachedBytes(cpu), 0u);
  EXPECT_TRUE(cudaReleaseCachedMemory(cpu).ok());
  EXPECT_GE(cudaDeviceCount(), 0);
#ifdef MIMO_RUNTIME_HAS_CUDA
  EXPECT_TRUE(runtimeHasCuda());
#else
  EXPECT_FALSE(runtimeHasCuda());
  EXPECT_EQ(cudaDeviceCount(), 0);
  auto self = createSelfCommunicator();
  auto nccl = createNcclCommunicator(*self, cpu);
  EXPECT_EQ(nccl.status().code(), StatusCode::Unavailable);
#endif
}

namespace {
/// Unsets the launchers' local-rank variables and restores them afterwards.
class LocalRankEnvironment {
public:
  static constexpr const char *kVars[] = {"OMPI_COMM_WORLD_LOCAL_RANK",
                                          "SLURM_LOCALID", "MPI_LOCALRANKID",
                                          "LOCAL_RANK"};
  LocalRankEnvironment() {
    for (const char *var : kVars) {
      const char *value = std::getenv(var);
      saved_.push_back(value ? std::optional<std::string>(value)
                             : std::nullopt);
      ::unsetenv(var);
    }
  }
  ~LocalRankEnvironment() {
    for (std::size_t i = 0; i < saved_.size(); ++i) {
      if (saved_[i])
        ::setenv(kVars[i], saved_[i]->c_str(), 1);
      else
        ::unsetenv(kVars[i]);
    }
  }

private:
  std::vector<std::optional<std::string>> saved_;
};
} // namespace

TEST(Device, LocalOrdinalFromEachLauncherVariable) {
  LocalRankEnvironment env;
  auto none = localDeviceOrdinalFromEnvironment(4);
  ASSERT_TRUE(none.ok()) << none.status().toString();
  EXPECT_EQ(*none, 0);
  for (const char *var : LocalRankEnvironment::kVars) {
    SCOPED_TRACE(var);
    ::setenv(var, "6", 1);
    auto ordinal = localDeviceOrdinalFromEnvironment(8);
    ASSERT_TRUE(ordinal.ok()) << ordinal.status().toString();
    EXPECT_EQ(*ordinal, 6);
    // Modulo the device count.
    auto wrapped = localDeviceOrdinalFromEnvironment(4);
    ASSERT_TRUE(wrapped.ok());
    EXPECT_EQ(*wrapped, 2);
    ::unsetenv(var);
  }
}

TEST(Device, LocalOrdinalTakesTheFirstVariableSet) {
  LocalRankEnvironment env;
  ::setenv("LOCAL_RANK", "3", 1);
  ::setenv("MPI_LOCALRANKID", "2", 1);
  EXPECT_EQ(*localDeviceOrdinalFromEnvironment(8), 2);
  ::setenv("SLURM_LOCALID", "1", 1);
  EXPECT_EQ(*localDeviceOrdinalFromEnvironment(8), 1);
  ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "5", 1);
  EXPECT_EQ(*localDeviceOrdinalFromEnvironment(8), 5);
  EXPECT_EQ(*localDeviceOrdinalFromEnvironment(1), 0);
}

TEST(Device, LocalOrdinalRejectsBadValues) {
  LocalRankEnvironment env;
  for (const char *bad :
       {"", "-1", "abc", "3x", " 2", "+1", "99999999999999999999999"}) {
    SCOPED_TRACE(bad);
    ::setenv("SLURM_LOCALID", bad, 1);
    auto ordinal = localDeviceOrdinalFromEnvironment(2);
    ASSERT_FALSE(ordinal.ok());
    EXPECT_EQ(ordinal.status().code(), StatusCode::InvalidArgument);
    EXPECT_NE(ordinal.status().message().find("SLURM_LOCALID"),
              std::string::npos);
    EXPECT_NE(ordinal.status().message().find(std::string("'") + bad + "'"),
              std::string::npos)
        << ordinal.status().message();
  }
  ::setenv("SLURM_LOCALID", "1", 1);
  EXPECT_EQ(localDeviceOrdinalFromEnvironment(0).status().code(),
            StatusCode::Unavailable);
}

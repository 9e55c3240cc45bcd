//===- CudaDeviceTest.cpp - CUDA device and the NCCL world of one ---------===//
//
// Built with MIMO_ENABLE_CUDA; every test that needs a GPU skips itself when
// none is visible.
//
//===----------------------------------------------------------------------===//

#include "../src/cuda/CudaInternal.h"
#include "TestUtil.h"

#include "mimo/runtime/Allocator.h"
#include "mimo/runtime/CudaDevice.h"
#include "mimo/runtime/NcclCommunicator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

using namespace mimo::rt;

#define SKIP_WITHOUT_GPU()                                                     \
  do {                                                                         \
    if (mimo::rt::cudaDeviceCount() == 0)                                      \
      GTEST_SKIP() << "no CUDA device";                                        \
  } while (0)

namespace {

std::unique_ptr<Device> makeDevice() {
  auto device = createDevice(DeviceKind::Cuda, 0);
  EXPECT_TRUE(device.ok()) << device.status().toString();
  return device.ok() ? std::move(*device) : nullptr;
}

/// Device memory holding `values`.
template <typename T> struct DeviceVector {
  DeviceVector(Device &device, const std::vector<T> &values)
      : device(device), count(values.size()) {
    auto p = device.allocator().allocate(bytes(), 64);
    EXPECT_TRUE(p.ok()) << p.status().toString();
    ptr = p.ok() ? static_cast<T *>(*p) : nullptr;
    if (ptr)
      EXPECT_OK(
          device.copy(ptr, values.data(), bytes(), CopyKind::HostToDevice));
  }
  ~DeviceVector() {
    if (ptr)
      device.allocator().deallocate(ptr, bytes());
  }
  std::size_t bytes() const { return count * sizeof(T); }
  std::vector<T> read() const {
    std::vector<T> out(count);
    EXPECT_OK(device.copy(out.data(), ptr, bytes(), CopyKind::DeviceToHost));
    return out;
  }
  Device &device;
  std::size_t count;
  T *ptr = nullptr;
};

std::vector<float> ramp(std::size_t n, float scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = (static_cast<float>(i) - 17.5f) * scale;
  return v;
}

} // namespace

TEST(CudaDevice, WithoutADeviceCreationIsUnavailable) {
  if (cudaDeviceCount() != 0)
    GTEST_SKIP() << "a CUDA device is visible";
  auto device = createDevice(DeviceKind::Cuda, 0);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::Unavailable);
  EXPECT_NE(device.status().message().find("CUDA"), std::string::npos)
      << device.status().message();
  EXPECT_TRUE(runtimeHasCuda());
}

TEST(CudaDevice, NameStreamAndOrdinalRange) {
  SKIP_WITHOUT_GPU();
  auto device = makeDevice();
  ASSERT_TRUE(device);
  EXPECT_EQ(device->kind(), DeviceKind::Cuda);
  EXPECT_EQ(device->name(), "cuda:0");
  EXPECT_NE(cudaStreamOf(*device), nullptr);
  for (int bad : {-1, cudaDeviceCount()}) {
    auto other = createDevice(DeviceKind::Cuda, bad);
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.status().code(), StatusCode::InvalidArgument);
    EXPECT_NE(other.status().message().find(std::to_string(bad)),
              std::string::npos)
        << other.status().message();
  }
}

TEST(CudaDevice, CachingAllocatorReusesBlocks) {
  SKIP_WITHOUT_GPU();
  auto device = makeDevice();
  ASSERT_TRUE(device);
  DeviceAllocator &alloc = device->allocator();
  EXPECT_EQ(cudaCachedBytes(*device), 0u);

  auto a = alloc.allocate(4000, 64);
  ASSERT_TRUE(a.ok()) << a.status().toString();
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(*a) % 256, 0u);
  alloc.deallocate(*a, 4000);
  EXPECT_EQ(cudaCachedBytes(*device), 4096u); // rounded up to 512 bytes

  // 1000 bytes round to 1024: the 4096-byte block is more than twice that.
  auto b = alloc.allocate(1000, 64);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*b, *a);
  EXPECT_EQ(cudaCachedBytes(*device), 4096u);
  // 2048 bytes may take it.
  auto c = alloc.allocate(2048, 64);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, *a);
  EXPECT_EQ(cudaCachedBytes(*device), 0u);
  alloc.deallocate(*b, 1000);
  alloc.deallocate(*c, 2048);
  EXPECT_EQ(cudaCachedBytes(*device), 1024u + 4096u);

  // Zero bytes give distinct pointers; alignments past 256 are refused.
  auto z1 = alloc.allocate(0, 64), z2 = alloc.allocate(0, 64);
  ASSERT_TRUE(z1.ok() && z2.ok());
  EXPECT_NE(*z1, nullptr);
  EXPECT_NE(*z1, *z2);
  alloc.deallocate(*z1, 0);
  alloc.deallocate(*z2, 0);
  EXPECT_EQ(alloc.allocate(64, 4096).status().code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(alloc.allocate(64, 3).status().code(), StatusCode::InvalidArgument);

  ASSERT_OK(cudaReleaseCachedMemory(*device));
  EXPECT_EQ(cudaCachedBytes(*device), 0u);
}

TEST(CudaDevice, OutOfMemoryNamesTheRequest) {
  SKIP_WITHOUT_GPU();
  auto device = makeDevice();
  ASSERT_TRUE(device);
  std::size_t huge = std::size_t(1) << 50;
  auto p = device->allocator().allocate(huge, 64);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::OutOfMemory);
  EXPECT_NE(p.status().message().find(std::to_string(huge)), std::string::npos)
      << p.status().message();
  EXPECT_NE(p.status().message().find("cuda:0"), std::string::npos);
  // The device still works afterwards.
  auto small = device->allocator().allocate(64, 64);
  ASSERT_TRUE(small.ok()) << small.status().toString();
  device->allocator().deallocate(*small, 64);
  ASSERT_OK(device->synchronize());
}

TEST(CudaDevice, CopyRoundTripsAndFill) {
  SKIP_WITHOUT_GPU();
  auto device = makeDevice();
  ASSERT_TRUE(device);
  std::vector<float> host = ramp(1000, 0.25f);
  DeviceVector<float> a(*device, host);
  DeviceVector<float> b(*device, std::vector<float>(host.size(), 0.0f));
  ASSERT_TRUE(a.ptr && b.ptr);
  ASSERT_OK(device->copy(b.ptr, a.ptr, a.bytes(), CopyKind::DeviceToDevice));
  EXPECT_EQ(b.read(), host);

  // Through pinned host memory, and host to host.
  auto pinned = device->hostAllocator().allocate(a.bytes(), 64);
  ASSERT_TRUE(pinned.ok()) << pinned.status().toString();
  ASSERT_OK(device->copy(*pinned, b.ptr, b.bytes(), CopyKind::DeviceToHost));
  std::vector<float> back(host.size());
  ASSERT_OK(
      device->copy(back.data(), *pinned, a.bytes(), CopyKind::HostToHost));
  EXPECT_EQ(back, host);
  device->hostAllocator().deallocate(*pinned, a.bytes());

  ASSERT_OK(device->fill(a.ptr, 0x3f, a.bytes()));
  std::vector<float> filled = a.read();
  std::uint32_t bits;
  std::memcpy(&bits, &filled[123], 4);
  EXPECT_EQ(bits, 0x3f3f3f3fu);
  EXPECT_EQ(device->copy(nullptr, a.ptr, 4, CopyKind::DeviceToDevice).code(),
            StatusCode::InvalidArgument);
  ASSERT_OK(device->synchronize());
}

TEST(CudaDevice, AccountingAllocatorOnTheDevice) {
  SKIP_WITHOUT_GPU();
  auto device = makeDevice();
  ASSERT_TRUE(device);
  Allocator allocator(*device);
  auto grads = allocator.allocate(1 << 20, MemoryCategory::Grads, "g");
  ASSERT_TRUE(grads.ok()) << grads.status().toString();
  EXPECT_FALSE(grads->onHost());
  auto offloaded = allocator.allocate(4096, MemoryCategory::Offloaded, "o");
  ASSERT_TRUE(offloaded.ok()) << offloaded.status().toString();
  ASSERT_OK(device->fill(grads->data(), 0, grads->bytes()));
  ASSERT_OK(device->copy(offloaded->data(), grads->data(), 4096,
                         CopyKind::DeviceToHost));
  EXPECT_EQ(offloaded->as<unsigned char>()[4095], 0);
}

TEST(CudaDevice, RankOrderedSumKernelMatchesTheHostOrder) {
  SKIP_WITHOUT_GPU();
  auto device = makeDevice();
  ASSERT_TRUE(device);
  auto stream = static_cast<cudaStream_t>(cudaStreamOf(*device));
  const std::size_t n = 3001;
  const int parts = 3;

  // f32: magnitudes that make the order of the additions matter.
  std::vector<float> f(n * parts), fExpect(n);
  for (std::size_t i = 0; i < f.size(); ++i)
    f[i] = (i % 3 == 0 ? 1e8f : 1.0f) * ((i % 7) - 3.0f) + 0.1f * i;
  for (std::size_t j = 0; j < n; ++j)
    fExpect[j] = (f[j] + f[n + j]) + f[2 * n + j];
  DeviceVector<float> fIn(*device, f), fOut(*device, std::vector<float>(n));
  ASSERT_OK(detail::launchRankOrderedSum(DataType::F32, fOut.ptr, fIn.ptr, n,
                                         parts, stream));
  EXPECT_EQ(fOut.read(), fExpect);

  std::vector<double> d(n * parts), dExpect(n);
  for (std::size_t i = 0; i < d.size(); ++i)
    d[i] = (i % 5 == 0 ? 1e17 : 1.0) * ((i % 11) - 5.0) + 0.3 * i;
  for (std::size_t j = 0; j < n; ++j)
    dExpect[j] = (d[j] + d[n + j]) + d[2 * n + j];
  DeviceVector<double> dIn(*device, d), dOut(*device, std::vector<double>(n));
  ASSERT_OK(detail::launchRankOrderedSum(DataType::F64, dOut.ptr, dIn.ptr, n,
                                         parts, stream));
  EXPECT_EQ(dOut.read(), dExpect);

  std::vector<std::int32_t> i32(n * parts), i32Expect(n);
  std::vector<std::int64_t> i64(n * parts), i64Expect(n);
  for (std::size_t i = 0; i < i32.size(); ++i) {
    i32[i] = static_cast<std::int32_t>(i * 7919 % 100003) - 50000;
    i64[i] = (static_cast<std::int64_t>(i) << 33) - 12345;
  }
  for (std::size_t j = 0; j < n; ++j) {
    i32Expect[j] = i32[j] + i32[n + j] + i32[2 * n + j];
    i64Expect[j] = i64[j] + i64[n + j] + i64[2 * n + j];
  }
  DeviceVector<std::int32_t> i32In(*device, i32),
      i32Out(*device, std::vector<std::int32_t>(n));
  DeviceVector<std::int64_t> i64In(*device, i64),
      i64Out(*device, std::vector<std::int64_t>(n));
  ASSERT_OK(detail::launchRankOrderedSum(DataType::I32, i32Out.ptr, i32In.ptr,
                                         n, parts, stream));
  ASSERT_OK(detail::launchRankOrderedSum(DataType::I64, i64Out.ptr, i64In.ptr,
                                         n, parts, stream));
  EXPECT_EQ(i32Out.read(), i32Expect);
  EXPECT_EQ(i64Out.read(), i64Expect);

  // bf16: accumulated in f32, rounded once, as on the host.
  std::vector<std::uint16_t> h(n * parts), hExpect(n);
  for (std::size_t i = 0; i < h.size(); ++i)
    h[i] = floatToBf16(f[i] * 1e-3f);
  for (std::size_t j = 0; j < n; ++j)
    hExpect[j] = floatToBf16((bf16ToFloat(h[j]) + bf16ToFloat(h[n + j])) +
                             bf16ToFloat(h[2 * n + j]));
  DeviceVector<std::uint16_t> hIn(*device, h),
      hOut(*device, std::vector<std::uint16_t>(n));
  ASSERT_OK(detail::launchRankOrderedSum(DataType::BF16, hOut.ptr, hIn.ptr, n,
                                         parts, stream));
  EXPECT_EQ(hOut.read(), hExpect);

  EXPECT_EQ(detail::launchRankOrderedSum(DataType::F16, hOut.ptr, hIn.ptr, n,
                                         parts, stream)
                .code(),
            StatusCode::InvalidArgument);
}

TEST(CudaDevice, NcclWorldOfOne) {
  SKIP_WITHOUT_GPU();
  auto device = makeDevice();
  ASSERT_TRUE(device);
  auto bootstrap = createSelfCommunicator();
  auto created = createNcclCommunicator(*bootstrap, *device);
  ASSERT_TRUE(created.ok()) << created.status().toString();
  Communicator &comm = **created;
  EXPECT_STREQ(comm.backendName(), "nccl");
  EXPECT_EQ(comm.rank(), 0);
  EXPECT_EQ(comm.size(), 1);
  EXPECT_EQ(comm.worldRanks(), std::vector<int>{0});

  std::vector<float> host = ramp(1031, 0.5f);
  DeviceVector<float> v(*device, host);
  ASSERT_OK(comm.allReduce(v.ptr, host.size(), ReduceOp::Sum));
  ASSERT_OK(comm.allReduce(v.ptr, host.size(), ReduceOp::Max));
  EXPECT_EQ(v.read(), host);

  std::vector<std::uint16_t> half = {floatToBf16(1.5f), floatToBf16(-2.0f)};
  DeviceVector<std::uint16_t> h(*device, half);
  ASSERT_OK(comm.allReduce(h.ptr, 2, DataType::BF16, ReduceOp::Sum));
  EXPECT_EQ(h.read(), half);
  EXPECT_EQ(comm.allReduce(h.ptr, 2, DataType::BF16, ReduceOp::Max).code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(comm.allReduce(h.ptr, 2, DataType::F16, ReduceOp::Sum).code(),
            StatusCode::InvalidArgument);

  DeviceVector<float> out(*device, std::vector<float>(host.size(), 0.0f));
  ASSERT_OK(comm.allGather(v.ptr, out.ptr, host.size()));
  EXPECT_EQ(out.read(), host);
  DeviceVector<float> rs(*device, std::vector<float>(host.size(), 0.0f));
  ASSERT_OK(comm.reduceScatter(v.ptr, rs.ptr, host.size(), ReduceOp::Sum));
  EXPECT_EQ(rs.read(), host);
  DeviceVector<float> rsMax(*device, std::vector<float>(host.size(), 0.0f));
  ASSERT_OK(comm.reduceScatter(v.ptr, rsMax.ptr, host.size(), ReduceOp::Max));
  EXPECT_EQ(rsMax.read(), host);
  ASSERT_OK(comm.broadcast(v.ptr, host.size(), 0));
  EXPECT_EQ(v.read(), host);
  EXPECT_EQ(comm.broadcast(v.ptr, host.size(), 1).code(),
            StatusCode::InvalidArgument);

  // Messages to oneself, in order per tag; the sent buffer may be
  // overwritten at once.
  DeviceVector<float> got(*device, std::vector<float>(host.size(), 0.0f));
  ASSERT_OK(comm.send(v.ptr, host.size(), 0, 7));
  ASSERT_OK(device->fill(v.ptr, 0, v.bytes()));
  ASSERT_OK(comm.recv(got.ptr, host.size(), 0, 7));
  EXPECT_EQ(got.read(), host);
  EXPECT_EQ(comm.recv(got.ptr, host.size(), 0, 7).code(),
            StatusCode::FailedPrecondition);
  ASSERT_OK(comm.flushSends());

  // Host buffers go through the bootstrap communicator.
  auto strings = comm.allGatherStrings("abc");
  ASSERT_TRUE(strings.ok()) << strings.status().toString();
  EXPECT_EQ(*strings, std::vector<std::string>{"abc"});
  std::int64_t value = 5;
  ASSERT_OK(comm.allReduce(&value, 1, ReduceOp::Sum));
  EXPECT_EQ(value, 5);

  auto group = comm.group({0});
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(*group, &comm);
  ASSERT_OK(comm.barrier());
}

TEST(CudaDevice, NcclNeedsACudaDevice) {
  CpuDevice cpu;
  auto bootstrap = createSelfCommunicator();
  auto created = createNcclCommunicator(*bootstrap, cpu);
  EXPECT_EQ(created.status().code(), StatusCode::InvalidArgument);
}

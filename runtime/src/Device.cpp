//===- Device.cpp - CPU device, device factory, local GPU choice ----------===//
//
// The CUDA device itself lives in cuda/CudaDevice.cpp; builds without CUDA
// get the fallbacks of CudaDevice.h and NcclCommunicator.h from here.
//
//===----------------------------------------------------------------------===//

#include "mimo/runtime/Device.h"
#include "mimo/runtime/CudaDevice.h"
#include "mimo/runtime/NcclCommunicator.h"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace mimo::rt {

#ifdef MIMO_RUNTIME_HAS_CUDA
namespace detail {
/// cuda/CudaDevice.cpp: checks the device count and the ordinal.
StatusOr<std::unique_ptr<Device>> createCudaDevice(int ordinal);
} // namespace detail
#endif

DeviceAllocator::~DeviceAllocator() = default;
Device::~Device() = default;

const char *deviceKindName(DeviceKind kind) {
  switch (kind) {
  case DeviceKind::Cpu:
    return "cpu";
  case DeviceKind::Cuda:
    return "cuda";
  }
  return "?";
}

StatusOr<void *> CpuAllocator::allocate(std::size_t bytes,
                                        std::size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    return invalidArgument("alignment " + std::to_string(alignment) +
                           " is not a power of two");
  if (alignment < sizeof(void *))
    alignment = sizeof(void *);
  // aligned_alloc wants a size that is a multiple of the alignment, and a
  // zero-byte request must still give a unique pointer.
  std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  if (rounded == 0)
    rounded = alignment;
  void *ptr = std::aligned_alloc(alignment, rounded);
  if (!ptr)
    return outOfMemory("host allocation of " + std::to_string(bytes) +
                       " bytes failed");
  return ptr;
}

void CpuAllocator::deallocate(void *ptr, std::size_t) { std::free(ptr); }

Status CpuDevice::copy(void *dst, const void *src, std::size_t bytes,
                       CopyKind) {
  if (bytes == 0)
    return Status::success();
  if (!dst || !src)
    return invalidArgument("copy of " + std::to_string(bytes) +
                           " bytes with a null pointer");
  std::memmove(dst, src, bytes);
  return Status::success();
}

Status CpuDevice::fill(void *dst, unsigned char value, std::size_t bytes) {
  if (bytes == 0)
    return Status::success();
  if (!dst)
    return invalidArgument("fill of a null pointer");
  std::memset(dst, value, bytes);
  return Status::success();
}

StatusOr<std::unique_ptr<Device>> createDevice(DeviceKind kind, int ordinal) {
  switch (kind) {
  case DeviceKind::Cpu:
    if (ordinal != 0)
      return invalidArgument("cpu device ordinal must be 0, got " +
                             std::to_string(ordinal));
    return std::unique_ptr<Device>(new CpuDevice());
  case DeviceKind::Cuda:
#ifdef MIMO_RUNTIME_HAS_CUDA
    return detail::createCudaDevice(ordinal);
#else
    return unavailable("cuda backend is not built into this runtime "
                       "(configure with -DMIMO_ENABLE_CUDA=ON and the CUDA "
                       "toolkit and NCCL installed)");
#endif
  }
  return unavailable(std::string(deviceKindName(kind)) +
                     " backend is not built into this runtime");
}

bool runtimeHasCuda() {
#ifdef MIMO_RUNTIME_HAS_CUDA
  return true;
#else
  return false;
#endif
}

StatusOr<int> localDeviceOrdinalFromEnvironment(int deviceCount) {
  if (deviceCount <= 0)
    return unavailable("no CUDA device is visible to choose the local one "
                       "from (device count " +
                       std::to_string(deviceCount) + ")");
  // Open MPI, Slurm, MPICH/Intel MPI, torchrun-style launchers.
  for (const char *var : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID",
                          "MPI_LOCALRANKID", "LOCAL_RANK"}) {
    const char *value = std::getenv(var);
    if (!value)
      continue;
    std::string_view text(value);
    unsigned long long localRank = 0;
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), localRank);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      return invalidArgument(std::string(var) + "='" + value +
                             "' is not a non-negative integer (the "
                             "launcher's local rank)");
    return static_cast<int>(localRank %
                            static_cast<unsigned long long>(deviceCount));
  }
  return 0;
}

#ifndef MIMO_RUNTIME_HAS_CUDA
int cudaDeviceCount() { return 0; }

void *cudaStreamOf(Device &) { return nullptr; }

std::size_t cudaCachedBytes(Device &) { return 0; }

Status cudaReleaseCachedMemory(Device &) { return Status::success(); }

StatusOr<std::unique_ptr<Communicator>> createNcclCommunicator(Communicator &,
                                                               Device &) {
  return unavailable("the NCCL communicator is not built into this runtime "
                     "(configure with -DMIMO_ENABLE_CUDA=ON)");
}
#endif

} // namespace mimo::rt

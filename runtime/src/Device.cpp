//===- Device.cpp - CPU device --------------------------------------------===//

#include "mimo/runtime/Device.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace mimo::rt {

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
    break;
  }
  return unavailable(std::string(deviceKindName(kind)) +
                     " backend is not built into this runtime");
}

} // namespace mimo::rt

//===- Device.h - Where buffers live and kernels run ------------*- C++ -*-===//
//
// The seam between the runtime and a compute backend. The CPU backend is
// implemented here; a CUDA backend implements the same two interfaces
// (DeviceAllocator with cudaMalloc, Device with cudaMemcpyAsync on a stream
// and pinned host memory) without changing any caller.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_DEVICE_H
#define MIMO_RUNTIME_DEVICE_H

#include "mimo/runtime/Status.h"

#include <cstddef>
#include <memory>
#include <string>

namespace mimo::rt {

enum class DeviceKind { Cpu, Cuda };

const char *deviceKindName(DeviceKind kind);

/// Raw memory of one device. Implementations do no accounting; Allocator
/// (Allocator.h) accounts by category on top of this.
class DeviceAllocator {
public:
  virtual ~DeviceAllocator();
  /// Returns `bytes` of memory aligned to `alignment` (a power of two), or
  /// OutOfMemory. A zero-byte request returns a unique non-null pointer.
  virtual StatusOr<void *> allocate(std::size_t bytes,
                                    std::size_t alignment) = 0;
  virtual void deallocate(void *ptr, std::size_t bytes) = 0;
};

/// Direction of a copy as seen from the device.
enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice, HostToHost };

class Device {
public:
  virtual ~Device();
  virtual DeviceKind kind() const = 0;
  /// "cpu", "cuda:0", ...
  virtual std::string name() const = 0;
  /// Device memory.
  virtual DeviceAllocator &allocator() = 0;
  /// Host memory suitable for staging copies (pinned on CUDA).
  virtual DeviceAllocator &hostAllocator() = 0;
  virtual Status copy(void *dst, const void *src, std::size_t bytes,
                      CopyKind kind) = 0;
  virtual Status fill(void *dst, unsigned char value, std::size_t bytes) = 0;
  /// Waits for all work issued to the device.
  virtual Status synchronize() = 0;
};

/// Host memory from the C++ heap, aligned.
class CpuAllocator final : public DeviceAllocator {
public:
  StatusOr<void *> allocate(std::size_t bytes, std::size_t alignment) override;
  void deallocate(void *ptr, std::size_t bytes) override;
};

class CpuDevice final : public Device {
public:
  DeviceKind kind() const override { return DeviceKind::Cpu; }
  std::string name() const override { return "cpu"; }
  DeviceAllocator &allocator() override { return allocator_; }
  DeviceAllocator &hostAllocator() override { return allocator_; }
  Status copy(void *dst, const void *src, std::size_t bytes,
              CopyKind kind) override;
  Status fill(void *dst, unsigned char value, std::size_t bytes) override;
  Status synchronize() override { return Status::success(); }

private:
  CpuAllocator allocator_;
};

/// Creates the device of `kind` with the given ordinal. Backends not compiled
/// into this build answer Unavailable.
StatusOr<std::unique_ptr<Device>> createDevice(DeviceKind kind,
                                               int ordinal = 0);

} // namespace mimo::rt

#endif // MIMO_RUNTIME_DEVICE_H

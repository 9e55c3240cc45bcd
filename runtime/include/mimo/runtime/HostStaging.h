//===- HostStaging.h - Offload device buffers to host memory ----*- C++ -*-===//
//
// Offload moves a buffer's contents to host memory (category Offloaded) and
// frees the device memory; fetch brings it back into its original category.
// On CPU the host memory is plain heap memory and the copies are memcpy, so
// the numerics of an offloading plan are exercised exactly; the CUDA backend
// implements the same API with pinned memory and side-stream copies.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_HOSTSTAGING_H
#define MIMO_RUNTIME_HOSTSTAGING_H

#include "mimo/runtime/Allocator.h"

namespace mimo::rt {

/// A buffer's contents parked in host memory.
class OffloadedBuffer {
public:
  OffloadedBuffer() = default;
  bool valid() const { return host_.valid(); }
  std::size_t bytes() const { return host_.bytes(); }
  MemoryCategory originalCategory() const { return category_; }
  const Buffer &hostBuffer() const { return host_; }

private:
  friend class HostStaging;
  Buffer host_;
  MemoryCategory category_ = MemoryCategory::Activations;
  std::string name_;
};

class HostStaging {
public:
  explicit HostStaging(Allocator &allocator) : allocator_(allocator) {}

  /// Copies `buffer` to host memory and releases its device memory (the
  /// buffer is left empty). On failure the buffer is untouched.
  StatusOr<OffloadedBuffer> offload(Buffer &buffer);
  /// Allocates device memory in the original category, copies the contents
  /// back and releases the host copy (`staged` is left empty). On failure,
  /// e.g. OutOfMemory, `staged` still holds the data.
  StatusOr<Buffer> fetch(OffloadedBuffer &staged);
  /// Waits until all copies issued so far are complete.
  Status synchronize() { return allocator_.device().synchronize(); }

private:
  Allocator &allocator_;
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_HOSTSTAGING_H

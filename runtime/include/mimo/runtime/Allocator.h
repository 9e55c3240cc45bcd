//===- Allocator.h - Buffers accounted by memory category -------*- C++ -*-===//
//
// Every buffer a trainer allocates carries a MemoryCategory. The Allocator
// keeps current and peak bytes per category and in total, and can enforce a
// capacity so that a CPU run reproduces the out-of-memory a GPU would hit.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_ALLOCATOR_H
#define MIMO_RUNTIME_ALLOCATOR_H

#include "mimo/runtime/Device.h"
#include "mimo/runtime/MemoryCategory.h"
#include "mimo/runtime/Status.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace mimo::rt {

class Allocator;

/// Memory owned by an Allocator; move-only, released on destruction.
class Buffer {
public:
  Buffer() = default;
  Buffer(Buffer &&other) noexcept;
  Buffer &operator=(Buffer &&other) noexcept;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer();

  void *data() { return data_; }
  const void *data() const { return data_; }
  template <typename T> T *as() { return static_cast<T *>(data_); }
  template <typename T> const T *as() const {
    return static_cast<const T *>(data_);
  }
  std::size_t bytes() const { return bytes_; }
  MemoryCategory category() const { return category_; }
  const std::string &name() const { return name_; }
  bool valid() const { return allocator_ != nullptr; }
  /// True for host memory from Device::hostAllocator().
  bool onHost() const { return onHost_; }

  /// Returns the memory to its allocator now.
  void reset();

private:
  friend class Allocator;
  Allocator *allocator_ = nullptr;
  void *data_ = nullptr;
  std::size_t bytes_ = 0;
  MemoryCategory category_ = MemoryCategory::Workspace;
  bool onHost_ = false;
  std::string name_;
};

struct MemoryStats {
  std::array<std::uint64_t, kNumMemoryCategories> current{};
  std::array<std::uint64_t, kNumMemoryCategories> peak{};
  /// Device memory only: every category but Offloaded. The peak is the peak
  /// of the sum, not the sum of the peaks.
  std::uint64_t currentTotal = 0;
  std::uint64_t peakTotal = 0;

  std::uint64_t currentOf(MemoryCategory c) const {
    return current[static_cast<std::size_t>(c)];
  }
  std::uint64_t peakOf(MemoryCategory c) const {
    return peak[static_cast<std::size_t>(c)];
  }
};

class Allocator {
public:
  /// `capacityBytes` bounds device memory (all categories but Offloaded);
  /// 0 means unlimited.
  explicit Allocator(Device &device, std::uint64_t capacityBytes = 0);
  Allocator(const Allocator &) = delete;
  Allocator &operator=(const Allocator &) = delete;
  ~Allocator();

  /// Device memory in `category`. Offloaded buffers come from host memory.
  /// Fails with OutOfMemory naming the category, the request and what is left
  /// when the capacity would be exceeded.
  StatusOr<Buffer> allocate(std::size_t bytes, MemoryCategory category,
                            std::string name = "");

  Device &device() { return device_; }
  std::uint64_t capacity() const { return capacity_; }
  void setCapacity(std::uint64_t capacityBytes) { capacity_ = capacityBytes; }
  const MemoryStats &stats() const { return stats_; }
  /// Peaks restart from the current values (e.g. after warm-up).
  void resetPeaks();
  /// A table with one row per category and a total row (current, peak).
  std::string table() const;

private:
  friend class Buffer;
  void release(Buffer &buffer);

  Device &device_;
  std::uint64_t capacity_;
  MemoryStats stats_;
  std::size_t liveBuffers_ = 0;
};

/// "1.50 GiB", "12.0 MiB", "512 B".
std::string formatBytes(std::uint64_t bytes);

} // namespace mimo::rt

#endif // MIMO_RUNTIME_ALLOCATOR_H

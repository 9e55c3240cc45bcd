//===- Allocator.cpp - Buffers accounted by memory category ---------------===//

#include "mimo/runtime/Allocator.h"

#include <cassert>
#include <cstdio>
#include <sstream>

namespace mimo::rt {

namespace {
constexpr std::size_t kAlignment =
    64; // a cache line; vector loads stay aligned
constexpr MemoryCategory kAllCategories[] = {
    MemoryCategory::Params,    MemoryCategory::Grads,
    MemoryCategory::Optimizer, MemoryCategory::Activations,
    MemoryCategory::Workspace, MemoryCategory::Offloaded};
} // namespace

const char *memoryCategoryName(MemoryCategory category) {
  switch (category) {
  case MemoryCategory::Params:
    return "params";
  case MemoryCategory::Grads:
    return "grads";
  case MemoryCategory::Optimizer:
    return "optimizer";
  case MemoryCategory::Activations:
    return "activations";
  case MemoryCategory::Workspace:
    return "workspace";
  case MemoryCategory::Offloaded:
    return "offloaded";
  }
  return "?";
}

std::optional<MemoryCategory> parseMemoryCategory(std::string_view name) {
  for (MemoryCategory c : kAllCategories)
    if (name == memoryCategoryName(c))
      return c;
  return std::nullopt;
}

std::string formatBytes(std::uint64_t bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof(buf), "%llu B",
                  static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof(buf), "%.2f %s", v, units[u]);
  return buf;
}

//===----------------------------------------------------------------------===//
// Buffer
//===----------------------------------------------------------------------===//

Buffer::Buffer(Buffer &&other) noexcept { *this = std::move(other); }

Buffer &Buffer::operator=(Buffer &&other) noexcept {
  if (this == &other)
    return *this;
  reset();
  allocator_ = other.allocator_;
  data_ = other.data_;
  bytes_ = other.bytes_;
  category_ = other.category_;
  onHost_ = other.onHost_;
  name_ = std::move(other.name_);
  other.allocator_ = nullptr;
  other.data_ = nullptr;
  other.bytes_ = 0;
  return *this;
}

Buffer::~Buffer() { reset(); }

void Buffer::reset() {
  if (allocator_)
    allocator_->release(*this);
  allocator_ = nullptr;
  data_ = nullptr;
  bytes_ = 0;
}

//===----------------------------------------------------------------------===//
// Allocator
//===----------------------------------------------------------------------===//

Allocator::Allocator(Device &device, std::uint64_t capacityBytes)
    : device_(device), capacity_(capacityBytes) {}

Allocator::~Allocator() {
  assert(liveBuffers_ == 0 && "buffers outlive their allocator");
}

StatusOr<Buffer> Allocator::allocate(std::size_t bytes, MemoryCategory category,
                                     std::string name) {
  auto idx = static_cast<std::size_t>(category);
  bool host = category == MemoryCategory::Offloaded;
  if (!host && capacity_ != 0 && stats_.currentTotal + bytes > capacity_) {
    std::uint64_t available =
        capacity_ > stats_.currentTotal ? capacity_ - stats_.currentTotal : 0;
    return outOfMemory(
        std::string("allocating ") + memoryCategoryName(category) +
        (name.empty() ? "" : " '" + name + "'") + ": requested " +
        formatBytes(bytes) + " (" + std::to_string(bytes) +
        " bytes), available " + formatBytes(available) + " (" +
        std::to_string(available) + " bytes) of " + formatBytes(capacity_) +
        " on " + device_.name());
  }
  DeviceAllocator &raw = host ? device_.hostAllocator() : device_.allocator();
  MIMO_ASSIGN_OR_RETURN(void *ptr, raw.allocate(bytes, kAlignment));

  stats_.current[idx] += bytes;
  if (stats_.current[idx] > stats_.peak[idx])
    stats_.peak[idx] = stats_.current[idx];
  if (!host) {
    stats_.currentTotal += bytes;
    if (stats_.currentTotal > stats_.peakTotal)
      stats_.peakTotal = stats_.currentTotal;
  }
  ++liveBuffers_;

  Buffer buffer;
  buffer.allocator_ = this;
  buffer.data_ = ptr;
  buffer.bytes_ = bytes;
  buffer.category_ = category;
  buffer.onHost_ = host || device_.kind() == DeviceKind::Cpu;
  buffer.name_ = std::move(name);
  return buffer;
}

void Allocator::release(Buffer &buffer) {
  auto idx = static_cast<std::size_t>(buffer.category_);
  bool host = buffer.category_ == MemoryCategory::Offloaded;
  DeviceAllocator &raw = host ? device_.hostAllocator() : device_.allocator();
  raw.deallocate(buffer.data_, buffer.bytes_);
  stats_.current[idx] -= buffer.bytes_;
  if (!host)
    stats_.currentTotal -= buffer.bytes_;
  --liveBuffers_;
}

void Allocator::resetPeaks() {
  stats_.peak = stats_.current;
  stats_.peakTotal = stats_.currentTotal;
}

std::string Allocator::table() const {
  std::ostringstream os;
  char line[128];
  std::snprintf(line, sizeof(line), "%-12s %14s %14s\n", "category", "current",
                "peak");
  os << line;
  for (MemoryCategory c : kAllCategories) {
    std::snprintf(line, sizeof(line), "%-12s %14s %14s\n",
                  memoryCategoryName(c),
                  formatBytes(stats_.currentOf(c)).c_str(),
                  formatBytes(stats_.peakOf(c)).c_str());
    os << line;
  }
  std::snprintf(line, sizeof(line), "%-12s %14s %14s\n", "total (device)",
                formatBytes(stats_.currentTotal).c_str(),
                formatBytes(stats_.peakTotal).c_str());
  os << line;
  if (capacity_ != 0) {
    std::snprintf(line, sizeof(line), "%-12s %14s\n", "capacity",
                  formatBytes(capacity_).c_str());
    os << line;
  }
  return os.str();
}

} // namespace mimo::rt

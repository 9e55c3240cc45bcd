//===- MemoryCategory.h - What a buffer is used for -------------*- C++ -*-===//
//
// The same categories the planner predicts memory for (INTERFACES.md:
// memory_gb), so measured and predicted peaks can be compared line by line.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_MEMORYCATEGORY_H
#define MIMO_RUNTIME_MEMORYCATEGORY_H

#include <cstddef>
#include <optional>
#include <string_view>

namespace mimo::rt {

enum class MemoryCategory {
  Params = 0,
  Grads,
  Optimizer,
  Activations,
  Workspace,
  /// Host copies made by HostStaging; not device memory.
  Offloaded,
};

inline constexpr std::size_t kNumMemoryCategories = 6;

/// "params", "grads", "optimizer", "activations", "workspace", "offloaded".
const char *memoryCategoryName(MemoryCategory category);
std::optional<MemoryCategory> parseMemoryCategory(std::string_view name);

} // namespace mimo::rt

#endif // MIMO_RUNTIME_MEMORYCATEGORY_H

//===- Layout.h - How modules share the world's ranks -----------*- C++ -*-===//
//
// homogeneous: one grid for every module; colocated: every module has its
// own grid over the whole world; disaggregated: each module on its own,
// disjoint rank span (ARCHITECTURE.md, "Parallel layouts and schedules").
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_LAYOUT_H
#define MIMO_RUNTIME_LAYOUT_H

#include "mimo/runtime/ProcessGrid.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mimo::rt {

enum class LayoutKind { Homogeneous, Colocated, Disaggregated };

const char *layoutKindName(LayoutKind kind);
std::optional<LayoutKind> parseLayoutKind(std::string_view name);

class Layout {
public:
  struct Module {
    std::string name;
    ProcessGrid grid;
  };

  /// Validates the grids against the layout kind: homogeneous grids are
  /// identical, colocated grids each span the whole world, disaggregated
  /// spans are pairwise disjoint. Module names are unique.
  static StatusOr<Layout> create(LayoutKind kind, int worldSize,
                                 std::vector<Module> modules);

  LayoutKind kind() const { return kind_; }
  int worldSize() const { return worldSize_; }
  const std::vector<Module> &modules() const { return modules_; }
  /// nullptr if there is no module of that name.
  const ProcessGrid *grid(std::string_view module) const;
  /// Modules that run on `rank`.
  std::vector<std::string> modulesOn(int rank) const;

private:
  Layout(LayoutKind kind, int worldSize, std::vector<Module> modules)
      : kind_(kind), worldSize_(worldSize), modules_(std::move(modules)) {}

  LayoutKind kind_;
  int worldSize_;
  std::vector<Module> modules_;
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_LAYOUT_H

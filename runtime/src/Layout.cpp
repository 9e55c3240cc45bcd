//===- Layout.cpp - How modules share the world's ranks -------------------===//

#include "mimo/runtime/Layout.h"

#include <algorithm>
#include <set>

namespace mimo::rt {

const char *layoutKindName(LayoutKind kind) {
  switch (kind) {
  case LayoutKind::Homogeneous:
    return "homogeneous";
  case LayoutKind::Colocated:
    return "colocated";
  case LayoutKind::Disaggregated:
    return "disaggregated";
  }
  return "?";
}

std::optional<LayoutKind> parseLayoutKind(std::string_view name) {
  for (LayoutKind k : {LayoutKind::Homogeneous, LayoutKind::Colocated,
                       LayoutKind::Disaggregated})
    if (name == layoutKindName(k))
      return k;
  return std::nullopt;
}

StatusOr<Layout> Layout::create(LayoutKind kind, int worldSize,
                                std::vector<Module> modules) {
  std::string who = std::string(layoutKindName(kind)) + " layout";
  if (modules.empty())
    return invalidArgument(who + ": no modules");
  std::set<std::string> names;
  for (const Module &m : modules) {
    if (!names.insert(m.name).second)
      return invalidArgument(who + ": module '" + m.name + "' appears twice");
    if (m.grid.worldSize() != worldSize)
      return invalidArgument(
          who + ": grid of '" + m.name + "' was built for a world of " +
          std::to_string(m.grid.worldSize()) + " ranks, the layout has " +
          std::to_string(worldSize));
  }
  switch (kind) {
  case LayoutKind::Homogeneous: {
    const Module &first = modules.front();
    if (first.grid.offset() != 0 || first.grid.size() != worldSize)
      return invalidArgument(who + ": grid of '" + first.name +
                             "' must span the whole world of " +
                             std::to_string(worldSize) + " ranks, it spans " +
                             first.grid.toString());
    for (const Module &m : modules)
      if (!(m.grid == first.grid))
        return invalidArgument(
            who + ": every module must have the same grid; '" + m.name +
            "' has " + m.grid.shape().toString() + ", '" + first.name +
            "' has " + first.grid.shape().toString());
    break;
  }
  case LayoutKind::Colocated:
    for (const Module &m : modules)
      if (m.grid.offset() != 0 || m.grid.size() != worldSize)
        return invalidArgument(
            who + ": grid of '" + m.name + "' must span the whole world [0, " +
            std::to_string(worldSize) + "), it spans [" +
            std::to_string(m.grid.offset()) + ", " +
            std::to_string(m.grid.offset() + m.grid.size()) + ")");
    break;
  case LayoutKind::Disaggregated: {
    std::vector<const Module *> sorted;
    for (const Module &m : modules)
      sorted.push_back(&m);
    std::sort(sorted.begin(), sorted.end(),
              [](const Module *a, const Module *b) {
                return a->grid.offset() < b->grid.offset();
              });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
      const Module &a = *sorted[i - 1], &b = *sorted[i];
      if (a.grid.offset() + a.grid.size() > b.grid.offset())
        return invalidArgument(
            who + ": rank spans of '" + a.name + "' [" +
            std::to_string(a.grid.offset()) + ", " +
            std::to_string(a.grid.offset() + a.grid.size()) + ") and '" +
            b.name + "' [" + std::to_string(b.grid.offset()) + ", " +
            std::to_string(b.grid.offset() + b.grid.size()) +
            ") overlap; disaggregated modules need disjoint spans");
    }
    break;
  }
  }
  return Layout(kind, worldSize, std::move(modules));
}

const ProcessGrid *Layout::grid(std::string_view module) const {
  for (const Module &m : modules_)
    if (m.name == module)
      return &m.grid;
  return nullptr;
}

std::vector<std::string> Layout::modulesOn(int rank) const {
  std::vector<std::string> out;
  for (const Module &m : modules_)
    if (m.grid.contains(rank))
      out.push_back(m.name);
  return out;
}

} // namespace mimo::rt

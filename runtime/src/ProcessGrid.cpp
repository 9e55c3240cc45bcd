//===- ProcessGrid.cpp - A module's grid of ranks -------------------------===//

#include "mimo/runtime/ProcessGrid.h"

#include <sstream>

namespace mimo::rt {

namespace {
constexpr GridDim kDims[] = {GridDim::TP, GridDim::CP, GridDim::PP,
                             GridDim::DP};
} // namespace

const char *gridDimName(GridDim dim) {
  switch (dim) {
  case GridDim::TP:
    return "tp";
  case GridDim::CP:
    return "cp";
  case GridDim::PP:
    return "pp";
  case GridDim::DP:
    return "dp";
  }
  return "?";
}

int GridCoord::operator[](GridDim d) const {
  return const_cast<GridCoord &>(*this)[d];
}

int &GridCoord::operator[](GridDim d) {
  switch (d) {
  case GridDim::TP:
    return tp;
  case GridDim::CP:
    return cp;
  case GridDim::PP:
    return pp;
  case GridDim::DP:
    break;
  }
  return dp;
}

int GridShape::operator[](GridDim d) const {
  switch (d) {
  case GridDim::TP:
    return tp;
  case GridDim::CP:
    return cp;
  case GridDim::PP:
    return pp;
  case GridDim::DP:
    return dp;
  }
  return 0;
}

std::string GridShape::toString() const {
  std::ostringstream os;
  os << "tp=" << tp << " cp=" << cp << " pp=" << pp << " dp=" << dp;
  return os.str();
}

StatusOr<ProcessGrid> ProcessGrid::create(GridShape shape, int offset, int size,
                                          int worldSize, std::string name) {
  std::string who = name.empty() ? "process grid" : "grid of '" + name + "'";
  for (GridDim d : kDims)
    if (shape[d] <= 0)
      return invalidArgument(who + ": " + gridDimName(d) + " (" +
                             std::to_string(shape[d]) + ") must be positive");
  if (worldSize <= 0)
    return invalidArgument(who + ": world size (" + std::to_string(worldSize) +
                           ") must be positive");
  if (offset < 0 || size <= 0 || offset + size > worldSize)
    return invalidArgument(who + ": rank span [" + std::to_string(offset) +
                           ", " + std::to_string(offset + size) +
                           ") is outside the world [0, " +
                           std::to_string(worldSize) + ")");
  long long product = 1LL * shape.tp * shape.cp * shape.pp * shape.dp;
  if (product != size)
    return invalidArgument(who + ": tp*cp*pp*dp (" + shape.toString() + " = " +
                           std::to_string(product) +
                           ") must equal the ranks it spans (" +
                           std::to_string(size) + ")");
  return ProcessGrid(shape, offset, size, worldSize, std::move(name));
}

StatusOr<ProcessGrid> ProcessGrid::create(GridShape shape, int worldSize,
                                          std::string name) {
  return create(shape, 0, worldSize, worldSize, std::move(name));
}

StatusOr<GridCoord> ProcessGrid::coordOf(int rank) const {
  if (!contains(rank))
    return invalidArgument("rank " + std::to_string(rank) + " is not in the " +
                           toString());
  int r = rank - offset_;
  GridCoord c;
  c.tp = r % shape_.tp;
  r /= shape_.tp;
  c.cp = r % shape_.cp;
  r /= shape_.cp;
  c.pp = r % shape_.pp;
  c.dp = r / shape_.pp;
  return c;
}

int ProcessGrid::rankOf(const GridCoord &c) const {
  return offset_ + c.tp +
         shape_.tp * (c.cp + shape_.cp * (c.pp + shape_.pp * c.dp));
}

StatusOr<std::vector<int>> ProcessGrid::groupOf(int rank, DimMask dims) const {
  MIMO_ASSIGN_OR_RETURN(GridCoord base, coordOf(rank));
  std::vector<int> ranks;
  // Iterating dp, pp, cp, tp from slowest to fastest yields increasing ranks.
  GridCoord c = base;
  auto range = [&](GridDim d) { return (dims & dimBit(d)) ? shape_[d] : 1; };
  for (int dp = 0; dp < range(GridDim::DP); ++dp)
    for (int pp = 0; pp < range(GridDim::PP); ++pp)
      for (int cp = 0; cp < range(GridDim::CP); ++cp)
        for (int tp = 0; tp < range(GridDim::TP); ++tp) {
          c.dp = (dims & kDpMask) ? dp : base.dp;
          c.pp = (dims & kPpMask) ? pp : base.pp;
          c.cp = (dims & kCpMask) ? cp : base.cp;
          c.tp = (dims & kTpMask) ? tp : base.tp;
          ranks.push_back(rankOf(c));
        }
  return ranks;
}

std::vector<std::vector<int>> ProcessGrid::allGroups(DimMask dims) const {
  std::vector<std::vector<int>> groups;
  std::vector<bool> seen(size_, false);
  for (int r = offset_; r < offset_ + size_; ++r) {
    if (seen[r - offset_])
      continue;
    std::vector<int> g = *groupOf(r, dims);
    for (int m : g)
      seen[m - offset_] = true;
    groups.push_back(std::move(g));
  }
  return groups;
}

std::string ProcessGrid::toString() const {
  std::ostringstream os;
  if (!name_.empty())
    os << name_ << ": ";
  os << shape_.toString() << " over ranks [" << offset_ << ", "
     << offset_ + size_ << ")";
  return os.str();
}

} // namespace mimo::rt

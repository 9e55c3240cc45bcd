//===- ProcessGrid.h - A module's grid of ranks -----------------*- C++ -*-===//
//
// Megatron's MIMO convention: dims [tp, cp, pp, dp] over a rank span
// (offset, size), tp fastest:
//
//   rank = offset + tp_i + tp * (cp_i + cp * (pp_i + pp * dp_i))
//
// so one data-parallel replica (tp*cp*pp ranks) is a contiguous block. A
// process group is the set of ranks that differ only in some dims.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_PROCESSGRID_H
#define MIMO_RUNTIME_PROCESSGRID_H

#include "mimo/runtime/Status.h"

#include <array>
#include <string>
#include <vector>

namespace mimo::rt {

enum class GridDim { TP = 0, CP = 1, PP = 2, DP = 3 };

/// A set of GridDims, e.g. dimMask({GridDim::TP, GridDim::PP}).
using DimMask = unsigned;
constexpr DimMask dimBit(GridDim d) { return 1u << static_cast<unsigned>(d); }
constexpr DimMask kTpMask = dimBit(GridDim::TP);
constexpr DimMask kCpMask = dimBit(GridDim::CP);
constexpr DimMask kPpMask = dimBit(GridDim::PP);
constexpr DimMask kDpMask = dimBit(GridDim::DP);
/// Every rank of one data-parallel replica.
constexpr DimMask kModelParallelMask = kTpMask | kCpMask | kPpMask;
constexpr DimMask kAllDimsMask = kModelParallelMask | kDpMask;

const char *gridDimName(GridDim dim);

struct GridCoord {
  int tp = 0, cp = 0, pp = 0, dp = 0;
  int operator[](GridDim d) const;
  int &operator[](GridDim d);
  bool operator==(const GridCoord &o) const {
    return tp == o.tp && cp == o.cp && pp == o.pp && dp == o.dp;
  }
};

struct GridShape {
  int tp = 1, cp = 1, pp = 1, dp = 1;
  int operator[](GridDim d) const;
  int product() const { return tp * cp * pp * dp; }
  bool operator==(const GridShape &o) const {
    return tp == o.tp && cp == o.cp && pp == o.pp && dp == o.dp;
  }
  bool operator!=(const GridShape &o) const { return !(*this == o); }
  /// "tp=2 cp=1 pp=2 dp=4".
  std::string toString() const;
};

class ProcessGrid {
public:
  /// Validates: positive dims, tp*cp*pp*dp == size, span inside
  /// [0, worldSize). `name` (the module) prefixes error messages.
  static StatusOr<ProcessGrid> create(GridShape shape, int offset, int size,
                                      int worldSize, std::string name = "");
  /// A grid over the whole world.
  static StatusOr<ProcessGrid> create(GridShape shape, int worldSize,
                                      std::string name = "");

  const GridShape &shape() const { return shape_; }
  int dim(GridDim d) const { return shape_[d]; }
  int tp() const { return shape_.tp; }
  int cp() const { return shape_.cp; }
  int pp() const { return shape_.pp; }
  int dp() const { return shape_.dp; }
  int offset() const { return offset_; }
  int size() const { return size_; }
  int worldSize() const { return worldSize_; }
  const std::string &name() const { return name_; }
  /// Ranks of one data-parallel replica.
  int modelParallelSize() const { return tp() * cp() * pp(); }

  bool contains(int rank) const {
    return rank >= offset_ && rank < offset_ + size_;
  }
  StatusOr<GridCoord> coordOf(int rank) const;
  /// Precondition: the coordinate is inside the grid.
  int rankOf(const GridCoord &coord) const;

  /// The ranks that share every coordinate of `rank` outside `dims`, in
  /// increasing order (tp fastest). `rank` must be in the grid.
  StatusOr<std::vector<int>> groupOf(int rank, DimMask dims) const;
  /// Every group along `dims`: a partition of the grid's ranks, ordered by
  /// their first rank.
  std::vector<std::vector<int>> allGroups(DimMask dims) const;

  bool operator==(const ProcessGrid &o) const {
    return shape_ == o.shape_ && offset_ == o.offset_ && size_ == o.size_;
  }
  /// "vision: tp=1 cp=1 pp=1 dp=8 over ranks [0, 8)".
  std::string toString() const;

private:
  ProcessGrid(GridShape shape, int offset, int size, int worldSize,
              std::string name)
      : shape_(shape), offset_(offset), size_(size), worldSize_(worldSize),
        name_(std::move(name)) {}

  GridShape shape_;
  int offset_ = 0;
  int size_ = 1;
  int worldSize_ = 1;
  std::string name_;
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_PROCESSGRID_H

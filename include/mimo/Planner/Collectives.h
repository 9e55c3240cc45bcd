//===- Collectives.h - Where a group lands and what it costs ----*- C++ -*-===//
//
// Process groups of a grid ordered [tp, cp, pp, dp] (tp fastest) over a rank
// span, the link a group's traffic takes (NVLink inside a node, the network
// across nodes), and alpha-beta times of ring collectives.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PLANNER_COLLECTIVES_H
#define MIMO_PLANNER_COLLECTIVES_H

#include "mimo/Planner/Hardware.h"

#include <cstdint>

namespace mimo::planner {

/// A module's process grid over ranks [offset, offset + tp*cp*pp*dp).
struct Grid {
  int64_t offset = 0;
  int64_t tp = 1, cp = 1, pp = 1, dp = 1;
  int64_t size() const { return tp * cp * pp * dp; }
  /// Global rank of grid coordinates (ARCHITECTURE.md, "Process grids").
  int64_t rank(int64_t tpI, int64_t cpI, int64_t ppI, int64_t dpI) const {
    return offset + tpI + tp * (cpI + cp * (ppI + pp * dpI));
  }
};

enum class GridDim { TP = 0, CP = 1, PP = 2, DP = 3 };

/// A link: effective bandwidth (bytes/s) and per-step latency (s).
struct Link {
  double bandwidth = 1;
  double latency = 0;
};

/// True if some group along `dim` has ranks on more than one node.
bool groupCrossesNodes(const Grid &grid, GridDim dim, int64_t gpusPerNode);

/// Link of a group: NVLink when every group of `dim` stays in a node.
Link groupLink(const Hardware &hw, const Grid &grid, GridDim dim,
               int64_t gpusPerNode);
Link intraNodeLink(const Hardware &hw);
Link interNodeLink(const Hardware &hw);
Link hostLink(const Hardware &hw);

enum class Collective { AllReduce, AllGather, ReduceScatter, Broadcast, P2P };

/// Time of a collective over `n` ranks on `link`; `bytes` is the full
/// (gathered / unreduced) tensor. Ring algorithms (Thakur et al. 2005;
/// NCCL's bus-bandwidth factors): all-reduce 2(n-1)/n, all-gather and
/// reduce-scatter (n-1)/n, pipelined broadcast 1, p2p 1.
double collectiveSeconds(Collective kind, double bytes, int64_t n,
                         const Link &link);

} // namespace mimo::planner

#endif // MIMO_PLANNER_COLLECTIVES_H

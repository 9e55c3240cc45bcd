//===- Collectives.cpp - Group placement and collective times -------------===//

#include "mimo/Planner/Collectives.h"

#include <algorithm>

namespace mimo::planner {

bool groupCrossesNodes(const Grid &g, GridDim dim, int64_t gpusPerNode) {
  int64_t n = dim == GridDim::TP   ? g.tp
              : dim == GridDim::CP ? g.cp
              : dim == GridDim::PP ? g.pp
                                   : g.dp;
  if (n <= 1)
    return false;
  int64_t stride = 1;
  if (dim >= GridDim::CP)
    stride *= g.tp;
  if (dim >= GridDim::PP)
    stride *= g.cp;
  if (dim >= GridDim::DP)
    stride *= g.pp;
  // Groups are the ranks differing in one coordinate: the base ranks are
  // those whose `dim` coordinate is 0.
  int64_t size = g.size();
  for (int64_t base = 0; base < size; ++base) {
    if ((base / stride) % n != 0)
      continue;
    int64_t first = g.offset + base;
    int64_t last = first + (n - 1) * stride;
    if (first / gpusPerNode != last / gpusPerNode)
      return true;
  }
  return false;
}

Link intraNodeLink(const Hardware &hw) {
  return {hw.nvlinkBandwidth * hw.nvlinkEfficiency, hw.intraNodeLatency};
}

Link interNodeLink(const Hardware &hw) {
  return {hw.networkBandwidth * hw.networkEfficiency, hw.interNodeLatency};
}

Link hostLink(const Hardware &hw) {
  return {hw.hostLinkBandwidth * hw.hostLinkEfficiency, hw.kernelLaunch};
}

Link groupLink(const Hardware &hw, const Grid &grid, GridDim dim,
               int64_t gpusPerNode) {
  return groupCrossesNodes(grid, dim, gpusPerNode) ? interNodeLink(hw)
                                                   : intraNodeLink(hw);
}

double collectiveSeconds(Collective kind, double bytes, int64_t n,
                         const Link &link) {
  if (bytes <= 0)
    return 0;
  if (kind == Collective::P2P)
    return link.latency + bytes / link.bandwidth; // alpha + beta*m
  if (n <= 1)
    return 0;
  double steps = double(n - 1);
  double fraction = steps / double(n);
  switch (kind) {
  case Collective::AllReduce:
    // Ring: reduce-scatter then all-gather, 2(n-1) steps of m/n bytes.
    return 2 * steps * link.latency + 2 * fraction * bytes / link.bandwidth;
  case Collective::AllGather:
  case Collective::ReduceScatter:
    // Ring: (n-1) steps of m/n bytes.
    return steps * link.latency + fraction * bytes / link.bandwidth;
  case Collective::Broadcast:
    // Pipelined ring broadcast: the whole message once, n-1 hops of latency.
    return steps * link.latency + bytes / link.bandwidth;
  case Collective::P2P:
    break;
  }
  return 0;
}

} // namespace mimo::planner

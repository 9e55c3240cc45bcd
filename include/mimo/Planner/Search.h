//===- Search.h - Finds the fastest feasible plans --------------*- C++ -*-===//
//
// Enumerates layouts x per-module grids x micro-batch x recompute x offload
// x distributed optimizer x sequence parallel x schedule, pruned by
// divisibility and memory. Modules are costed alone first (repeated layers
// once, memoized); per module only the Pareto front of (time, memory)
// survives; the cross products of the fronts are scored exactly by the
// Evaluator. Order and tie-breaks are deterministic.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PLANNER_SEARCH_H
#define MIMO_PLANNER_SEARCH_H

#include "mimo/Planner/Evaluator.h"

#include <vector>

namespace mimo::planner {

struct SearchOptions {
  std::vector<Layout> layouts = {Layout::Homogeneous, Layout::Colocated,
                                 Layout::Disaggregated};
  std::vector<int64_t> microBatches = {1, 2, 4};
  std::vector<int64_t> virtualStages = {1, 2};
  int64_t maxTp = 8; ///< also capped by GPUs per node
  int64_t maxCp = 8; ///< LLM only (encoders attend within images)
  int64_t maxPp = 16;
  int64_t topK = 5;
  /// Exact evaluations per (layout, micro-batch, schedule) after the fronts.
  int64_t candidatesPerGroup = 24;
};

struct SearchResult {
  std::vector<Evaluation> top; ///< feasible, fastest first, up to topK
  bool haveBest = false, haveBestHomogeneous = false;
  Evaluation best, bestHomogeneous;
  /// Plans in the searched space (valid module configurations combined).
  int64_t searched = 0;
  /// Plans scored exactly that fit in memory.
  int64_t feasible = 0;
  /// Plans scored exactly.
  int64_t evaluated = 0;
  double seconds = 0;
};

SearchResult searchPlans(const cost::ModelProfile &profile,
                         const Cluster &cluster,
                         const SearchOptions &options = {});

/// Ranking: shorter iteration, then lower peak memory, then plan text.
bool betterEvaluation(const Evaluation &a, const Evaluation &b);

} // namespace mimo::planner

#endif // MIMO_PLANNER_SEARCH_H

//===- Plan.h - A parallel plan, as plan.json spells it ---------*- C++ -*-===//
//
// The layout, the micro-batch, the schedule and per-module grids with their
// memory options (INTERFACES.md, "Plan"). Reading is strict: unknown fields,
// wrong types, invalid strings and grids whose product is not the rank span
// are errors naming the field and the value.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PLANNER_PLAN_H
#define MIMO_PLANNER_PLAN_H

#include <cstdint>
#include <string>
#include <vector>

namespace mimo::planner {

enum class Layout { Homogeneous, Colocated, Disaggregated };
const char *toString(Layout layout);
bool parseLayout(const std::string &s, Layout &out);

enum class RecomputeKind { None, Selective, Full, FullLayers };

struct Recompute {
  RecomputeKind kind = RecomputeKind::None;
  int64_t layers = 0; ///< FullLayers: layers per pipeline stage recomputed
  bool operator==(const Recompute &o) const {
    return kind == o.kind && layers == o.layers;
  }
};
std::string toString(const Recompute &r);

/// One module's grid (dims ordered [tp, cp, pp, dp], tp fastest) and options.
struct ModulePlan {
  std::string name;
  int64_t tp = 1, cp = 1, pp = 1, dp = 1;
  Recompute recompute;
  bool offloadActivations = false;
  bool offloadParams = false;
  bool offloadOptimizer = false;
  bool sequenceParallel = false;
  bool distributedOptimizer = false;
  /// Disaggregated: the rank span [rankOffset, rankOffset + rankSize).
  int64_t rankOffset = 0;
  int64_t rankSize = 0;

  int64_t size() const { return tp * cp * pp * dp; }
  bool sameGrid(const ModulePlan &o) const {
    return tp == o.tp && cp == o.cp && pp == o.pp && dp == o.dp &&
           rankOffset == o.rankOffset;
  }
};

struct Plan {
  Layout layout = Layout::Homogeneous;
  int64_t microBatchSize = 1;
  int64_t virtualStages = 1; ///< 1: 1f1b; V > 1: interleaved:V
  std::vector<ModulePlan> modules;

  const ModulePlan *find(const std::string &name) const;
  ModulePlan *find(const std::string &name);
  std::string schedule() const;
};

/// plan.json text (pretty when `indent` >= 0).
std::string planToJson(const Plan &plan, int indent = 2);

/// Parses plan.json. `label` names the source in errors ("FILE: PATH: ...").
/// Checks the format only; the fit to a model and cluster is checked by
/// validatePlan.
bool parsePlan(const std::string &text, const std::string &label, Plan &out,
               std::string &error);
bool loadPlanFile(const std::string &path, Plan &out, std::string &error);

} // namespace mimo::planner

#endif // MIMO_PLANNER_PLAN_H

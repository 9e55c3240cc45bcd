//===- Evaluator.h - Scores one plan: time, memory, FLOPs -------*- C++ -*-===//
//
// Checks a plan against the model and the cluster (divisibility, grid sizes,
// options each layout supports), simulates its schedule (homogeneous single
// pipeline, colocated three phases, disaggregated pipeline across module
// groups), sums memory per rank by category and derives the prediction.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PLANNER_EVALUATOR_H
#define MIMO_PLANNER_EVALUATOR_H

#include "mimo/Cost/ModelProfile.h"
#include "mimo/Planner/Hardware.h"
#include "mimo/Planner/ModuleCost.h"
#include "mimo/Planner/Plan.h"
#include "mimo/Planner/Prediction.h"

#include <string>
#include <vector>

namespace mimo::planner {

struct Evaluation {
  Plan plan;
  bool feasible = false;
  /// Why the plan cannot run: the field, its value and the rule, or the
  /// memory that does not fit. Empty when feasible.
  std::string reason;
  /// Set (with `reason`) when the plan breaks a structural rule; a plan that
  /// only runs out of memory still gets a full prediction.
  bool invalid = false;
  Prediction prediction;
  std::vector<TimelineEvent> timeline;
};

/// A module's contribution, costed alone, as the search combines them.
struct ModuleSummary {
  double seconds = 0;     ///< time it adds to the iteration
  double memoryBytes = 0; ///< bytes it holds on its worst rank at the peak
  bool valid = false;
  std::string reason;
};

class Evaluator {
public:
  Evaluator(const cost::ModelProfile &profile, const Cluster &cluster);

  /// Scores `plan` exactly as written.
  Evaluation evaluate(const Plan &plan, bool recordTimeline = false);

  /// Whether breakdowns separate pipeline transfers from the bubble (one
  /// more simulation per pipeline); the iteration time is the same either
  /// way. On by default; the search turns it off and re-scores its results.
  void setDetailedBreakdown(bool on) { detailed = on; }

  /// Structural checks only: "" when the plan fits the model and cluster.
  std::string validate(const Plan &plan) const;

  /// Colocated layout: one module (an encoder with its projectors, or the
  /// LLM) on a grid over all ranks, costed alone (search building block).
  ModuleSummary colocatedModule(size_t moduleIndex, const ModulePlan &mp,
                                int64_t microBatch, int64_t virtualStages);

  /// Disaggregated layout: the module (an encoder with its projectors, or
  /// the LLM) on `mp`'s span: its slowest stage per microbatch (fwd + bwd)
  /// and its worst rank's memory with `inFlight` microbatches per stage.
  ModuleSummary disaggregatedModule(size_t moduleIndex, const ModulePlan &mp,
                                    int64_t microBatch, double inFlight);

  const cost::ModelProfile &profile() const { return model; }
  const Cluster &cluster() const { return clusterInfo; }
  CostModel &costModel() { return costs; }
  /// Indices of encoders, of projectors, of the LLM in the profile.
  const std::vector<size_t> &encoders() const { return encoderIdx; }
  size_t llm() const { return llmIdx; }
  /// The LLM's vocabulary (0 if it has no embedding).
  int64_t vocab() const { return vocabSize; }

private:
  struct Impl;
  const cost::ModelProfile &model;
  Cluster clusterInfo;
  CostModel costs;
  std::vector<size_t> encoderIdx;
  std::vector<size_t> projectorIdx;
  std::vector<size_t> projectorOf; ///< per module: its projector or npos
  size_t llmIdx = 0;
  int64_t vocabSize = 0;
  std::string profileError;
  bool detailed = true;
};

/// Bytes shown as GB in reports: 2^30, as PyTorch's memory counters report.
constexpr double kBytesPerGB = 1024.0 * 1024.0 * 1024.0;

} // namespace mimo::planner

#endif // MIMO_PLANNER_EVALUATOR_H

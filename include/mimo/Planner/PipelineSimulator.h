//===- PipelineSimulator.h - Event simulation of a pipeline -----*- C++ -*-===//
//
// Simulates microbatches through pipeline stages: each stage runs its tasks
// in the order its schedule prescribes (Megatron-LM's 1F1B and interleaved
// orders), a task starts when its stage is free and its input has arrived
// (the neighbouring stage's task plus the point-to-point transfer). Gives
// the makespan, per-stage busy time and the microbatches each stage holds.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PLANNER_PIPELINESIMULATOR_H
#define MIMO_PLANNER_PIPELINESIMULATOR_H

#include <cstdint>
#include <vector>

namespace mimo::planner {

enum class PipelineMode {
  Train,       ///< forward and backward, 1F1B (or interleaved) order
  ForwardOnly, ///< forwards only, in microbatch order
  BackwardOnly ///< backwards only, from the last stage, in microbatch order
};

/// Per physical stage, times of one microbatch (all its chunks together).
struct PipelineStages {
  std::vector<double> fwd;
  std::vector<double> bwd;
  /// Transfer time from stage s to s+1 (and back, for gradients); the last
  /// entry is used for the wrap-around of interleaved schedules.
  std::vector<double> p2p;
};

struct PipelineTask {
  int32_t stage = 0;
  int32_t microbatch = 0;
  int32_t chunk = 0;
  bool forward = true;
  double start = 0;
  double end = 0;
};

/// A stage ahead of the pipeline on ranks of its own (the disaggregated
/// layout's unpipelined encoder, as mimo's trainer runs it): it runs the
/// forwards of every microbatch in order, each leaving for the first
/// virtual stage `link` seconds later, then the backwards in order, each
/// once its gradient is back from the first virtual stage (`link` again).
struct PipelineFeeder {
  double fwd = 0, bwd = 0, link = 0;
};

struct PipelineResult {
  bool ok = false; ///< false if the order deadlocks (a bug) or args invalid
  double makespan = 0;
  std::vector<double> busy;        ///< per stage, compute time
  std::vector<double> stageEnd;    ///< per stage, when its last task ends
  std::vector<double> maxInFlight; ///< per stage, microbatches held (chunks/V)
  std::vector<PipelineTask> tasks; ///< when `recordTasks`
  /// With a feeder: its compute time and when its last backward ends (its
  /// tasks are recorded with stage -1).
  double feederBusy = 0, feederEnd = 0;
};

/// Simulates `microbatches` through the stages with `virtualStages` chunks
/// per stage (1 = plain 1F1B). Interleaving needs microbatches % stages == 0.
PipelineResult simulatePipeline(const PipelineStages &stages,
                                int64_t microbatches, int64_t virtualStages,
                                PipelineMode mode, bool recordTasks = false);
/// The same, Train mode, fed by `feeder`: the first virtual stage's
/// forward of microbatch j waits for the feeder's, and the feeder's
/// backward of j for the first virtual stage's. The makespan includes the
/// feeder.
PipelineResult simulateFedPipeline(const PipelineStages &stages,
                                   const PipelineFeeder &feeder,
                                   int64_t microbatches, int64_t virtualStages,
                                   bool recordTasks = false);

} // namespace mimo::planner

#endif // MIMO_PLANNER_PIPELINESIMULATOR_H

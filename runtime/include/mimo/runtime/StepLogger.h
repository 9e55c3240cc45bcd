//===- StepLogger.h - Human step lines and JSON lines -----------*- C++ -*-===//
//
// One human line per --log-every steps, with a progress bar when stdout is a
// terminal, and one JSON object per step in the --json-log file (the fields
// INTERFACES.md promises: step, loss, step_ms, tflops_per_gpu,
// peak_memory_bytes). Only the rank that owns the log should create one.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_STEPLOGGER_H
#define MIMO_RUNTIME_STEPLOGGER_H

#include "mimo/runtime/MemoryCategory.h"
#include "mimo/runtime/Status.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace mimo::rt {

struct StepRecord {
  std::int64_t step = 0; ///< 1-based
  double loss = 0.0;
  double stepMs = 0.0;
  double tflopsPerGpu = 0.0;
  std::uint64_t peakMemoryBytes = 0;
  /// Peak bytes per memory category (params, grads, optimizer, activations,
  /// workspace, offloaded), in MemoryCategory order; written when set.
  std::optional<std::array<std::uint64_t, kNumMemoryCategories>>
      peakMemoryByCategory;
  /// Optional extras, written to JSON only when set.
  std::optional<double> tokensPerSecond;
  std::optional<double> gradNorm;
  std::optional<double> learningRate;
  /// The update was skipped (non-finite gradients on some rank).
  bool skipped = false;
};

struct StepLoggerOptions {
  std::int64_t totalSteps = 0; ///< 0: unknown, no bar
  std::int64_t logEvery = 1;
  std::string jsonPath;    ///< empty: no JSON log
  std::FILE *out = stdout; ///< human lines
  /// Default: whether `out` is a terminal.
  std::optional<bool> progressBar;
};

class StepLogger {
public:
  static StatusOr<std::unique_ptr<StepLogger>> create(StepLoggerOptions opts);
  ~StepLogger();

  /// Writes the JSON line of every step and the human line of every
  /// logEvery-th step (and of the last one).
  Status log(const StepRecord &record);

  /// "step   10/100 | loss 2.3456 | 123.4 ms | 1.23 TFLOPs/GPU | peak 1.50 GiB"
  std::string humanLine(const StepRecord &record) const;
  /// {"step":10,"loss":2.3456,...}
  static std::string jsonLine(const StepRecord &record);

private:
  explicit StepLogger(StepLoggerOptions opts) : opts_(std::move(opts)) {}
  StepLoggerOptions opts_;
  std::FILE *json_ = nullptr;
  bool bar_ = false;
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_STEPLOGGER_H

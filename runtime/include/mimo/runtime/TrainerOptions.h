//===- TrainerOptions.h - The trainer's command line ------------*- C++ -*-===//
//
// trainer [--steps N] [--data DIR] [--save DIR] [--save-every N] [--load DIR]
//         [--keep-last N] [--log-every N] [--json-log FILE] [--seed S]
//         [--memory-limit SIZE] [--help]
// (INTERFACES.md, "mimoc build and the trainer"). Both "--flag value" and
// "--flag=value" are accepted; errors name the flag and the value.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_TRAINEROPTIONS_H
#define MIMO_RUNTIME_TRAINEROPTIONS_H

#include "mimo/runtime/Status.h"

#include <cstdint>
#include <string>

namespace mimo::rt {

struct TrainerOptions {
  std::int64_t steps = 10;
  std::string dataDir;        ///< empty: synthetic data
  std::string saveDir;        ///< empty: no checkpoints
  std::int64_t saveEvery = 0; ///< 0: only after the last step
  std::string loadDir;        ///< empty: start from scratch
  std::int64_t keepLast = 0;  ///< > 0: prune all but the newest N checkpoints
  std::uint64_t memoryLimit = 0; ///< > 0: device memory cap, in bytes
  std::int64_t logEvery = 1;
  std::string jsonLog; ///< empty: no JSON log
  std::uint64_t seed = 1234;
  bool seedGiven = false; ///< --seed was passed (overrides the spec's)
  bool help = false;
};

/// `defaults` carries the values baked in by mimoc build (steps, seed).
StatusOr<TrainerOptions> parseTrainerOptions(int argc, const char *const *argv,
                                             TrainerOptions defaults = {});

std::string trainerUsage(const std::string &program);

/// parseTrainerOptions for main(): prints the usage and exits 0 on --help;
/// prints "<program>: <error>" and exits 1 on a bad command line.
TrainerOptions parseTrainerOptionsOrExit(int argc, char **argv,
                                         TrainerOptions defaults = {});

} // namespace mimo::rt

#endif // MIMO_RUNTIME_TRAINEROPTIONS_H

//===- Commands.h - mimoc subcommands ---------------------------*- C++ -*-===//
//
// Each subcommand lives in its own file, declares its options under its own
// llvm::cl::SubCommand and exposes that subcommand and a run function.
// Exit codes: 0 success, 1 bad input (with a message naming the cause),
// 2 usage errors reported by the option parser.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_TOOLS_MIMOC_COMMANDS_H
#define MIMO_TOOLS_MIMOC_COMMANDS_H

#include "mimo/Planner/Hardware.h"

#include "llvm/Support/CommandLine.h"

#include <string>

namespace mimo::tools {

/// The category every mimoc option belongs to; `--help` hides the rest (the
/// options LLVM's libraries register).
llvm::cl::OptionCategory &mimocCategory();

llvm::cl::SubCommand &importSubCommand();
int runImport();

llvm::cl::SubCommand &importHfSubCommand();
int runImportHf();

llvm::cl::SubCommand &planSubCommand();
int runPlan();

llvm::cl::SubCommand &buildSubCommand();
int runBuild();

/// The cluster flags `mimoc plan` and `mimoc build` share (--hardware,
/// --gpus, --gpus-per-node, --cluster, --calibration, --memory-model):
/// whether any was given, and the cluster they describe (false with a
/// message naming the flag otherwise).
bool clusterFlagsGiven();
bool buildCluster(planner::Cluster &cluster, std::string &error);

llvm::cl::SubCommand &buildMimortSubCommand();
int runBuildMimort();

} // namespace mimo::tools

#endif // MIMO_TOOLS_MIMOC_COMMANDS_H

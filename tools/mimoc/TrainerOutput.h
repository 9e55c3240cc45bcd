//===- TrainerOutput.h - Write or build a trainer (mimoc) -------*- C++ -*-===//
//
// The tail `mimoc build` and `mimoc build-mimort` share: given a mimort
// program, write the trainer's source folder or build the executable.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_TOOLS_MIMOC_TRAINEROUTPUT_H
#define MIMO_TOOLS_MIMOC_TRAINEROUTPUT_H

#include "mimo/Target/TrainerEmitter.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

namespace mimo::tools {

struct TrainerOutputOptions {
  bool sourceOnly = false;  ///< write the folder to `output`, do not build
  llvm::StringRef buildDir; ///< where to build (empty: a temporary folder)
  llvm::StringRef prebuilt; ///< "auto", "none" or a support-library folder
  int jobs = 0;
  bool keepTemps = false; ///< keep (and name) the temporary build folder
  TrainerSourceOptions source;
};

/// Writes the source folder (sourceOnly) or builds the trainer at `output`.
/// Errors are printed prefixed with `tool` ("mimoc build"); returns the exit
/// status. A temporary build folder is removed after a successful build and
/// kept (and named) after a failed one.
int writeTrainer(mlir::ModuleOp program, llvm::StringRef output,
                 const TrainerOutputOptions &options, llvm::StringRef tool);

} // namespace mimo::tools

#endif // MIMO_TOOLS_MIMOC_TRAINEROUTPUT_H

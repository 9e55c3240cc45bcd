//===- TrainerEmitter.h - mimort programs to trainer executables -*- C++
//-*-===//
//
// The last step of lowering: a mimort module (one per-rank program) becomes
// C++ (convert-mimort-to-emitc, then emitc::translateToCpp), a folder that
// builds a trainer with CMake and a C++ compiler alone, and, with a build
// toolchain at hand, the trainer executable.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_TARGET_TRAINEREMITTER_H
#define MIMO_TARGET_TRAINEREMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mimo {

/// Writes the C++ of a mimort module to `os`: runs convert-mimort-to-emitc
/// on a copy of the module, translates it with emitc::translateToCpp into a
/// buffer (nothing is written on failure) and names the variables that hold
/// declared buffers after them. Conversion diagnostics go to the module's
/// context.
llvm::Error emitProgramCpp(mlir::ModuleOp mimortModule, llvm::raw_ostream &os);

struct TrainerSourceOptions {
  /// Where runtime/ and kernels/ are read from; recorded in the emitted
  /// CMakeLists.txt. Defaults to this repository's sources.
  std::string mimoSourceDir;
  /// Copy runtime/ and kernels/ (without their tests and benchmarks) into
  /// DIR/mimo so the folder builds anywhere on its own.
  bool copySources = false;
};

/// Creates `dir` (if needed) and writes program.cpp, main.cpp (calling
/// mimo::program::trainerMain) and a CMakeLists.txt that builds the target
/// `trainer` without MLIR: against the runtime and kernel sources, or,
/// with -DMIMO_PREBUILT_DIR=<dir holding libmimo_program>, against an
/// already built support library (a build in seconds).
llvm::Error emitTrainerSource(mlir::ModuleOp mimortModule, llvm::StringRef dir,
                              const TrainerSourceOptions &options = {});

struct BuildOptions {
  /// Passed as MIMO_PREBUILT_DIR when set.
  std::string prebuiltDir;
  std::string buildType = "Release";
  /// Parallel build jobs; 0 lets the build tool decide.
  int jobs = 0;
};

/// The mimo checkout emitted trainers build against by default.
std::string defaultMimoSourceDir();

/// Whether `prebuiltDir` holds a libmimo_program at least as new as every
/// header of the runtime, the kernels and the support layer under
/// `mimoSourceDir` (default: defaultMimoSourceDir()). A stale library would
/// disagree with the generated code on the kernel interface's layout.
bool isPrebuiltCurrent(llvm::StringRef prebuiltDir,
                       llvm::StringRef mimoSourceDir = "");

/// Configures and builds the folder written by emitTrainerSource (cmake,
/// with Ninja when it is installed, else the default generator) in
/// DIR/build and copies the trainer to `output`. On failure the error
/// carries the failing command and the end of its log (DIR/build/*.log).
llvm::Error buildTrainer(llvm::StringRef dir, llvm::StringRef output,
                         const BuildOptions &options = {});

} // namespace mimo

#endif // MIMO_TARGET_TRAINEREMITTER_H

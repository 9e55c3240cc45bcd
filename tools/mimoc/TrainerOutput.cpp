//===- TrainerOutput.cpp - Write or build a trainer (mimoc) ---------------===//

#include "TrainerOutput.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace mimo::tools {
namespace {

int fail(llvm::StringRef tool, const llvm::Twine &message) {
  llvm::errs() << tool << ": " << message << "\n";
  return 1;
}

/// This build tree's support library (bin/../runtime/program) when it is
/// current; otherwise "" (the runtime and kernels build from source).
std::string autoPrebuiltDir(llvm::StringRef tool) {
  std::string exe = llvm::sys::fs::getMainExecutable(
      nullptr, reinterpret_cast<void *>(&autoPrebuiltDir));
  llvm::SmallString<256> dir(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(dir, "runtime", "program");
  if (!llvm::sys::fs::exists(dir))
    return "";
  if (!isPrebuiltCurrent(dir)) {
    llvm::errs() << tool << ": note: the support library in " << dir
                 << " is missing or older than the runtime and kernel "
                    "headers; building them from source\n";
    return "";
  }
  return dir.str().str();
}

} // namespace

int writeTrainer(mlir::ModuleOp program, llvm::StringRef output,
                 const TrainerOutputOptions &options, llvm::StringRef tool) {
  if (output.empty())
    return fail(tool,
                "-o is required (the trainer, or the folder with --emit=cpp)");
  if (options.sourceOnly) {
    if (llvm::Error err = emitTrainerSource(program, output, options.source))
      return fail(tool, llvm::toString(std::move(err)));
    return 0;
  }
  llvm::SmallString<256> dir(options.buildDir);
  bool temporary = dir.empty();
  if (temporary)
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("mimoc-trainer", dir))
      return fail(tool, "cannot create a build directory: " + ec.message());
  if (llvm::Error err = emitTrainerSource(program, dir, options.source))
    return fail(tool, llvm::toString(std::move(err)));
  BuildOptions build;
  build.jobs = options.jobs;
  if (options.prebuilt == "auto")
    build.prebuiltDir = autoPrebuiltDir(tool);
  else if (options.prebuilt != "none")
    build.prebuiltDir = options.prebuilt.str();
  if (llvm::Error err = buildTrainer(dir, output, build))
    return fail(tool, llvm::toString(std::move(err)) +
                          "\n(the sources are kept in " + dir + ")");
  if (temporary && options.keepTemps)
    llvm::errs() << tool << ": the trainer's sources and build are kept in "
                 << dir << "\n";
  else if (temporary)
    llvm::sys::fs::remove_directories(dir);
  return 0;
}

} // namespace mimo::tools

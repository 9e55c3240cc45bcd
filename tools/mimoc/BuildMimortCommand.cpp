//===- BuildMimortCommand.cpp - mimoc build-mimort ------------------------===//
//
//   mimoc build-mimort PROGRAM.mlir -o trainer          build the executable
//   mimoc build-mimort PROGRAM.mlir --emit=cpp -o DIR   write the source folder
//   mimoc build-mimort PROGRAM.mlir --emit=program      print program.cpp
//
// A developer entry to the back half of lowering: it starts from a
// hand-written or dumped mimort program instead of a model spec.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "TrainerOutput.h"

#include "mimo/Dialect/Mimort/MimortDialect.h"
#include "mimo/Target/TrainerEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

namespace cl = llvm::cl;

namespace mimo::tools {

cl::SubCommand &buildMimortSubCommand() {
  static cl::SubCommand sub("build-mimort",
                            "Build a trainer from a mimort program (.mlir)");
  return sub;
}

namespace {

enum class EmitKind { Exe, Cpp, Program };

cl::opt<std::string> input(cl::Positional, cl::Required,
                           cl::desc("<program.mlir>"),
                           cl::sub(buildMimortSubCommand()),
                           cl::cat(mimocCategory()));
cl::opt<std::string>
    output("o",
           cl::desc("The trainer executable, the source folder (--emit=cpp) "
                    "or the C++ file (--emit=program, default stdout)"),
           cl::value_desc("path"), cl::sub(buildMimortSubCommand()),
           cl::cat(mimocCategory()));
cl::opt<EmitKind> emit(
    "emit", cl::desc("What to produce"), cl::init(EmitKind::Exe),
    cl::values(clEnumValN(EmitKind::Exe, "exe", "the trainer executable"),
               clEnumValN(EmitKind::Cpp, "cpp",
                          "a source folder that builds the trainer without "
                          "MLIR"),
               clEnumValN(EmitKind::Program, "program",
                          "only the generated program.cpp")),
    cl::sub(buildMimortSubCommand()), cl::cat(mimocCategory()));
cl::opt<std::string> prebuilt(
    "prebuilt",
    cl::desc("Link the trainer against the libmimo_program in DIR; 'auto' "
             "(default) uses this build tree's when it has one, 'none' "
             "builds the runtime and kernels from source"),
    cl::value_desc("DIR|auto|none"), cl::init("auto"),
    cl::sub(buildMimortSubCommand()), cl::cat(mimocCategory()));
cl::opt<bool>
    copySources("copy-sources",
                cl::desc("Copy runtime/ and kernels/ into the emitted folder"),
                cl::init(false), cl::sub(buildMimortSubCommand()),
                cl::cat(mimocCategory()));
cl::opt<std::string> buildDir(
    "build-dir",
    cl::desc("Where the source folder is written and built (default: a "
             "temporary directory, removed after a successful build)"),
    cl::value_desc("dir"), cl::sub(buildMimortSubCommand()),
    cl::cat(mimocCategory()));
cl::opt<int> jobs("j", cl::desc("Parallel build jobs (0: the tool decides)"),
                  cl::init(0), cl::sub(buildMimortSubCommand()),
                  cl::cat(mimocCategory()));
cl::opt<bool>
    keepTemps("keep-temps",
              cl::desc("Keep the temporary folder the trainer is generated "
                       "and built in, and print its path"),
              cl::init(false), cl::sub(buildMimortSubCommand()),
              cl::cat(mimocCategory()));

int fail(const llvm::Twine &message) {
  llvm::errs() << "mimoc build-mimort: " << message << "\n";
  return 1;
}

} // namespace

int runBuildMimort() {
  mlir::MLIRContext context;
  context.loadDialect<mimort::MimortDialect, mlir::func::FuncDialect,
                      mlir::arith::ArithDialect, mlir::scf::SCFDialect,
                      mlir::emitc::EmitCDialect>();
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  std::string error;
  auto file = mlir::openInputFile(input, &error);
  if (!file)
    return fail(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  if (emit == EmitKind::Program) {
    std::string cpp;
    llvm::raw_string_ostream os(cpp);
    if (llvm::Error err = emitProgramCpp(*module, os))
      return fail(llvm::toString(std::move(err)));
    auto out = mlir::openOutputFile(
        output.empty() ? std::string("-") : output.getValue(), &error);
    if (!out)
      return fail(error);
    out->os() << cpp;
    out->keep();
    return 0;
  }
  TrainerOutputOptions out;
  out.sourceOnly = emit == EmitKind::Cpp;
  out.buildDir = buildDir;
  out.prebuilt = prebuilt;
  out.jobs = jobs;
  out.keepTemps = keepTemps;
  out.source.copySources = copySources;
  return writeTrainer(*module, output, out, "mimoc build-mimort");
}

} // namespace mimo::tools

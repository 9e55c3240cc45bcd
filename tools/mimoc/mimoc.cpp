//===- mimoc.cpp - The mimo compiler driver -------------------------------===//
//
//   mimoc import SPEC.json            print the model as mimo IR
//   mimoc import-hf config.json       a Hugging Face LLaVA config as a spec
//   mimoc plan SPEC --hardware ...    search parallel plans
//   mimoc build SPEC.json -o trainer  a trainer from a spec (world 1)
//   mimoc build-mimort PROGRAM.mlir   a trainer from a mimort program
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace mimo::tools;

llvm::cl::OptionCategory &mimo::tools::mimocCategory() {
  static llvm::cl::OptionCategory category("mimoc options");
  return category;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Touch every subcommand so its options are registered before parsing.
  struct Entry {
    llvm::cl::SubCommand &sub;
    int (*run)();
  };
  Entry entries[] = {
      {importSubCommand(), runImport},
      {importHfSubCommand(), runImportHf},
#ifdef MIMO_HAVE_PLAN_COMMAND
      {planSubCommand(), runPlan},
#endif
      {buildSubCommand(), runBuild},
      {buildMimortSubCommand(), runBuildMimort},
  };
  for (Entry &e : entries)
    llvm::cl::HideUnrelatedOptions(mimocCategory(), e.sub);
  llvm::cl::HideUnrelatedOptions(mimocCategory());
  if (!llvm::cl::ParseCommandLineOptions(
          argc, argv,
          "mimo: a compiler for multimodal training\n\n"
          "  mimoc <subcommand> --help   describes each subcommand\n",
          &llvm::errs()))
    return 1;
  for (Entry &e : entries)
    if (e.sub)
      return e.run();
  llvm::errs() << "mimoc: expected a subcommand (";
  bool first = true;
  for (Entry &e : entries) {
    llvm::errs() << (first ? "" : ", ") << e.sub.getName();
    first = false;
  }
  llvm::errs() << "); see mimoc --help\n";
  return 1;
}

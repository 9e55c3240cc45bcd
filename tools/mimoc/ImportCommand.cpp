//===- ImportCommand.cpp - mimoc import / import-hf -----------------------===//

#include "Commands.h"

#include "mimo/Dialect/Mimo/MimoDialect.h"
#include "mimo/Spec/Spec.h"
#include "mimo/Spec/SpecImport.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace mimo::tools {

cl::SubCommand &importSubCommand() {
  static cl::SubCommand sub("import", "Import a model spec (JSON) and print "
                                      "it as mimo IR");
  return sub;
}

cl::SubCommand &importHfSubCommand() {
  static cl::SubCommand sub("import-hf", "Convert a Hugging Face LLaVA-style "
                                         "config.json into a model spec");
  return sub;
}

namespace {

cl::opt<std::string> importInput(cl::Positional, cl::Required,
                                 cl::desc("<spec.json>"),
                                 cl::sub(importSubCommand()),
                                 cl::cat(mimocCategory()));
cl::opt<std::string> importOutput("o",
                                  cl::desc("Output file (default: stdout)"),
                                  cl::value_desc("file"), cl::init("-"),
                                  cl::sub(importSubCommand()),
                                  cl::cat(mimocCategory()));
cl::opt<int64_t> importSeq("seq", cl::desc("Override data.seq_len"),
                           cl::init(0), cl::sub(importSubCommand()),
                           cl::cat(mimocCategory()));
cl::opt<int64_t> importGbs("gbs",
                           cl::desc("Override training.global_batch_size"),
                           cl::init(0), cl::sub(importSubCommand()),
                           cl::cat(mimocCategory()));
cl::opt<bool> importGeneric("generic", cl::desc("Print the generic op form"),
                            cl::init(false), cl::sub(importSubCommand()),
                            cl::cat(mimocCategory()));

cl::opt<std::string> hfInput(cl::Positional, cl::Required,
                             cl::desc("<config.json>"),
                             cl::sub(importHfSubCommand()),
                             cl::cat(mimocCategory()));
cl::opt<std::string> hfOutput("o", cl::desc("Output file (default: stdout)"),
                              cl::value_desc("file"), cl::init("-"),
                              cl::sub(importHfSubCommand()),
                              cl::cat(mimocCategory()));
cl::opt<std::string> hfName("name", cl::desc("Model name (default: llava)"),
                            cl::init(""), cl::sub(importHfSubCommand()),
                            cl::cat(mimocCategory()));
cl::opt<int64_t> hfSeq("seq",
                       cl::desc("Sequence length (default: the text model's "
                                "max_position_embeddings)"),
                       cl::init(0), cl::sub(importHfSubCommand()),
                       cl::cat(mimocCategory()));
cl::opt<int64_t> hfImages("images-per-sample", cl::desc("Images per sample"),
                          cl::init(1), cl::sub(importHfSubCommand()),
                          cl::cat(mimocCategory()));
cl::opt<int64_t> hfGbs("gbs", cl::desc("Global batch size"), cl::init(256),
                       cl::sub(importHfSubCommand()), cl::cat(mimocCategory()));

/// Writes `text` to `path` through a temporary file renamed into place, so a
/// failed run never leaves a partial file; "-" is stdout.
int writeOutput(llvm::StringRef path,
                llvm::function_ref<void(llvm::raw_ostream &)> write) {
  llvm::Error err = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    write(os);
    return llvm::Error::success();
  });
  if (err) {
    llvm::errs() << path << ": cannot write: " << llvm::toString(std::move(err))
                 << "\n";
    return 1;
  }
  return 0;
}

bool checkPositive(llvm::StringRef flag, int64_t value, bool zeroMeansUnset) {
  if (value > 0 || (zeroMeansUnset && value == 0))
    return true;
  llvm::errs() << "mimoc: --" << flag << ": expected a positive integer, got "
               << value << "\n";
  return false;
}

} // namespace

int runImport() {
  if (!checkPositive("seq", importSeq, true) ||
      !checkPositive("gbs", importGbs, true))
    return 1;
  mlir::MLIRContext context;
  context.getOrLoadDialect<MimoDialect>();
  spec::ImportOptions options;
  if (importSeq > 0)
    options.seqLen = importSeq;
  if (importGbs > 0)
    options.globalBatchSize = importGbs;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      spec::importSpecFile(importInput, context, options);
  if (!module)
    return 1;
  return writeOutput(importOutput, [&](llvm::raw_ostream &os) {
    mlir::OpPrintingFlags flags;
    if (importGeneric)
      flags.printGenericOpForm();
    module->print(os, flags);
  });
}

int runImportHf() {
  if (!checkPositive("seq", hfSeq, true) ||
      !checkPositive("images-per-sample", hfImages, false) ||
      !checkPositive("gbs", hfGbs, false))
    return 1;
  auto buffer = llvm::MemoryBuffer::getFile(hfInput, /*IsText=*/true);
  if (!buffer) {
    llvm::errs() << hfInput << ": cannot read: " << buffer.getError().message()
                 << "\n";
    return 1;
  }
  spec::HfImportOptions options;
  options.name = hfName;
  options.seqLen = hfSeq;
  options.imagesPerSample = hfImages;
  options.globalBatchSize = hfGbs;
  std::vector<spec::SpecError> errors;
  std::optional<spec::Spec> result =
      spec::importHfConfig((*buffer)->getBuffer().str(), options, errors);
  if (!result) {
    for (const spec::SpecError &e : errors) {
      llvm::errs() << hfInput << ": ";
      if (!e.path.empty())
        llvm::errs() << e.path << ": ";
      llvm::errs() << e.message << "\n";
    }
    return 1;
  }
  std::string text = spec::writeSpec(*result);
  return writeOutput(hfOutput, [&](llvm::raw_ostream &os) { os << text; });
}

} // namespace mimo::tools

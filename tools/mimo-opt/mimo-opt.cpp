//===- mimo-opt.cpp - Run mimo passes on textual IR -----------------------===//

#include "mimo/Conversion/Passes.h"
#include "mimo/Dialect/Mimo/MimoDialect.h"
#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Dialect/Mimort/MimortDialect.h"
#include "mimo/Support/Nesting.h"
#include "mimo/Transforms/Passes.h"

#include "mlir/Conversion/ArithToEmitC/ArithToEmitC.h"
#include "mlir/Conversion/FuncToEmitC/FuncToEmitC.h"
#include "mlir/Conversion/SCFToEmitC/SCFToEmitC.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  // The mimo dialect and the upstream dialects the pipeline lowers through.
  registry.insert<mimo::MimoDialect, mimo::mimort::MimortDialect,
                  mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::scf::SCFDialect, mlir::emitc::EmitCDialect,
                  mlir::shard::ShardDialect, mlir::tensor::TensorDialect>();
  mlir::registerConvertFuncToEmitCInterface(registry);
  mlir::registerConvertSCFToEmitCInterface(registry);
  mlir::registerConvertArithToEmitCInterface(registry);
  mlir::registerTransformsPasses();
  mimo::registerMimoPasses();
  mimo::registerMimoConversionPasses();
  // mlir-opt's own main (MlirOptMain(argc, argv, ...)), with the input's
  // nesting checked before it reaches the parser.
  llvm::InitLLVM init(argc, argv);
  auto [inputFile, outputFile] = mlir::registerAndParseCLIOptions(
      argc, argv, "mimo optimizer driver\n", registry);
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFile, outputFile, registry));
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFile, &error);
  if (!input) {
    llvm::errs() << "mimo-opt: " << error << "\n";
    return 1;
  }
  if (int depth = mimo::bracketNestingDepth(input->getBuffer());
      depth > mimo::kMaxIRNesting) {
    llvm::errs() << "mimo-opt: " << inputFile << ": brackets nest " << depth
                 << " levels deep; the parser accepts at most "
                 << mimo::kMaxIRNesting << "\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << "mimo-opt: " << error << "\n";
    return 1;
  }
  if (mlir::failed(
          mlir::MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1;
  output->keep();
  return 0;
}

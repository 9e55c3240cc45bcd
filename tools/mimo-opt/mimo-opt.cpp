//===- mimo-opt.cpp - Run mimo passes on textual IR -----------------------===//

#include "mimo/Conversion/Passes.h"
#include "mimo/Dialect/Mimo/MimoDialect.h"
#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Dialect/Mimort/MimortDialect.h"
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
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

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
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "mimo optimizer driver\n", registry));
}

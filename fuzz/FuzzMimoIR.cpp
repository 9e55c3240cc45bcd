//===- FuzzMimoIR.cpp - libFuzzer target: parsing mimo IR -----------------===//
//
// Any bytes as textual IR for mimo-opt: parse (with the dialects mimo-opt
// registers) and verify, then print what verified and parse it again.
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoDialect.h"
#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Dialect/Mimort/MimortDialect.h"
#include "mimo/Support/Nesting.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  static mlir::MLIRContext *context = [] {
    mlir::DialectRegistry registry;
    registry.insert<mimo::MimoDialect, mimo::mimort::MimortDialect,
                    mlir::func::FuncDialect, mlir::arith::ArithDialect,
                    mlir::scf::SCFDialect, mlir::shard::ShardDialect,
                    mlir::tensor::TensorDialect>();
    auto *c = new mlir::MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  // Diagnostics are expected; keep them off stderr.
  mlir::ScopedDiagnosticHandler quiet(
      context, [](mlir::Diagnostic &) { return mlir::success(); });
  // The lexer reads up to a terminating NUL, as a file's MemoryBuffer has
  // (mimo-opt reads files); std::string keeps one after the data.
  std::string text(reinterpret_cast<const char *>(data), size);
  // mimo-opt refuses deeper input before parsing (mimo/Support/Nesting.h).
  if (mimo::bracketNestingDepth(text) > mimo::kMaxIRNesting)
    return 0;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, context);
  if (!module || mlir::failed(mlir::verify(*module)))
    return 0;
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  if (!mlir::parseSourceString<mlir::ModuleOp>(os.str(), context))
    __builtin_trap(); // what verifies must print back to parsable IR
  return 0;
}

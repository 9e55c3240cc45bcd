//===- FuzzSpec.cpp - libFuzzer target: the spec importer -----------------===//
//
// Any bytes as spec JSON: parse and validate, and when valid import the
// model into mimo IR and verify it. Errors are expected; crashes, hangs and
// sanitizer reports are not.
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoDialect.h"
#include "mimo/Spec/SpecImport.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  static mlir::MLIRContext *context = [] {
    auto *c = new mlir::MLIRContext();
    c->loadDialect<mimo::MimoDialect>();
    c->allowUnregisteredDialects(false);
    return c;
  }();
  std::string text(reinterpret_cast<const char *>(data), size);
  llvm::raw_null_ostream errs;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mimo::spec::importSpecText(text, "fuzz.json", *context, {}, errs);
  if (module && mlir::failed(mlir::verify(*module)))
    __builtin_trap(); // the importer must only produce valid IR
  return 0;
}

//===- SpecImport.h - Model spec (JSON) to mimo IR --------------*- C++ -*-===//
//
// Reads a v1 model spec (INTERFACES.md), validates every field and builds the
// `mimo` IR of the model. Errors name the file, the JSON path of the field,
// what was expected and what was found.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_SPEC_SPECIMPORT_H
#define MIMO_SPEC_SPECIMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mimo::spec {

/// Overrides applied on top of the spec's own values (e.g. `mimoc plan
/// --seq 16384 --gbs 128`).
struct ImportOptions {
  std::optional<int64_t> seqLen;
  std::optional<int64_t> globalBatchSize;
};

/// One validation error: where, and what.
struct SpecError {
  std::string path;    ///< JSON path, e.g. "modules[2].heads"
  std::string message; ///< "expected a positive integer, got -3"
};

/// Validates the JSON text of a spec; returns all errors found (empty when
/// valid). `fileName` only labels messages.
std::vector<SpecError> validateSpecText(llvm::StringRef text);

/// Parses, validates and imports a spec file into a new module holding one
/// `mimo.model`. On failure prints "FILE: PATH: MESSAGE" lines to `errs` and
/// returns nullptr.
mlir::OwningOpRef<mlir::ModuleOp>
importSpecFile(llvm::StringRef path, mlir::MLIRContext &context,
               const ImportOptions &options = {},
               llvm::raw_ostream &errs = llvm::errs());

/// Same, from text in memory.
mlir::OwningOpRef<mlir::ModuleOp>
importSpecText(llvm::StringRef text, llvm::StringRef fileName,
               mlir::MLIRContext &context, const ImportOptions &options = {},
               llvm::raw_ostream &errs = llvm::errs());

} // namespace mimo::spec

#endif // MIMO_SPEC_SPECIMPORT_H

//===- MimortOps.h - mimort types, attributes and ops -----------*- C++ -*-===//

#ifndef MIMO_DIALECT_MIMORT_MIMORTOPS_H
#define MIMO_DIALECT_MIMORT_MIMORTOPS_H

#include "mimo/Dialect/Mimort/MimortDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "mimo/Dialect/Mimort/MimortEnums.h.inc"

#define GET_TYPEDEF_CLASSES
#include "mimo/Dialect/Mimort/MimortTypes.h.inc"

#define GET_ATTRDEF_CLASSES
#include "mimo/Dialect/Mimort/MimortAttrs.h.inc"

#define GET_OP_CLASSES
#include "mimo/Dialect/Mimort/MimortOps.h.inc"

namespace mimo::mimort {

/// The runtime's dim mask (rt::DimMask: tp = 1, cp = 2, pp = 4, dp = 8) of
/// a list of dim names; nullopt when a name is unknown or repeated.
std::optional<unsigned> parseDimMask(mlir::ArrayAttr dims);

} // namespace mimo::mimort

#endif // MIMO_DIALECT_MIMORT_MIMORTOPS_H

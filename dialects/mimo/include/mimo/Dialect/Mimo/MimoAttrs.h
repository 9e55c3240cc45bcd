//===- MimoAttrs.h - mimo enums and attributes ------------------*- C++ -*-===//

#ifndef MIMO_DIALECT_MIMO_MIMOATTRS_H
#define MIMO_DIALECT_MIMO_MIMOATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "mimo/Dialect/Mimo/MimoEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "mimo/Dialect/Mimo/MimoAttrs.h.inc"

#endif // MIMO_DIALECT_MIMO_MIMOATTRS_H

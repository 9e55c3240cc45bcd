//===- MimoDialect.h - The mimo graph dialect -------------------*- C++ -*-===//

#ifndef MIMO_DIALECT_MIMO_MIMODIALECT_H
#define MIMO_DIALECT_MIMO_MIMODIALECT_H

#include "mlir/IR/Dialect.h"

#include "mimo/Dialect/Mimo/MimoDialect.h.inc"

#endif // MIMO_DIALECT_MIMO_MIMODIALECT_H

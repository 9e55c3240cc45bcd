//===- MimortDialect.h - The mimort per-rank program dialect ----*- C++ -*-===//

#ifndef MIMO_DIALECT_MIMORT_MIMORTDIALECT_H
#define MIMO_DIALECT_MIMORT_MIMORTDIALECT_H

#include "mlir/IR/Dialect.h"

#include "mimo/Dialect/Mimort/MimortDialect.h.inc"

#endif // MIMO_DIALECT_MIMORT_MIMORTDIALECT_H

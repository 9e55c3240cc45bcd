//===- Passes.h - mimo passes -----------------------------------*- C++ -*-===//

#ifndef MIMO_TRANSFORMS_PASSES_H
#define MIMO_TRANSFORMS_PASSES_H

#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Pass/Pass.h"

namespace mimo {

#define GEN_PASS_DECL
#include "mimo/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mimo/Transforms/Passes.h.inc"

} // namespace mimo

#endif // MIMO_TRANSFORMS_PASSES_H

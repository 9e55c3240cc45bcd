//===- Passes.h - mimo conversion passes ------------------------*- C++ -*-===//

#ifndef MIMO_CONVERSION_PASSES_H
#define MIMO_CONVERSION_PASSES_H

#include "mimo/Conversion/MimortToEmitC/MimortToEmitC.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Pass/Pass.h"

namespace mimo {

#define GEN_PASS_DECL
#include "mimo/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mimo/Conversion/Passes.h.inc"

} // namespace mimo

#endif // MIMO_CONVERSION_PASSES_H

//===- MimortToEmitC.h - mimort to EmitC patterns ---------------*- C++ -*-===//

#ifndef MIMO_CONVERSION_MIMORTTOEMITC_MIMORTTOEMITC_H
#define MIMO_CONVERSION_MIMORTTOEMITC_MIMORTTOEMITC_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mimo {

/// The C++ type every !mimort.buffer (and !mimort.absent) becomes.
inline constexpr const char *kTensorViewCppType = "mimo::kernels::TensorView";
inline constexpr const char *kRequestCppType = "mimo::program::Request";

/// Adds the conversions of the mimort types to `converter`: buffers and
/// absent arguments to the opaque TensorView type, receive requests to
/// mimo::program::Request.
void populateMimortToEmitCTypeConversions(mlir::TypeConverter &converter);

/// Patterns lowering the mimort ops that live inside functions to calls of
/// the support layer (mimo/program/Support.h). The module-level
/// declarations are lowered by the pass itself.
void populateMimortToEmitCPatterns(const mlir::TypeConverter &converter,
                                   mlir::RewritePatternSet &patterns);

} // namespace mimo

#endif // MIMO_CONVERSION_MIMORTTOEMITC_MIMORTTOEMITC_H

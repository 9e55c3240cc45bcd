//===- LocalShapes.h - Shared steps of the passes that localise shapes ----===//
//
// mimo-partition and mimo-pipeline both turn a forward module and its
// backward into one rank's part: these are the steps they share.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_TRANSFORMS_LOCALSHAPES_H
#define MIMO_TRANSFORMS_LOCALSHAPES_H

#include "mimo/Dialect/Mimo/MimoOps.h"

#include "llvm/ADT/StringMap.h"

namespace mimo {

/// Each forward module's backward module, by the forward's name.
llvm::StringMap<ModuleOp> backwardModules(ModelOp model);

/// Gives the backward's residual arguments the types the forward now
/// returns (the backward takes the output gradients, then the residuals).
void retypeResiduals(ModuleOp fwd, ModuleOp bwd);

/// Checks that every parameter gradient of `bwd` has the type of the
/// forward's parameter of that name; the error reads "<pass>: gradient of
/// 'w' is T but the <what> is U".
mlir::LogicalResult checkGradientTypes(ModuleOp fwd, ModuleOp bwd,
                                       llvm::StringRef pass,
                                       llvm::StringRef what);

} // namespace mimo

#endif // MIMO_TRANSFORMS_LOCALSHAPES_H

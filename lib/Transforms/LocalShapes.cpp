//===- LocalShapes.cpp - Shared steps of the passes that localise shapes --===//

#include "LocalShapes.h"

using namespace mlir;

namespace mimo {

llvm::StringMap<ModuleOp> backwardModules(ModelOp model) {
  llvm::StringMap<ModuleOp> backwardOf;
  for (ModuleOp m : model.getModules())
    if (m.getKind() == ModuleKind::backward && m.getInputsAttr() &&
        m.getInputsAttr().size() == 1)
      backwardOf[cast<SymbolRefAttr>(m.getInputsAttr()[0]).getRootReference()] =
          m;
  return backwardOf;
}

void retypeResiduals(ModuleOp fwd, ModuleOp bwd) {
  auto fwdResults = fwd.getFunctionType().getResults();
  int64_t residuals =
      fwd.getResidualsAttr() ? fwd.getResidualsAttr().getInt() : 0;
  unsigned outputs = fwdResults.size() - residuals;
  Block &body = bwd.getBodyBlock();
  unsigned grads = body.getNumArguments() - residuals;
  for (int64_t i = 0; i < residuals; ++i)
    body.getArgument(grads + i).setType(fwdResults[outputs + i]);
}

LogicalResult checkGradientTypes(ModuleOp fwd, ModuleOp bwd, StringRef pass,
                                 StringRef what) {
  llvm::StringMap<Type> paramTypes;
  fwd.walk([&](ParamOp q) { paramTypes[q.getName()] = q.getType(); });
  WalkResult r = bwd.walk([&](ParamGradOp g) -> WalkResult {
    Type t = paramTypes.lookup(g.getName());
    if (t && t != g.getGradient().getType())
      return g.emitError() << pass << ": gradient of '" << g.getName()
                           << "' is " << g.getGradient().getType()
                           << " but the " << what << " is " << t;
    return WalkResult::advance();
  });
  return failure(r.wasInterrupted());
}

} // namespace mimo

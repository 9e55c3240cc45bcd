//===- InsertOffload.cpp - mimo-insert-offload ----------------------------===//
//
// Resolves each module's planned offload (#mimo.parallel's `offload`) into
// the values and parameters that move to host memory, checked against the
// layout; the lowering places the transfers at the schedule's boundaries
// (docs/lowering.md, "Saved values, recompute, offload").
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Transforms/Passes.h"

#include "LocalShapes.h"

namespace mimo {
#define GEN_PASS_DEF_MIMOINSERTOFFLOAD
#include "mimo/Transforms/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;

namespace {

struct MimoInsertOffloadPass
    : public mimo::impl::MimoInsertOffloadBase<MimoInsertOffloadPass> {
  void runOnOperation() override {
    ModelOp model = getOperation();
    MLIRContext *ctx = model.getContext();
    Builder b(ctx);
    llvm::StringMap<mimo::ModuleOp> backwardOf = backwardModules(model);
    auto plan = model.getPlanAttr();
    bool colocated = plan && plan.getLayout() == Layout::colocated;
    for (mimo::ModuleOp m : model.getModules()) {
      if (m.getKind() == ModuleKind::backward || m->hasAttr("mimo.offload"))
        continue;
      auto p = m.getParallelAttr();
      if (!p || !(p.getOffloadActivations() || p.getOffloadParams() ||
                  p.getOffloadOptimizer()))
        continue;
      if (!backwardOf.lookup(m.getSymName()) || !m.getResidualsAttr()) {
        m.emitError() << "mimo-insert-offload: module '" << m.getSymName()
                      << "' has no backward module; run "
                         "mimo-generate-backward first";
        return signalPassFailure();
      }
      bool idleInLlmPhase = colocated && (m.getKind() == ModuleKind::encoder ||
                                          m.getKind() == ModuleKind::projector);
      if ((p.getOffloadActivations() || p.getOffloadParams()) &&
          !idleInLlmPhase) {
        m.emitError() << "mimo-insert-offload: module '" << m.getSymName()
                      << "' offloads "
                      << (p.getOffloadActivations() ? "activations" : "params")
                      << "; only an encoder or projector in the colocated "
                         "layout has an LLM phase to offload them through";
        return signalPassFailure();
      }
      SmallVector<int64_t> residuals;
      if (p.getOffloadActivations()) {
        int64_t count = m.getResidualsAttr().getInt();
        unsigned outputs = m.getFunctionType().getNumResults() - count;
        for (int64_t i = 0; i < count; ++i)
          residuals.push_back(outputs + i);
      }
      // Module-level parameters, in declaration order (stack parameters are
      // hoisted by mimo-generate-backward).
      SmallVector<Attribute> names;
      for (ParamOp q : m.getBodyBlock().getOps<ParamOp>())
        names.push_back(q.getNameAttr());
      ArrayAttr all = b.getArrayAttr(names), none = b.getArrayAttr({});
      m->setAttr(
          "mimo.offload",
          b.getDictionaryAttr(
              {b.getNamedAttr("residuals", b.getDenseI64ArrayAttr(residuals)),
               b.getNamedAttr("params", p.getOffloadParams() ? all : none),
               b.getNamedAttr("optimizer",
                              p.getOffloadOptimizer() ? all : none)}));
    }
  }
};

} // namespace

//===- Bridge.cpp - mimo-bridge -------------------------------------------===//
//
// Places a `mimo.bridge` between each projector and the LLM when the plan
// puts them on different grids (docs/lowering.md, "The colocated schedule"
// and "The disaggregated schedule").
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Transforms/Passes.h"

namespace mimo {
#define GEN_PASS_DEF_MIMOBRIDGE
#include "mimo/Transforms/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;

namespace {

struct Grid {
  int64_t tp = 1, pp = 1, dp = 1, offset = 0;
};

Grid gridOf(mimo::ModuleOp m) {
  Grid g;
  if (auto p = m.getParallelAttr()) {
    g.tp = p.getTp();
    g.pp = p.getPp();
    g.dp = p.getDp();
    g.offset = p.getOffset();
  }
  return g;
}

struct MimoBridgePass : public mimo::impl::MimoBridgeBase<MimoBridgePass> {
  void runOnOperation() override {
    ModelOp model = getOperation();
    if (!model.getBody().front().getOps<BridgeOp>().empty())
      return;
    mimo::ModuleOp llm = model.getLlm();
    if (!llm)
      return;
    auto plan = model.getPlanAttr();
    Layout layout = plan ? plan.getLayout() : Layout::homogeneous;
    Grid target = gridOf(llm);
    bool differ = false;
    for (mimo::ModuleOp m : model.getModules())
      if (m.getKind() != ModuleKind::backward && gridOf(m).dp != target.dp)
        differ = true;
    if (layout == Layout::homogeneous && !differ)
      return;

    OpBuilder b(model.getContext());
    b.setInsertionPointToEnd(&model.getBody().front());
    for (mimo::ModuleOp proj : model.getModules()) {
      if (proj.getKind() != ModuleKind::projector)
        continue;
      auto enc = SymbolTable::lookupNearestSymbolFrom<mimo::ModuleOp>(
          model, cast<SymbolRefAttr>(proj.getInputsAttr()[0]));
      Grid source = gridOf(proj), e = enc ? gridOf(enc) : source;
      if (source.tp != e.tp || source.dp != e.dp || source.pp != e.pp ||
          source.offset != e.offset) {
        proj.emitError() << "mimo-bridge: projector '" << proj.getSymName()
                         << "' must run on its encoder's grid (tp = " << e.tp
                         << ", pp = " << e.pp << ", dp = " << e.dp
                         << ", from rank " << e.offset
                         << "), got tp = " << source.tp
                         << ", pp = " << source.pp << ", dp = " << source.dp
                         << ", from rank " << source.offset;
        return signalPassFailure();
      }
      BridgeKind kind = BridgeKind::equal;
      int64_t factor = 1;
      if (layout == Layout::disaggregated) {
        kind = BridgeKind::leaders;
      } else if (source.dp != target.dp) {
        int64_t hi = std::max(source.dp, target.dp),
                lo = std::min(source.dp, target.dp);
        if (hi % lo != 0) {
          proj.emitError() << "mimo-bridge: projector '" << proj.getSymName()
                           << "' has dp = " << source.dp
                           << " and the LLM dp = " << target.dp
                           << "; the bridge needs one to divide the other";
          return signalPassFailure();
        }
        kind = source.dp > target.dp ? BridgeKind::fan_in : BridgeKind::fan_out;
        factor = hi / lo;
      }
      BridgeOp::create(b, proj.getLoc(),
                       BridgeKindAttr::get(model.getContext(), kind),
                       FlatSymbolRefAttr::get(proj.getSymNameAttr()),
                       FlatSymbolRefAttr::get(llm.getSymNameAttr()),
                       b.getI64IntegerAttr(factor));
    }
  }
};

} // namespace

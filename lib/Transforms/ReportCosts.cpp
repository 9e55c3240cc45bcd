//===- ReportCosts.cpp - mimo-report-costs --------------------------------===//

#include "mimo/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"

namespace mimo {
#define GEN_PASS_DEF_MIMOREPORTCOSTS
#include "mimo/Transforms/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;

namespace {

struct MimoReportCostsPass
    : public mimo::impl::MimoReportCostsBase<MimoReportCostsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModelOp model = getOperation();
    if (tp < 1 || cp < 1) {
      model.emitError() << "mimo-report-costs: tp and cp must be at least 1, "
                           "got tp = "
                        << int64_t(tp) << ", cp = " << int64_t(cp);
      return signalPassFailure();
    }
    cost::CostContext ctx;
    ctx.tp = tp;
    ctx.cp = cp;
    ctx.sequenceParallel = sequenceParallel && tp > 1;
    ctx.bytesPerElement = model.getBytesPerElement();
    for (mimo::ModuleOp m : model.getModules()) {
      cost::OpCost total;
      m.getBody().walk([&](CostOpInterface op) {
        double times = 1;
        for (auto s = op->getParentOfType<StackOp>(); s;
             s = s->getParentOfType<StackOp>())
          times *= s.getCount();
        cost::accumulate(total, op.getCost(ctx), times);
      });
      m.emitRemark() << llvm::formatv(
          "'{0}': params {1}, fwd flops {2}, bwd flops {3}, saved activation "
          "bytes {4}, tp comm bytes {5}",
          m.getSymName(), int64_t(total.params), int64_t(total.fwdFlops),
          int64_t(total.bwdFlops), int64_t(total.savedActivationBytes),
          int64_t(total.tpFwdCommBytes + total.tpBwdCommBytes));
    }
  }
};

} // namespace

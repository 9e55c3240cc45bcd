//===- Pipeline.cpp - mimo-pipeline ---------------------------------------===//
//
// Splits the layer stack of every module whose grid has pp > 1 over its
// pipeline stages: the IR after this pass is one stage's part of the
// module (its L / pp layers, stacked), with the stage split recorded for the
// lowering, which builds the 1F1B or interleaved schedule around it
// (docs/lowering.md, "Pipeline").
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Dialect/Mimo/MimoProfile.h"
#include "mimo/Transforms/Passes.h"

#include "LocalShapes.h"

#include "llvm/ADT/StringMap.h"

namespace mimo {
#define GEN_PASS_DEF_MIMOPIPELINE
#include "mimo/Transforms/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;

namespace {

RankedTensorType withLeading(Type t, int64_t size) {
  auto r = cast<RankedTensorType>(t);
  SmallVector<int64_t> shape(r.getShape());
  shape[0] = size;
  return RankedTensorType::get(shape, r.getElementType());
}

/// The one stack at the top of a module's body (the layers), or null with
/// an error.
StackOp layerStack(mimo::ModuleOp m) {
  SmallVector<StackOp> stacks(m.getBodyBlock().getOps<StackOp>());
  if (stacks.size() != 1) {
    m.emitError() << "mimo-pipeline: module '" << m.getSymName()
                  << "' must hold exactly one layer stack at its top level "
                     "to split over pipeline stages, found "
                  << stacks.size();
    return nullptr;
  }
  return stacks.front();
}

/// A parameter read on both ends of the pipeline (a tied embedding and LM
/// head) gets its gradient from both: `param_grad(add(a, b))` with `a`
/// computed on one side of the backward's layer stack and `b` on the other
/// becomes one `param_grad` per side, each accumulated on its own stage
/// (the lowering sums the stages' copies over pp).
void splitGradientsAcrossStages(mimo::ModuleOp bwd, StackOp stack) {
  Block &block = bwd.getBodyBlock();
  auto side = [&](Value v) -> int {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != &block || def == stack)
      return 0;
    return def->isBeforeInBlock(stack) ? -1 : 1;
  };
  for (ParamGradOp g :
       llvm::make_early_inc_range(block.getOps<ParamGradOp>())) {
    auto add = g.getGradient().getDefiningOp<AddOp>();
    if (!add || !add->hasOneUse())
      continue;
    int lhs = side(add.getLhs()), rhs = side(add.getRhs());
    if (lhs == 0 || rhs == 0 || lhs == rhs)
      continue;
    OpBuilder b(g);
    for (Value part : {add.getLhs(), add.getRhs()}) {
      b.setInsertionPointAfterValue(part);
      ParamGradOp::create(b, g.getLoc(), g.getNameAttr(), part);
    }
    g.erase();
    add.erase();
  }
}

/// Gives `stack` `local` iterations: its stacked operands (parameters or the
/// module's arguments) and its collected results take `local` rows.
LogicalResult shrink(StackOp stack, int64_t local) {
  int64_t count = stack.getCount();
  for (Value xs : stack.getXs()) {
    int64_t rows = cast<RankedTensorType>(xs.getType()).getDimSize(0);
    // (A residual argument may already have its local rows.)
    if (rows != count && rows != local)
      return stack.emitError()
             << "mimo-pipeline: a stacked operand of type " << xs.getType()
             << " does not have " << count << " rows";
    if (auto p = xs.getDefiningOp<ParamOp>()) {
      p.getResult().setType(withLeading(p.getType(), local));
      p->setAttr("mimo.pp_dim",
                 IntegerAttr::get(IntegerType::get(p.getContext(), 64), 0));
      continue;
    }
    auto arg = dyn_cast<BlockArgument>(xs);
    if (!arg || !isa<mimo::ModuleOp>(arg.getOwner()->getParentOp()))
      return stack.emitError()
             << "mimo-pipeline: a stacked operand must be a parameter or an "
                "argument of the module (a residual), got "
             << xs;
    arg.setType(withLeading(arg.getType(), local));
  }
  for (Value r : stack.getCollectedResults())
    r.setType(withLeading(r.getType(), local));
  stack.setCount(local);
  return success();
}

/// The module's type from its body's arguments and returned values.
void updateType(mimo::ModuleOp m) {
  Block &body = m.getBodyBlock();
  auto ret = cast<mimo::ReturnOp>(body.getTerminator());
  m.setFunctionTypeAttr(TypeAttr::get(FunctionType::get(
      m.getContext(), body.getArgumentTypes(), ret.getOperandTypes())));
}

struct MimoPipelinePass
    : public mimo::impl::MimoPipelineBase<MimoPipelinePass> {
  void runOnOperation() override {
    ModelOp model = getOperation();
    MLIRContext *ctx = model.getContext();
    auto plan = model.getPlanAttr();
    int64_t virtualStages = plan ? plan.getVirtualStages() : 1;
    llvm::StringMap<mimo::ModuleOp> backwardOf = backwardModules(model);
    auto i64 = [&](int64_t v) {
      return IntegerAttr::get(IntegerType::get(ctx, 64), v);
    };
    for (mimo::ModuleOp m : model.getModules()) {
      if (m.getKind() == ModuleKind::backward || m->hasAttr("mimo.pipeline") ||
          m->hasAttr("mimo.pp_stage"))
        continue;
      auto p = m.getParallelAttr();
      if (!p || p.getPp() == 1)
        continue;
      int64_t pp = p.getPp();
      if (m.getKind() != ModuleKind::llm) {
        // Megatron's homogeneous layout: the encoder and its projector run
        // whole on the first stage of the shared grid.
        if (plan && plan.getLayout() == Layout::homogeneous) {
          m->setAttr("mimo.pp_stage", i64(0));
          continue;
        }
        m.emitError() << "mimo-pipeline: module '" << m.getSymName()
                      << "' has pp = " << pp
                      << " in a non-homogeneous layout; only the LLM's "
                         "layers are split over pipeline stages";
        return signalPassFailure();
      }
      mimo::ModuleOp bwd = backwardOf.lookup(m.getSymName());
      if (!bwd) {
        m.emitError() << "mimo-pipeline: module '" << m.getSymName()
                      << "' has no backward module; run "
                         "mimo-generate-backward first";
        return signalPassFailure();
      }
      StackOp fwdStack = layerStack(m);
      if (!fwdStack)
        return signalPassFailure();
      StackOp bwdStack = layerStack(bwd);
      if (!bwdStack)
        return signalPassFailure();
      int64_t layers = fwdStack.getCount();
      if (layers % (pp * virtualStages) != 0) {
        m.emitError() << "mimo-pipeline: module '" << m.getSymName() << "' has "
                      << layers << " layers, which pp = " << pp << " stages of "
                      << virtualStages
                      << " virtual stage(s) each cannot split evenly";
        return signalPassFailure();
      }
      int64_t microbatches = model.getGlobalBatchSize() / p.getDp();
      if (virtualStages > 1 && microbatches % pp != 0) {
        m.emitError() << "mimo-pipeline: the interleaved schedule needs the "
                         "microbatches per pipeline ("
                      << microbatches << " = global batch "
                      << model.getGlobalBatchSize() << " / dp " << p.getDp()
                      << ") to be a multiple of pp = " << pp;
        return signalPassFailure();
      }
      if (bwdStack.getCount() != layers) {
        bwdStack.emitError()
            << "mimo-pipeline: the backward stack has " << bwdStack.getCount()
            << " layers, the forward " << layers;
        return signalPassFailure();
      }
      // Model FLOPs before the layers become one stage's.
      if (!m->hasAttr("mimo.flops_per_sample"))
        m->setAttr("mimo.flops_per_sample",
                   FloatAttr::get(
                       Float64Type::get(ctx),
                       trainingFlopsPerSample(m, model.getBytesPerElement())));
      int64_t local = layers / pp;
      if (failed(shrink(fwdStack, local)))
        return signalPassFailure();
      updateType(m);
      // The backward reads the forward's residuals: the same local shapes.
      retypeResiduals(m, bwd);
      if (failed(shrink(bwdStack, local)))
        return signalPassFailure();
      updateType(bwd);
      if (failed(
              checkGradientTypes(m, bwd, "mimo-pipeline", "stage's parameter")))
        return signalPassFailure();
      splitGradientsAcrossStages(bwd, bwdStack);
      m->setAttr(
          "mimo.pipeline",
          DictionaryAttr::get(
              ctx, {NamedAttribute(StringAttr::get(ctx, "layers"), i64(layers)),
                    NamedAttribute(StringAttr::get(ctx, "stages"), i64(pp)),
                    NamedAttribute(StringAttr::get(ctx, "virtual"),
                                   i64(virtualStages))}));
    }
  }
};

} // namespace

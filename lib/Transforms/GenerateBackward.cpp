//===- GenerateBackward.cpp - mimo-generate-backward ----------------------===//
//
// Reverse-mode differentiation of every forward module into a sibling
// backward module (docs/lowering.md, "Backward"). The pass orchestrates three
// steps per module: hoist stack parameters, make attention return its
// log-sum-exp, then sweep the module body in reverse, emitting each op's
// gradient rule into the backward module. Forward values the backward reads
// become residuals: returned by the forward module, or collected per layer
// by the forward stack.
//
//===----------------------------------------------------------------------===//

#include "mimo/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace mimo {
#define GEN_PASS_DEF_MIMOGENERATEBACKWARD
#include "mimo/Transforms/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

RankedTensorType stackedType(int64_t count, Type slice) {
  auto t = cast<RankedTensorType>(slice);
  SmallVector<int64_t> shape = {count};
  llvm::append_range(shape, t.getShape());
  return RankedTensorType::get(shape, t.getElementType());
}

/// Rebuilds `stack` with extra `xs` operands and extra collected results
/// (their per-layer values yielded after the existing ones), moving the
/// body. Returns the new stack; the old one is erased.
StackOp rebuildStack(StackOp stack, ValueRange extraXs,
                     ValueRange extraYields) {
  OpBuilder b(stack);
  SmallVector<Value> xs(stack.getXs());
  llvm::append_range(xs, extraXs);
  SmallVector<Type> ysSlices;
  for (Value r : stack.getCollectedResults())
    ysSlices.push_back(RankedTensorType::get(
        tensorType(r).getShape().drop_front(), tensorType(r).getElementType()));
  for (Value y : extraYields)
    ysSlices.push_back(y.getType());
  auto fresh =
      StackOp::create(b, stack.getLoc(), stack.getCount(), stack.getInits(), xs,
                      ysSlices, stack.getReverse());
  // Keep the old body (its values stay valid) and drop the fresh one.
  Block *oldBody = &stack.getBodyBlock();
  Block *freshBody = &fresh.getBodyBlock();
  oldBody->moveBefore(freshBody);
  for (Value x : extraXs)
    oldBody->addArgument(
        RankedTensorType::get(tensorType(x).getShape().drop_front(),
                              tensorType(x).getElementType()),
        stack.getLoc());
  freshBody->erase();
  auto yield = cast<YieldOp>(oldBody->getTerminator());
  SmallVector<Value> yields(yield.getOperands());
  llvm::append_range(yields, extraYields);
  OpBuilder yb(yield);
  YieldOp::create(yb, yield.getLoc(), yields);
  yield.erase();
  for (auto [from, to] :
       llvm::zip(stack.getResults(),
                 fresh.getResults().take_front(stack.getNumResults())))
    from.replaceAllUsesWith(to);
  stack.erase();
  return fresh;
}

/// Hoists the parameters declared in each stack body of `module` to
/// module-level `[count, ...]` parameters passed as `xs`.
LogicalResult hoistStackParams(mimo::ModuleOp module) {
  SmallVector<StackOp> stacks(module.getBodyBlock().getOps<StackOp>());
  for (auto [index, stack] : llvm::enumerate(stacks)) {
    std::string prefix =
        stacks.size() == 1 ? "layers." : "stack" + std::to_string(index) + ".";
    SmallVector<ParamOp> params(stack.getBodyBlock().getOps<ParamOp>());
    if (params.empty())
      continue;
    WalkResult nested = stack.getBody().walk([](StackOp inner) {
      inner.emitOpError() << "nested stacks are not supported by "
                             "mimo-generate-backward";
      return WalkResult::interrupt();
    });
    if (nested.wasInterrupted())
      return failure();
    OpBuilder b(stack);
    SmallVector<Value> hoisted;
    for (ParamOp p : params)
      hoisted.push_back(ParamOp::create(
          b, p.getLoc(), stackedType(stack.getCount(), p.getType()),
          b.getStringAttr(prefix + p.getName().str()), p.getInitAttr(),
          p.getStdAttr()));
    StackOp fresh = rebuildStack(stack, hoisted, {});
    auto args = fresh.getSliceArguments().take_back(params.size());
    for (auto [p, arg] : llvm::zip(params, args)) {
      p.getResult().replaceAllUsesWith(arg);
      p.erase();
    }
  }
  return success();
}

/// Makes every attention in `module` return its log-sum-exp.
void addAttentionLse(mimo::ModuleOp module) {
  SmallVector<AttentionOp> ops;
  module.walk([&](AttentionOp op) {
    if (!op.getLse())
      ops.push_back(op);
  });
  for (AttentionOp op : ops) {
    OpBuilder b(op);
    int64_t tokens = tensorType(op.getQuery()).getDimSize(0);
    auto lse = RankedTensorType::get({tokens, op.getHeads()}, b.getF32Type());
    auto fresh = AttentionOp::create(
        b, op.getLoc(), op.getResult().getType(), lse, op.getQuery(),
        op.getKey(), op.getValue(), op.getHeadsAttr(), op.getKvHeadsAttr(),
        op.getCausalAttr(), op.getSegmentAttr(), op.getRopeThetaAttr());
    op.getResult().replaceAllUsesWith(fresh.getResult());
    op.erase();
  }
}

/// Differentiates one block (a module body or a stack body) in reverse,
/// emitting gradient ops at `builder`'s insertion point. `resolve` gives the
/// backward-side value of a forward value the backward reads.
class BlockDifferentiator {
public:
  BlockDifferentiator(OpBuilder &builder, std::function<Value(Value)> resolve)
      : b(builder), resolve(std::move(resolve)) {}

  void seed(Value forward, Value grad) { accumulate(forward, grad); }
  Value gradOf(Value forward) const { return grads.lookup(forward); }

  /// Adds `grad` to the gradient of `forward`.
  void accumulate(Value forward, Value grad) {
    auto it = grads.find(forward);
    if (it == grads.end()) {
      grads[forward] = grad;
      return;
    }
    it->second = AddOp::create(b, grad.getLoc(), it->second, grad).getResult();
  }

  /// A zero tensor of `type`, for gradients that nothing produced.
  Value zeros(Location loc, Type type) {
    auto t = cast<RankedTensorType>(type);
    return arith::ConstantOp::create(
               b, loc, t,
               DenseElementsAttr::get(t,
                                      b.getFloatAttr(t.getElementType(), 0.0)))
        .getResult();
  }

  /// Emits the gradient of one forward op, if any of its results has one.
  LogicalResult differentiate(Operation *op);

private:
  OpBuilder &b;
  std::function<Value(Value)> resolve;
  llvm::DenseMap<Value, Value> grads;
};

LogicalResult BlockDifferentiator::differentiate(Operation *op) {
  Location loc = op->getLoc();
  if (isa<ReturnOp, YieldOp, ParamOp>(op))
    return success(); // parameters are handled by the caller
  if (auto ce = dyn_cast<CrossEntropyOp>(op)) {
    Value gLoss = gradOf(ce.getLoss());
    if (!gLoss)
      return success();
    auto g = CrossEntropyGradOp::create(
        b, loc, ce.getLogits().getType(), resolve(ce.getLogits()),
        resolve(ce.getLabels()), gLoss, ce.getIgnoreIndexAttr(),
        ce.getParallelAttr());
    accumulate(ce.getLogits(), g.getResult());
    return success();
  }
  Value gOut = op->getNumResults() ? gradOf(op->getResult(0)) : Value();
  if (!gOut)
    return success();
  if (auto lin = dyn_cast<LinearOp>(op)) {
    Type biasType = lin.getBias() ? lin.getBias().getType() : Type();
    auto g = LinearGradOp::create(
        b, loc, lin.getInput().getType(), lin.getWeight().getType(), biasType,
        gOut, resolve(lin.getInput()), resolve(lin.getWeight()),
        lin.getParallelAttr(), lin.getTransposeWeightAttr(),
        lin.getBias() ? b.getUnitAttr() : UnitAttr());
    accumulate(lin.getInput(), g.getInputGrad());
    accumulate(lin.getWeight(), g.getWeightGrad());
    if (lin.getBias())
      accumulate(lin.getBias(), g.getBiasGrad());
    return success();
  }
  if (auto attn = dyn_cast<AttentionOp>(op)) {
    auto g = AttentionGradOp::create(
        b, loc, attn.getQuery().getType(), attn.getKey().getType(),
        attn.getValue().getType(), gOut, resolve(attn.getQuery()),
        resolve(attn.getKey()), resolve(attn.getValue()),
        resolve(attn.getResult()), resolve(attn.getLse()), attn.getHeadsAttr(),
        attn.getKvHeadsAttr(), attn.getCausalAttr(), attn.getSegmentAttr(),
        attn.getRopeThetaAttr());
    accumulate(attn.getQuery(), g.getQueryGrad());
    accumulate(attn.getKey(), g.getKeyGrad());
    accumulate(attn.getValue(), g.getValueGrad());
    return success();
  }
  if (auto ln = dyn_cast<LayerNormOp>(op)) {
    auto g = LayerNormGradOp::create(
        b, loc, ln.getInput().getType(), ln.getGamma().getType(),
        ln.getBeta().getType(), gOut, resolve(ln.getInput()),
        resolve(ln.getGamma()), ln.getEpsAttr());
    accumulate(ln.getInput(), g.getInputGrad());
    accumulate(ln.getGamma(), g.getGammaGrad());
    accumulate(ln.getBeta(), g.getBetaGrad());
    return success();
  }
  if (auto rms = dyn_cast<RmsNormOp>(op)) {
    auto g = RmsNormGradOp::create(
        b, loc, rms.getInput().getType(), rms.getGamma().getType(), gOut,
        resolve(rms.getInput()), resolve(rms.getGamma()), rms.getEpsAttr());
    accumulate(rms.getInput(), g.getInputGrad());
    accumulate(rms.getGamma(), g.getGammaGrad());
    return success();
  }
  if (auto gelu = dyn_cast<GeluOp>(op)) {
    auto g = GeluGradOp::create(b, loc, gOut, resolve(gelu.getInput()));
    accumulate(gelu.getInput(), g.getResult());
    return success();
  }
  if (auto sw = dyn_cast<SwigluOp>(op)) {
    auto g = SwigluGradOp::create(b, loc, sw.getGate().getType(),
                                  sw.getUp().getType(), gOut,
                                  resolve(sw.getGate()), resolve(sw.getUp()));
    accumulate(sw.getGate(), g.getGateGrad());
    accumulate(sw.getUp(), g.getUpGrad());
    return success();
  }
  if (auto add = dyn_cast<AddOp>(op)) {
    accumulate(add.getLhs(), gOut);
    accumulate(add.getRhs(), gOut);
    return success();
  }
  if (auto emb = dyn_cast<EmbeddingOp>(op)) {
    auto g =
        EmbeddingGradOp::create(b, loc, emb.getTable().getType(), gOut,
                                resolve(emb.getIds()), emb.getParallelAttr());
    accumulate(emb.getTable(), g.getResult());
    return success();
  }
  if (auto pe = dyn_cast<PatchEmbedOp>(op)) {
    Type clsType = pe.getClassTokens() ? pe.getClassTokens().getType() : Type();
    auto g = PatchEmbedGradOp::create(
        b, loc, pe.getWeight().getType(), pe.getBias().getType(),
        pe.getPositions().getType(), clsType, gOut, resolve(pe.getPixels()),
        pe.getPatchSizeAttr());
    accumulate(pe.getWeight(), g.getWeightGrad());
    accumulate(pe.getBias(), g.getBiasGrad());
    accumulate(pe.getPositions(), g.getPositionsGrad());
    if (pe.getClassTokens())
      accumulate(pe.getClassTokens(), g.getClassTokensGrad());
    return success();
  }
  if (auto merge = dyn_cast<MergeModalitiesOp>(op)) {
    SmallVector<Type> sourceTypes(merge.getSources().getTypes());
    auto g = MergeModalitiesGradOp::create(
        b, loc, merge.getText().getType(), sourceTypes, gOut,
        resolve(merge.getIds()), merge.getPlaceholderIdsAttr());
    accumulate(merge.getText(), g.getTextGrad());
    for (auto [src, grad] : llvm::zip(merge.getSources(), g.getSourceGrads()))
      accumulate(src, grad);
    return success();
  }
  return op->emitOpError() << "has no gradient rule";
}

/// Builds the backward of one forward module.
class ModuleDifferentiator {
public:
  ModuleDifferentiator(mimo::ModuleOp forward) : fwd(forward) {}

  LogicalResult run();

private:
  /// Backward-side value of a forward module-level value.
  Value resolveModule(Value v);
  LogicalResult differentiateStack(StackOp stack, BlockDifferentiator &outer);

  mimo::ModuleOp fwd;
  mimo::ModuleOp bwd;
  Block *bwdBlock = nullptr;
  OpBuilder b{fwd.getContext()};
  /// Forward values returned as residuals, with their backward arguments.
  llvm::MapVector<Value, Value> residuals;
  llvm::StringMap<Value> redeclaredParams;
};

Value ModuleDifferentiator::resolveModule(Value v) {
  if (auto p = v.getDefiningOp<ParamOp>()) {
    Value &slot = redeclaredParams[p.getName()];
    if (!slot) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(bwdBlock);
      slot = ParamOp::create(b, p.getLoc(), p.getType(), p.getNameAttr(),
                             p.getInitAttr(), p.getStdAttr())
                 .getResult();
    }
    return slot;
  }
  Value &arg = residuals[v];
  if (!arg)
    arg = bwdBlock->addArgument(v.getType(), v.getLoc());
  return arg;
}

LogicalResult
ModuleDifferentiator::differentiateStack(StackOp stack,
                                         BlockDifferentiator &outer) {
  Location loc = stack.getLoc();
  Block &body = stack.getBodyBlock();
  unsigned carried = stack.getNumCarried();
  for (Value r : stack.getCollectedResults())
    if (outer.gradOf(r))
      return stack.emitOpError()
             << "collected results with gradients are not supported";
  // Read before the stack is rebuilt: the gradients are keyed on its results.
  SmallVector<Value> carriedGrads;
  for (Value r : stack.getCarriedResults())
    carriedGrads.push_back(outer.gradOf(r));

  // The backward body: carried gradients first, slices appended on demand.
  Block *bb = new Block();
  for (Value r : stack.getCarriedResults())
    bb->addArgument(r.getType(), loc);
  // Each backward xs is either a forward xs (a hoisted parameter, by index)
  // or a per-layer residual the forward stack must collect (by index).
  struct SliceSource {
    bool fromForwardXs;
    unsigned index;
  };
  SmallVector<SliceSource> sources;
  llvm::DenseMap<Value, Value> sliceOf;
  SmallVector<Value> collect; // forward body values yielded as residuals

  OpBuilder bodyBuilder(fwd.getContext());
  bodyBuilder.setInsertionPointToEnd(bb);
  auto resolveBody = [&](Value v) -> Value {
    Value &slice = sliceOf[v];
    if (slice)
      return slice;
    auto arg = dyn_cast<BlockArgument>(v);
    if (arg && arg.getOwner() == &body && arg.getArgNumber() >= carried) {
      sources.push_back({true, arg.getArgNumber() - carried});
    } else {
      sources.push_back({false, static_cast<unsigned>(collect.size())});
      collect.push_back(v);
    }
    slice = bb->addArgument(v.getType(), v.getLoc());
    return slice;
  };
  BlockDifferentiator inner(bodyBuilder, resolveBody);
  auto yield = cast<YieldOp>(body.getTerminator());
  // Iteration i's carried gradient is the gradient of its carried yields.
  for (unsigned i = 0; i < carried; ++i)
    inner.seed(yield.getOperand(i), bb->getArgument(i));
  for (Operation &op : llvm::reverse(body.without_terminator()))
    if (failed(inner.differentiate(&op)))
      return failure();

  // Backward yields: gradients of the carried inputs, then of every forward
  // xs that got one (the hoisted parameters).
  SmallVector<Value> yields;
  for (unsigned i = 0; i < carried; ++i) {
    Value g = inner.gradOf(body.getArgument(i));
    yields.push_back(g ? g : inner.zeros(loc, body.getArgument(i).getType()));
  }
  SmallVector<unsigned> gradXs;
  for (unsigned j = 0; j < stack.getXs().size(); ++j)
    if (Value g = inner.gradOf(body.getArgument(carried + j))) {
      yields.push_back(g);
      gradXs.push_back(j);
    }
  SmallVector<Type> ysSlices;
  for (Value y : ArrayRef<Value>(yields).drop_front(carried))
    ysSlices.push_back(y.getType());
  YieldOp::create(bodyBuilder, loc, yields);

  // The forward stack collects the residuals its backward reads.
  unsigned oldCollected = stack.getCollectedResults().size();
  SmallVector<Value> oldResults(stack.getResults());
  StackOp fresh = rebuildStack(stack, {}, collect);
  // Residuals already taken from the old stack's results now come from the
  // new one.
  llvm::MapVector<Value, Value> rekeyed;
  for (auto &[value, arg] : residuals) {
    Value key = value;
    for (auto [i, old] : llvm::enumerate(oldResults))
      if (old == value)
        key = fresh.getResult(i);
    rekeyed[key] = arg;
  }
  residuals = std::move(rekeyed);

  // Outer operands of the backward stack, then the stack itself.
  SmallVector<Value> inits, xs;
  for (unsigned i = 0; i < carried; ++i)
    inits.push_back(carriedGrads[i]
                        ? carriedGrads[i]
                        : outer.zeros(loc, fresh.getResult(i).getType()));
  for (SliceSource s : sources)
    xs.push_back(resolveModule(
        s.fromForwardXs ? fresh.getXs()[s.index]
                        : fresh.getResult(carried + oldCollected + s.index)));
  auto back = StackOp::create(b, loc, fresh.getCount(), inits, xs, ysSlices,
                              !fresh.getReverse());
  Block *placeholder = &back.getBodyBlock();
  bb->insertBefore(placeholder);
  placeholder->erase();

  for (unsigned i = 0; i < carried; ++i)
    outer.accumulate(fresh.getInits()[i], back.getResult(i));
  for (auto [k, j] : llvm::enumerate(gradXs))
    outer.accumulate(fresh.getXs()[j], back.getResult(carried + k));
  return success();
}

LogicalResult ModuleDifferentiator::run() {
  if (failed(hoistStackParams(fwd)))
    return failure();
  addAttentionLse(fwd);

  auto model = fwd->getParentOfType<ModelOp>();
  std::string name = fwd.getSymName().str() + "_grad";
  if (SymbolTable::lookupSymbolIn(model, name))
    return fwd.emitOpError() << "cannot name its backward module '" << name
                             << "': the model already has a symbol by that "
                                "name";
  b.setInsertionPointAfter(fwd);
  MLIRContext *ctx = fwd.getContext();
  bwd = mimo::ModuleOp::create(
      b, fwd.getLoc(), b.getStringAttr(name),
      TypeAttr::get(b.getFunctionType({}, {})),
      ModuleKindAttr::get(ctx, ModuleKind::backward),
      b.getArrayAttr({FlatSymbolRefAttr::get(ctx, fwd.getSymName())}),
      ParallelAttr(), IntegerAttr());
  bwdBlock = new Block();
  bwd.getBody().push_back(bwdBlock);
  b.setInsertionPointToEnd(bwdBlock);

  // Output gradients: the loss seed for the LLM, one per output otherwise.
  auto ret = cast<ReturnOp>(fwd.getBodyBlock().getTerminator());
  BlockDifferentiator diff(b, [&](Value v) { return resolveModule(v); });
  if (fwd.getKind() == ModuleKind::llm) {
    diff.seed(ret.getOperand(0),
              bwdBlock->addArgument(ret.getOperand(0).getType(), ret.getLoc()));
  } else {
    for (Value out : ret.getOperands())
      diff.seed(out, bwdBlock->addArgument(out.getType(), ret.getLoc()));
  }

  SmallVector<Operation *> ops;
  for (Operation &op : fwd.getBodyBlock().without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops)) {
    if (auto stack = dyn_cast<StackOp>(op)) {
      if (failed(differentiateStack(stack, diff)))
        return failure();
      continue;
    }
    if (auto p = dyn_cast<ParamOp>(op)) {
      if (Value g = diff.gradOf(p.getResult()))
        ParamGradOp::create(b, p.getLoc(), p.getNameAttr(), g);
      continue;
    }
    if (failed(diff.differentiate(op)))
      return failure();
  }

  // Gradients of the inputs other modules produce.
  SmallVector<Value> inputGrads;
  unsigned first = fwd.getKind() == ModuleKind::llm ? 2 : 0;
  if (fwd.getKind() != ModuleKind::encoder)
    for (BlockArgument arg :
         fwd.getBodyBlock().getArguments().drop_front(first)) {
      Value g = diff.gradOf(arg);
      inputGrads.push_back(g ? g : diff.zeros(arg.getLoc(), arg.getType()));
    }
  ReturnOp::create(b, fwd.getLoc(), inputGrads);
  bwd.setFunctionTypeAttr(TypeAttr::get(b.getFunctionType(
      bwdBlock->getArgumentTypes(), ValueRange(inputGrads).getTypes())));

  // The forward returns its residuals after its outputs.
  SmallVector<Value> results(ret.getOperands());
  for (auto &entry : residuals)
    results.push_back(entry.first);
  OpBuilder rb(ret);
  ReturnOp::create(rb, ret.getLoc(), results);
  ret.erase();
  fwd.setFunctionTypeAttr(TypeAttr::get(b.getFunctionType(
      fwd.getFunctionType().getInputs(), ValueRange(results).getTypes())));
  fwd.setResidualsAttr(b.getI64IntegerAttr(residuals.size()));
  return success();
}

struct MimoGenerateBackwardPass
    : public mimo::impl::MimoGenerateBackwardBase<MimoGenerateBackwardPass> {
  using Base::Base;

  void runOnOperation() override {
    ModelOp model = getOperation();
    SmallVector<mimo::ModuleOp> forward;
    for (mimo::ModuleOp m : model.getModules()) {
      if (m.getKind() == ModuleKind::backward) {
        m.emitOpError() << "the model already has backward modules";
        return signalPassFailure();
      }
      forward.push_back(m);
    }
    for (mimo::ModuleOp m : forward)
      if (failed(ModuleDifferentiator(m).run()))
        return signalPassFailure();
  }
};

} // namespace

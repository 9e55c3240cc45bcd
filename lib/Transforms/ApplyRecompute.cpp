//===- ApplyRecompute.cpp - mimo-apply-recompute --------------------------===//
//
// Activation recompute (Chen et al. 2016; Korthikanti et al. 2022 sec. 5):
// the backward layer re-runs forward ops instead of reading what the forward
// kept. The forward stack then keeps less (the layer input, or the layers
// past the first N), and the backward stack rebuilds the rest in a
// `mimo.recompute` region (docs/lowering.md, "Saved values, recompute,
// offload").
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Transforms/Passes.h"

#include "LocalShapes.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mimo {
#define GEN_PASS_DEF_MIMOAPPLYRECOMPUTE
#include "mimo/Transforms/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;

namespace {

RankedTensorType sliceOf(Type t) {
  auto r = cast<RankedTensorType>(t);
  return RankedTensorType::get(r.getShape().drop_front(), r.getElementType());
}

RankedTensorType stackedOf(int64_t count, Type slice) {
  auto r = cast<RankedTensorType>(slice);
  SmallVector<int64_t> shape{count};
  llvm::append_range(shape, r.getShape());
  return RankedTensorType::get(shape, r.getElementType());
}

/// Rebuilds `stack` with the slice operands `xs` and the collected values
/// `ys`. `xsArgs` gives, for each of `xs`, the slice argument it keeps (in
/// their original order) or null for a new one (after the kept ones);
/// `oldYs` the old collected result each of `ys` replaces, or null. The body
/// block moves over, so values inside it stay valid; slice arguments and
/// collected results left out must be unused.
StackOp rebuildStack(StackOp stack, ArrayRef<Value> xs,
                     ArrayRef<BlockArgument> xsArgs, ArrayRef<Value> ys,
                     ArrayRef<Value> oldYs) {
  OpBuilder b(stack);
  SmallVector<Type> ysSlices;
  for (Value y : ys)
    ysSlices.push_back(y.getType());
  auto fresh =
      StackOp::create(b, stack.getLoc(), stack.getCount(), stack.getInits(), xs,
                      ysSlices, stack.getReverse());
  fresh->setDiscardableAttrs(stack->getDiscardableAttrDictionary());
  Block *body = &stack.getBodyBlock();
  Block *freshBody = &fresh.getBodyBlock();
  body->moveBefore(freshBody);
  freshBody->erase();
  unsigned carried = stack.getNumCarried();
  llvm::BitVector drop(body->getNumArguments());
  for (unsigned i = carried; i < body->getNumArguments(); ++i)
    if (!llvm::is_contained(xsArgs, body->getArgument(i)))
      drop.set(i);
  body->eraseArguments(drop);
  for (auto [x, arg] : llvm::zip(xs, xsArgs))
    if (!arg)
      body->addArgument(sliceOf(x.getType()), stack.getLoc());
  auto yield = cast<YieldOp>(body->getTerminator());
  SmallVector<Value> yields(yield.getOperands().take_front(carried));
  llvm::append_range(yields, ys);
  OpBuilder yb(yield);
  YieldOp::create(yb, yield.getLoc(), yields);
  yield.erase();
  for (unsigned k = 0; k < carried; ++k)
    stack.getResult(k).replaceAllUsesWith(fresh.getResult(k));
  for (unsigned i = 0; i < oldYs.size(); ++i)
    if (Value old = oldYs[i])
      old.replaceAllUsesWith(fresh.getResult(carried + i));
  stack.erase();
  return fresh;
}

/// The values `stack`'s layer yields into its collected results.
SmallVector<Value> collectedYields(StackOp stack) {
  auto yield = cast<YieldOp>(stack.getBodyBlock().getTerminator());
  return SmallVector<Value>(
      yield.getOperands().drop_front(stack.getNumCarried()));
}

/// Rebuilds `stack` with the slice operands `xs` (see rebuildStack), its
/// collected results unchanged.
StackOp withXs(StackOp stack, ArrayRef<Value> xs,
               ArrayRef<BlockArgument> xsArgs) {
  SmallVector<Value> oldYs(stack.getCollectedResults());
  return rebuildStack(stack, xs, xsArgs, collectedYields(stack), oldYs);
}

/// Rebuilds `stack` with one more slice operand `x`, last.
StackOp appendXs(StackOp stack, Value x) {
  SmallVector<Value> xs(stack.getXs());
  SmallVector<BlockArgument> xsArgs(stack.getSliceArguments());
  xs.push_back(x);
  xsArgs.push_back(BlockArgument());
  return withXs(stack, xs, xsArgs);
}

/// Rebuilds `stack` with the collected values `ys` (see rebuildStack), its
/// slice operands unchanged.
StackOp withCollected(StackOp stack, ArrayRef<Value> ys,
                      ArrayRef<Value> oldYs) {
  SmallVector<Value> xs(stack.getXs());
  SmallVector<BlockArgument> xsArgs(stack.getSliceArguments());
  return rebuildStack(stack, xs, xsArgs, ys, oldYs);
}

/// The module's type from its body's arguments and returned values.
void updateType(mimo::ModuleOp m) {
  Block &body = m.getBodyBlock();
  auto ret = cast<mimo::ReturnOp>(body.getTerminator());
  m.setFunctionTypeAttr(TypeAttr::get(FunctionType::get(
      m.getContext(), body.getArgumentTypes(), ret.getOperandTypes())));
}

/// One value the forward layer keeps for the backward layer.
struct Kept {
  Value inLayer;       ///< the yielded value in the forward layer
  unsigned collected;  ///< its collected-result index in the forward stack
  BlockArgument arg;   ///< the backward module's residual argument
  BlockArgument slice; ///< its slice argument in the backward stack
};

class Recompute {
public:
  Recompute(mimo::ModuleOp fwd, mimo::ModuleOp bwd, ParallelAttr plan)
      : fwd(fwd), bwd(bwd), plan(plan) {}
  LogicalResult run();

private:
  LogicalResult collectKept();
  /// The backward layer's value for a value of the forward layer that is
  /// not recomputed: a kept value's slice, a parameter slice, the layer
  /// input. Adds slice operands to the backward stack as needed.
  FailureOr<Value> backwardValue(Value v);
  /// Makes the forward stack collect `v` and the backward stack read it.
  BlockArgument keep(Value v);
  BlockArgument readParam(ParamOp p);
  void dropUnused();

  mimo::ModuleOp fwd, bwd;
  ParallelAttr plan;
  StackOp fs, bs;
  SmallVector<Kept> kept;
};

LogicalResult Recompute::collectKept() {
  kept.clear();
  Block &body = fs.getBodyBlock();
  auto yield = cast<YieldOp>(body.getTerminator());
  auto ret = cast<mimo::ReturnOp>(fwd.getBodyBlock().getTerminator());
  int64_t residuals = fwd.getResidualsAttr().getInt();
  unsigned outputs = ret.getNumOperands() - residuals;
  Block &bbody = bwd.getBodyBlock();
  unsigned grads = bbody.getNumArguments() - residuals;
  unsigned carried = fs.getNumCarried();
  for (auto [k, r] : llvm::enumerate(fs.getCollectedResults())) {
    for (OpOperand &use : r.getUses()) {
      if (use.getOwner() != ret || use.getOperandNumber() < outputs)
        continue;
      BlockArgument arg =
          bbody.getArgument(grads + use.getOperandNumber() - outputs);
      BlockArgument slice;
      for (OpOperand &u : arg.getUses())
        if (u.getOwner() == bs && u.getOperandNumber() >= bs.getNumCarried())
          slice = bs.getBodyBlock().getArgument(u.getOperandNumber());
      kept.push_back({yield.getOperand(carried + k), unsigned(k), arg, slice});
      break;
    }
  }
  return success();
}

BlockArgument Recompute::keep(Value v) {
  for (const Kept &k : kept)
    if (k.inLayer == v && k.slice)
      return k.slice;
  // The forward collects it and returns it as one more residual.
  SmallVector<Value> ys = collectedYields(fs);
  SmallVector<Value> oldYs(fs.getCollectedResults());
  ys.push_back(v);
  oldYs.push_back(Value());
  fs = withCollected(fs, ys, oldYs);
  Value stacked = fs.getResults().back();
  auto ret = cast<mimo::ReturnOp>(fwd.getBodyBlock().getTerminator());
  SmallVector<Value> returned(ret.getOperands());
  returned.push_back(stacked);
  OpBuilder rb(ret);
  mimo::ReturnOp::create(rb, ret.getLoc(), returned);
  ret.erase();
  fwd.setResidualsAttr(IntegerAttr::get(IntegerType::get(fwd.getContext(), 64),
                                        fwd.getResidualsAttr().getInt() + 1));
  updateType(fwd);
  BlockArgument arg =
      bwd.getBodyBlock().addArgument(stacked.getType(), fwd.getLoc());
  updateType(bwd);
  bs = appendXs(bs, arg);
  (void)collectKept();
  return bs.getSliceArguments().back();
}

BlockArgument Recompute::readParam(ParamOp p) {
  // The backward module's parameter of that name, declared if it has none.
  ParamOp mine;
  bwd.walk([&](ParamOp q) {
    if (q.getName() == p.getName() && q->getParentOp() == bwd)
      mine = q;
  });
  if (!mine) {
    OpBuilder b(&bwd.getBodyBlock(), bwd.getBodyBlock().begin());
    mine = cast<ParamOp>(b.clone(*p));
  }
  for (OpOperand &use : mine.getResult().getUses())
    if (use.getOwner() == bs && use.getOperandNumber() >= bs.getNumCarried())
      return bs.getBodyBlock().getArgument(use.getOperandNumber());
  if (!mine->isBeforeInBlock(bs))
    mine->moveBefore(bs);
  bs = appendXs(bs, mine);
  (void)collectKept();
  return bs.getSliceArguments().back();
}

FailureOr<Value> Recompute::backwardValue(Value v) {
  Block &body = fs.getBodyBlock();
  if (auto arg = dyn_cast<BlockArgument>(v); arg && arg.getOwner() != &body)
    return fs.emitError() << "mimo-apply-recompute: a recomputed layer of "
                             "module '"
                          << fwd.getSymName()
                          << "' reads a module argument inside its stack";
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getArgNumber() < fs.getNumCarried())
      return Value(keep(v)); // the layer input: the checkpoint
    Value xs = fs.getXs()[arg.getArgNumber() - fs.getNumCarried()];
    if (auto p = xs.getDefiningOp<ParamOp>())
      return Value(readParam(p));
    return fs.emitError() << "mimo-apply-recompute: module '"
                          << fwd.getSymName()
                          << "': a recomputed layer reads a stacked operand "
                             "that is not a parameter";
  }
  return Value(keep(v)); // a kept value's slice, collected if need be
}

/// Backward-side values are found per leaf; the region clones the forward
/// layer's ops that produce `targets` from `leaves`.
LogicalResult Recompute::run() {
  auto stacksOf = [](mimo::ModuleOp m) {
    return SmallVector<StackOp>(m.getBodyBlock().getOps<StackOp>());
  };
  SmallVector<StackOp> fstacks = stacksOf(fwd), bstacks = stacksOf(bwd);
  if (fstacks.empty())
    return success(); // nothing per layer to recompute (a projector)
  if (fstacks.size() != 1 || bstacks.size() != 1)
    return fwd.emitError() << "mimo-apply-recompute: module '"
                           << fwd.getSymName()
                           << "' must hold one layer stack (and its backward "
                              "one), found "
                           << fstacks.size() << " and " << bstacks.size();
  fs = fstacks.front();
  bs = bstacks.front();
  RecomputeKind kind = plan.getRecompute();
  std::optional<int64_t> layers;
  if (kind == RecomputeKind::layers) {
    int64_t n = plan.getRecomputeLayers();
    if (n < 1 || n > fs.getCount())
      return fwd.emitError()
             << "mimo-apply-recompute: module '" << fwd.getSymName()
             << "' recomputes " << n << " layers but its stack holds "
             << fs.getCount() << " (per pipeline stage)";
    if (n < fs.getCount())
      layers = n;
  }
  if (failed(collectKept()))
    return failure();

  // What the backward layer recomputes.
  Block &body = fs.getBodyBlock();
  SmallVector<Value> targets;
  for (const Kept &k : kept) {
    if (!k.slice || isa<BlockArgument>(k.inLayer))
      continue;
    Operation *def = k.inLayer.getDefiningOp();
    if (def->getBlock() != &body)
      continue;
    if (kind == RecomputeKind::selective && !isa<AttentionOp>(def))
      continue;
    if (!llvm::is_contained(targets, k.inLayer))
      targets.push_back(k.inLayer);
  }
  if (targets.empty())
    return success();
  // The ops to clone: everything the targets depend on inside the layer,
  // down to the layer's arguments and (selective) the kept values.
  llvm::DenseSet<Value> stopAt;
  if (kind == RecomputeKind::selective)
    for (const Kept &k : kept)
      if (k.slice && !llvm::is_contained(targets, k.inLayer))
        stopAt.insert(k.inLayer);
  llvm::SetVector<Operation *> needed;
  SmallVector<Value> work(targets);
  llvm::SetVector<Value> leaves;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != &body || stopAt.contains(v)) {
      if (def && def->getBlock() != &body && def->getNumOperands() == 0) {
        needed.insert(def); // a constant or parameter from outside
        continue;
      }
      if (def && def->getBlock() != &body)
        return def->emitError()
               << "mimo-apply-recompute: a recomputed layer of module '"
               << fwd.getSymName()
               << "' reads a value computed outside its stack";
      leaves.insert(v);
      continue;
    }
    if (!needed.insert(def))
      continue;
    if (def->getNumRegions())
      return def->emitError() << "mimo-apply-recompute: cannot recompute an "
                                 "op with regions";
    llvm::append_range(work, def->getOperands());
  }
  // Backward-side values of the leaves (adding slices to the stacks may
  // rebuild them: resolve every leaf before building the region).
  // (Rebuilding a stack moves its body: block arguments stay valid.)
  SmallVector<Value> leafList(leaves.begin(), leaves.end());
  // Region arguments in the layer's order: its arguments, then values.
  llvm::sort(leafList, [&](Value a, Value c) {
    auto aa = dyn_cast<BlockArgument>(a), ca = dyn_cast<BlockArgument>(c);
    if (aa && ca)
      return aa.getArgNumber() < ca.getArgNumber();
    if (aa || ca)
      return bool(aa);
    return a.getDefiningOp()->isBeforeInBlock(c.getDefiningOp());
  });
  SmallVector<Value> inputs;
  for (Value leaf : leafList) {
    FailureOr<Value> v = backwardValue(leaf);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  SmallVector<Value> saved;
  SmallVector<BlockArgument> targetSlices;
  for (Value t : targets)
    for (const Kept &k : kept)
      if (k.inLayer == t && k.slice) {
        targetSlices.push_back(k.slice);
        break;
      }
  if (layers)
    saved.assign(targetSlices.begin(), targetSlices.end());

  // The region, first in the backward layer.
  Block &bbody = bs.getBodyBlock();
  OpBuilder b(&bbody, bbody.begin());
  SmallVector<Type> types;
  for (Value t : targets)
    types.push_back(t.getType());
  auto rc = RecomputeOp::create(b, fs.getLoc(), types, inputs, saved,
                                layers ? b.getI64IntegerAttr(*layers)
                                       : IntegerAttr());
  Block *region = new Block();
  rc.getBody().push_back(region);
  IRMapping map;
  for (auto [leaf, input] : llvm::zip(leafList, inputs))
    map.map(leaf, region->addArgument(input.getType(), input.getLoc()));
  OpBuilder rb = OpBuilder::atBlockEnd(region);
  SmallVector<Operation *> order(needed.begin(), needed.end());
  llvm::sort(order, [&](Operation *a, Operation *c) {
    // Outside ops (constants, params) first, then the layer's order.
    bool ai = a->getBlock() == &body, ci = c->getBlock() == &body;
    if (ai != ci)
      return !ai;
    return a->isBeforeInBlock(c);
  });
  for (Operation *op : order)
    rb.clone(*op, map);
  SmallVector<Value> yields;
  for (Value t : targets)
    yields.push_back(map.lookup(t));
  YieldOp::create(rb, fs.getLoc(), yields);
  for (auto [slice, result] : llvm::zip(targetSlices, rc.getResults()))
    slice.replaceUsesWithIf(result, [&](OpOperand &use) {
      return use.getOwner() != rc.getOperation();
    });

  if (layers) {
    // Rows below N are recomputed: the forward stores rows N.. only.
    SmallVector<int64_t> from(fs.getCollectedResults().size(), 0);
    for (Value t : targets)
      for (const Kept &k : kept)
        if (k.inLayer == t)
          from[k.collected] = *layers;
    fs->setAttr("mimo.kept_from", b.getDenseI64ArrayAttr(from));
    return success();
  }
  dropUnused();
  return success();
}

/// Drops the residuals nothing reads any more: the backward stack's slice
/// operands, the backward module's arguments, the forward's returned values
/// and collected results.
void Recompute::dropUnused() {
  SmallVector<Value> bxs;
  SmallVector<BlockArgument> bxsArgs;
  for (auto [x, arg] : llvm::zip(bs.getXs(), bs.getSliceArguments()))
    if (!arg.use_empty()) {
      bxs.push_back(x);
      bxsArgs.push_back(arg);
    }
  bs = withXs(bs, bxs, bxsArgs);

  // Unused residual arguments, and what the forward returned for them.
  Block &bbody = bwd.getBodyBlock();
  int64_t residuals = fwd.getResidualsAttr().getInt();
  unsigned grads = bbody.getNumArguments() - residuals;
  auto ret = cast<mimo::ReturnOp>(fwd.getBodyBlock().getTerminator());
  unsigned outputs = ret.getNumOperands() - residuals;
  SmallVector<Value> returned(ret.getOperands().take_front(outputs));
  llvm::BitVector erase(bbody.getNumArguments());
  for (int64_t i = 0; i < residuals; ++i) {
    if (bbody.getArgument(grads + i).use_empty())
      erase.set(grads + i);
    else
      returned.push_back(ret.getOperand(outputs + i));
  }
  bbody.eraseArguments(erase);
  OpBuilder rb(ret);
  mimo::ReturnOp::create(rb, ret.getLoc(), returned);
  ret.erase();
  fwd.setResidualsAttr(IntegerAttr::get(IntegerType::get(fwd.getContext(), 64),
                                        returned.size() - outputs));
  updateType(fwd);
  updateType(bwd);

  // The forward stack's collected results nobody reads.
  SmallVector<Value> ys, oldYs;
  for (auto [y, r] : llvm::zip(collectedYields(fs), fs.getCollectedResults()))
    if (!r.use_empty()) {
      ys.push_back(y);
      oldYs.push_back(r);
    }
  fs = withCollected(fs, ys, oldYs);
}

struct MimoApplyRecomputePass
    : public mimo::impl::MimoApplyRecomputeBase<MimoApplyRecomputePass> {
  void runOnOperation() override {
    ModelOp model = getOperation();
    llvm::StringMap<mimo::ModuleOp> backwardOf = backwardModules(model);
    for (mimo::ModuleOp m : model.getModules()) {
      if (m.getKind() == ModuleKind::backward || m->hasAttr("mimo.recomputed"))
        continue;
      auto p = m.getParallelAttr();
      if (!p || p.getRecompute() == RecomputeKind::none)
        continue;
      mimo::ModuleOp bwd = backwardOf.lookup(m.getSymName());
      if (!bwd || !m.getResidualsAttr()) {
        m.emitError() << "mimo-apply-recompute: module '" << m.getSymName()
                      << "' has no backward module; run "
                         "mimo-generate-backward first";
        return signalPassFailure();
      }
      if (failed(Recompute(m, bwd, p).run()))
        return signalPassFailure();
      m->setAttr("mimo.recomputed", UnitAttr::get(m.getContext()));
    }
  }
};

} // namespace

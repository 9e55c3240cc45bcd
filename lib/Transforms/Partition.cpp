//===- Partition.cpp - mimo-partition -------------------------------------===//
//
// Splits every module whose grid has tp > 1 over its tensor-parallel ranks:
// the IR after this pass is the program of one rank (local shapes), with the
// collectives the splits need as upstream `shard` ops on a per-module grid.
// With sequence parallelism the layer stacks' residual stream holds this
// rank's tokens only (Megatron's SP, docs/lowering.md "Partition"). With
// context parallelism (cp > 1, the LLM) the sequence is split over the cp
// ranks from the layer stack on: each keeps two load-balanced chunks, its
// attention becomes ring attention, and the loss is this rank's tokens'.
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Dialect/Mimo/MimoProfile.h"
#include "mimo/Transforms/Passes.h"

#include "LocalShapes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mimo {
#define GEN_PASS_DEF_MIMOPARTITION
#include "mimo/Transforms/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;

namespace {

/// Grid axis of the tensor-parallel dim. The shard grid is declared
/// [dp, pp, cp, tp] so that its row-major linearisation is mimo's rank order
/// (tp fastest, ARCHITECTURE.md "Parallel layouts").
constexpr int16_t kTpAxis = 3;
constexpr int16_t kCpAxis = 2;

RankedTensorType withDim(RankedTensorType t, int64_t dim, int64_t size) {
  SmallVector<int64_t> shape(t.getShape());
  shape[dim] = size;
  return RankedTensorType::get(shape, t.getElementType());
}

RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

class Partitioner {
public:
  Partitioner(ModelOp model, mimo::ModuleOp fwd, mimo::ModuleOp bwd, int64_t tp,
              int64_t cp, bool sequenceParallel)
      : model(model), fwd(fwd), bwd(bwd), tp(tp), cp(cp),
        sequenceParallel(sequenceParallel), b(model.getContext()) {}

  LogicalResult run();

private:
  /// The parameter a weight operand reads, through stack slices; `extra` is
  /// how many stacked dims lead the parameter's shape.
  ParamOp originParam(Value v, int64_t &extra);
  LogicalResult markSplit(Operation *user, Value weight, int64_t dim);
  LogicalResult collectSplits(mimo::ModuleOp m);
  LogicalResult retypeBlock(Block &block);
  LogicalResult retypeOp(Operation *op);
  void allReduceAfter(Value partial);
  void reduceScatterAfter(Value partial);
  void sumBeforeReducing(Block &block);
  LogicalResult shardStacks(mimo::ModuleOp m);
  LogicalResult splitContext();
  /// Whether `op` runs on a token shard (inside a stack of an SP module).
  bool onTokenShard(Operation *op) const {
    return tokens > 0 && op->getParentOfType<StackOp>();
  }
  bool tokenSharded(Value v) const {
    auto t = tensorOf(v);
    return tokens > 0 && t.getRank() >= 1 && t.getDimSize(0) == tokens / tp;
  }
  /// All tokens of a token-sharded value, gathered before its first user
  /// `at` (one all-gather per value).
  Value gathered(Value v, Operation *at);
  LogicalResult divide(Operation *at, StringRef what, int64_t size);

  ModelOp model;
  mimo::ModuleOp fwd, bwd;
  int64_t tp, cp;
  bool sequenceParallel;
  OpBuilder b;
  std::string grid;
  /// Tokens of the stacks' residual stream (0 without sequence parallelism).
  int64_t tokens = 0;
  DenseMap<Value, Value> gatheredOf;
  /// Parameter name -> split dim of its (stacked) shape.
  llvm::StringMap<int64_t> splits;
};

ParamOp Partitioner::originParam(Value v, int64_t &extra) {
  extra = 0;
  while (true) {
    if (auto p = v.getDefiningOp<ParamOp>())
      return p;
    auto arg = dyn_cast<BlockArgument>(v);
    if (!arg)
      return nullptr;
    auto stack = dyn_cast<StackOp>(arg.getOwner()->getParentOp());
    if (!stack || arg.getArgNumber() < stack.getNumCarried())
      return nullptr;
    v = stack.getXs()[arg.getArgNumber() - stack.getNumCarried()];
    ++extra;
  }
}

LogicalResult Partitioner::markSplit(Operation *user, Value weight,
                                     int64_t dim) {
  int64_t extra = 0;
  ParamOp p = originParam(weight, extra);
  if (!p)
    return user->emitError()
           << "mimo-partition: a tensor-parallel operand must be a parameter "
              "(directly or through a stack slice)";
  int64_t d = extra + dim;
  auto [it, inserted] = splits.try_emplace(p.getName(), d);
  if (!inserted && it->second != d)
    return user->emitError() << "mimo-partition: parameter '" << p.getName()
                             << "' is split on dim " << it->second
                             << " by one use and dim " << d << " by another";
  int64_t size = tensorOf(p.getResult()).getDimSize(d);
  if (size % tp != 0)
    return p.emitError() << "mimo-partition: parameter '" << p.getName()
                         << "' dim " << d << " (" << size
                         << ") is not divisible by tp = " << tp
                         << " of module '" << fwd.getSymName() << "'";
  return success();
}

LogicalResult Partitioner::collectSplits(mimo::ModuleOp m) {
  WalkResult r = m.getBody().walk([&](Operation *op) -> WalkResult {
    auto role = op->getAttrOfType<TpSplitAttr>("parallel");
    if (!role || role.getValue() == TpSplit::none)
      return WalkResult::advance();
    TpSplit kind = role.getValue();
    bool column = kind == TpSplit::column || kind == TpSplit::vocab;
    auto linearSplit = [&](Value w, Value bias, bool transposed) {
      // Weights are [in, out] ([out, in] when transposed): column and vocab
      // splits keep out / tp columns, row splits in / tp rows.
      int64_t dim = column != transposed ? 1 : 0;
      if (failed(markSplit(op, w, dim)))
        return failure();
      if (bias && column)
        return markSplit(op, bias, 0);
      return success();
    };
    LogicalResult ok = TypeSwitch<Operation *, LogicalResult>(op)
                           .Case([&](LinearOp l) {
                             return linearSplit(l.getWeight(), l.getBias(),
                                                l.getTransposeWeight());
                           })
                           .Case([&](LinearGradOp g) {
                             return linearSplit(g.getWeight(), Value(),
                                                g.getTransposeWeight());
                           })
                           .Case([&](EmbeddingOp e) -> LogicalResult {
                             if (kind != TpSplit::vocab)
                               return e.emitError()
                                      << "mimo-partition: an embedding splits "
                                         "over the vocabulary only";
                             return markSplit(op, e.getTable(), 0);
                           })
                           .Default([](Operation *) { return success(); });
    return failed(ok) ? WalkResult::interrupt() : WalkResult::advance();
  });
  return failure(r.wasInterrupted());
}

LogicalResult Partitioner::divide(Operation *at, StringRef what, int64_t size) {
  if (size % tp == 0)
    return success();
  return at->emitError() << "mimo-partition: " << what << " (" << size
                         << ") is not divisible by tp = " << tp
                         << " of module '" << fwd.getSymName() << "'";
}

void Partitioner::allReduceAfter(Value partial) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfterValue(partial);
  auto ar = shard::AllReduceOp::create(b, partial.getLoc(), partial.getType(),
                                       grid, ArrayRef<int16_t>{kTpAxis},
                                       partial, shard::ReductionKind::Sum);
  partial.replaceAllUsesExcept(ar.getResult(), ar);
}

/// A partial sum reduced over tp and scattered over tokens (sequence
/// parallelism's replacement for the all-reduce after a row split).
void Partitioner::reduceScatterAfter(Value partial) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfterValue(partial);
  auto t = tensorOf(partial);
  auto rs = shard::ReduceScatterOp::create(
      b, partial.getLoc(), withDim(t, 0, t.getDimSize(0) / tp), grid,
      ArrayRef<int16_t>{kTpAxis}, partial, shard::ReductionKind::Sum,
      APInt(64, 0));
  partial.replaceAllUsesExcept(rs.getResult(), rs);
}

Value Partitioner::gathered(Value v, Operation *at) {
  if (Value g = gatheredOf.lookup(v))
    return g;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(at);
  auto t = tensorOf(v);
  Value g =
      shard::AllGatherOp::create(b, v.getLoc(), withDim(t, 0, tokens), grid,
                                 ArrayRef<int16_t>{kTpAxis}, v, APInt(64, 0))
          .getResult();
  gatheredOf[v] = g;
  return g;
}

/// Sequence parallelism: each top-level stack's carried values (the residual
/// stream, [tokens, features]) enter as this rank's token slice and leave
/// all-gathered, so norms, residual adds and what the layers keep for the
/// backward hold tokens / tp rows; the layers gather before a column split
/// and reduce-scatter after a row split (retypeOp).
LogicalResult Partitioner::shardStacks(mimo::ModuleOp m) {
  for (StackOp s :
       llvm::make_early_inc_range(m.getBodyBlock().getOps<StackOp>())) {
    for (unsigned k = 0; k < s.getNumCarried(); ++k) {
      Value init = s.getInits()[k];
      auto t = tensorOf(init);
      // With context parallelism the backward's stream is still typed whole
      // here (its producers are retyped later): this rank's share is 1 / cp.
      if (cp > 1 && m == bwd && t.getRank() == 2 &&
          t.getDimSize(0) == tokens * cp)
        t = withDim(t, 0, tokens);
      if (t.getRank() != 2 || (tokens && t.getDimSize(0) != tokens))
        return s.emitError()
               << "mimo-partition: sequence parallelism shards a stack's "
                  "carried [tokens, features] values"
               << (tokens ? " of " + std::to_string(tokens) + " tokens" : "")
               << "; module '" << m.getSymName() << "' carries " << t;
      tokens = t.getDimSize(0);
      if (failed(divide(s, "tokens of the layer stack", tokens)))
        return failure();
      b.setInsertionPoint(s);
      auto slice = shard::AllSliceOp::create(
          b, s.getLoc(), withDim(t, 0, tokens / tp), grid,
          ArrayRef<int16_t>{kTpAxis}, init, APInt(64, 0));
      s.getInitsMutable()[k].assign(slice.getResult());
      b.setInsertionPointAfter(s);
      Value r = s.getResult(k);
      auto all = shard::AllGatherOp::create(
          b, s.getLoc(), t, grid, ArrayRef<int16_t>{kTpAxis}, r, APInt(64, 0));
      r.replaceAllUsesExcept(all.getResult(), all);
    }
  }
  return success();
}

/// Context parallelism: the carried stream of each top-level layer stack
/// enters as this rank's two load-balanced chunks (mimo.context_slice) and
/// stays split through the final norm, the head and the loss (whose labels
/// are sliced the same way); the attention inside runs as ring attention.
/// In the backward the stack's input gradient is padded back to the full
/// sequence (mimo.context_pad): what precedes the stack (the embedding, the
/// placement of encoder tokens) runs on every cp rank on the whole
/// sequence, and its gradients are this rank's tokens' share, summed over
/// cp with the other parameters' (the lowering's gradient sync) or, for the
/// encoder tokens' gradients, right here.
LogicalResult Partitioner::splitContext() {
  MLIRContext *ctx = model.getContext();
  auto gridRef = FlatSymbolRefAttr::get(ctx, grid);
  auto cpAttr = b.getI64IntegerAttr(cp);
  auto chunks = [&](Operation *at, RankedTensorType t) -> LogicalResult {
    if (t.getRank() < 1 || t.getDimSize(0) % (2 * cp) != 0)
      return at->emitError()
             << "mimo-partition: context parallelism cuts the sequence into "
                "2 * cp = "
             << 2 * cp << " equal chunks; module '" << fwd.getSymName()
             << "' has " << (t.getRank() ? t.getDimSize(0) : 0) << " tokens";
    return success();
  };
  auto slice = [&](Value v, Operation *user) -> FailureOr<Value> {
    auto t = tensorOf(v);
    if (failed(chunks(user, t)))
      return failure();
    return ContextSliceOp::create(b, v.getLoc(),
                                  withDim(t, 0, t.getDimSize(0) / cp), v,
                                  gridRef, cpAttr)
        .getResult();
  };
  bool any = false;
  for (StackOp s : fwd.getBodyBlock().getOps<StackOp>()) {
    any = true;
    b.setInsertionPoint(s);
    for (unsigned k = 0; k < s.getNumCarried(); ++k) {
      auto local = slice(s.getInits()[k], s);
      if (failed(local))
        return failure();
      s.getInitsMutable()[k].assign(*local);
    }
  }
  if (!any)
    return fwd.emitError() << "mimo-partition: context parallelism splits "
                              "the sequence of a layer stack; module '"
                           << fwd.getSymName() << "' has none";
  // The labels of the loss, sliced where the loss reads them (the last
  // pipeline stage); the sliced labels are what the backward reads too.
  for (CrossEntropyOp ce : llvm::make_early_inc_range(
           fwd.getBodyBlock().getOps<CrossEntropyOp>())) {
    Value labels = ce.getLabels();
    if (labels.getDefiningOp<ContextSliceOp>())
      continue;
    b.setInsertionPoint(ce);
    auto local = slice(labels, ce);
    if (failed(local))
      return failure();
    labels.replaceUsesWithIf(*local, [&](OpOperand &use) {
      return use.getOwner() == ce.getOperation() ||
             isa<mimo::ReturnOp>(use.getOwner());
    });
  }
  fwd.walk([&](AttentionOp a) { a.setContextParallel(cp); });
  bwd.walk([&](AttentionGradOp g) { g.setContextParallel(cp); });
  for (StackOp s :
       llvm::make_early_inc_range(bwd.getBodyBlock().getOps<StackOp>())) {
    b.setInsertionPointAfter(s);
    for (unsigned k = 0; k < s.getNumCarried(); ++k) {
      Value r = s.getResult(k);
      auto t = tensorOf(r);
      if (failed(chunks(s, t)))
        return failure();
      // The input becomes local when the module is retyped.
      auto pad = ContextPadOp::create(b, s.getLoc(), t, r, gridRef, cpAttr);
      r.replaceAllUsesExcept(pad.getResult(), pad);
    }
  }
  // Each cp rank's encoder-token gradients hold its tokens' share: the
  // encoder sees their sum.
  bwd.walk([&](MergeModalitiesGradOp g) {
    b.setInsertionPointAfter(g);
    for (Value src : g.getSourceGrads()) {
      auto ar = shard::AllReduceOp::create(b, g.getLoc(), src.getType(), grid,
                                           ArrayRef<int16_t>{kCpAxis}, src,
                                           shard::ReductionKind::Sum);
      src.replaceAllUsesExcept(ar.getResult(), ar);
    }
  });
  return success();
}

/// add(c(a), c(b)) -> c(add(a, b)) for two equal reductions c (all-reduce or
/// reduce-scatter) that only feed the add: one collective instead of two.
template <typename Reduction>
bool sumBeforeReducingOnce(Block &block, OpBuilder &b) {
  bool changed = false;
  block.walk([&](AddOp add) {
    auto lhs = add.getLhs().getDefiningOp<Reduction>();
    auto rhs = add.getRhs().getDefiningOp<Reduction>();
    if (!lhs || !rhs || lhs == rhs || !lhs->hasOneUse() || !rhs->hasOneUse() ||
        lhs->getAttrDictionary() != rhs->getAttrDictionary() ||
        lhs.getInput().getType() != rhs.getInput().getType())
      return WalkResult::advance();
    add.getLhsMutable().assign(lhs.getInput());
    add.getRhsMutable().assign(rhs.getInput());
    add.getResult().setType(cast<RankedTensorType>(lhs.getInput().getType()));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointAfter(add);
    Operation *sum = b.clone(*lhs);
    sum->setOperand(0, add.getResult());
    add.getResult().replaceAllUsesExcept(sum->getResult(0), sum);
    lhs.erase();
    rhs.erase();
    changed = true;
    return WalkResult::interrupt();
  });
  return changed;
}

/// The input gradients of q, k and v, or of gate and up, meet in such adds.
void Partitioner::sumBeforeReducing(Block &block) {
  while (sumBeforeReducingOnce<shard::AllReduceOp>(block, b) ||
         sumBeforeReducingOnce<shard::ReduceScatterOp>(block, b)) {
  }
}

LogicalResult Partitioner::retypeBlock(Block &block) {
  for (Operation &op : llvm::make_early_inc_range(block))
    if (failed(retypeOp(&op)))
      return failure();
  return success();
}

LogicalResult Partitioner::retypeOp(Operation *op) {
  auto role = op->getAttrOfType<TpSplitAttr>("parallel");
  bool split = tp > 1 && role && role.getValue() != TpSplit::none;
  bool column = split && (role.getValue() == TpSplit::column ||
                          role.getValue() == TpSplit::vocab);
  auto setHeads = [&](Operation *at, int64_t heads,
                      int64_t kvHeads) -> LogicalResult {
    if (failed(divide(at, "heads", heads)) ||
        failed(divide(at, "kv_heads", kvHeads)))
      return failure();
    at->setAttr("heads", b.getI64IntegerAttr(heads / tp));
    at->setAttr("kv_heads", b.getI64IntegerAttr(kvHeads / tp));
    return success();
  };

  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](ParamOp p) {
        auto it = splits.find(p.getName());
        if (it != splits.end()) {
          auto t = tensorOf(p.getResult());
          p.getResult().setType(
              withDim(t, it->second, t.getDimSize(it->second) / tp));
          // The lowering initialises this rank's slice of the full tensor.
          p->setAttr("mimo.tp_dim", b.getI64IntegerAttr(it->second));
        }
        return success();
      })
      // Checked against the local parameter once the module is retyped.
      .Case([&](ParamGradOp) { return success(); })
      .Case([&](StackOp s) {
        Block &body = s.getBodyBlock();
        unsigned carried = s.getNumCarried();
        for (unsigned k = 0; k < carried; ++k)
          body.getArgument(k).setType(s.getInits()[k].getType());
        for (auto [i, xs] : llvm::enumerate(s.getXs())) {
          auto t = tensorOf(xs);
          body.getArgument(carried + i)
              .setType(RankedTensorType::get(t.getShape().drop_front(),
                                             t.getElementType()));
        }
        if (failed(retypeBlock(body)))
          return failure();
        Operation *yield = body.getTerminator();
        for (auto [i, r] : llvm::enumerate(s.getResults())) {
          auto t = tensorOf(yield->getOperand(i));
          if (i < carried) {
            r.setType(t);
            continue;
          }
          SmallVector<int64_t> shape{s.getCount()};
          llvm::append_range(shape, t.getShape());
          r.setType(RankedTensorType::get(shape, t.getElementType()));
        }
        return success();
      })
      .Case([&](LinearOp l) {
        if (column && onTokenShard(l) && tokenSharded(l.getInput()))
          l.getInputMutable().assign(gathered(l.getInput(), l));
        auto in = tensorOf(l.getInput());
        auto w = tensorOf(l.getWeight());
        int64_t out =
            l.getTransposeWeight() ? w.getDimSize(0) : w.getDimSize(1);
        l.getResult().setType(withDim(in, in.getRank() - 1, out));
        // A row split leaves a partial sum (the bias added once, by tp rank
        // 0; docs/lowering.md "Partition").
        if (split && !column) {
          if (onTokenShard(l))
            reduceScatterAfter(l.getResult());
          else
            allReduceAfter(l.getResult());
        }
        return success();
      })
      .Case([&](LinearGradOp g) {
        // On a token shard the weight gradient needs every token of the
        // input (a column split's, kept sharded) and of the output gradient
        // (a row split's, arriving sharded).
        if (split && onTokenShard(g)) {
          if (tokenSharded(g.getInput()))
            g.getInputMutable().assign(gathered(g.getInput(), g));
          if (tokenSharded(g.getGrad()))
            g.getGradMutable().assign(gathered(g.getGrad(), g));
        }
        auto w = tensorOf(g.getWeight());
        int64_t out =
            g.getTransposeWeight() ? w.getDimSize(0) : w.getDimSize(1);
        g.getInputGrad().setType(g.getInput().getType());
        g.getWeightGrad().setType(w);
        if (g.getBiasGrad())
          g.getBiasGrad().setType(
              RankedTensorType::get({out}, w.getElementType()));
        // Each column shard contributes a part of the input gradient.
        if (column) {
          if (onTokenShard(g))
            reduceScatterAfter(g.getInputGrad());
          else
            allReduceAfter(g.getInputGrad());
        }
        return success();
      })
      .Case([&](AttentionOp a) {
        if (failed(setHeads(a, a.getHeads(), a.getKvHeads())))
          return failure();
        a.getResult().setType(a.getQuery().getType());
        if (a.getLse()) {
          auto q = tensorOf(a.getQuery());
          a.getLse().setType(RankedTensorType::get(
              {q.getDimSize(0), int64_t(a.getHeads())}, b.getF32Type()));
        }
        return success();
      })
      .Case([&](AttentionGradOp g) {
        if (failed(setHeads(g, g.getHeads(), g.getKvHeads())))
          return failure();
        g.getQueryGrad().setType(g.getQuery().getType());
        g.getKeyGrad().setType(g.getKey().getType());
        g.getValueGrad().setType(g.getValue().getType());
        return success();
      })
      .Case([&](EmbeddingOp e) {
        // Rows of ids outside this rank's vocabulary are zero: the sum over
        // the shards is the lookup.
        if (split)
          allReduceAfter(e.getResult());
        return success();
      })
      .Case([&](EmbeddingGradOp g) {
        if (!split)
          return success();
        auto t = tensorOf(g.getTableGrad());
        if (failed(divide(g, "vocabulary", t.getDimSize(0))))
          return failure();
        g.getTableGrad().setType(withDim(t, 0, t.getDimSize(0) / tp));
        return success();
      })
      .Case([&](CrossEntropyGradOp g) {
        g.getResult().setType(g.getLogits().getType());
        return success();
      })
      .Case([&](mimo::ReturnOp r) {
        auto m = cast<mimo::ModuleOp>(r->getParentOp());
        m.setFunctionTypeAttr(TypeAttr::get(b.getFunctionType(
            m.getBodyBlock().getArgumentTypes(), r.getOperandTypes())));
        return success();
      })
      .Case<shard::AllReduceOp, shard::AllGatherOp, shard::AllSliceOp,
            shard::ReduceScatterOp, ContextSliceOp, ContextPadOp, YieldOp>(
          [](Operation *) { return success(); })
      .Default([&](Operation *other) -> LogicalResult {
        // Ops whose results take their operands' shapes (elementwise ops and
        // their gradients, the norms, merge_modalities, cross_entropy).
        if (other->hasTrait<OpTrait::SameOperandsAndResultType>()) {
          for (Value r : other->getResults())
            r.setType(other->getOperand(0).getType());
          return success();
        }
        if (isa<LayerNormOp, RmsNormOp>(other)) {
          other->getResult(0).setType(other->getOperand(0).getType());
          return success();
        }
        if (isa<LayerNormGradOp, RmsNormGradOp>(other)) {
          other->getResult(0).setType(other->getOperand(1).getType());
          for (unsigned i = 1; i < other->getNumResults(); ++i) {
            other->getResult(i).setType(other->getOperand(2).getType());
            // A token shard's norm-weight gradients are partial sums.
            if (onTokenShard(other) && tokenSharded(other->getOperand(1)))
              allReduceAfter(other->getResult(i));
          }
          return success();
        }
        if (isa<GeluGradOp>(other)) {
          other->getResult(0).setType(other->getOperand(0).getType());
          return success();
        }
        if (isa<CrossEntropyOp, MergeModalitiesOp, MergeModalitiesGradOp,
                PatchEmbedOp, PatchEmbedGradOp, arith::ConstantOp>(other))
          return success();
        return other->emitError()
               << "mimo-partition: no tensor-parallel rule for '"
               << other->getName() << "'";
      });
}

LogicalResult Partitioner::run() {
  if (tp > 1 && (failed(collectSplits(fwd)) || failed(collectSplits(bwd))))
    return failure();
  // One grid per partitioned module, named after it, axes [dp, pp, cp, tp].
  auto p = fwd.getParallelAttr();
  grid = (fwd.getSymName() + "_grid").str();
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&model.getBody().front());
    auto g = shard::GridOp::create(
        b, fwd.getLoc(), grid,
        ArrayRef<int64_t>{p.getDp(), p.getPp(), p.getCp(), p.getTp()});
    g->setAttr("mimo.module", FlatSymbolRefAttr::get(fwd.getSymNameAttr()));
  }
  if (cp > 1 && failed(splitContext()))
    return failure();
  if (sequenceParallel &&
      (failed(shardStacks(fwd)) || failed(shardStacks(bwd))))
    return failure();
  if (failed(retypeBlock(fwd.getBodyBlock())))
    return failure();
  retypeResiduals(fwd, bwd);
  if (failed(retypeBlock(bwd.getBodyBlock())))
    return failure();
  // Parameter gradients must now have the local shapes of their parameters.
  if (failed(checkGradientTypes(fwd, bwd, "mimo-partition", "local parameter")))
    return failure();
  sumBeforeReducing(fwd.getBodyBlock());
  sumBeforeReducing(bwd.getBodyBlock());
  fwd->setAttr("mimo.partitioned", UnitAttr::get(model.getContext()));
  bwd->setAttr("mimo.partitioned", UnitAttr::get(model.getContext()));
  return success();
}

struct MimoPartitionPass
    : public mimo::impl::MimoPartitionBase<MimoPartitionPass> {
  void runOnOperation() override {
    ModelOp model = getOperation();
    llvm::StringMap<mimo::ModuleOp> backwardOf = backwardModules(model);
    // The model's FLOPs, before shapes become local (the trainer reports
    // model FLOPs per step).
    for (mimo::ModuleOp m : model.getModules()) {
      if (m.getKind() == ModuleKind::backward || m->hasAttr("mimo.partitioned"))
        continue;
      auto p = m.getParallelAttr();
      if (!p || (p.getTp() == 1 && p.getCp() == 1))
        continue;
      // Context parallelism splits the LLM's sequence. On the homogeneous
      // layout's shared grid the encoder side runs whole on each cp rank
      // (replicated, as in Megatron); elsewhere it takes cp = 1.
      int64_t cp = m.getKind() == ModuleKind::llm ? p.getCp() : 1;
      if (p.getCp() != 1 && m.getKind() != ModuleKind::llm) {
        auto plan = model.getPlanAttr();
        if (!plan || plan.getLayout() != Layout::homogeneous) {
          m.emitError() << "mimo-partition: module '" << m.getSymName() << "' ("
                        << stringifyModuleKind(m.getKind())
                        << ") has cp = " << p.getCp()
                        << "; context parallelism splits the LLM's sequence "
                           "(an encoder or projector takes cp = 1 outside "
                           "the homogeneous layout)";
          return signalPassFailure();
        }
        if (p.getTp() == 1)
          continue;
      }
      mimo::ModuleOp bwd = backwardOf.lookup(m.getSymName());
      if (!bwd) {
        m.emitError() << "mimo-partition: module '" << m.getSymName()
                      << "' has no backward module; run "
                         "mimo-generate-backward first";
        return signalPassFailure();
      }
      m->setAttr("mimo.flops_per_sample",
                 FloatAttr::get(
                     Float64Type::get(m.getContext()),
                     trainingFlopsPerSample(m, model.getBytesPerElement())));
      Partitioner part(model, m, bwd, p.getTp(), cp, p.getSequenceParallel());
      if (failed(part.run()))
        return signalPassFailure();
    }
  }
};

} // namespace

//===- Partition.cpp - mimo-partition -------------------------------------===//
//
// Splits every module whose grid has tp > 1 over its tensor-parallel ranks:
// the IR after this pass is the program of one rank (local shapes), with the
// collectives the splits need as upstream `shard` ops on a per-module grid.
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
  Partitioner(ModelOp model, mimo::ModuleOp fwd, mimo::ModuleOp bwd, int64_t tp)
      : model(model), fwd(fwd), bwd(bwd), tp(tp), b(model.getContext()) {}

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
  void sumBeforeReducing(Block &block);
  LogicalResult divide(Operation *at, StringRef what, int64_t size);

  ModelOp model;
  mimo::ModuleOp fwd, bwd;
  int64_t tp;
  OpBuilder b;
  std::string grid;
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
    return user->emitError()
           << "mimo-partition: parameter '" << p.getName()
           << "' is split on dim " << it->second << " by one use and dim " << d
           << " by another";
  int64_t size = tensorOf(p.getResult()).getDimSize(d);
  if (size % tp != 0)
    return p.emitError() << "mimo-partition: parameter '" << p.getName()
                         << "' dim " << d << " (" << size
                         << ") is not divisible by tp = " << tp << " of module '"
                         << fwd.getSymName() << "'";
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
    LogicalResult ok =
        TypeSwitch<Operation *, LogicalResult>(op)
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
                return e.emitError() << "mimo-partition: an embedding splits "
                                        "over the vocabulary only";
              return markSplit(op, e.getTable(), 0);
            })
            .Default([](Operation *) { return success(); });
    return failed(ok) ? WalkResult::interrupt() : WalkResult::advance();
  });
  return failure(r.wasInterrupted());
}

LogicalResult Partitioner::divide(Operation *at, StringRef what,
                                  int64_t size) {
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

/// add(all_reduce(a), all_reduce(b)) -> all_reduce(add(a, b)) when each
/// all-reduce only feeds the add: one collective instead of two (the input
/// gradients of q, k and v, or of gate and up, meet in such adds).
void Partitioner::sumBeforeReducing(Block &block) {
  bool changed = true;
  while (changed) {
    changed = false;
    block.walk([&](AddOp add) {
      auto lhs = add.getLhs().getDefiningOp<shard::AllReduceOp>();
      auto rhs = add.getRhs().getDefiningOp<shard::AllReduceOp>();
      if (!lhs || !rhs || lhs == rhs || !lhs->hasOneUse() ||
          !rhs->hasOneUse() || lhs.getGridAttr() != rhs.getGridAttr() ||
          lhs.getGridAxes() != rhs.getGridAxes() ||
          lhs.getReduction() != rhs.getReduction())
        return WalkResult::advance();
      add.getLhsMutable().assign(lhs.getInput());
      add.getRhsMutable().assign(rhs.getInput());
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointAfter(add);
      auto ar = shard::AllReduceOp::create(
          b, add.getLoc(), add.getType(), lhs.getGridAttr(),
          lhs.getGridAxesAttr(), add.getResult(), lhs.getReductionAttr());
      add.getResult().replaceAllUsesExcept(ar.getResult(), ar);
      lhs.erase();
      rhs.erase();
      changed = true;
      return WalkResult::interrupt();
    });
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
  bool split = role && role.getValue() != TpSplit::none;
  bool column =
      split && (role.getValue() == TpSplit::column ||
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
        auto in = tensorOf(l.getInput());
        auto w = tensorOf(l.getWeight());
        int64_t out = l.getTransposeWeight() ? w.getDimSize(0) : w.getDimSize(1);
        l.getResult().setType(withDim(in, in.getRank() - 1, out));
        // A row split leaves a partial sum (the bias added once, by tp rank
        // 0; docs/lowering.md "Partition").
        if (split && !column)
          allReduceAfter(l.getResult());
        return success();
      })
      .Case([&](LinearGradOp g) {
        auto w = tensorOf(g.getWeight());
        int64_t out = g.getTransposeWeight() ? w.getDimSize(0) : w.getDimSize(1);
        g.getInputGrad().setType(g.getInput().getType());
        g.getWeightGrad().setType(w);
        if (g.getBiasGrad())
          g.getBiasGrad().setType(
              RankedTensorType::get({out}, w.getElementType()));
        // Each column shard contributes a part of the input gradient.
        if (column)
          allReduceAfter(g.getInputGrad());
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
      .Case<shard::AllReduceOp, YieldOp>([](Operation *) { return success(); })
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
          for (unsigned i = 1; i < other->getNumResults(); ++i)
            other->getResult(i).setType(other->getOperand(2).getType());
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
  if (failed(collectSplits(fwd)) || failed(collectSplits(bwd)))
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
      if (!p || p.getTp() == 1)
        continue;
      if (p.getCp() != 1) {
        m.emitError() << "mimo-partition: module '" << m.getSymName()
                      << "' has cp = " << p.getCp()
                      << "; context parallelism is not partitioned yet";
        return signalPassFailure();
      }
      if (p.getSequenceParallel()) {
        m.emitError() << "mimo-partition: module '" << m.getSymName()
                      << "' asks for sequence parallelism, which is not "
                         "partitioned yet";
        return signalPassFailure();
      }
      mimo::ModuleOp bwd = backwardOf.lookup(m.getSymName());
      if (!bwd) {
        m.emitError() << "mimo-partition: module '" << m.getSymName()
                      << "' has no backward module; run "
                         "mimo-generate-backward first";
        return signalPassFailure();
      }
      m->setAttr("mimo.flops_per_sample",
                 FloatAttr::get(Float64Type::get(m.getContext()),
                                trainingFlopsPerSample(
                                    m, model.getBytesPerElement())));
      Partitioner part(model, m, bwd, p.getTp());
      if (failed(part.run()))
        return signalPassFailure();
    }
  }
};

} // namespace

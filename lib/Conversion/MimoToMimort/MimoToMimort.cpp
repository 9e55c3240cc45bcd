//===- MimoToMimort.cpp - A data-parallel mimo model to a mimort program --===//
//
// Walks the model after mimo-generate-backward and writes the per-rank
// program of a world-1 or data-parallel plan (docs/lowering.md,
// "convert-mimo-to-mimort"):
// every mimo tensor value lives in a named buffer, every op becomes one or
// more mimort.kernel calls on those buffers, stacks become scf.for loops
// over layers, and @step strings the modules together around the data
// loader and the optimizer.
//
//===----------------------------------------------------------------------===//

#include "mimo/Conversion/Passes.h"
#include "mimo/Dialect/Mimo/MimoDialect.h"
#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Dialect/Mimo/MimoProfile.h"
#include "mimo/Dialect/Mimort/MimortDialect.h"
#include "mimo/Dialect/Mimort/MimortOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <functional>
#include <map>
#include <set>
#include <string>

namespace mimo {
#define GEN_PASS_DEF_CONVERTMIMOTOMIMORT
#include "mimo/Conversion/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;
namespace mrt = mimo::mimort;

namespace {

/// Where a mimo value lives: a declared buffer, or (for per-sample data)
/// slice `sample` of one.
struct Loc {
  std::string sym;
  bool perSample = false;
  /// Sliced by the bridge loop's index rather than the data sample.
  bool byBridge = false;
  /// A forward value the backward reads under a pipeline schedule: one
  /// slot per in-flight microbatch, sliced by the current slot.
  bool bySlot = false;
  /// A layer stack's collected value kept for rows `rowFrom`.. only (the
  /// backward recomputes the first rows, mimo-apply-recompute's
  /// `mimo.kept_from`): row r lives at r - rowFrom.
  int64_t rowFrom = 0;
  /// A pooled buffer of another shape (same element type and count): the
  /// value's view of it.
  mrt::BufferType as;
};

/// One parameter of a forward module and its buffers.
struct Param {
  std::string name; ///< "<module>.<param name>", the params buffer
  std::string module; ///< the forward module (its grid's dp group)
  mrt::BufferType type;
  mimo::InitKind init;
  double std;
  /// The dim split over the module's tp ranks (-1: replicated).
  int64_t tpDim = -1;
  /// The stacked layer dim split over the module's pipeline stages (-1:
  /// whole on every stage).
  int64_t ppDim = -1;
  /// The distributed optimizer shards the Adam states and the update over
  /// the module's dp ranks: each holds 1 / dp of the flattened tensor
  /// (0: every rank updates the whole tensor).
  int64_t shard = 0;
  /// A pipelined LLM's parameter outside the layer stack that only the
  /// first (0) or the last stage reads: its buffers exist on that stage
  /// only (-1: on every stage).
  int64_t stage = -1;
  /// Mixed precision: a bf16 parameter keeps an f32 master copy
  /// (`.master`, optimizer state) that Adam updates, f32 gradients and f32
  /// moments; the bf16 buffer is the compute copy, refreshed from the
  /// master after each update.
  bool mixed() const { return type.getElementType().isBF16(); }
};

class Lowering {
public:
  Lowering(mlir::ModuleOp top, ModelOp model, int64_t dataSamples)
      : top(top), model(model), ctx(top.getContext()), b(ctx),
        loc(model.getLoc()), dataSamples(dataSamples) {}

  LogicalResult run();

private:
  // Declarations.
  FailureOr<mrt::BufferType> bufferType(Operation *at, Type t);
  /// A buffer `on` a grid exists on that grid's ranks only.
  std::string declare(StringRef name, mrt::BufferType type,
                      mrt::MemoryCategory category, StringRef on = {});
  FailureOr<std::string> declareFor(Value v, StringRef hint = {});
  std::string scratch(StringRef what, ArrayRef<int64_t> shape, Type elem = {});

  // Values.
  Value get(StringRef sym);
  Value materialize(Value v);
  Value absent() {
    return mrt::AbsentOp::create(b, loc, mrt::AbsentType::get(ctx));
  }
  Value i64(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v)));
  }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  mrt::KernelOp kernel(StringRef name, ArrayRef<Value> args,
                       ArrayRef<NamedAttribute> attrs = {});
  void zero(Value buffer) { mrt::FillOp::create(b, loc, buffer, f32(0.0)); }
  /// The distributed optimizer's part of a parameter's buffer `sym`: block
  /// `dp rank` of its flattened [dp, shard] view.
  Value dpShardOf(const Param &p, StringRef sym);
  /// This rank's coordinate along the tp dim of a module's grid.
  Value tpRank(StringRef module) {
    return mrt::GridCoordOp::create(b, loc, b.getI64Type(),
                                    FlatSymbolRefAttr::get(ctx, module),
                                    b.getStringAttr("tp"));
  }
  /// The first vocabulary row of this rank's shard of `rows` rows.
  Value vocabStart(StringRef module, int64_t rows) {
    return arith::MulIOp::create(b, loc, tpRank(module), i64(rows));
  }
  /// Whether the ops of the module being lowered are one tp rank's part.
  bool partitioned(StringRef paramModule) const {
    return tpOf.lookup(paramModule) > 1;
  }
  LogicalResult lowerAllReduce(shard::AllReduceOp op);
  /// The module owning a shard grid and the runtime grid dims of `axes`.
  FailureOr<std::pair<FlatSymbolRefAttr, SmallVector<StringRef>>>
  groupOf(Operation *op, FlatSymbolRefAttr gridName, ArrayRef<int16_t> axes);
  /// all_gather, reduce_scatter and all_slice along dim 0 (sequence
  /// parallelism's token shards).
  LogicalResult lowerTokenCollective(Operation *op);
  /// mimo.context_slice (slice) and mimo.context_pad: copies between the
  /// full sequence and this rank's two load-balanced chunks.
  LogicalResult lowerContextChunks(Operation *op, bool slice);
  /// Ring attention over the module's cp ranks (context parallelism).
  LogicalResult lowerRingAttention(AttentionOp a, Value o, Value lse,
                                   StringRef paramModule);
  LogicalResult lowerRingAttentionGrad(AttentionGradOp g, ArrayRef<Value> r,
                                       StringRef paramModule);
  FailureOr<struct RingInputs>
  ringInputs(Operation *op, int64_t cp, bool causal, FloatAttr theta, Value q,
             Value k, Value v, int64_t heads, int64_t kvHeads,
             StringRef paramModule);
  LogicalResult lowerVocabCrossEntropy(Value logits, Value labels,
                                       Value lossSum, Value count, Value lse,
                                       StringRef grid);
  Value sqrtF32(Value x);

  // Modules.
  LogicalResult checkPlan();
  LogicalResult collectParams();
  LogicalResult lowerModule(mimo::ModuleOp m, StringRef paramModule);
  LogicalResult lowerBlock(Block &block, StringRef paramModule);
  LogicalResult lowerOp(Operation *op, StringRef paramModule);
  LogicalResult lowerStack(StackOp stack, StringRef paramModule);
  LogicalResult lowerRecompute(RecomputeOp rc, StringRef paramModule);
  LogicalResult lowerPipedModule(mimo::ModuleOp m, StringRef paramModule,
                                 bool forward);
  /// Runs `fn` with the builder at the start of `block` and the value views
  /// it creates dropped afterwards (they do not dominate what follows).
  template <typename Fn> LogicalResult inBlock(Block *block, Fn fn) {
    OpBuilder::InsertionGuard guard(b);
    if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
      b.setInsertionPoint(block->getTerminator());
    else
      b.setInsertionPointToEnd(block);
    DenseMap<Value, Value> saved = env;
    LogicalResult r = fn();
    env = std::move(saved);
    return r;
  }
  /// A view of where `l` lives, sliced like materialize() slices.
  Value viewOf(const Loc &l);
  Value toIndex(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }
  Value toI64(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
  }
  LogicalResult lowerStep();
  LogicalResult
  lowerSchedule(ArrayRef<mimo::ModuleOp> forward,
                llvm::StringMap<mimo::ModuleOp> &backwardOf,
                function_ref<LogicalResult(mimo::ModuleOp)> runForward,
                function_ref<LogicalResult(mimo::ModuleOp)> runBackward,
                StringRef lossSym, StringRef countSym, StringRef seedSym,
                Value &localLoss, Value &localCount);
  void lowerInit();
  double flopsPerStep();

  mlir::ModuleOp top;
  ModelOp model;
  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  int64_t dataSamples;

  /// Where the next buffer declaration goes.
  Operation *declPoint = nullptr;
  llvm::StringSet<> usedNames;
  llvm::StringMap<mrt::BufferType> bufferTypes;
  /// Numbering of values per lowered module.
  std::string module;
  /// The grid the current module's buffers are declared on (disaggregated
  /// layout), else empty.
  std::string spanGrid;
  unsigned counter = 0;

  std::vector<Param> params;
  llvm::StringMap<size_t> paramIndex;

  DenseMap<Value, Loc> locs;
  /// mimort values usable at the current insertion point (scoped by hand
  /// around loop bodies).
  DenseMap<Value, Value> env;
  Value sample; ///< the index of the current sample in the data buffers
  Value bridgeSample; ///< the index into the bridge's sample buffers
  /// Locations of each lowered module's results.
  llvm::StringMap<std::vector<Loc>> results;
  std::string llmName;
  /// The data loader's dp (the smallest module dp: its block of each global
  /// batch holds every module's samples on that rank) and the world.
  int64_t dp = 1;
  int64_t world = 1;
  /// Each forward module's data-parallel size.
  llvm::StringMap<int64_t> dpOf;
  /// The model's mimo.bridge (mimo-bridge): the three-phase schedule.
  bool bridged = false, needsBridge = false;
  BridgeOp bridge;
  /// Each forward module's tensor-parallel size.
  llvm::StringMap<int64_t> tpOf;
  /// Each forward module's pipeline-parallel size.
  llvm::StringMap<int64_t> ppOf;
  /// Each forward module's context-parallel size (> 1: the LLM only).
  llvm::StringMap<int64_t> cpOf;
  int64_t cpOfModule(StringRef m) const {
    auto it = cpOf.find(m);
    return it == cpOf.end() ? 1 : it->second;
  }
  /// Whether the module's sequence is split over its cp ranks (the LLM's;
  /// an encoder on a cp > 1 grid runs whole on each).
  bool contextSplit(StringRef m) const {
    return m == llmName && cpOfModule(m) > 1;
  }
  /// The ranks one module's grid covers.
  int64_t spanOf(StringRef m) const {
    return tpOf.lookup(m) * cpOfModule(m) * ppOf.lookup(m) * dpOf.lookup(m);
  }
  /// Each forward module's first rank (0 unless disaggregated).
  llvm::StringMap<int64_t> offsetOf;
  /// The disaggregated layout: encoder (+ projector) and LLM on disjoint
  /// rank spans, the bridge point to point between them; every rank loads
  /// the whole global batch through the `world` grid.
  bool disaggregated = false;
  static constexpr StringLiteral kWorldGrid = "world";
  /// This rank's world rank (disaggregated), in the function being built,
  /// and whether it is in each module's span (at the function's entry).
  Value worldRank;
  llvm::StringMap<Value> membership;
  void enterRanks() {
    if (!disaggregated)
      return;
    worldRank = mrt::GridCoordOp::create(
        b, loc, b.getI64Type(), FlatSymbolRefAttr::get(ctx, kWorldGrid),
        b.getStringAttr("tp"));
    membership.clear();
    for (auto &e : offsetOf)
      membership[e.getKey()] = spanTest(e.getKey());
  }
  Value inModule(StringRef module) { return membership.lookup(module); }
  Value spanTest(StringRef module) {
    int64_t lo = offsetOf.lookup(module);
    int64_t hi = lo + spanOf(module);
    return arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, worldRank,
                              i64(lo)),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, worldRank,
                              i64(hi)));
  }
  /// Whether this rank is on the pipeline stage holding `p` (stage >= 0).
  Value onStageOf(const Param &p) {
    return arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        mrt::GridCoordOp::create(b, loc, b.getI64Type(),
                                 FlatSymbolRefAttr::get(ctx, p.module),
                                 b.getStringAttr("pp")),
        i64(p.stage));
  }
  /// Builds `body` where only the ranks holding `p`'s buffers run it.
  void onParam(const Param &p, function_ref<void()> body) {
    onModule(p.module, [&] {
      if (p.stage < 0)
        return body();
      auto op =
          scf::IfOp::create(b, loc, onStageOf(p), /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(op.thenBlock());
      body();
    });
  }
  /// A pipelined LLM's parameter outside the layer stack read on both
  /// ends: a copy on every stage.
  bool sharedByStages(const Param &p) const {
    return p.module == llmName && pipelined() && p.ppDim < 0 && p.stage < 0;
  }
  /// Builds `body` where only `module`'s ranks run it (every rank outside
  /// the disaggregated layout).
  void onModule(StringRef module, function_ref<void()> body) {
    if (!disaggregated)
      return body();
    auto op = scf::IfOp::create(b, loc, inModule(module),
                                /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(op.thenBlock());
    body();
  }

  /// The LLM's pipeline (mimo-pipeline): stages, virtual stages (chunks)
  /// per rank, layers per chunk, microbatches per step and in-flight slots
  /// per chunk.
  struct Pipe {
    int64_t stages = 1, chunks = 1, chunkLayers = 0, micro = 0, ring = 1;
  } pipe;
  bool pipelined() const { return pipe.stages > 1; }
  /// Forward values the backward reads: kept per in-flight microbatch.
  llvm::DenseSet<Value> slotted;
  /// mimo.param_grad ops whose per-layer gradients the backward stack
  /// already added to the parameter's gradient rows (lowerStack).
  llvm::DenseSet<Operation *> accumulatedGrads;

  /// Buffer reuse (docs/lowering.md "Buffers"). A temporary (an op result
  /// in a module or layer body that the body's terminator does not read, is
  /// not kept per microbatch and is not a stack's or recompute's result)
  /// takes a free buffer of its element type and size from its module's
  /// pool (a reshaped view when the shapes differ) and gives it
  /// back after its last reader; a workspace buffer is free again once its
  /// op is lowered. A module lowered twice replays the same claims.
  struct Pool {
    std::map<std::string, std::vector<std::string>> free;
    llvm::StringSet<> isFree;
    /// A free buffer under `key`, or "" when there is none.
    std::string take(const std::string &key) {
      auto &list = free[key];
      if (list.empty())
        return {};
      std::string sym = list.back();
      list.pop_back();
      isFree.erase(sym);
      return sym;
    }
    /// `sym` is free again (once, however often it is given back).
    void give(const std::string &key, const std::string &sym) {
      if (isFree.insert(sym).second)
        free[key].push_back(sym);
    }
    /// `sym` is in use again (a value lowered a second time).
    void claim(const std::string &key, const std::string &sym) {
      if (isFree.erase(sym))
        llvm::erase(free[key], sym);
    }
  };
  llvm::StringMap<Pool> valuePools, scratchPools;
  llvm::StringSet<> pooledSyms;
  /// Scratch buffers taken (type key, sym) since the op being lowered began.
  std::vector<std::pair<std::string, std::string>> scratchTaken;
  /// Per block: the values whose last reader is each op.
  DenseMap<Block *, DenseMap<Operation *, SmallVector<Value>>> lastUses;
  DenseMap<Block *, llvm::DenseSet<Value>> liveIn;
  /// Pools hold buffers by element type and count: a value takes one of
  /// another shape through a reshaped view.
  static std::string typeKey(mrt::BufferType t) {
    std::string k;
    llvm::raw_string_ostream os(k);
    os << t.getElementType() << "x" << t.getNumElements();
    return k;
  }
  bool temporary(Value v) const;
  const DenseMap<Operation *, SmallVector<Value>> &lastUsesOf(Block *block);
  /// Lowers `op` with `fn`, then frees what died there.
  LogicalResult lowerAndRetire(Operation *op,
                               function_ref<LogicalResult()> fn);
  Value slotIndex; ///< the current microbatch's slot
  /// Slots of the slotted values declared next: the pipeline's in-flight
  /// microbatches, or the colocated schedule's encoder samples.
  int64_t slots = 0;
  /// The layer (in forward order, within the stage) of the stack body being
  /// lowered, and the rows the next collected value keeps (declareFor).
  Value stackLayer;
  int64_t keptFrom = 0;
  Value chunk;     ///< the current chunk of this rank's layers
  /// Whether this rank runs the first / last virtual stage of the pipeline
  /// for the current chunk.
  Value isFirstVs, isLastVs;
  /// The LLM's layer stacks under the schedule.
  Operation *fwdStack = nullptr, *bwdStack = nullptr;
  /// How the stack being lowered under the schedule starts and ends: its
  /// carried value comes from the module (hasInit) or from peerIn, and goes
  /// on to peerOut when sendOut holds; `tag` tells the two directions apart.
  struct StageEnds {
    Value hasInit, peerIn, sendOut, peerOut;
    int64_t tag = 0;
  } ends;
  /// The colocated schedule's LLM phase: where the LLM's samples start in
  /// the loaded block, whether the bridge buffer is indexed by microbatch
  /// (fan-in) or by sample, and what the first stage does after each
  /// backward (collect the image-token gradient).
  struct ScheduleHooks {
    Value sampleOffset;
    bool bridgeByMicrobatch = false;
    std::function<void(Value)> afterFirstBackward;
    /// On the first virtual stage, before microbatch j's forward.
    std::function<void(Value)> beforeFirstForward;
  } schedule;
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

FailureOr<mrt::BufferType> Lowering::bufferType(Operation *at, Type t) {
  auto tensor = dyn_cast<RankedTensorType>(t);
  if (!tensor || !tensor.hasStaticShape())
    return at->emitError() << "convert-mimo-to-mimort: needs a statically "
                              "shaped tensor, got "
                           << t;
  Type elem = tensor.getElementType();
  if (!elem.isF32() && !elem.isBF16() && !elem.isInteger(32))
    return at->emitError() << "convert-mimo-to-mimort: element type " << elem
                           << " has no mimort buffer (f32, bf16, i32)";
  SmallVector<int64_t> shape(tensor.getShape());
  if (shape.empty())
    shape.push_back(1);
  if (shape.size() > 5)
    return at->emitError() << "convert-mimo-to-mimort: rank " << shape.size()
                           << " exceeds the 5 of a mimort buffer";
  return mrt::BufferType::get(ctx, shape, elem);
}

std::string Lowering::declare(StringRef name, mrt::BufferType type,
                              mrt::MemoryCategory category, StringRef on) {
  std::string sym = name.str();
  for (unsigned n = 1; usedNames.contains(sym); ++n)
    sym = (name + "." + Twine(n)).str();
  usedNames.insert(sym);
  bufferTypes[sym] = type;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(declPoint);
  mrt::BufferOp::create(
      b, loc, b.getStringAttr(sym), mrt::MemoryCategoryAttr::get(ctx, category),
      TypeAttr::get(type),
      on.empty() ? FlatSymbolRefAttr() : FlatSymbolRefAttr::get(ctx, on),
      IntegerAttr());
  return sym;
}

FailureOr<std::string> Lowering::declareFor(Value v, StringRef hint) {
  // A value lowered again (the colocated schedule re-runs the encoder
  // forward) keeps its buffer (claimed again from its pool).
  auto known = locs.find(v);
  if (known != locs.end() && !known->second.perSample) {
    const std::string &sym = known->second.sym;
    if (pooledSyms.contains(sym))
      valuePools[module].claim(typeKey(bufferTypes.lookup(sym)), sym);
    return sym;
  }
  Operation *at =
      v.getDefiningOp() ? v.getDefiningOp() : v.getParentBlock()->getParentOp();
  auto type = bufferType(at, v.getType());
  if (failed(type))
    return failure();
  if (hint.empty() && temporary(v)) {
    std::string sym = valuePools[module].take(typeKey(*type));
    if (sym.empty()) {
      sym = declare((module + ".v" + Twine(counter++)).str(), *type,
                    mrt::MemoryCategory::Activations, spanGrid);
      pooledSyms.insert(sym);
    }
    Loc l{sym};
    if (bufferTypes.lookup(sym) != *type)
      l.as = *type;
    locs[v] = l;
    return sym;
  }
  std::string name = hint.empty() ? (module + ".v" + Twine(counter++)).str()
                                  : (module + "." + hint).str();
  bool bySlot = slotted.contains(v);
  if (bySlot) {
    // One slot per in-flight microbatch; a chunked layer stack's residuals
    // keep the rows of one chunk.
    SmallVector<int64_t> shape{slots};
    llvm::append_range(shape, type->getShape());
    auto st = v.getDefiningOp<StackOp>();
    if (st && st.getOperation() == fwdStack &&
        cast<OpResult>(v).getResultNumber() >= st.getNumCarried())
      shape[1] = pipe.chunkLayers;
    *type = mrt::BufferType::get(ctx, shape, type->getElementType());
  }
  if (keptFrom > 0) {
    SmallVector<int64_t> shape(type->getShape());
    shape[bySlot ? 1 : 0] -= keptFrom;
    *type = mrt::BufferType::get(ctx, shape, type->getElementType());
  }
  std::string sym =
      declare(name, *type, mrt::MemoryCategory::Activations, spanGrid);
  locs[v] = Loc{sym, false, false, bySlot, keptFrom};
  return sym;
}

std::string Lowering::scratch(StringRef what, ArrayRef<int64_t> shape,
                              Type elem) {
  if (!elem)
    elem = Float32Type::get(ctx);
  auto type = mrt::BufferType::get(ctx, shape, elem);
  // (Exact types: callers reach a workspace by its symbol.)
  std::string key;
  llvm::raw_string_ostream(key) << type;
  std::string sym = scratchPools[module].take(key);
  if (sym.empty())
    sym = declare((module + ".ws" + Twine(counter++) + "." + what).str(), type,
                  mrt::MemoryCategory::Workspace, spanGrid);
  scratchTaken.push_back({key, sym});
  return sym;
}

bool Lowering::temporary(Value v) const {
  auto r = dyn_cast<OpResult>(v);
  if (!r || slotted.contains(v) || keptFrom > 0)
    return false;
  Operation *def = r.getOwner();
  if (isa<StackOp, RecomputeOp>(def))
    return false;
  Block *block = def->getBlock();
  Operation *parent = block->getParentOp();
  if (!isa<mimo::ModuleOp, StackOp>(parent))
    return false;
  Operation *term = block->getTerminator();
  return !llvm::is_contained(term->getOperands(), v);
}

const DenseMap<Operation *, SmallVector<Value>> &
Lowering::lastUsesOf(Block *block) {
  auto it = lastUses.find(block);
  if (it != lastUses.end())
    return it->second;
  DenseMap<Operation *, SmallVector<Value>> &dying = lastUses[block];
  for (Operation &op : block->without_terminator())
    for (Value v : op.getResults()) {
      if (!temporary(v))
        continue;
      Operation *last = nullptr;
      for (Operation *user : v.getUsers()) {
        Operation *at = block->findAncestorOpInBlock(*user);
        if (at && (!last || last->isBeforeInBlock(at)))
          last = at;
      }
      dying[last ? last : &op].push_back(v);
    }
  return dying;
}

LogicalResult Lowering::lowerAndRetire(Operation *op,
                                       function_ref<LogicalResult()> fn) {
  size_t mark = scratchTaken.size();
  if (failed(fn()))
    return failure();
  // The op's workspace is free again.
  Pool &sp = scratchPools[module];
  for (size_t i = mark; i < scratchTaken.size(); ++i)
    sp.give(scratchTaken[i].first, scratchTaken[i].second);
  scratchTaken.resize(mark);
  // Temporaries read last here give their buffers back, unless a value
  // still live shares the buffer (an in-place collective's result).
  Block *block = op->getBlock();
  const auto &dying = lastUsesOf(block);
  llvm::DenseSet<Value> &live = liveIn[block];
  for (Value r : op->getResults())
    if (locs.count(r))
      live.insert(r);
  auto it = dying.find(op);
  if (it == dying.end())
    return success();
  Pool &vp = valuePools[module];
  for (Value v : it->second) {
    live.erase(v);
    auto l = locs.find(v);
    if (l == locs.end() || !pooledSyms.contains(l->second.sym))
      continue;
    const std::string &sym = l->second.sym;
    bool shared = llvm::any_of(live, [&](Value o) {
      auto lo = locs.find(o);
      return lo != locs.end() && lo->second.sym == sym;
    });
    if (!shared)
      vp.give(typeKey(bufferTypes.lookup(sym)), sym);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

Value Lowering::get(StringRef sym) {
  return mrt::GetOp::create(b, loc, bufferTypes.lookup(sym),
                            FlatSymbolRefAttr::get(ctx, sym));
}

Value Lowering::materialize(Value v) {
  if (Value m = env.lookup(v))
    return m;
  auto it = locs.find(v);
  assert(it != locs.end() && "value without a buffer");
  Value m = get(it->second.sym);
  if (it->second.as)
    m = mrt::ReshapeOp::create(b, loc, it->second.as, m);
  if (it->second.bySlot) {
    auto type = cast<mrt::BufferType>(m.getType());
    m = mrt::SliceOp::create(b, loc,
                             mrt::BufferType::get(ctx,
                                                  type.getShape().drop_front(),
                                                  type.getElementType()),
                             m, slotIndex);
  }
  if (it->second.perSample) {
    auto type = cast<mrt::BufferType>(m.getType());
    auto sliced = mrt::BufferType::get(ctx, type.getShape().drop_front(),
                                       type.getElementType());
    m = mrt::SliceOp::create(b, loc, sliced, m,
                             it->second.byBridge ? bridgeSample : sample);
  }
  env[v] = m;
  return m;
}

Value Lowering::viewOf(const Loc &l) {
  Value m = get(l.sym);
  if (l.as)
    m = mrt::ReshapeOp::create(b, loc, l.as, m);
  auto sliceBy = [&](Value i) {
    auto type = cast<mrt::BufferType>(m.getType());
    m = mrt::SliceOp::create(
        b, loc,
        mrt::BufferType::get(ctx, type.getShape().drop_front(),
                             type.getElementType()),
        m, i);
  };
  if (l.bySlot)
    sliceBy(slotIndex);
  if (l.perSample)
    sliceBy(l.byBridge ? bridgeSample : sample);
  return m;
}

mrt::KernelOp Lowering::kernel(StringRef name, ArrayRef<Value> args,
                               ArrayRef<NamedAttribute> attrs) {
  auto op = mrt::KernelOp::create(b, loc, name, ValueRange(args));
  for (const NamedAttribute &a : attrs)
    op->setAttr(a.getName(), a.getValue());
  return op;
}

/// Newton's iteration for sqrt(x), x >= 0, from (x + 1) / 2 (at or above
/// the root): 64 steps reach f32 precision for any finite x. The EmitC
/// lowering converts arith but not math, so there is no math.sqrt.
Value Lowering::sqrtF32(Value x) {
  Value half = f32(0.5), one = f32(1.0);
  Value y0 = arith::MulFOp::create(b, loc,
                                   arith::AddFOp::create(b, loc, x, one), half);
  auto loop =
      scf::ForOp::create(b, loc, index(0), index(64), index(1), ValueRange{y0});
  b.setInsertionPointToStart(loop.getBody());
  Value y = loop.getRegionIterArg(0);
  Value q = arith::DivFOp::create(b, loc, x, y);
  Value next =
      arith::MulFOp::create(b, loc, arith::AddFOp::create(b, loc, y, q), half);
  scf::YieldOp::create(b, loc, next);
  b.setInsertionPointAfter(loop);
  return loop.getResult(0);
}

//===----------------------------------------------------------------------===//
// Checks and parameters
//===----------------------------------------------------------------------===//

LogicalResult Lowering::checkPlan() {
  if (mimo::ModuleOp llm = model.getLlm())
    llmName = llm.getSymName().str();
  // Grids this pass places itself: cp = pp = 1, any dp, tp > 1 once
  // mimo-partition has made the module one tp rank's program, every module
  // on the ranks [0, world).
  for (mimo::ModuleOp m : model.getModules()) {
    if (m.getKind() == ModuleKind::backward)
      continue;
    auto p = m.getParallelAttr();
    int64_t tp = p ? p.getTp() : 1;
    tpOf[m.getSymName()] = tp;
    ppOf[m.getSymName()] = p ? p.getPp() : 1;
    cpOf[m.getSymName()] = p ? p.getCp() : 1;
    if (!p)
      continue;
    // cp > 1: the LLM's sequence split by mimo-partition, or (homogeneous
    // layout) an encoder side run whole on each of the LLM's cp ranks.
    auto layoutAttr = model.getPlanAttr();
    bool replicated = m.getKind() != ModuleKind::llm && layoutAttr &&
                      layoutAttr.getLayout() == Layout::homogeneous;
    if (p.getCp() != 1 && !replicated &&
        (m.getKind() != ModuleKind::llm || !m->hasAttr("mimo.partitioned")))
      return m.emitError()
             << "convert-mimo-to-mimort: module '" << m.getSymName()
             << "' has grid [tp = " << p.getTp() << ", cp = " << p.getCp()
             << ", pp = " << p.getPp() << ", dp = " << p.getDp()
             << "]; context parallelism lowers for an LLM that mimo-partition "
                "has split (run mimo-partition first)";
    if (p.getPp() > 1 && !m->hasAttr("mimo.pipeline") &&
        !m->hasAttr("mimo.pp_stage"))
      return m.emitError()
             << "convert-mimo-to-mimort: module '" << m.getSymName()
             << "' has pp = " << p.getPp()
             << " but is not split into stages; run mimo-pipeline first";
    if (auto d = m->getAttrOfType<DictionaryAttr>("mimo.pipeline")) {
      auto get = [&](StringRef k) {
        auto a = d.getAs<IntegerAttr>(k);
        return a ? a.getInt() : 0;
      };
      int64_t stages = get("stages"), chunks = get("virtual"),
              layers = get("layers");
      if (m.getKind() != ModuleKind::llm || stages != p.getPp() ||
          chunks < 1 || layers % (stages * chunks) != 0)
        return m.emitError() << "convert-mimo-to-mimort: module '"
                             << m.getSymName()
                             << "' has an inconsistent mimo.pipeline " << d;
      pipe.stages = stages;
      pipe.chunks = chunks;
      pipe.chunkLayers = layers / (stages * chunks);
      pipe.micro = model.getGlobalBatchSize() / p.getDp();
      // In flight per chunk: at most the first stage's warmup + 1
      // microbatches (consecutive ones, so a ring of slots).
      int64_t warm = chunks == 1 ? stages - 1
                                 : (stages - 1) * 2 + (chunks - 1) * stages;
      pipe.ring = std::min(pipe.micro, warm + 1);
    }
    if ((p.getOffloadActivations() || p.getOffloadParams() ||
         p.getOffloadOptimizer()) &&
        !m->hasAttr("mimo.offload"))
      return m.emitError()
             << "convert-mimo-to-mimort: module '" << m.getSymName()
             << "' plans offload but nothing resolved it; run "
                "mimo-insert-offload first";
    if (p.getRecompute() != RecomputeKind::none &&
        !m->hasAttr("mimo.recomputed"))
      return m.emitError()
             << "convert-mimo-to-mimort: module '" << m.getSymName()
             << "' plans recompute = " << stringifyRecomputeKind(p.getRecompute())
             << " but nothing applied it; run mimo-apply-recompute first";
    if (tp > 1 && !m->hasAttr("mimo.partitioned"))
      return m.emitError()
             << "convert-mimo-to-mimort: module '" << m.getSymName()
             << "' has tp = " << tp
             << " but is not partitioned; run mimo-partition first";
  }
  auto plan = model.getPlanAttr();
  disaggregated = plan && plan.getLayout() == Layout::disaggregated;
  for (mimo::ModuleOp m : model.getModules())
    if (m.getKind() != ModuleKind::backward) {
      auto p = m.getParallelAttr();
      offsetOf[m.getSymName()] = p && disaggregated ? p.getOffset() : 0;
      if (disaggregated && m.getSymName() == kWorldGrid)
        return m.emitError()
               << "convert-mimo-to-mimort: a module named '" << kWorldGrid
               << "' clashes with the disaggregated layout's world grid";
    }
  // One dp for every forward module: a module on another dp would need the
  // encoder-to-LLM bridge.
  SmallVector<std::pair<StringRef, int64_t>> dps;
  for (mimo::ModuleOp m : model.getModules()) {
    if (m.getKind() == ModuleKind::backward)
      continue;
    auto p = m.getParallelAttr();
    dps.push_back({m.getSymName(), p ? p.getDp() : 1});
  }
  for (auto [name, d] : dps)
    dpOf[name] = d;
  dp = dps.empty() ? 1 : dps.front().second;
  // The colocated layout runs ARCHITECTURE.md's three-phase schedule (with
  // the bridge between dp sizes, equal or not).
  needsBridge =
      (plan && plan.getLayout() == Layout::colocated) || disaggregated ||
      llvm::any_of(dps, [&](auto &e) { return e.second != dp; });
  auto bridges = model.getBody().front().getOps<BridgeOp>();
  bridged = !bridges.empty();
  if (bridged)
    bridge = *bridges.begin();
  for (auto [name, d] : dps)
    dp = std::min(dp, d);
  // Disaggregated: every rank loads the whole batch (the world grid's one
  // replica) and each module takes its replica's block of it.
  if (disaggregated)
    dp = 1;
  if (bridged && llvm::range_size(bridges) != 1)
    return model.emitError() << "convert-mimo-to-mimort: the three-phase "
                                "schedule lowers one bridge (one encoder and "
                                "projector), got "
                             << llvm::range_size(bridges);
  world = plan ? plan.getWorld() : 1;
  if (disaggregated) {
    // Two spans: the LLM's, and its encoder's (with the projector); they
    // are disjoint and cover the world.
    int64_t covered = 0;
    for (mimo::ModuleOp m : model.getModules()) {
      if (m.getKind() == ModuleKind::backward ||
          m.getKind() == ModuleKind::projector)
        continue;
      StringRef name = m.getSymName();
      int64_t lo = offsetOf.lookup(name), span = spanOf(name);
      covered += span;
      for (mimo::ModuleOp o : model.getModules()) {
        if (o == m || o.getKind() == ModuleKind::backward ||
            o.getKind() == ModuleKind::projector)
          continue;
        int64_t olo = offsetOf.lookup(o.getSymName());
        int64_t ospan = spanOf(o.getSymName());
        if (lo < olo + ospan && olo < lo + span)
          return m.emitError()
                 << "convert-mimo-to-mimort: module '" << name << "' (ranks ["
                 << lo << ", " << lo + span << ")) overlaps module '"
                 << o.getSymName() << "' (ranks [" << olo << ", "
                 << olo + ospan << ")) in a disaggregated plan";
      }
    }
    for (mimo::ModuleOp m : model.getModules())
      if (m.getKind() == ModuleKind::projector) {
        StringRef enc =
            cast<SymbolRefAttr>(m.getInputsAttr()[0]).getRootReference();
        if (offsetOf.lookup(m.getSymName()) != offsetOf.lookup(enc))
          return m.emitError()
                 << "convert-mimo-to-mimort: projector '" << m.getSymName()
                 << "' must run on its encoder's ranks (from "
                 << offsetOf.lookup(enc) << "), got ranks from "
                 << offsetOf.lookup(m.getSymName());
      }
    if (covered != world)
      return model.emitError()
             << "convert-mimo-to-mimort: the disaggregated plan's module "
                "spans cover "
             << covered << " ranks of world " << world;
  }
  for (mimo::ModuleOp m : model.getModules()) {
    if (m.getKind() == ModuleKind::backward || disaggregated)
      continue;
    int64_t span = spanOf(m.getSymName());
    if (span != world)
      return m.emitError()
             << "convert-mimo-to-mimort: the plan has world " << world
             << " but module '" << m.getSymName()
             << "' spans tp * cp * pp * dp = " << span
             << " ranks; every rank must hold every module";
  }
  if (needsBridge && !bridged)
    return model.emitError()
           << "convert-mimo-to-mimort: the plan puts the encoder side and the "
              "LLM on different grids but the model has no mimo.bridge; run "
              "mimo-bridge first";
  int64_t globalBatch = model.getGlobalBatchSize();
  for (auto [name, d] : dps)
    if (globalBatch % d != 0)
      return model.emitError()
             << "convert-mimo-to-mimort: the global batch (" << globalBatch
             << ") must be a multiple of module '" << name << "' dp (" << d
             << ")";
  return success();
}

LogicalResult Lowering::collectParams() {
  for (mimo::ModuleOp m : model.getModules()) {
    if (m.getKind() == ModuleKind::backward)
      continue;
    WalkResult r = m.getBody().walk([&](ParamOp p) -> WalkResult {
      if (p->getParentOfType<StackOp>())
        return p.emitError()
               << "convert-mimo-to-mimort: parameter '" << p.getName()
               << "' is declared inside a stack; run "
                  "mimo-generate-backward first (it hoists "
                  "stacked parameters)";
      std::string name = (m.getSymName() + "." + p.getName()).str();
      if (paramIndex.count(name))
        return WalkResult::advance();
      auto type = bufferType(p, p.getType());
      if (failed(type))
        return WalkResult::interrupt();
      paramIndex[name] = params.size();
      int64_t tpDim = -1;
      if (auto d = p->getAttrOfType<IntegerAttr>("mimo.tp_dim"))
        tpDim = d.getInt();
      int64_t ppDim = -1;
      if (auto d = p->getAttrOfType<IntegerAttr>("mimo.pp_dim"))
        ppDim = d.getInt();
      int64_t shard = 0;
      auto par = m.getParallelAttr();
      int64_t numel = type->getNumElements();
      if (par && par.getDistributedOptimizer() && par.getDp() > 1 &&
          numel % par.getDp() == 0)
        shard = numel / par.getDp();
      // A pipelined LLM's parameter read only before its layer stack lives
      // on the first stage, only after it on the last (what runs there,
      // lowerPipedModule).
      int64_t stage = -1;
      auto stacks = m.getBodyBlock().getOps<StackOp>();
      if (m.getKind() == ModuleKind::llm && pipe.stages > 1 && ppDim < 0 &&
          !stacks.empty() && !p.getResult().use_empty()) {
        Operation *stack = *stacks.begin();
        bool before = false, after = false;
        for (Operation *user : p.getResult().getUsers()) {
          Operation *at = m.getBodyBlock().findAncestorOpInBlock(*user);
          if (!at || at == stack)
            before = after = true;
          else if (at->isBeforeInBlock(stack))
            before = true;
          else
            after = true;
        }
        if (before != after)
          stage = before ? 0 : pipe.stages - 1;
      }
      // The homogeneous layout's encoder side runs on the first stage only
      // (mimo-pipeline's mimo.pp_stage): its state lives there.
      if (auto at = m->getAttrOfType<IntegerAttr>("mimo.pp_stage"))
        stage = at.getInt();
      params.push_back({name, m.getSymName().str(), *type, p.getInit(),
                        p.getStd() ? p.getStd()->convertToDouble() : 0.02,
                        tpDim, ppDim, shard, stage});
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      return failure();
  }
  for (const Param &p : params) {
    usedNames.insert(p.name);
    bufferTypes[p.name] = p.type;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(declPoint);
    // With the distributed optimizer, the Adam states, the reduced
    // gradient and the staging copy of the updated part are this rank's
    // 1 / dp of the flattened tensor.
    // Mixed precision: everything but the compute copy and the staged
    // update is f32 (the master copy, the gradients, the moments).
    // (suffix, category, sharded, f32 under mixed precision)
    SmallVector<std::tuple<StringRef, mrt::MemoryCategory, bool, bool>> decls{
        {"", mrt::MemoryCategory::Params, false, false},
        {".grad", mrt::MemoryCategory::Grads, false, true},
        {".m", mrt::MemoryCategory::Optimizer, true, true},
        {".v", mrt::MemoryCategory::Optimizer, true, true}};
    if (p.mixed())
      decls.push_back({".master", mrt::MemoryCategory::Optimizer, true, true});
    if (p.shard) {
      decls.push_back({".grad_shard", mrt::MemoryCategory::Grads, true, true});
      decls.push_back({".update", mrt::MemoryCategory::Workspace, true, false});
    }
    for (auto [suffix, cat, sharded, wide] : decls) {
      std::string sym = p.name + suffix.str();
      Type elem = wide && p.mixed() ? Type(b.getF32Type())
                                    : p.type.getElementType();
      mrt::BufferType t =
          sharded && p.shard ? mrt::BufferType::get(ctx, {p.shard}, elem)
                             : mrt::BufferType::get(ctx, p.type.getShape(), elem);
      usedNames.insert(sym);
      bufferTypes[sym] = t;
      // Disaggregated: only the module's ranks hold its parameters and
      // optimizer state.
      // A pipeline stage's own parameters: on that stage only.
      mrt::BufferOp::create(
          b, loc, b.getStringAttr(sym), mrt::MemoryCategoryAttr::get(ctx, cat),
          TypeAttr::get(t),
          disaggregated || p.stage >= 0 ? FlatSymbolRefAttr::get(ctx, p.module)
                                        : FlatSymbolRefAttr(),
          p.stage >= 0 ? b.getI64IntegerAttr(p.stage) : IntegerAttr());
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

static Type elemOf(Value buffer) {
  return cast<mrt::BufferType>(buffer.getType()).getElementType();
}

static ArrayRef<int64_t> shapeOf(Value buffer) {
  return cast<mrt::BufferType>(buffer.getType()).getShape();
}

static NamedAttribute boolAttr(OpBuilder &b, StringRef name, bool v) {
  return b.getNamedAttr(name, b.getBoolAttr(v));
}

LogicalResult Lowering::lowerOp(Operation *op, StringRef paramModule) {
  // Results get fresh buffers (per iteration inside a stack body).
  auto out = [&](Value v) -> FailureOr<Value> {
    if (failed(declareFor(v)))
      return failure();
    return materialize(v);
  };
  auto outs = [&](ValueRange vs,
                  SmallVectorImpl<Value> &bufs) -> LogicalResult {
    for (Value v : vs) {
      auto m = out(v);
      if (failed(m))
        return failure();
      bufs.push_back(*m);
    }
    return success();
  };

  if (auto rc = dyn_cast<RecomputeOp>(op))
    return lowerRecompute(rc, paramModule);
  if (auto p = dyn_cast<ParamOp>(op)) {
    std::string name = (paramModule + "." + p.getName()).str();
    if (!paramIndex.count(name))
      return p.emitError() << "convert-mimo-to-mimort: no forward parameter '"
                           << name << "'";
    locs[p.getResult()] = Loc{name, false};
    return success();
  }
  if (auto g = dyn_cast<ParamGradOp>(op)) {
    std::string name = (paramModule + "." + g.getName()).str();
    if (!paramIndex.count(name))
      return g.emitError() << "convert-mimo-to-mimort: no forward parameter '"
                           << name << "'";
    if (accumulatedGrads.contains(g))
      return success();
    Value grad = get(name + ".grad");
    Value part = materialize(g.getGradient());
    if (chunk && g.getGradient().getDefiningOp() == bwdStack &&
        pipe.chunks > 1) {
      // The backward stack wrote the current chunk's rows.
      auto rows = [&](Value all) {
        auto t = cast<mrt::BufferType>(all.getType());
        SmallVector<int64_t> shape{pipe.chunks, pipe.chunkLayers};
        llvm::append_range(shape, t.getShape().drop_front());
        Value view = mrt::ReshapeOp::create(
            b, loc, mrt::BufferType::get(ctx, shape, t.getElementType()), all);
        return mrt::SliceOp::create(
                   b, loc,
                   mrt::BufferType::get(ctx, ArrayRef(shape).drop_front(),
                                        t.getElementType()),
                   view, chunk)
            .getResult();
      };
      grad = rows(grad);
      part = rows(part);
    }
    kernel("add", {grad, part, grad});
    return success();
  }
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense || !dense.isSplat() || !isa<FloatType>(dense.getElementType()))
      return c.emitError() << "convert-mimo-to-mimort: only splat float "
                              "tensor constants lower (to mimort.fill)";
    auto buf = out(c.getResult());
    if (failed(buf))
      return failure();
    mrt::FillOp::create(b, loc, *buf,
                        f32(dense.getSplatValue<APFloat>().convertToDouble()));
    return success();
  }
  if (auto ar = dyn_cast<shard::AllReduceOp>(op))
    return lowerAllReduce(ar);
  if (isa<shard::AllGatherOp, shard::ReduceScatterOp, shard::AllSliceOp>(op))
    return lowerTokenCollective(op);
  if (auto l = dyn_cast<LinearOp>(op)) {
    auto y = out(l.getResult());
    if (failed(y))
      return failure();
    Value x = materialize(l.getInput()), w = materialize(l.getWeight());
    auto attrs = {boolAttr(b, "transposed_weight", l.getTransposeWeight())};
    if (l.getBias() && l.getParallel() == TpSplit::row &&
        partitioned(paramModule)) {
      // A row shard's output is a partial sum: tp rank 0 adds the bias.
      Value first = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::eq, tpRank(paramModule), i64(0));
      auto branch = scf::IfOp::create(b, loc, first, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(branch.thenBlock());
      kernel("linear_forward", {x, w, materialize(l.getBias()), *y}, attrs);
      b.setInsertionPointToStart(branch.elseBlock());
      kernel("linear_forward", {x, w, absent(), *y}, attrs);
      return success();
    }
    kernel("linear_forward",
           {x, w, l.getBias() ? materialize(l.getBias()) : absent(), *y},
           attrs);
    return success();
  }
  if (auto g = dyn_cast<LinearGradOp>(op)) {
    SmallVector<Value> r;
    if (failed(outs(g->getResults(), r)))
      return failure();
    zero(r[1]);
    Value db = absent();
    if (g.getBiasGrad()) {
      zero(r[2]);
      db = r[2];
    }
    kernel("linear_backward",
           {materialize(g.getInput()), materialize(g.getWeight()),
            materialize(g.getGrad()), r[0], r[1], db},
           {boolAttr(b, "transposed_weight", g.getTransposeWeight())});
    return success();
  }
  if (auto a = dyn_cast<AttentionOp>(op)) {
    int64_t heads = a.getHeads(), kvHeads = a.getKvHeads();
    int64_t headDim = a.getHeadDim();
    Value q = materialize(a.getQuery()), k = materialize(a.getKey());
    int64_t s = shapeOf(q)[0];
    auto o = out(a.getResult());
    if (failed(o))
      return failure();
    Value lse;
    if (a.getLse()) {
      auto l = out(a.getLse());
      if (failed(l))
        return failure();
      lse = *l;
    } else {
      lse = get(scratch("lse", {s, heads}));
    }
    if (a.getContextParallel() > 1)
      return lowerRingAttention(a, *o, lse, paramModule);
    if (auto theta = a.getRopeThetaAttr()) {
      Value qr = get(scratch("q_rope", shapeOf(q), elemOf(q)));
      Value kr = get(scratch("k_rope", shapeOf(k), elemOf(k)));
      Value t = f32(theta.getValueAsDouble());
      kernel("rope_forward", {q, qr, i64(heads), i64(headDim), i64(0), t});
      kernel("rope_forward", {k, kr, i64(kvHeads), i64(headDim), i64(0), t});
      q = qr;
      k = kr;
    }
    auto params = mrt::AttentionParamsAttr::get(
        ctx, heads, kvHeads, headDim, b.getBoolAttr(a.getCausal()),
        a.getSegment(), b.getF64FloatAttr(0.0));
    kernel("attention_forward", {q, k, materialize(a.getValue()), *o, lse},
           {b.getNamedAttr("attention", params)});
    return success();
  }
  if (auto g = dyn_cast<AttentionGradOp>(op)) {
    int64_t heads = g.getHeads(), kvHeads = g.getKvHeads();
    Value q = materialize(g.getQuery()), k = materialize(g.getKey());
    int64_t s = shapeOf(q)[0];
    int64_t headDim = shapeOf(q)[1] / heads;
    SmallVector<Value> r;
    if (failed(outs(g->getResults(), r)))
      return failure();
    if (g.getContextParallel() > 1)
      return lowerRingAttentionGrad(g, r, paramModule);
    Value dq = r[0], dk = r[1];
    Value t;
    if (auto theta = g.getRopeThetaAttr()) {
      // The forward's rotation, recomputed bit for bit.
      t = f32(theta.getValueAsDouble());
      Value qr = get(scratch("q_rope", shapeOf(q), elemOf(q)));
      Value kr = get(scratch("k_rope", shapeOf(k), elemOf(k)));
      kernel("rope_forward", {q, qr, i64(heads), i64(headDim), i64(0), t});
      kernel("rope_forward", {k, kr, i64(kvHeads), i64(headDim), i64(0), t});
      q = qr;
      k = kr;
      dq = get(scratch("dq_rope", shapeOf(r[0]), elemOf(r[0])));
      dk = get(scratch("dk_rope", shapeOf(r[1]), elemOf(r[1])));
    }
    // The CPU kernels' attentionBackwardWorkspaceBytes: one f32 per query
    // row and head.
    Value ws = get(scratch("attention_bwd", {s * heads}));
    auto params = mrt::AttentionParamsAttr::get(
        ctx, heads, kvHeads, headDim, b.getBoolAttr(g.getCausal()),
        g.getSegment(), b.getF64FloatAttr(0.0));
    kernel("attention_backward",
           {q, k, materialize(g.getValue()), materialize(g.getOutput()),
            materialize(g.getLse()), materialize(g.getGrad()), dq, dk, r[2],
            ws},
           {b.getNamedAttr("attention", params)});
    if (t) {
      kernel("rope_backward", {dq, r[0], i64(heads), i64(headDim), i64(0), t});
      kernel("rope_backward",
             {dk, r[1], i64(kvHeads), i64(headDim), i64(0), t});
    }
    return success();
  }
  if (isa<ContextSliceOp>(op))
    return lowerContextChunks(op, /*slice=*/true);
  if (isa<ContextPadOp>(op))
    return lowerContextChunks(op, /*slice=*/false);
  if (auto n = dyn_cast<LayerNormOp>(op)) {
    Value x = materialize(n.getInput());
    int64_t rows = shapeOf(x)[0];
    auto y = out(n.getResult());
    if (failed(y))
      return failure();
    kernel("layer_norm_forward",
           {x, materialize(n.getGamma()), materialize(n.getBeta()),
            f32(n.getEps().convertToDouble()), *y, get(scratch("mean", {rows})),
            get(scratch("rstd", {rows}))});
    return success();
  }
  if (auto g = dyn_cast<LayerNormGradOp>(op)) {
    Value x = materialize(g.getInput()), gamma = materialize(g.getGamma());
    int64_t rows = shapeOf(x)[0];
    SmallVector<Value> r;
    if (failed(outs(g->getResults(), r)))
      return failure();
    // Statistics recomputed with the forward kernel; its output and beta
    // are scratch (the statistics do not depend on beta).
    Value mean = get(scratch("mean", {rows}));
    Value rstd = get(scratch("rstd", {rows}));
    Value beta = get(scratch("beta", shapeOf(gamma), elemOf(gamma)));
    zero(beta);
    kernel("layer_norm_forward",
           {x, gamma, beta, f32(g.getEps().convertToDouble()),
            get(scratch("y", shapeOf(x), elemOf(x))), mean, rstd});
    zero(r[1]);
    zero(r[2]);
    kernel("layer_norm_backward",
           {x, gamma, mean, rstd, materialize(g.getGrad()), r[0], r[1], r[2]});
    return success();
  }
  if (auto n = dyn_cast<RmsNormOp>(op)) {
    Value x = materialize(n.getInput());
    auto y = out(n.getResult());
    if (failed(y))
      return failure();
    kernel("rms_norm_forward",
           {x, materialize(n.getGamma()), f32(n.getEps().convertToDouble()), *y,
            get(scratch("rstd", {shapeOf(x)[0]}))});
    return success();
  }
  if (auto g = dyn_cast<RmsNormGradOp>(op)) {
    Value x = materialize(g.getInput()), gamma = materialize(g.getGamma());
    SmallVector<Value> r;
    if (failed(outs(g->getResults(), r)))
      return failure();
    Value rstd = get(scratch("rstd", {shapeOf(x)[0]}));
    kernel("rms_norm_forward", {x, gamma, f32(g.getEps().convertToDouble()),
                                get(scratch("y", shapeOf(x), elemOf(x))), rstd});
    zero(r[1]);
    kernel("rms_norm_backward",
           {x, gamma, rstd, materialize(g.getGrad()), r[0], r[1]});
    return success();
  }
  if (auto a = dyn_cast<GeluOp>(op)) {
    auto y = out(a.getResult());
    if (failed(y))
      return failure();
    kernel("gelu_forward", {materialize(a.getInput()), *y});
    return success();
  }
  if (auto g = dyn_cast<GeluGradOp>(op)) {
    auto dx = out(g.getResult());
    if (failed(dx))
      return failure();
    kernel("gelu_backward",
           {materialize(g.getInput()), materialize(g.getGrad()), *dx});
    return success();
  }
  if (auto s = dyn_cast<SwigluOp>(op)) {
    auto y = out(s.getResult());
    if (failed(y))
      return failure();
    kernel("swiglu_forward",
           {materialize(s.getGate()), materialize(s.getUp()), *y});
    return success();
  }
  if (auto g = dyn_cast<SwigluGradOp>(op)) {
    SmallVector<Value> r;
    if (failed(outs(g->getResults(), r)))
      return failure();
    kernel("swiglu_backward", {materialize(g.getGate()), materialize(g.getUp()),
                               materialize(g.getGrad()), r[0], r[1]});
    return success();
  }
  if (auto a = dyn_cast<AddOp>(op)) {
    Value lhs = materialize(a.getLhs()), rhs = materialize(a.getRhs());
    auto y = out(a.getResult());
    if (failed(y))
      return failure();
    kernel("add", {lhs, rhs, *y});
    return success();
  }
  // A vocabulary shard of `rows` rows starts at row tp_rank * rows.
  auto vocabRange = [&](TpSplit split, int64_t rows) -> std::pair<Value, Value> {
    if (split != TpSplit::vocab || !partitioned(paramModule))
      return {i64(0), i64(rows)};
    Value v0 = vocabStart(paramModule, rows);
    return {v0, arith::AddIOp::create(b, loc, v0, i64(rows))};
  };
  if (auto e = dyn_cast<EmbeddingOp>(op)) {
    Value table = materialize(e.getTable());
    auto y = out(e.getResult());
    if (failed(y))
      return failure();
    auto [v0, v1] = vocabRange(e.getParallel(), shapeOf(table)[0]);
    kernel("embedding_forward", {materialize(e.getIds()), table, *y, v0, v1});
    return success();
  }
  if (auto g = dyn_cast<EmbeddingGradOp>(op)) {
    auto dt = out(g.getResult());
    if (failed(dt))
      return failure();
    zero(*dt);
    auto [v0, v1] = vocabRange(g.getParallel(), shapeOf(*dt)[0]);
    kernel("embedding_backward",
           {materialize(g.getIds()), materialize(g.getGrad()), *dt, v0, v1});
    return success();
  }
  auto patchWorkspace = [&](Value pixels, int64_t patch) {
    // The CPU kernels' patchEmbedWorkspaceBytes: the unfolded patches.
    ArrayRef<int64_t> s = shapeOf(pixels);
    int64_t patches = s[0] * (s[2] / patch) * (s[3] / patch);
    return get(scratch("patches", {patches * s[1] * patch * patch}));
  };
  if (auto p = dyn_cast<PatchEmbedOp>(op)) {
    Value pixels = materialize(p.getPixels());
    if (shapeOf(pixels).size() != 4)
      return p.emitError() << "convert-mimo-to-mimort: pixels must be "
                              "[images, channels, height, width]";
    int64_t cls =
        p.getClassTokens()
            ? cast<RankedTensorType>(p.getClassTokens().getType()).getDimSize(0)
            : 0;
    auto attr = mrt::PatchEmbedParamsAttr::get(ctx, p.getPatchSize(), cls);
    auto y = out(p.getResult());
    if (failed(y))
      return failure();
    kernel("patch_embed_forward",
           {pixels, materialize(p.getWeight()), materialize(p.getBias()),
            materialize(p.getPositions()),
            p.getClassTokens() ? materialize(p.getClassTokens()) : absent(), *y,
            patchWorkspace(pixels, p.getPatchSize())},
           {b.getNamedAttr("patch_embed", attr)});
    return success();
  }
  if (auto g = dyn_cast<PatchEmbedGradOp>(op)) {
    Value pixels = materialize(g.getPixels());
    SmallVector<Value> r;
    if (failed(outs(g->getResults(), r)))
      return failure();
    for (Value v : r)
      zero(v);
    int64_t cls = g.getClassTokensGrad()
                      ? cast<RankedTensorType>(g.getClassTokensGrad().getType())
                            .getDimSize(0)
                      : 0;
    auto attr = mrt::PatchEmbedParamsAttr::get(ctx, g.getPatchSize(), cls);
    kernel("patch_embed_backward",
           {pixels, materialize(g.getGrad()), r[0], r[1], r[2],
            r.size() > 3 ? r[3] : absent(),
            patchWorkspace(pixels, g.getPatchSize())},
           {b.getNamedAttr("patch_embed", attr)});
    return success();
  }
  if (auto m = dyn_cast<MergeModalitiesOp>(op)) {
    ArrayRef<int64_t> ids = m.getPlaceholderIds();
    if (ids.size() != m.getSources().size())
      return m.emitError() << "convert-mimo-to-mimort: expects one "
                              "placeholder id per source";
    Value text = materialize(m.getText()), tokenIds = materialize(m.getIds());
    auto y = out(m.getResult());
    if (failed(y))
      return failure();
    // One call per source; the first copies the text, the rest merge in
    // place.
    Value from = text;
    for (auto [i, src] : llvm::enumerate(m.getSources())) {
      kernel("merge_rows_forward",
             {from, tokenIds, i64(ids[i]), materialize(src), *y});
      from = *y;
    }
    if (m.getSources().empty())
      mrt::CopyOp::create(b, loc, text, *y);
    return success();
  }
  if (auto g = dyn_cast<MergeModalitiesGradOp>(op)) {
    ArrayRef<int64_t> ids = g.getPlaceholderIds();
    if (ids.size() != g.getSourceGrads().size())
      return g.emitError() << "convert-mimo-to-mimort: expects one "
                              "placeholder id per source";
    Value dout = materialize(g.getGrad()), tokenIds = materialize(g.getIds());
    SmallVector<Value> r;
    if (failed(outs(g->getResults(), r)))
      return failure();
    Value from = dout;
    for (size_t i = 0; i < ids.size(); ++i) {
      kernel("merge_rows_backward",
             {from, tokenIds, i64(ids[i]), r[0], r[i + 1]});
      from = r[0];
    }
    if (ids.empty())
      mrt::CopyOp::create(b, loc, dout, r[0]);
    return success();
  }
  if (auto c = dyn_cast<CrossEntropyOp>(op)) {
    if (int64_t(c.getIgnoreIndex()) != -100)
      return c.emitError() << "convert-mimo-to-mimort: the kernels ignore "
                              "label -100 only, got ignore_index "
                           << int64_t(c.getIgnoreIndex());
    for (Operation *user : c.getCount().getUsers())
      if (!isa<mimo::ReturnOp>(user))
        return c.emitError() << "convert-mimo-to-mimort: the token count "
                                "may only be returned (its buffer is i32)";
    Value logits = materialize(c.getLogits());
    auto lossSum = out(c.getLoss());
    if (failed(lossSum))
      return failure();
    std::string count = declare(module + ".count",
                                mrt::BufferType::get(ctx, {1}, b.getI32Type()),
                                mrt::MemoryCategory::Activations, spanGrid);
    locs[c.getCount()] = Loc{count, false};
    Value lse = get(scratch("lse", {shapeOf(logits)[0]}));
    if (c.getParallel() == TpSplit::vocab && partitioned(paramModule))
      return lowerVocabCrossEntropy(logits, materialize(c.getLabels()),
                                    *lossSum, materialize(c.getCount()), lse,
                                    paramModule);
    kernel("cross_entropy_forward", {logits, materialize(c.getLabels()),
                                     *lossSum, materialize(c.getCount()), lse});
    return success();
  }
  if (auto g = dyn_cast<CrossEntropyGradOp>(op)) {
    if (int64_t(g.getIgnoreIndex()) != -100)
      return g.emitError() << "convert-mimo-to-mimort: the kernels ignore "
                              "label -100 only, got ignore_index "
                           << int64_t(g.getIgnoreIndex());
    Value logits = materialize(g.getLogits());
    Value labels = materialize(g.getLabels());
    int64_t rows = shapeOf(logits)[0];
    auto dlogits = out(g.getResult());
    if (failed(dlogits))
      return failure();
    Value lse = get(scratch("lse", {rows}));
    Value lossSum = get(scratch("loss", {1}));
    Value count = get(scratch("count", {1}, b.getI32Type()));
    Value v0 = i64(0);
    if (g.getParallel() == TpSplit::vocab && partitioned(paramModule)) {
      // The global log-sum-exp over every shard, as the forward built it.
      if (failed(lowerVocabCrossEntropy(logits, labels, lossSum, count, lse,
                                        paramModule)))
        return failure();
      v0 = vocabStart(paramModule, shapeOf(logits)[1]);
    } else {
      kernel("cross_entropy_forward", {logits, labels, lossSum, count, lse});
    }
    Value scale = mrt::ReadScalarOp::create(b, loc, b.getF32Type(),
                                            materialize(g.getLossGrad()),
                                            b.getI64IntegerAttr(0));
    kernel("cross_entropy_backward", {logits, labels, lse, v0, scale, *dlogits});
    return success();
  }
  if (auto s = dyn_cast<StackOp>(op))
    return lowerStack(s, paramModule);
  return op->emitError() << "convert-mimo-to-mimort: cannot lower '"
                         << op->getName() << "'";
}

FailureOr<std::pair<FlatSymbolRefAttr, SmallVector<StringRef>>>
Lowering::groupOf(Operation *op, FlatSymbolRefAttr gridName,
                  ArrayRef<int16_t> axes) {
  auto grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(op, gridName);
  auto owner = grid ? grid->getAttrOfType<FlatSymbolRefAttr>("mimo.module")
                    : FlatSymbolRefAttr();
  if (!owner || !tpOf.count(owner.getValue()))
    return op->emitError() << "convert-mimo-to-mimort: grid " << gridName
                           << " is not a module's grid (a shard.grid with "
                              "a 'mimo.module' attribute)";
  // Shard grid axes [dp, pp, cp, tp] name the runtime grid's dims.
  static constexpr StringLiteral dimOfAxis[] = {"dp", "pp", "cp", "tp"};
  SmallVector<StringRef> dims;
  for (int16_t axis : axes) {
    if (axis < 0 || axis > 3)
      return op->emitError() << "convert-mimo-to-mimort: grid axis " << axis
                             << " is not one of [dp, pp, cp, tp]";
    dims.push_back(dimOfAxis[axis]);
  }
  return std::make_pair(owner, dims);
}

LogicalResult Lowering::lowerTokenCollective(Operation *op) {
  auto gridName = op->getAttrOfType<FlatSymbolRefAttr>("grid");
  auto axes = op->getAttrOfType<DenseI16ArrayAttr>("grid_axes");
  StringRef axisName = isa<shard::AllGatherOp>(op)     ? "gather_axis"
                       : isa<shard::AllSliceOp>(op) ? "slice_axis"
                                                      : "scatter_axis";
  auto axis = op->getAttrOfType<IntegerAttr>(axisName);
  if (!gridName || !axes || !axis)
    return op->emitError() << "convert-mimo-to-mimort: malformed collective";
  if (axis.getInt() != 0)
    return op->emitError() << "convert-mimo-to-mimort: " << op->getName()
                           << " lowers along dim 0 (tokens) only, got "
                           << axisName << " = " << axis.getInt();
  auto rs = dyn_cast<shard::ReduceScatterOp>(op);
  if (rs && rs.getReduction() != shard::ReductionKind::Sum)
    return op->emitError() << "convert-mimo-to-mimort: only sum "
                              "reduce-scatters lower";
  auto group = groupOf(op, gridName, axes.asArrayRef());
  if (failed(group))
    return failure();
  auto [owner, dims] = *group;
  Value in = materialize(op->getOperand(0));
  if (failed(declareFor(op->getResult(0))))
    return failure();
  Value res = materialize(op->getResult(0));
  if (rs) {
    mrt::ReduceScatterOp::create(
        b, loc, mrt::ReduceKindAttr::get(ctx, mrt::ReduceKind::Sum), in, res,
        owner, b.getStrArrayAttr(dims));
    return success();
  }
  if (isa<shard::AllGatherOp>(op)) {
    mrt::AllGatherOp::create(b, loc, in, res, owner, b.getStrArrayAttr(dims));
    return success();
  }
  // all_slice: this rank's block of the input's rows, by its coordinate in
  // the group (one dim: the group's local rank).
  if (dims.size() != 1)
    return op->emitError() << "convert-mimo-to-mimort: all_slice over one "
                              "grid axis lowers, got "
                           << dims.size();
  ArrayRef<int64_t> shape = shapeOf(in), part = shapeOf(res);
  if (part.empty() || shape[0] % part[0] != 0)
    return op->emitError() << "convert-mimo-to-mimort: all_slice rows do not "
                              "divide the input's";
  SmallVector<int64_t> blocks{shape[0] / part[0]};
  llvm::append_range(blocks, part);
  auto elem = cast<mrt::BufferType>(in.getType()).getElementType();
  Value view = mrt::ReshapeOp::create(
      b, loc, mrt::BufferType::get(ctx, blocks, elem), in);
  Value coord = mrt::GridCoordOp::create(b, loc, b.getI64Type(), owner,
                                         b.getStringAttr(dims.front()));
  Value index =
      arith::IndexCastOp::create(b, loc, b.getIndexType(), coord);
  Value mine = mrt::SliceOp::create(
      b, loc, mrt::BufferType::get(ctx, part, elem), view, index);
  mrt::CopyOp::create(b, loc, mine, res);
  return success();
}

//===----------------------------------------------------------------------===//
// Context parallelism
//===----------------------------------------------------------------------===//

/// Chunk k (0 or 1) of a [2 * c, ...] buffer of this rank's two chunks, or
/// chunk i of a [n * c, ...] sequence.
static Value chunkOf(OpBuilder &b, Location loc, Value buf, int64_t chunks,
                     Value index) {
  auto t = cast<mrt::BufferType>(buf.getType());
  SmallVector<int64_t> shape{chunks, t.getShape()[0] / chunks};
  llvm::append_range(shape, t.getShape().drop_front());
  Value view = mrt::ReshapeOp::create(
      b, loc, mrt::BufferType::get(b.getContext(), shape, t.getElementType()),
      buf);
  return mrt::SliceOp::create(
      b, loc,
      mrt::BufferType::get(b.getContext(), ArrayRef(shape).drop_front(),
                           t.getElementType()),
      view, index);
}

LogicalResult Lowering::lowerContextChunks(Operation *op, bool slice) {
  auto gridName = op->getAttrOfType<FlatSymbolRefAttr>("grid");
  auto cpAttr = op->getAttrOfType<IntegerAttr>("cp");
  auto group = groupOf(op, gridName, {int16_t(2)});
  if (failed(group))
    return failure();
  StringRef owner = group->first.getValue();
  int64_t cp = cpAttr.getInt();
  if (cp != cpOfModule(owner))
    return op->emitError() << "convert-mimo-to-mimort: cp = " << cp
                           << " but module '" << owner << "' has cp = "
                           << cpOfModule(owner);
  Value in = materialize(op->getOperand(0));
  if (failed(declareFor(op->getResult(0))))
    return failure();
  Value res = materialize(op->getResult(0));
  Value full = slice ? in : res, part = slice ? res : in;
  Value r = mrt::GridCoordOp::create(b, loc, b.getI64Type(), group->first,
                                     b.getStringAttr("cp"));
  Value mirror = arith::SubIOp::create(b, loc, i64(2 * cp - 1), r);
  if (!slice)
    zero(res);
  Value at2[2] = {r, mirror};
  for (auto [k, at] : llvm::enumerate(at2)) {
    Value whole = chunkOf(b, loc, full, 2 * cp, toIndex(at));
    Value mine = chunkOf(b, loc, part, 2, index(k));
    if (slice)
      mrt::CopyOp::create(b, loc, whole, mine);
    else
      mrt::CopyOp::create(b, loc, mine, whole);
  }
  return success();
}

namespace {
/// This rank's place in the cp ring and the global chunk indices of the
/// key/value blocks it holds at each step (ARCHITECTURE.md "Context
/// parallelism": rank i holds chunks i and 2 cp - 1 - i of the sequence).
struct Ring {
  OpBuilder &b;
  Location loc;
  FlatSymbolRefAttr grid;
  int64_t cp, chunkRows;
  bool causal;
  Value rank, next, prev, even;

  Value i64(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }
  Ring(OpBuilder &b, Location loc, FlatSymbolRefAttr grid, int64_t cp,
       int64_t chunkRows, bool causal)
      : b(b), loc(loc), grid(grid), cp(cp), chunkRows(chunkRows),
        causal(causal) {
    rank = mrt::GridCoordOp::create(b, loc, b.getI64Type(), grid,
                                    b.getStringAttr("cp"));
    next = arith::RemSIOp::create(
        b, loc, arith::AddIOp::create(b, loc, rank, i64(1)), i64(cp));
    prev = arith::RemSIOp::create(
        b, loc, arith::AddIOp::create(b, loc, rank, i64(cp - 1)), i64(cp));
    even = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::RemSIOp::create(b, loc, rank, i64(2)), i64(0));
  }
  /// The rank whose blocks this rank holds after `step` ring shifts.
  Value source(int64_t step) {
    if (step == 0)
      return rank;
    return arith::RemSIOp::create(
        b, loc, arith::AddIOp::create(b, loc, rank, i64(cp - step % cp)),
        i64(cp));
  }
  /// The global chunk index of chunk k (0 or 1) of `owner`'s pair.
  Value chunk(Value owner, int64_t k) {
    return k == 0 ? owner : arith::SubIOp::create(b, loc, i64(2 * cp - 1), owner);
  }
  Value offset(Value chunkIndex) {
    return arith::MulIOp::create(b, loc, chunkIndex, i64(chunkRows));
  }
  /// Sends each `sends[i]` to the next rank and posts the receive of
  /// `recvs[i]` from the previous one; the ops up to finish() overlap the
  /// transfer. Sends return once their data is copied out, so the ring
  /// never waits in a cycle and a buffer may be sent and then received
  /// into.
  SmallVector<Value> startShift(ArrayRef<Value> sends, ArrayRef<Value> recvs,
                                int64_t tag) {
    auto dims = b.getStrArrayAttr({"cp"});
    for (auto [i, v] : llvm::enumerate(sends))
      mrt::SendOp::create(b, loc, v, next, grid, dims,
                          b.getI64IntegerAttr(tag + int64_t(i)));
    SmallVector<Value> requests;
    for (auto [i, v] : llvm::enumerate(recvs))
      requests.push_back(mrt::RecvStartOp::create(
          b, loc, mrt::RequestType::get(b.getContext()), v, prev, grid, dims,
          b.getI64IntegerAttr(tag + int64_t(i))));
    return requests;
  }
  /// Completes the receives of startShift().
  void finish(ArrayRef<Value> requests) {
    for (Value r : requests)
      mrt::RecvWaitOp::create(b, loc, r);
  }
  /// Runs `body` where query chunk a (global index qa) sees key chunk kb at
  /// ring step `step`: always for a bidirectional mask; causally when
  /// kb <= qa (static on the rank's own blocks, a run-time test on the
  /// others', where the two chunks never coincide).
  void ifVisible(int64_t step, int64_t a, int64_t kbLocal, Value qa, Value kb,
                 function_ref<void()> body) {
    if (!causal)
      return body();
    if (step % cp == 0) {
      if (kbLocal <= a)
        body();
      return;
    }
    auto test = scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, kb, qa),
        /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(test.thenBlock());
    body();
  }
};
} // namespace

/// The ring's inputs on this rank: the queries rotated at their chunks'
/// global positions and the first of two alternating key/value buffers
/// holding this rank's keys (rotated) and values.
struct RingInputs {
  Ring ring;
  Value qa[2];
  Value q, ks[2], vs[2];
  Value theta;
};

FailureOr<RingInputs> Lowering::ringInputs(Operation *op, int64_t cp,
                                           bool causal, FloatAttr theta,
                                           Value q, Value k, Value v,
                                           int64_t heads, int64_t kvHeads,
                                           StringRef paramModule) {
  if (cp != cpOfModule(paramModule))
    return op->emitError() << "convert-mimo-to-mimort: context_parallel = "
                           << cp << " but module '" << paramModule
                           << "' has cp = " << cpOfModule(paramModule);
  int64_t headDim = shapeOf(q)[1] / heads;
  int64_t c = shapeOf(q)[0] / 2;
  RingInputs in{Ring(b, loc, FlatSymbolRefAttr::get(ctx, paramModule), cp, c,
                     causal)};
  Ring &ring = in.ring;
  in.qa[0] = ring.chunk(ring.rank, 0);
  in.qa[1] = ring.chunk(ring.rank, 1);
  for (int64_t i = 0; i < 2; ++i) {
    in.ks[i] = get(scratch("ring_k", shapeOf(k), elemOf(k)));
    in.vs[i] = get(scratch("ring_v", shapeOf(v), elemOf(v)));
  }
  in.q = q;
  if (theta) {
    in.theta = f32(theta.getValueAsDouble());
    Value qr = get(scratch("q_rope", shapeOf(q), elemOf(q)));
    for (int64_t i = 0; i < 2; ++i) {
      Value pos = ring.offset(in.qa[i]);
      kernel("rope_forward",
             {chunkOf(b, loc, q, 2, index(i)), chunkOf(b, loc, qr, 2, index(i)),
              i64(heads), i64(headDim), pos, in.theta});
      kernel("rope_forward", {chunkOf(b, loc, k, 2, index(i)),
                              chunkOf(b, loc, in.ks[0], 2, index(i)),
                              i64(kvHeads), i64(headDim), pos, in.theta});
    }
    in.q = qr;
  } else {
    mrt::CopyOp::create(b, loc, k, in.ks[0]);
  }
  mrt::CopyOp::create(b, loc, v, in.vs[0]);
  return in;
}

LogicalResult Lowering::lowerRingAttention(AttentionOp a, Value o, Value lse,
                                           StringRef paramModule) {
  int64_t heads = a.getHeads(), kvHeads = a.getKvHeads();
  int64_t headDim = a.getHeadDim();
  auto in = ringInputs(a, a.getContextParallel(), a.getCausal(),
                       a.getRopeThetaAttr(), materialize(a.getQuery()),
                       materialize(a.getKey()), materialize(a.getValue()),
                       heads, kvHeads, paramModule);
  if (failed(in))
    return failure();
  Ring &ring = in->ring;
  int64_t cp = ring.cp, c = ring.chunkRows;
  Value q = in->q, *qa = in->qa, *ks = in->ks, *vs = in->vs;
  auto chunk = [&](Value buf, int64_t i) {
    return chunkOf(b, loc, buf, 2, index(i));
  };
  auto params = mrt::AttentionParamsAttr::get(
      ctx, heads, kvHeads, headDim, b.getBoolAttr(a.getCausal()),
      a.getSegment(), b.getF64FloatAttr(0.0));
  auto attn = b.getNamedAttr("attention", params);
  Value blockOut = get(scratch("ring_out", {c, heads * headDim}, elemOf(q)));
  Value blockLse = get(scratch("ring_lse", {c, heads}));
  for (int64_t step = 0; step < cp; ++step) {
    Value kv = ks[step % 2], vv = vs[step % 2];
    // The next blocks arrive while this step's blocks are computed.
    SmallVector<Value> arriving;
    if (step + 1 < cp)
      arriving = ring.startShift(
          {kv, vv}, {ks[(step + 1) % 2], vs[(step + 1) % 2]}, /*tag=*/16);
    Value src = ring.source(step);
    // On the own blocks the diagonal pairs write the running output first;
    // every other pair merges into it.
    static constexpr std::pair<int64_t, int64_t> pairs[] = {
        {0, 0}, {1, 1}, {1, 0}, {0, 1}};
    for (auto [i, j] : pairs) {
        Value kb = ring.chunk(src, j);
        ring.ifVisible(step, i, j, qa[i], kb, [&] {
          Value qo = ring.offset(qa[i]), ko = ring.offset(kb);
          if (step == 0 && i == j) {
            kernel("attention_block_forward",
                   {qo, ko, chunk(q, i), chunk(kv, j), chunk(vv, j),
                    chunk(o, i), chunk(lse, i)},
                   {attn});
            return;
          }
          kernel("attention_block_forward",
                 {qo, ko, chunk(q, i), chunk(kv, j), chunk(vv, j), blockOut,
                  blockLse},
                 {attn});
          kernel("attention_merge", {chunk(o, i), chunk(lse, i), blockOut,
                                     blockLse});
        });
      }
    ring.finish(arriving);
  }
  return success();
}

LogicalResult Lowering::lowerRingAttentionGrad(AttentionGradOp g,
                                               ArrayRef<Value> r,
                                               StringRef paramModule) {
  int64_t heads = g.getHeads(), kvHeads = g.getKvHeads();
  Value k = materialize(g.getKey()), o = materialize(g.getOutput()),
        lse = materialize(g.getLse()), dout = materialize(g.getGrad());
  int64_t headDim = shapeOf(r[0])[1] / heads;
  FloatAttr theta = g.getRopeThetaAttr();
  auto in = ringInputs(g, g.getContextParallel(), g.getCausal(), theta,
                       materialize(g.getQuery()), k, materialize(g.getValue()),
                       heads, kvHeads, paramModule);
  if (failed(in))
    return failure();
  Ring &ring = in->ring;
  int64_t cp = ring.cp, c = ring.chunkRows;
  Value q = in->q, t = in->theta, *qa = in->qa, *ks = in->ks, *vs = in->vs;
  auto chunk = [&](Value buf, int64_t i) {
    return chunkOf(b, loc, buf, 2, index(i));
  };
  // The key/value gradients travel with their blocks: `dkAcc`/`dvAcc` hold
  // the sums for the blocks held now, received from the previous rank while
  // this step's contributions are computed into `dkStep`/`dvStep`.
  Value dkAcc = get(scratch("ring_dk", shapeOf(k), elemOf(k)));
  Value dkStep = get(scratch("ring_dk", shapeOf(k), elemOf(k)));
  Value dvAcc = get(scratch("ring_dv", shapeOf(k), elemOf(k)));
  Value dvStep = get(scratch("ring_dv", shapeOf(k), elemOf(k)));
  // Gradients of the rotated q and k accumulate here; the inverse rotation
  // at the chunks' positions gives the results.
  Value dq = r[0], dk = r[1];
  if (theta) {
    dq = get(scratch("dq_rope", shapeOf(r[0]), elemOf(r[0])));
    dk = get(scratch("dk_rope", shapeOf(r[1]), elemOf(r[1])));
  }
  zero(dq);
  // The CPU kernels' attentionBackwardWorkspaceBytes: one f32 per query
  // row and head.
  Value ws = get(scratch("attention_bwd", {c * heads}));
  auto params = mrt::AttentionParamsAttr::get(
      ctx, heads, kvHeads, headDim, b.getBoolAttr(g.getCausal()),
      g.getSegment(), b.getF64FloatAttr(0.0));
  auto attn = b.getNamedAttr("attention", params);
  SmallVector<Value> sums;
  for (int64_t step = 0; step < cp; ++step) {
    int64_t cur = step % 2;
    // The next key/value blocks arrive during this step's computation.
    SmallVector<Value> arriving;
    if (step + 1 < cp)
      arriving = ring.startShift({ks[cur], vs[cur]},
                                 {ks[1 - cur], vs[1 - cur]}, /*tag=*/20);
    // On the rank's own blocks the sums start here.
    Value dkInto = step == 0 ? dkAcc : dkStep;
    Value dvInto = step == 0 ? dvAcc : dvStep;
    zero(dkInto);
    zero(dvInto);
    Value src = ring.source(step);
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        Value kb = ring.chunk(src, j);
        ring.ifVisible(step, i, j, qa[i], kb, [&] {
          kernel("attention_block_backward",
                 {ring.offset(qa[i]), ring.offset(kb), chunk(q, i),
                  chunk(ks[cur], j), chunk(vs[cur], j), chunk(o, i),
                  chunk(lse, i), chunk(dout, i), chunk(dq, i),
                  chunk(dkInto, j), chunk(dvInto, j), ws},
                 {attn});
        });
      }
    if (step > 0) {
      ring.finish(sums);
      kernel("add", {dkAcc, dkStep, dkAcc});
      kernel("add", {dvAcc, dvStep, dvAcc});
    }
    if (step + 1 < cp) {
      sums = ring.startShift({dkAcc, dvAcc}, {dkAcc, dvAcc}, /*tag=*/22);
    } else {
      // The sums held now are the next rank's: the last shift brings each
      // rank its own.
      ring.finish(ring.startShift({dkAcc, dvAcc}, {dk, r[2]}, /*tag=*/24));
    }
    ring.finish(arriving);
  }
  if (theta)
    for (int64_t i = 0; i < 2; ++i) {
      Value pos = ring.offset(qa[i]);
      kernel("rope_backward", {chunk(dq, i), chunk(r[0], i), i64(heads),
                               i64(headDim), pos, t});
      kernel("rope_backward", {chunk(dk, i), chunk(r[1], i), i64(kvHeads),
                               i64(headDim), pos, t});
    }
  return success();
}

LogicalResult Lowering::lowerAllReduce(shard::AllReduceOp op) {
  if (op.getReduction() != shard::ReductionKind::Sum)
    return op.emitError() << "convert-mimo-to-mimort: only sum all-reduces "
                             "lower";
  auto group = groupOf(op, op.getGridAttr(), op.getGridAxes());
  if (failed(group))
    return failure();
  auto [owner, dims] = *group;
  Value in = materialize(op.getInput());
  Value target = in;
  if (!op.getInput().hasOneUse()) {
    // The partial sum is read elsewhere too: reduce a copy.
    auto sym = declareFor(op.getResult());
    if (failed(sym))
      return failure();
    target = materialize(op.getResult());
    mrt::CopyOp::create(b, loc, in, target);
  } else {
    locs[op.getResult()] = locs.lookup(op.getInput());
    env[op.getResult()] = in;
  }
  mrt::AllReduceOp::create(
      b, loc, mrt::ReduceKindAttr::get(ctx, mrt::ReduceKind::Sum), target,
      owner, b.getStrArrayAttr(dims));
  return success();
}

LogicalResult Lowering::lowerVocabCrossEntropy(Value logits, Value labels,
                                               Value lossSum, Value count,
                                               Value lse, StringRef grid) {
  // Each tp rank holds columns [v0, v0 + V / tp) of the logits: combine the
  // row max, the sum of exponentials and the target logit over the shards
  // (three small all-reduces), then the loss as the unsharded kernel has it.
  int64_t rows = shapeOf(logits)[0];
  Value rowMax = get(scratch("row_max", {rows}));
  Value sumExp = get(scratch("sum_exp", {rows}));
  Value target = get(scratch("target", {rows}));
  auto reduce = [&](mrt::ReduceKind kind, Value buf) {
    mrt::AllReduceOp::create(b, loc, mrt::ReduceKindAttr::get(ctx, kind), buf,
                             FlatSymbolRefAttr::get(ctx, grid),
                             b.getStrArrayAttr({"tp"}));
  };
  kernel("cross_entropy_local_max", {logits, rowMax});
  reduce(mrt::ReduceKind::Max, rowMax);
  kernel("cross_entropy_local_sum_exp", {logits, rowMax, sumExp});
  reduce(mrt::ReduceKind::Sum, sumExp);
  Value v0 = vocabStart(grid, shapeOf(logits)[1]);
  kernel("cross_entropy_target_logit", {logits, labels, v0, target});
  reduce(mrt::ReduceKind::Sum, target);
  kernel("cross_entropy_combine",
         {rowMax, sumExp, target, labels, lossSum, count, lse});
  return success();
}

LogicalResult Lowering::lowerStack(StackOp stack, StringRef paramModule) {
  if (stack.getBody()
          .walk([](StackOp) { return WalkResult::interrupt(); })
          .wasInterrupted())
    return stack.emitError() << "convert-mimo-to-mimort: nested stacks are "
                                "not supported";
  unsigned id = counter++;
  // Under a pipeline schedule the LLM's stack runs the current chunk's
  // layers: local layers [chunk * n, (chunk + 1) * n) of the stage's
  // stacked parameters; its kept residuals hold that chunk's rows only.
  bool chunked = chunk && (stack.getOperation() == fwdStack ||
                           stack.getOperation() == bwdStack);
  int64_t count = chunked ? pipe.chunkLayers : stack.getCount();
  Block &body = stack.getBodyBlock();
  unsigned carried = stack.getNumCarried();
  if (chunked && carried != 1)
    return stack.emitError() << "convert-mimo-to-mimort: a pipelined stack "
                                "carries one value between stages, this one "
                             << carried;

  // Carried values live in one buffer each, seeded from the inits (or, on
  // a stage that does not start the pipeline, received from the previous).
  SmallVector<std::string> carry;
  for (unsigned k = 0; k < carried; ++k) {
    Value result = stack.getResult(k);
    auto sym =
        declareFor(result, ("stack" + Twine(id) + ".carry" + Twine(k)).str());
    if (failed(sym))
      return failure();
    carry.push_back(*sym);
    locs[body.getArgument(k)] = locs[result];
    if (!chunked) {
      mrt::CopyOp::create(b, loc, materialize(stack.getInits()[k]),
                          materialize(result));
      continue;
    }
    auto seed = scf::IfOp::create(b, loc, ends.hasInit, /*else=*/true);
    if (failed(inBlock(seed.thenBlock(), [&] {
          mrt::CopyOp::create(b, loc, materialize(stack.getInits()[k]),
                              materialize(result));
          return success();
        })) ||
        failed(inBlock(seed.elseBlock(), [&] {
          Value buf = materialize(result);
          mrt::RecvOp::create(b, loc, buf, ends.peerIn,
                              FlatSymbolRefAttr::get(ctx, llmName),
                              b.getStrArrayAttr({"pp"}),
                              b.getI64IntegerAttr(ends.tag));
          return success();
        })))
      return failure();
  }
  // Rows the forward keeps of each collected value (mimo-apply-recompute's
  // N-layer recompute): the buffer holds rows N.. only, except under the
  // interleaved schedule, where a chunk's rows are not the stage's first.
  SmallVector<int64_t> keptRows(stack.getCollectedResults().size(), 0);
  if (auto from = stack->getAttrOfType<DenseI64ArrayAttr>("mimo.kept_from")) {
    if (from.size() != keptRows.size())
      return stack.emitError() << "convert-mimo-to-mimort: mimo.kept_from has "
                               << from.size() << " entries for "
                               << keptRows.size() << " collected values";
    keptRows.assign(from.asArrayRef().begin(), from.asArrayRef().end());
  }
  bool shrinkKept = !(chunked && pipe.chunks > 1);
  // A backward stack's per-layer weight gradients that only feed
  // mimo.param_grad are added to the parameter's gradient rows inside the
  // loop (the same additions, row by row): no [layers, ...] copy of the
  // gradients.
  SmallVector<std::string> gradInto(stack.getCollectedResults().size());
  for (auto [m, r] : llvm::enumerate(stack.getCollectedResults())) {
    if (!r.hasOneUse() || keptRows[m] != 0)
      continue;
    auto pg = dyn_cast<ParamGradOp>(*r.getUsers().begin());
    if (!pg)
      continue;
    std::string name = (paramModule + "." + pg.getName()).str();
    auto it = paramIndex.find(name);
    if (it == paramIndex.end() ||
        cast<RankedTensorType>(r.getType()).getShape() !=
            params[it->second].type.getShape())
      continue;
    gradInto[m] = name + ".grad";
    accumulatedGrads.insert(pg);
  }
  for (auto [m, r] : llvm::enumerate(stack.getCollectedResults())) {
    if (!gradInto[m].empty())
      continue;
    keptFrom = shrinkKept ? keptRows[m] : 0;
    auto sym = declareFor(r, ("stack" + Twine(id) + ".ys" + Twine(m)).str());
    keptFrom = 0;
    if (failed(sym))
      return failure();
  }
  Value base;
  if (chunked)
    base = arith::MulIOp::create(b, loc, chunk, index(pipe.chunkLayers));
  // The body sees mimo values defined outside through fresh views.
  DenseMap<Value, Value> saved = env;
  auto loop = scf::ForOp::create(b, loc, index(0), index(count), index(1));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    env.clear();
    // Row `row` of a per-slot residual, row `layer` of a stage's parameter.
    Value row = loop.getInductionVar();
    if (stack.getReverse())
      row = arith::SubIOp::create(b, loc, index(count - 1), row);
    Value layer = base ? arith::AddIOp::create(b, loc, base, row) : row;
    Value outerLayer = stackLayer;
    stackLayer = layer;
    auto rowOf = [&](Value stacked, Value buf) {
      auto type = cast<mrt::BufferType>(buf.getType());
      Loc where = locs.lookup(stacked);
      bool local = chunked && where.bySlot;
      Value i = local ? row : layer;
      if (where.rowFrom > 0) {
        // Rows below rowFrom are not kept (and not read): clamp to row 0.
        Value from = index(where.rowFrom);
        Value kept = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                           i, from);
        i = arith::SelectOp::create(
            b, loc, kept, arith::SubIOp::create(b, loc, i, from), index(0));
      }
      return mrt::SliceOp::create(
          b, loc,
          mrt::BufferType::get(ctx, type.getShape().drop_front(),
                               type.getElementType()),
          buf, i);
    };
    for (auto [i, arg] : llvm::enumerate(stack.getSliceArguments())) {
      Value xs = stack.getXs()[i];
      env[arg] = rowOf(xs, materialize(xs));
    }
    if (failed(lowerBlock(body, paramModule)))
      return failure();
    auto yield = cast<YieldOp>(body.getTerminator());
    // Collected values first: they may read a carried buffer the carried
    // updates overwrite.
    // (Values kept from row N on are written by the layers from N on.)
    std::set<int64_t> froms(keptRows.begin(), keptRows.end());
    for (int64_t from : froms) {
      auto write = [&] {
        for (auto [m, r] : llvm::enumerate(stack.getCollectedResults())) {
          if (keptRows[m] != from)
            continue;
          Value v = materialize(yield.getOperand(carried + m));
          if (!gradInto[m].empty()) {
            Value grad = get(gradInto[m]);
            auto t = cast<mrt::BufferType>(grad.getType());
            Value rowOfGrad = mrt::SliceOp::create(
                b, loc,
                mrt::BufferType::get(ctx, t.getShape().drop_front(),
                                     t.getElementType()),
                grad, layer);
            kernel("add", {rowOfGrad, v, rowOfGrad});
            continue;
          }
          mrt::CopyOp::create(b, loc, v, rowOf(r, materialize(r)));
        }
        return success();
      };
      if (from == 0) {
        (void)write();
        continue;
      }
      Value keep = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                         layer, index(from));
      auto branch = scf::IfOp::create(b, loc, keep, /*else=*/false);
      if (failed(inBlock(branch.thenBlock(), write)))
        return failure();
    }
    for (unsigned k = 0; k < carried; ++k) {
      Value v = yield.getOperand(k);
      auto it = locs.find(v);
      if (it != locs.end() && it->second.sym == carry[k])
        continue;
      mrt::CopyOp::create(b, loc, materialize(v),
                          materialize(stack.getResult(k)));
    }
    stackLayer = outerLayer;
  }
  env = std::move(saved);
  if (chunked) {
    auto send = scf::IfOp::create(b, loc, ends.sendOut, /*else=*/false);
    if (failed(inBlock(send.thenBlock(), [&] {
          mrt::SendOp::create(b, loc, materialize(stack.getResult(0)),
                              ends.peerOut,
                              FlatSymbolRefAttr::get(ctx, llmName),
                              b.getStrArrayAttr({"pp"}),
                              b.getI64IntegerAttr(ends.tag));
          return success();
        })))
      return failure();
  }
  return success();
}

LogicalResult Lowering::lowerRecompute(RecomputeOp rc, StringRef paramModule) {
  if (!stackLayer)
    return rc.emitError() << "convert-mimo-to-mimort: mimo.recompute outside "
                             "a layer stack";
  Block &body = rc.getBodyBlock();
  auto yield = cast<YieldOp>(body.getTerminator());
  for (auto [arg, in] : llvm::zip(body.getArguments(), rc.getInputs()))
    env[arg] = materialize(in);
  std::optional<int64_t> layers = rc.getLayers();
  if (!layers) {
    // Every layer: the region's ops run in place, its results are theirs.
    if (failed(lowerBlock(body, paramModule)))
      return failure();
    for (auto [r, y] : llvm::zip(rc.getResults(), yield.getOperands())) {
      env[r] = materialize(y);
      auto it = locs.find(y);
      if (it != locs.end())
        locs[r] = it->second;
    }
    return success();
  }
  // The first N layers recompute, the others copy what the forward kept.
  SmallVector<Value> outs;
  for (Value r : rc.getResults()) {
    if (failed(declareFor(r)))
      return failure();
    outs.push_back(materialize(r));
  }
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                      stackLayer, index(*layers));
  auto branch = scf::IfOp::create(b, loc, first, /*else=*/true);
  if (failed(inBlock(branch.thenBlock(), [&]() -> LogicalResult {
        if (failed(lowerBlock(body, paramModule)))
          return failure();
        for (auto [y, o] : llvm::zip(yield.getOperands(), outs))
          mrt::CopyOp::create(b, loc, materialize(y), o);
        return success();
      })))
    return failure();
  return inBlock(branch.elseBlock(), [&] {
    for (auto [s, o] : llvm::zip(rc.getSaved(), outs))
      mrt::CopyOp::create(b, loc, materialize(s), o);
    return success();
  });
}

LogicalResult Lowering::lowerBlock(Block &block, StringRef paramModule) {
  for (Operation &op : block.without_terminator())
    if (failed(lowerAndRetire(&op, [&] { return lowerOp(&op, paramModule); })))
      return failure();
  return success();
}

LogicalResult Lowering::lowerPipedModule(mimo::ModuleOp m,
                                         StringRef paramModule, bool forward) {
  Block &block = m.getBodyBlock();
  Operation *stack = forward ? fwdStack : bwdStack;
  // Ops before the layer stack run on the first virtual stage (forward) or
  // the last (backward), ops after it on the other end. Parameters,
  // constants and the accumulation of the stacked parameters' gradients
  // run on every stage.
  auto everyStage = [&](Operation &op) {
    if (op.getNumOperands() == 0)
      return true;
    auto g = dyn_cast<ParamGradOp>(&op);
    return g && g.getGradient().getDefiningOp() == stack;
  };
  WalkResult outside = stack->walk([&](Operation *inner) -> WalkResult {
    if (inner == stack)
      return WalkResult::advance();
    for (Value v : inner->getOperands()) {
      Operation *def = v.getDefiningOp();
      if (def && def->getBlock() == &block && !everyStage(*def))
        return inner->emitError()
               << "convert-mimo-to-mimort: a pipelined layer reads a value "
                  "computed outside the stack on one stage only";
    }
    return WalkResult::advance();
  });
  if (outside.wasInterrupted())
    return failure();
  Value before = forward ? isFirstVs : isLastVs;
  Value after = forward ? isLastVs : isFirstVs;
  bool seen = false;
  scf::IfOp open;
  Value openCond;
  for (Operation &op : block.without_terminator()) {
    if (&op == stack) {
      seen = true;
      open = nullptr;
      if (failed(lowerAndRetire(&op, [&] {
            return lowerStack(cast<StackOp>(op), paramModule);
          })))
        return failure();
      continue;
    }
    if (everyStage(op)) {
      open = nullptr;
      if (failed(lowerAndRetire(&op, [&] { return lowerOp(&op, paramModule); })))
        return failure();
      continue;
    }
    Value cond = seen ? after : before;
    if (!open || openCond != cond) {
      open = scf::IfOp::create(b, loc, cond, /*else=*/false);
      openCond = cond;
    }
    if (failed(lowerAndRetire(&op, [&] {
          return inBlock(open.thenBlock(),
                         [&] { return lowerOp(&op, paramModule); });
        })))
      return failure();
  }
  return success();
}

LogicalResult Lowering::lowerModule(mimo::ModuleOp m, StringRef paramModule) {
  module = m.getSymName().str();
  // Disaggregated: a module's values and scratch live on its span only.
  spanGrid = disaggregated ? paramModule.str() : std::string();
  counter = 0;
  bool piped = pipelined() && chunk &&
               (m.getBodyBlock().findAncestorOpInBlock(*fwdStack) ||
                m.getBodyBlock().findAncestorOpInBlock(*bwdStack));
  if (piped) {
    if (failed(lowerPipedModule(m, paramModule,
                                m.getKind() != ModuleKind::backward)))
      return failure();
  } else if (failed(lowerBlock(m.getBodyBlock(), paramModule))) {
    return failure();
  }
  auto ret = cast<mimo::ReturnOp>(m.getBodyBlock().getTerminator());
  std::vector<Loc> r;
  for (Value v : ret.getOperands()) {
    auto it = locs.find(v);
    if (it == locs.end())
      return ret.emitError() << "convert-mimo-to-mimort: a returned value has "
                                "no buffer";
    r.push_back(it->second);
  }
  results[module] = std::move(r);
  return success();
}

//===----------------------------------------------------------------------===//
// @step and @init
//===----------------------------------------------------------------------===//

static StringRef inputOf(mimo::ModuleOp m, unsigned i = 0) {
  return cast<SymbolRefAttr>(m.getInputsAttr()[i]).getRootReference();
}

LogicalResult Lowering::lowerStep() {
  // Modules in dataflow order, and each forward module's backward.
  SmallVector<mimo::ModuleOp> forward;
  llvm::StringMap<mimo::ModuleOp> backwardOf;
  llvm::StringMap<mimo::ModuleOp> byName;
  for (mimo::ModuleOp m : model.getModules()) {
    byName[m.getSymName()] = m;
    if (m.getKind() == ModuleKind::backward) {
      if (!m.getInputsAttr() || m.getInputsAttr().size() != 1)
        return m.emitError() << "convert-mimo-to-mimort: a backward module "
                                "names exactly one forward module";
      backwardOf[inputOf(m)] = m;
    } else {
      forward.push_back(m);
    }
  }
  mimo::ModuleOp llm = model.getLlm();
  if (!llm)
    return model.emitError() << "convert-mimo-to-mimort: the model has no LLM";
  llmName = llm.getSymName().str();
  for (mimo::ModuleOp m : forward)
    if (!backwardOf.count(m.getSymName()))
      return m.emitError() << "convert-mimo-to-mimort: module '"
                           << m.getSymName()
                           << "' has no backward module; run "
                              "mimo-generate-backward first";

  // Data: token ids and labels for the LLM, pixels for one encoder.
  SmallVector<mimo::ModuleOp> encoders;
  for (mimo::ModuleOp m : forward)
    if (m.getKind() == ModuleKind::encoder)
      encoders.push_back(m);
  if (encoders.size() > 1)
    return encoders[1].emitError()
           << "convert-mimo-to-mimort: the data loader feeds one image "
              "encoder; this model has "
           << encoders.size();
  auto llmInputs = llm.getFunctionType().getInputs();
  if (llmInputs.size() < 2)
    return llm.emitError() << "convert-mimo-to-mimort: the LLM takes token ids "
                              "and labels first";
  auto idsType = cast<RankedTensorType>(llmInputs[0]);
  int64_t seqLen = idsType.getDimSize(0);
  if (idsType.getRank() != 1 || seqLen != model.getSeqLen())
    return llm.emitError() << "convert-mimo-to-mimort: token ids must be ["
                           << model.getSeqLen() << "], got " << idsType;
  int64_t globalBatch = model.getGlobalBatchSize();
  // Each rank of the LLM's dp group loads its contiguous block of the
  // global batch (the runtime's DataLoader); the union is world 1's batch.
  int64_t localBatch = globalBatch / dp;
  // The loader runs on the grid of the module with the smallest dp.
  std::string loaderName = llmName;
  for (mimo::ModuleOp m : forward)
    if (dpOf.lookup(m.getSymName()) < dpOf.lookup(loaderName))
      loaderName = m.getSymName().str();
  if (disaggregated)
    loaderName = kWorldGrid.str();
  int64_t vocab = -1, placeholder = -1;
  llm.walk([&](EmbeddingOp e) {
    vocab = cast<RankedTensorType>(e.getTable().getType()).getDimSize(0);
    if (e.getParallel() == TpSplit::vocab && partitioned(llmName))
      vocab *= tpOf.lookup(llmName);
  });
  llm.walk([&](MergeModalitiesOp mm) {
    if (!mm.getPlaceholderIds().empty())
      placeholder = mm.getPlaceholderIds()[0];
  });
  if (vocab < 0)
    return llm.emitError() << "convert-mimo-to-mimort: the LLM has no "
                              "token embedding to take the vocabulary from";
  int64_t images = model.getImagesPerSample(), channels = 3, imageSize = 1,
          tokensPerImage = 0;
  RankedTensorType pixelsType;
  if (!encoders.empty()) {
    pixelsType = dyn_cast<RankedTensorType>(
        encoders[0].getFunctionType().getInputs()[0]);
    if (!pixelsType || pixelsType.getRank() != 4 ||
        pixelsType.getDimSize(0) != images ||
        pixelsType.getDimSize(2) != pixelsType.getDimSize(3))
      return encoders[0].emitError()
             << "convert-mimo-to-mimort: encoder pixels must be [" << images
             << ", channels, size, size]";
    channels = pixelsType.getDimSize(1);
    imageSize = pixelsType.getDimSize(2);
    if (llmInputs.size() > 2 && images > 0)
      tokensPerImage =
          cast<RankedTensorType>(llmInputs[2]).getDimSize(0) / images;
  } else {
    images = 0;
  }
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(declPoint);
  auto i64Attr = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  mrt::DataOp::create(
      b, loc, FlatSymbolRefAttr::get(ctx, loaderName), i64Attr(globalBatch),
      i64Attr(seqLen), i64Attr(vocab), i64Attr(placeholder), i64Attr(images),
      i64Attr(tokensPerImage), i64Attr(channels), i64Attr(imageSize),
      dataSamples > 0 ? i64Attr(dataSamples) : IntegerAttr());
  Type i32 = b.getI32Type(), f32Type = b.getF32Type();
  std::string idsSym = declare(
      "data.input_ids", mrt::BufferType::get(ctx, {localBatch, seqLen}, i32),
      mrt::MemoryCategory::Activations);
  std::string labelsSym = declare(
      "data.labels", mrt::BufferType::get(ctx, {localBatch, seqLen}, i32),
      mrt::MemoryCategory::Activations);
  std::string pixelsSym;
  if (pixelsType) {
    SmallVector<int64_t> shape{localBatch};
    llvm::append_range(shape, pixelsType.getShape());
    pixelsSym =
        declare("data.pixels", mrt::BufferType::get(ctx, shape, f32Type),
                mrt::MemoryCategory::Activations);
  }
  std::string seedSym = declare((llmName + "_grad.seed").c_str(),
                                mrt::BufferType::get(ctx, {1}, f32Type),
                                mrt::MemoryCategory::Activations);
  std::string lossSym =
      declare("step.loss", mrt::BufferType::get(ctx, {1}, f32Type),
              mrt::MemoryCategory::Workspace);
  std::string countSym =
      declare("step.count", mrt::BufferType::get(ctx, {1}, f32Type),
              mrt::MemoryCategory::Workspace);
  std::string sumSqSym =
      declare("step.grad_sum_squares", mrt::BufferType::get(ctx, {1}, f32Type),
              mrt::MemoryCategory::Workspace);
  // The global gradient norm, for the trainer's log (a non-finite one means
  // the step skipped its update).
  std::string normSym =
      declare("step.grad_norm", mrt::BufferType::get(ctx, {1}, f32Type),
              mrt::MemoryCategory::Workspace);

  // func.func @step(%step: i64) -> f32
  b.setInsertionPointToEnd(top.getBody());
  auto step = func::FuncOp::create(
      b, loc, "step", b.getFunctionType({b.getI64Type()}, {f32Type}));
  Block *entry = step.addEntryBlock();
  b.setInsertionPointToStart(entry);
  enterRanks();
  for (const Param &p : params)
    onParam(p, [&] { zero(get(p.name + ".grad")); });
  // Adam moments offloaded (mimo-insert-offload's `optimizer`) stay on the
  // host through the forward and backward.
  SmallVector<std::pair<const Param *, std::string>> hostOptimizer;
  for (mimo::ModuleOp m : model.getModules())
    if (auto d = m->getAttrOfType<DictionaryAttr>("mimo.offload"))
      if (auto names = d.getAs<ArrayAttr>("optimizer"))
        for (Attribute n : names) {
          std::string name =
              (m.getSymName() + "." + cast<StringAttr>(n).getValue()).str();
          auto it = paramIndex.find(name);
          if (it == paramIndex.end())
            return m.emitError() << "convert-mimo-to-mimort: mimo.offload "
                                    "names the optimizer state of '"
                                 << name << "', which is not a parameter";
          for (StringRef part : {".m", ".v"})
            hostOptimizer.push_back({&params[it->second], name + part.str()});
        }
  for (auto &[p, sym] : hostOptimizer)
    onParam(*p, [&] {
      mrt::OffloadOp::create(b, loc, FlatSymbolRefAttr::get(ctx, sym));
    });
  Value ids = get(idsSym), labels = get(labelsSym);
  mrt::NextBatchOp::create(b, loc, ids, labels,
                           pixelsType ? get(pixelsSym) : Value());
  // Binding a module's arguments and lowering it, for one sample. A
  // forward module reads the data, its producer's results, or (bridged)
  // its slot in a bridge buffer; a backward module reads its forward's
  // residuals and the gradient its reader's backward produced.
  llvm::DenseMap<Value, Loc> overrides;
  auto runForward = [&](mimo::ModuleOp m) -> LogicalResult {
    Block &body = m.getBodyBlock();
    switch (m.getKind()) {
    case ModuleKind::encoder:
      locs[body.getArgument(0)] = Loc{pixelsSym, true};
      break;
    case ModuleKind::projector: {
      auto &from = results[inputOf(m)];
      for (BlockArgument arg : body.getArguments())
        locs[arg] = from[arg.getArgNumber()];
      break;
    }
    case ModuleKind::llm:
      locs[body.getArgument(0)] = Loc{idsSym, true};
      locs[body.getArgument(1)] = Loc{labelsSym, true};
      for (unsigned i = 2; i < body.getNumArguments(); ++i)
        locs[body.getArgument(i)] = results[inputOf(m, i - 2)][0];
      break;
    default:
      return m.emitError() << "convert-mimo-to-mimort: unexpected module";
    }
    for (BlockArgument arg : body.getArguments())
      if (overrides.count(arg))
        locs[arg] = overrides.lookup(arg);
    return lowerModule(m, m.getSymName());
  };
  auto runBackward = [&](mimo::ModuleOp f) -> LogicalResult {
    mimo::ModuleOp bwd = backwardOf[f.getSymName()];
    Block &body = bwd.getBodyBlock();
    int64_t residuals = f.getResidualsAttr().getInt();
    unsigned grads = body.getNumArguments() - residuals;
    auto &fr = results[f.getSymName()];
    unsigned outputs = f.getOutputTypes().size();
    if (residuals > int64_t(body.getNumArguments()) ||
        fr.size() != outputs + residuals)
      return bwd.emitError() << "convert-mimo-to-mimort: arguments do not "
                                "match the forward module's residuals";
    for (unsigned i = 0; i < residuals; ++i)
      locs[body.getArgument(grads + i)] = fr[outputs + i];
    if (f.getKind() == ModuleKind::llm) {
      if (grads != 1)
        return bwd.emitError() << "convert-mimo-to-mimort: the LLM's "
                                  "backward takes one loss seed";
      locs[body.getArgument(0)] = Loc{seedSym, false};
    } else {
      // The gradient of each output comes from the one module reading it.
      SmallVector<std::pair<mimo::ModuleOp, unsigned>> readers;
      for (mimo::ModuleOp r : forward)
        if (r.getInputsAttr())
          for (auto [i, in] : llvm::enumerate(r.getInputsAttr()))
            if (cast<SymbolRefAttr>(in).getRootReference() == f.getSymName())
              readers.push_back({r, unsigned(i)});
      if (readers.size() != 1)
        return f.emitError()
               << "convert-mimo-to-mimort: module '" << f.getSymName()
               << "' must feed exactly one module, got " << readers.size();
      mimo::ModuleOp rb = backwardOf[readers[0].first.getSymName()];
      auto &rbr = results[rb.getSymName()];
      if (readers[0].first.getKind() == ModuleKind::llm) {
        if (grads != 1 || readers[0].second >= rbr.size())
          return bwd.emitError() << "convert-mimo-to-mimort: expects the "
                                    "LLM's backward to return one gradient "
                                    "per projector";
        locs[body.getArgument(0)] = rbr[readers[0].second];
      } else {
        if (grads != rbr.size())
          return bwd.emitError()
                 << "convert-mimo-to-mimort: expects " << grads
                 << " output gradients, the "
                 << "reader's backward returns " << rbr.size();
        for (unsigned i = 0; i < grads; ++i)
          locs[body.getArgument(i)] = rbr[i];
      }
    }
    for (BlockArgument arg : body.getArguments())
      if (overrides.count(arg))
        locs[arg] = overrides.lookup(arg);
    return lowerModule(bwd, f.getSymName());
  };
  // Adds this sample's loss and token count to the loop's running sums.
  auto accumulateLoss = [&](scf::ForOp loop) -> SmallVector<Value> {
    auto &llmResults = results[llmName];
    Value loss = mrt::ReadScalarOp::create(b, loc, f32Type,
                                           get(llmResults[0].sym), i64Attr(0));
    Value count = mrt::ReadScalarOp::create(b, loc, i32,
                                            get(llmResults[1].sym), i64Attr(0));
    return {arith::AddFOp::create(b, loc, loop.getRegionIterArg(0), loss),
            arith::AddFOp::create(
                b, loc, loop.getRegionIterArg(1),
                arith::SIToFPOp::create(b, loc, f32Type, count))};
  };

  scf::ForOp samples;
  Value localLoss, localCount;
  if (pipelined() && !bridged) {
    if (failed(lowerSchedule(forward, backwardOf, runForward, runBackward,
                             lossSym, countSym, seedSym, localLoss,
                             localCount)))
      return failure();
  } else if (!bridged) {
    // One loop: each sample runs forward through every module, then
    // backward.
    samples = scf::ForOp::create(b, loc, index(0), index(localBatch), index(1),
                                 ValueRange{f32(0.0), f32(0.0)});
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(samples.getBody());
    sample = samples.getInductionVar();
    env.clear();
    for (mimo::ModuleOp m : forward)
      if (failed(runForward(m)))
        return failure();
    SmallVector<Value> totals = accumulateLoss(samples);
    mrt::FillOp::create(b, loc, get(seedSym), f32(1.0));
    for (mimo::ModuleOp f : llvm::reverse(forward))
      if (failed(runBackward(f)))
        return failure();
    scf::YieldOp::create(b, loc, totals);
  } else {
    // Modules on different dp: ARCHITECTURE.md's colocated schedule.
    //  1. encoder + projector forward for every encoder sample, the
    //     projected tokens collected in bridge.enc_out;
    //  2. the bridge to the LLM's samples; the LLM forward and backward per
    //     sample, the image-token gradients collected in bridge.llm_grad;
    //  3. the bridge back; per encoder sample the encoder + projector
    //     forward re-run (the same kernels on the same inputs: bit for bit
    //     what phase 1 computed) and their backward.
    SmallVector<mimo::ModuleOp> projectors;
    for (mimo::ModuleOp m : forward)
      if (m.getKind() == ModuleKind::projector)
        projectors.push_back(m);
    if (encoders.size() != 1 || projectors.size() != 1)
      return model.emitError()
             << "convert-mimo-to-mimort: modules on different dp need one "
                "encoder and one projector for the bridge";
    mimo::ModuleOp enc = encoders[0], proj = projectors[0];
    if (bridge.getSource() != proj.getSymName())
      return bridge.emitError()
             << "convert-mimo-to-mimort: the bridge's source must be the "
                "projector '"
             << proj.getSymName() << "'";
    StringRef encName = enc.getSymName();
    int64_t dpEnc = dpOf.lookup(encName), dpLlm = dpOf.lookup(llmName);
    int64_t tpEnc = tpOf.lookup(encName), tpLlm = tpOf.lookup(llmName);
    int64_t ppLlm = ppOf.lookup(llmName), cpLlm = cpOfModule(llmName);
    // The dims of one LLM replica's ranks (tp, cp, pp: consecutive ranks).
    SmallVector<StringRef> llmReplica{"tp"};
    if (cpLlm > 1)
      llmReplica.push_back("cp");
    if (ppLlm > 1)
      llmReplica.push_back("pp");
    if (ppOf.lookup(encName) != 1)
      return enc.emitError() << "convert-mimo-to-mimort: the colocated "
                                "schedule runs the encoder unpipelined, got "
                                "pp = "
                             << ppOf.lookup(encName);
    int64_t bEnc = globalBatch / dpEnc, bLlm = globalBatch / dpLlm;
    auto outType = cast<RankedTensorType>(proj.getOutputTypes()[0]);
    SmallVector<int64_t> tokenShape(outType.getShape());
    auto stacked = [&](int64_t n, int64_t m = 0) {
      SmallVector<int64_t> shape;
      if (m)
        shape.push_back(m);
      shape.push_back(n);
      llvm::append_range(shape, tokenShape);
      return mrt::BufferType::get(ctx, shape, outType.getElementType());
    };
    auto declareBridge = [&](StringRef name, mrt::BufferType t) {
      return declare(("bridge." + name).str(), t,
                     mrt::MemoryCategory::Activations);
    };
    std::string encOut = declareBridge("enc_out", stacked(bEnc));
    std::string encGrad = declareBridge("enc_grad", stacked(bEnc));
    std::string llmGrad = declareBridge("llm_grad", stacked(bLlm));
    // Where a module's samples start in the loaded block (the loader's dp
    // divides the module's).
    auto blockStart = [&](StringRef m, int64_t dpM, int64_t bM) -> Value {
      int64_t ratio = dpM / dp;
      if (ratio == 1)
        return index(0);
      Value coord = mrt::GridCoordOp::create(b, loc, b.getI64Type(),
                                             FlatSymbolRefAttr::get(ctx, m),
                                             b.getStringAttr("dp"));
      Value off = arith::MulIOp::create(
          b, loc, arith::RemSIOp::create(b, loc, coord, i64(ratio)), i64(bM));
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), off);
    };
    auto slot = [&](Value buf, Value i) -> Value {
      auto t = cast<mrt::BufferType>(buf.getType());
      return mrt::SliceOp::create(
          b, loc,
          mrt::BufferType::get(ctx, t.getShape().drop_front(),
                               t.getElementType()),
          buf, i);
    };
    // Copies blocks 0, step, 2 step, ... of `gathered` [members, n, ...]
    // into `into` viewed as [parts, n, ...].
    auto pick = [&](Value gathered, StringRef into, int64_t parts, int64_t n,
                    int64_t stride) {
      Value view =
          mrt::ReshapeOp::create(b, loc, stacked(n, parts), get(into));
      for (int64_t k = 0; k < parts; ++k)
        mrt::CopyOp::create(b, loc, slot(gathered, index(k * stride)),
                            slot(view, index(k)));
    };
    // Disaggregated: each phase runs on its module's ranks only; the
    // bridge is point to point between replica leaders (tp = pp = 0): the
    // sample g of the global batch goes from the leader of encoder replica
    // g / bEnc to the leader of LLM replica g / bLlm, which broadcasts it to
    // its tp (x pp) group; its gradient travels back the same way.
    const bool split = bridge.getKind() == BridgeKind::leaders;
    int64_t offE = offsetOf.lookup(encName), offL = offsetOf.lookup(llmName);
    int64_t mpE = tpEnc, mpL = tpLlm * cpLlm * ppLlm;
    LogicalResult status = success();
    auto onSide = [&](StringRef module, function_ref<LogicalResult()> body) {
      onModule(module, [&] {
        if (succeeded(status))
          status = body();
      });
      return status;
    };
    auto coordOf = [&](StringRef m, StringRef dim) -> Value {
      return mrt::GridCoordOp::create(b, loc, b.getI64Type(),
                                      FlatSymbolRefAttr::get(ctx, m),
                                      b.getStringAttr(dim));
    };
    auto isZero = [&](Value v) -> Value {
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v,
                                   i64(0));
    };
    // Sends (or receives) slot `j` of this replica's `buf` [bFrom, ...] to
    // (or from) the leader of the other side's replica that trains the
    // same global sample, on this replica's leader; then the leader
    // broadcasts a received slot over `group` (the ranks that read it).
    auto leaderSlot = [&](bool send, StringRef from, int64_t bFrom, Value buf,
                          Value j, int64_t bTo, int64_t offTo, int64_t mpTo,
                          int64_t tag, ArrayRef<StringRef> group) {
      Value lead = isZero(coordOf(from, "tp"));
      if (cpOfModule(from) > 1)
        lead = arith::AndIOp::create(b, loc, lead, isZero(coordOf(from, "cp")));
      if (ppOf.lookup(from) > 1)
        lead = arith::AndIOp::create(b, loc, lead, isZero(coordOf(from, "pp")));
      {
        auto ifLead = scf::IfOp::create(b, loc, lead, /*withElseRegion=*/false);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(ifLead.thenBlock());
        Value sampleNo = arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc, coordOf(from, "dp"), i64(bFrom)),
            arith::IndexCastOp::create(b, loc, b.getI64Type(), j));
        Value peer = arith::AddIOp::create(
            b, loc, i64(offTo),
            arith::MulIOp::create(
                b, loc, arith::DivSIOp::create(b, loc, sampleNo, i64(bTo)),
                i64(mpTo)));
        auto world = FlatSymbolRefAttr::get(ctx, kWorldGrid);
        if (send)
          mrt::SendOp::create(b, loc, slot(buf, j), peer, world,
                              b.getStrArrayAttr({"tp"}),
                              b.getI64IntegerAttr(tag));
        else
          mrt::RecvOp::create(b, loc, slot(buf, j), peer, world,
                              b.getStrArrayAttr({"tp"}),
                              b.getI64IntegerAttr(tag));
      }
      int64_t members = 1;
      for (StringRef d : group)
        members *= d == "tp" ? tpOf.lookup(from)
                   : d == "cp" ? cpOfModule(from)
                               : ppOf.lookup(from);
      if (!send && members > 1)
        mrt::BroadcastOp::create(b, loc, slot(buf, j),
                                 FlatSymbolRefAttr::get(ctx, from),
                                 b.getStrArrayAttr(group),
                                 b.getI64IntegerAttr(0));
    };
    // The ranks of an LLM replica's first stage, which read the image
    // tokens (the modality merge) and produce their gradients.
    SmallVector<StringRef> llmFirstStage{"tp"};
    if (cpLlm > 1)
      llmFirstStage.push_back("cp");

    // Builds `body` in a loop over this rank's encoder samples, on the
    // encoder's ranks (phases 1 and 3): `sample` indexes the loaded block,
    // `slotIndex` (the loop index) the values kept per encoder sample.
    auto onEncoderSamples = [&](function_ref<LogicalResult()> body) {
      return onSide(encName, [&]() -> LogicalResult {
        Value offEnc = blockStart(encName, dpEnc, bEnc);
        auto loop =
            scf::ForOp::create(b, loc, index(0), index(bEnc), index(1));
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(loop.getBody());
        env.clear();
        sample = arith::AddIOp::create(b, loc, offEnc, loop.getInductionVar());
        slotIndex = loop.getInductionVar();
        return body();
      });
    };

    // Phase 1. What the encoder's and projector's backward read is kept
    // per encoder sample until phase 3.
    for (mimo::ModuleOp m : {enc, proj})
      for (Value v : m.getBodyBlock().getTerminator()->getOperands())
        slotted.insert(v);
    slots = bEnc;
    if (failed(onEncoderSamples([&]() -> LogicalResult {
          if (failed(runForward(enc)) || failed(runForward(proj)))
            return failure();
          mrt::CopyOp::create(b, loc, viewOf(results[proj.getSymName()][0]),
                              slot(get(encOut), slotIndex));
          // Disaggregated: each sample leaves for the LLM's ranks as soon
          // as it is projected (the send returns at once), so the LLM's
          // pipeline starts on the first while the encoder runs the next.
          if (split)
            leaderSlot(/*send=*/true, encName, bEnc, get(encOut), slotIndex,
                       bLlm, offL, mpL, /*tag=*/0, {});
          return success();
        })))
      return failure();
    slotIndex = Value();
    // Offload (mimo-insert-offload): what the encoder and projector keep,
    // and their parameters and gradient buffers, wait on the host through
    // the LLM phase.
    SmallVector<std::string> hostDuringLlm;
    for (mimo::ModuleOp m : {enc, proj}) {
      auto d = m->getAttrOfType<DictionaryAttr>("mimo.offload");
      if (!d)
        continue;
      auto add = [&](std::string sym) {
        if (!llvm::is_contained(hostDuringLlm, sym))
          hostDuringLlm.push_back(std::move(sym));
      };
      auto &r = results[m.getSymName()];
      if (auto kept = d.getAs<DenseI64ArrayAttr>("residuals"))
        for (int64_t i : kept.asArrayRef()) {
          if (i < 0 || i >= int64_t(r.size()))
            return m.emitError()
                   << "convert-mimo-to-mimort: mimo.offload names result " << i
                   << " of " << r.size();
          // (A residual that is the module's input lives in the data.)
          if (r[i].bySlot)
            add(r[i].sym);
        }
      if (auto names = d.getAs<ArrayAttr>("params"))
        for (Attribute n : names) {
          std::string name =
              (m.getSymName() + "." + cast<StringAttr>(n).getValue()).str();
          add(name);
          add(name + ".grad");
        }
    }
    for (const std::string &sym : hostDuringLlm)
      mrt::OffloadOp::create(b, loc, FlatSymbolRefAttr::get(ctx, sym));
    // Bridge forward.
    bool fanIn = bridge.getKind() == BridgeKind::fan_in;
    Loc image{encOut, true, true};
    std::string llmInSym;
    if (split) {
      // Received per LLM sample, right before its forward (phase 2).
      llmInSym = declareBridge("llm_in", stacked(bLlm));
      image = Loc{llmInSym, true, true};
    } else if (fanIn) {
      // The LLM's tp (x cp x pp) group holds the encoder slots of its dp
      // slot: gather them and keep one copy of each (every tpEnc-th member).
      std::string llmIn = declareBridge("llm_in", stacked(bLlm));
      std::string gathered =
          declareBridge("gather_fwd", stacked(bEnc, mpL));
      mrt::AllGatherOp::create(b, loc, get(encOut), get(gathered),
                               FlatSymbolRefAttr::get(ctx, llmName),
                               b.getStrArrayAttr(llmReplica));
      pick(get(gathered), llmIn, dpEnc / dpLlm, bEnc, tpEnc);
      image = Loc{llmIn, true, true};
    }
    overrides[llm.getBodyBlock().getArgument(2)] = image;

    // Phase 2.
    auto phase2 = [&]() -> LogicalResult {
    Value offLlm = blockStart(llmName, dpLlm, bLlm);
    if (pipelined()) {
      // The LLM's pipeline over its microbatches; the first stage collects
      // the image-token gradients, which every stage then needs for the
      // encoder backward (ARCHITECTURE.md: broadcast from LLM stage 0).
      schedule.sampleOffset = offLlm;
      schedule.bridgeByMicrobatch = fanIn || split;
      schedule.afterFirstBackward = [&](Value j) {
        mrt::CopyOp::create(b, loc,
                            get(results[(llmName + "_grad").c_str()][0].sym),
                            slot(get(llmGrad), j));
        if (split)
          leaderSlot(/*send=*/true, llmName, bLlm, get(llmGrad), j, bEnc,
                     offE, mpE, /*tag=*/1, {});
      };
      if (split)
        schedule.beforeFirstForward = [&](Value j) {
          leaderSlot(/*send=*/false, llmName, bLlm, get(llmInSym), j, bEnc,
                     offE, mpE, /*tag=*/0, llmFirstStage);
        };
      if (failed(lowerSchedule(forward, backwardOf, runForward, runBackward,
                               lossSym, countSym, seedSym, localLoss,
                               localCount)))
        return failure();
      schedule = {};
      // (Disaggregated: the gradients already left from stage 0.)
      if (!split)
        mrt::BroadcastOp::create(b, loc, get(llmGrad),
                                 FlatSymbolRefAttr::get(ctx, llmName),
                                 b.getStrArrayAttr({"pp"}),
                                 b.getI64IntegerAttr(0));
    } else {
    samples = scf::ForOp::create(b, loc, index(0), index(bLlm), index(1),
                                 ValueRange{f32(0.0), f32(0.0)});
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(samples.getBody());
      env.clear();
      Value j = samples.getInductionVar();
      sample = arith::AddIOp::create(b, loc, offLlm, j);
      // Fan-out: the LLM's samples are a block of the encoder's.
      bridgeSample = fanIn || split ? j : sample;
      if (split)
        leaderSlot(/*send=*/false, llmName, bLlm, get(llmInSym), j, bEnc,
                   offE, mpE, /*tag=*/0, llmFirstStage);
      if (failed(runForward(llm)))
        return failure();
      SmallVector<Value> totals = accumulateLoss(samples);
      mrt::FillOp::create(b, loc, get(seedSym), f32(1.0));
      if (failed(runBackward(llm)))
        return failure();
      mrt::CopyOp::create(b, loc,
                          get(results[(llmName + "_grad").c_str()][0].sym),
                          slot(get(llmGrad), j));
      if (split)
        leaderSlot(/*send=*/true, llmName, bLlm, get(llmGrad), j, bEnc, offE,
                   mpE, /*tag=*/1, {});
      scf::YieldOp::create(b, loc, totals);
    }
    }
    return success();
    };
    if (!split) {
      if (failed(phase2()))
        return failure();
    } else {
      // The LLM's ranks yield their loss and token count (once per tp
      // group); the encoder's add nothing to the step totals.
      auto llmSide = scf::IfOp::create(b, loc, TypeRange{f32Type, f32Type},
                                       inModule(llmName),
                                       /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(llmSide.thenBlock());
        if (failed(phase2()))
          return failure();
        if (samples) {
          localLoss = samples.getResult(0);
          localCount = samples.getResult(1);
          samples = scf::ForOp();
        }
        Value once = isZero(coordOf(llmName, "tp"));
        scf::YieldOp::create(
            b, loc,
            ValueRange{arith::SelectOp::create(b, loc, once, localLoss,
                                               f32(0.0)),
                       arith::SelectOp::create(b, loc, once, localCount,
                                               f32(0.0))});
        b.setInsertionPointToStart(llmSide.elseBlock());
        scf::YieldOp::create(b, loc, ValueRange{f32(0.0), f32(0.0)});
      }
      localLoss = llmSide.getResult(0);
      localCount = llmSide.getResult(1);
    }
    overrides.clear();
    // Bridge backward.
    if (split) {
      // Per encoder sample in phase 3, as the LLM's stage 0 sends them.
    } else if (fanIn) {
      Value pos = blockStart(encName, dpEnc, 1);
      Value view = mrt::ReshapeOp::create(b, loc, stacked(bEnc, dpEnc / dpLlm),
                                          get(llmGrad));
      mrt::CopyOp::create(b, loc, slot(view, pos), get(encGrad));
    } else {
      // The encoder's tp group holds the LLM slots of its dp slot.
      std::string gathered = declareBridge("gather_bwd", stacked(bLlm, tpEnc));
      mrt::AllGatherOp::create(b, loc, get(llmGrad), get(gathered),
                               FlatSymbolRefAttr::get(ctx, encName),
                               b.getStrArrayAttr({"tp"}));
      pick(get(gathered), encGrad, dpLlm / dpEnc, bLlm, mpL);
    }

    // Phase 3: the backward of each encoder sample from what phase 1 kept.
    for (const std::string &sym : hostDuringLlm)
      mrt::FetchOp::create(b, loc, FlatSymbolRefAttr::get(ctx, sym));
    if (failed(onEncoderSamples([&]() -> LogicalResult {
          bridgeSample = slotIndex;
          if (split)
            leaderSlot(/*send=*/false, encName, bEnc, get(encGrad), slotIndex,
                       bLlm, offL, mpL, /*tag=*/1, {"tp"});
          mimo::ModuleOp projBwd = backwardOf[proj.getSymName()];
          overrides[projBwd.getBodyBlock().getArgument(0)] =
              Loc{encGrad, true, true};
          if (failed(runBackward(proj)) || failed(runBackward(enc)))
            return failure();
          overrides.clear();
          return success();
        })))
      return failure();
    slotIndex = Value();
  }
  if (samples) {
    localLoss = samples.getResult(0);
    localCount = samples.getResult(1);
  }
  sample = Value();
  env.clear();

  // Step totals over the LLM's data-parallel group (and its pipeline
  // stages: only the last one computes the loss).
  auto group = [&](StringRef sym, Value v) {
    Value buf = get(sym);
    mrt::FillOp::create(b, loc, buf, v);
    // (Each cp rank holds its tokens' share of the loss.)
    SmallVector<StringRef> dims{"dp"};
    if (contextSplit(llmName))
      dims.push_back("cp");
    if (pipelined())
      dims.push_back("pp");
    // Disaggregated: over every rank (the encoder's add zero), so each rank
    // reports the step's loss.
    StringRef over = llmName;
    if (disaggregated) {
      over = kWorldGrid;
      dims.assign({"tp"});
    }
    mrt::AllReduceOp::create(
        b, loc, mrt::ReduceKindAttr::get(ctx, mrt::ReduceKind::Sum), buf,
        FlatSymbolRefAttr::get(ctx, over), b.getStrArrayAttr(dims));
    return mrt::ReadScalarOp::create(b, loc, f32Type, buf, i64Attr(0))
        .getResult();
  };
  Value totalLoss = group(lossSym, localLoss);
  Value totalCount = group(countSym, localCount);
  // Never divide by zero tokens.
  Value one = f32(1.0);
  Value tokens = arith::SelectOp::create(
      b, loc,
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, totalCount, one),
      one, totalCount);

  // Gradients summed over each module's dp group: every rank then holds
  // world 1's gradient and takes the same update. World 1 has nothing to
  // sum.
  // With the distributed optimizer each rank keeps only its part of the
  // sum (the runtime's reduce-scatter adds in the all-reduce's rank order).
  auto flat = [&](Value buf, ArrayRef<int64_t> shape) -> Value {
    auto t = cast<mrt::BufferType>(buf.getType());
    if (t.getShape() == shape)
      return buf;
    return mrt::ReshapeOp::create(
               b, loc, mrt::BufferType::get(ctx, shape, t.getElementType()),
               buf)
        .getResult();
  };
  // (Disaggregated: on the module's ranks; a parameter's copies elsewhere
  // are never read and keep their initial values.)
  // Context parallelism: each cp rank's gradients are its tokens' share,
  // summed over cp like data-parallel replicas (with the distributed
  // optimizer over cp first, then reduce-scattered over dp).
  // A pipelined LLM's parameter read on both ends (tied embedding and
  // head) has a copy on every stage: the first and last stages' gradients
  // are summed over pp (the others hold zeros), so every copy takes the
  // same update.
  for (const Param &p : params) {
    bool overCp = contextSplit(p.module);
    bool overPp = sharedByStages(p);
    if (dpOf.lookup(p.module) == 1 && !overCp && !overPp)
      continue;
    onParam(p, [&] {
      if (p.shard && (overCp || overPp)) {
        SmallVector<StringRef> first;
        if (overCp)
          first.push_back("cp");
        if (overPp)
          first.push_back("pp");
        mrt::AllReduceOp::create(
            b, loc, mrt::ReduceKindAttr::get(ctx, mrt::ReduceKind::Sum),
            get(p.name + ".grad"), FlatSymbolRefAttr::get(ctx, p.module),
            b.getStrArrayAttr(first));
      }
      if (p.shard) {
        mrt::ReduceScatterOp::create(
            b, loc, mrt::ReduceKindAttr::get(ctx, mrt::ReduceKind::Sum),
            flat(get(p.name + ".grad"), {p.type.getNumElements()}),
            get(p.name + ".grad_shard"), FlatSymbolRefAttr::get(ctx, p.module),
            b.getStrArrayAttr({"dp"}));
        return;
      }
      SmallVector<StringRef> dims;
      if (overCp)
        dims.push_back("cp");
      if (overPp)
        dims.push_back("pp");
      if (dpOf.lookup(p.module) > 1)
        dims.push_back("dp");
      mrt::AllReduceOp::create(
          b, loc, mrt::ReduceKindAttr::get(ctx, mrt::ReduceKind::Sum),
          get(p.name + ".grad"), FlatSymbolRefAttr::get(ctx, p.module),
          b.getStrArrayAttr(dims));
    });
  }
  // The gradient the update reads: this rank's part, or the whole tensor.
  auto gradOf = [&](const Param &p) {
    return get(p.name + (p.shard ? ".grad_shard" : ".grad"));
  };

  // Global gradient norm of the per-token loss, clip scale, Adam.
  DictionaryAttr opt = model.getOptimizer();
  auto optF = [&](StringRef key, double def) {
    if (auto a = opt ? dyn_cast_or_null<FloatAttr>(opt.get(key)) : FloatAttr())
      return a.getValueAsDouble();
    return def;
  };
  // Sum of squares: gradients every rank of the module holds whole, once;
  // the others summed over the dims that split them (tp shards partition
  // the full tensors, pipeline stages the layers; a stage that does not
  // run a parameter's ops holds a zero gradient).
  auto splitDims = [&](const Param &p) {
    SmallVector<StringRef> dims;
    if (p.tpDim >= 0)
      dims.push_back("tp");
    // (A parameter on every stage holds the whole gradient after the sync.)
    if (ppOf.lookup(p.module) > 1 && !sharedByStages(p))
      dims.push_back("pp");
    if (p.shard)
      dims.push_back("dp");
    return dims;
  };
  Value sumSq = get(sumSqSym);
  // (Disaggregated: each rank adds its modules' gradients, from zero.)
  bool first = !disaggregated;
  if (disaggregated)
    mrt::FillOp::create(b, loc, sumSq, f32(0.0));
  for (const Param &p : params)
    if (splitDims(p).empty()) {
      onParam(p, [&] {
        kernel("sum_squares", {gradOf(p), sumSq},
               {boolAttr(b, "accumulate", !first)});
      });
      first = false;
    }
  if (first)
    mrt::FillOp::create(b, loc, sumSq, f32(0.0));
  Value ss = mrt::ReadScalarOp::create(b, loc, f32Type, sumSq, i64Attr(0));
  // (module, dims, its partial-sum buffer); params are grouped by module.
  struct Partial {
    std::string module;
    SmallVector<StringRef> dims;
    std::string sym;
  };
  SmallVector<Partial> partials;
  for (const Param &p : params) {
    SmallVector<StringRef> dims = splitDims(p);
    if (dims.empty())
      continue;
    auto it = llvm::find_if(partials, [&](const Partial &q) {
      return q.module == p.module && q.dims == dims;
    });
    bool fresh = it == partials.end();
    if (fresh) {
      std::string name = "step.grad_sum_squares." + p.module;
      for (StringRef d : dims)
        name += "." + d.str();
      partials.push_back({p.module, dims,
                          declare(name, mrt::BufferType::get(ctx, {1}, f32Type),
                                  mrt::MemoryCategory::Workspace)});
      it = std::prev(partials.end());
    }
    // (A partial groups one module's parameters: the same ranks run it;
    // a parameter held by one pipeline stage adds on that stage only, so
    // each partial starts from zero.)
    bool someStage = llvm::any_of(params, [&](const Param &o) {
      return o.module == p.module && o.stage >= 0 && splitDims(o) == dims;
    });
    if (fresh && someStage)
      onModule(p.module, [&] { mrt::FillOp::create(b, loc, get(it->sym), f32(0.0)); });
    onParam(p, [&] {
      kernel("sum_squares", {gradOf(p), get(it->sym)},
             {boolAttr(b, "accumulate", !fresh || someStage)});
    });
  }
  for (const Partial &q : partials) {
    Value part = get(q.sym);
    onModule(q.module, [&] {
      mrt::AllReduceOp::create(
          b, loc, mrt::ReduceKindAttr::get(ctx, mrt::ReduceKind::Sum), part,
          FlatSymbolRefAttr::get(ctx, q.module), b.getStrArrayAttr(q.dims));
    });
    ss = arith::AddFOp::create(
        b, loc, ss,
        mrt::ReadScalarOp::create(b, loc, f32Type, part, i64Attr(0)));
  }
  if (disaggregated) {
    // Each rank now holds its modules' sum (the others' gradients are
    // zero there): the first rank of each span adds it once over the world.
    SmallVector<int64_t> firsts;
    for (const Param &p : params)
      if (!llvm::is_contained(firsts, offsetOf.lookup(p.module)))
        firsts.push_back(offsetOf.lookup(p.module));
    Value first = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
    for (int64_t f : firsts)
      first = arith::OrIOp::create(
          b, loc, first,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, worldRank,
                                i64(f)));
    Value all = get(sumSqSym);
    mrt::FillOp::create(b, loc, all,
                        arith::SelectOp::create(b, loc, first, ss, f32(0.0)));
    mrt::AllReduceOp::create(
        b, loc, mrt::ReduceKindAttr::get(ctx, mrt::ReduceKind::Sum), all,
        FlatSymbolRefAttr::get(ctx, kWorldGrid), b.getStrArrayAttr({"tp"}));
    ss = mrt::ReadScalarOp::create(b, loc, f32Type, all, i64Attr(0));
  }
  Value norm = arith::DivFOp::create(b, loc, sqrtF32(ss), tokens);
  mrt::FillOp::create(b, loc, get(normSym), norm);
  double maxNorm = optF("grad_clip", 0.0);
  Value clip = one;
  if (maxNorm > 0) {
    // gradClipScale: min(1, maxNorm / (norm + 1e-6)).
    Value ratio = arith::DivFOp::create(
        b, loc, f32(maxNorm), arith::AddFOp::create(b, loc, norm, f32(1e-6)));
    clip = arith::SelectOp::create(
        b, loc,
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, ratio, one),
        ratio, one);
  }
  Value gradScale = arith::DivFOp::create(b, loc, clip, tokens);
  StringAttr kind =
      opt ? dyn_cast_or_null<StringAttr>(opt.get("kind")) : StringAttr();
  bool decoupled = !kind || kind.getValue() != "adam";
  auto adam = mrt::AdamParamsAttr::get(
      ctx, b.getF64FloatAttr(optF("lr", 1e-3)),
      b.getF64FloatAttr(optF("beta1", 0.9)),
      b.getF64FloatAttr(optF("beta2", 0.999)),
      b.getF64FloatAttr(optF("eps", 1e-8)),
      b.getF64FloatAttr(optF("weight_decay", 0.0)), b.getBoolAttr(decoupled));
  Value stepNo = entry->getArgument(0);
  // A non-finite norm skips the update (gradClipScale's contract): norm -
  // norm is 0 exactly when the norm is finite.
  Value finite = arith::CmpFOp::create(
      b, loc, arith::CmpFPredicate::OEQ,
      arith::SubFOp::create(b, loc, norm, norm), f32(0.0));
  for (auto &[p, sym] : hostOptimizer)
    onParam(*p, [&] {
      mrt::FetchOp::create(b, loc, FlatSymbolRefAttr::get(ctx, sym));
    });
  auto update = scf::IfOp::create(b, loc, finite, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(update.thenBlock());
    for (const Param &p : params) {
      onParam(p, [&] {
      // Mixed precision: Adam updates the f32 master, whose new values
      // are converted into the bf16 compute copy.
      if (!p.shard) {
        Value target = get(p.name + (p.mixed() ? ".master" : ""));
        kernel("adam_step",
               {stepNo, gradScale, target, get(p.name + ".grad"),
                get(p.name + ".m"), get(p.name + ".v")},
               {b.getNamedAttr("adam", adam)});
        if (p.mixed())
          kernel("convert", {target, get(p.name)});
        return;
      }
      // Update this rank's part, then gather every rank's.
      int64_t dpM = dpOf.lookup(p.module);
      Value blocks = flat(get(p.name), {dpM, p.shard});
      Value mine =
          p.mixed()
              ? get(p.name + ".master")
              : mrt::SliceOp::create(
                    b, loc,
                    mrt::BufferType::get(ctx, {p.shard},
                                         p.type.getElementType()),
                    blocks,
                    toIndex(mrt::GridCoordOp::create(
                        b, loc, b.getI64Type(),
                        FlatSymbolRefAttr::get(ctx, p.module),
                        b.getStringAttr("dp"))))
                    .getResult();
      kernel("adam_step",
             {stepNo, gradScale, mine, get(p.name + ".grad_shard"),
              get(p.name + ".m"), get(p.name + ".v")},
             {b.getNamedAttr("adam", adam)});
      Value staged = get(p.name + ".update");
      if (p.mixed())
        kernel("convert", {mine, staged});
      else
        mrt::CopyOp::create(b, loc, mine, staged);
      mrt::AllGatherOp::create(b, loc, staged, blocks,
                               FlatSymbolRefAttr::get(ctx, p.module),
                               b.getStrArrayAttr({"dp"}));
      });
    }
  }
  func::ReturnOp::create(
      b, loc, ValueRange{arith::DivFOp::create(b, loc, totalLoss, tokens)});
  return success();
}

LogicalResult Lowering::lowerSchedule(
    ArrayRef<mimo::ModuleOp> forward,
    llvm::StringMap<mimo::ModuleOp> &backwardOf,
    function_ref<LogicalResult(mimo::ModuleOp)> runForward,
    function_ref<LogicalResult(mimo::ModuleOp)> runBackward, StringRef lossSym,
    StringRef countSym, StringRef seedSym, Value &localLoss,
    Value &localCount) {
  // The modules before the LLM run whole on its first stage (homogeneous
  // layout, mimo-pipeline's mimo.pp_stage = 0).
  mimo::ModuleOp llm = model.getLlm();
  SmallVector<mimo::ModuleOp> firstStage;
  for (mimo::ModuleOp m : forward) {
    // The colocated schedule runs the other modules in its own phases.
    if (m == llm || bridged)
      continue;
    if (!m->hasAttr("mimo.pp_stage"))
      return m.emitError()
             << "convert-mimo-to-mimort: module '" << m.getSymName()
             << "' is not placed on the LLM's first pipeline stage; a "
                "pipelined LLM beside an encoder on its own grid is not "
                "lowered yet";
    firstStage.push_back(m);
  }
  mimo::ModuleOp llmBwd = backwardOf[llmName];
  fwdStack = *llm.getBodyBlock().getOps<StackOp>().begin();
  bwdStack = *llmBwd.getBodyBlock().getOps<StackOp>().begin();
  // Values the backward reads from the forward, per in-flight microbatch.
  for (mimo::ModuleOp m : firstStage)
    for (Value v : m.getBodyBlock().getTerminator()->getOperands())
      slotted.insert(v);
  for (Value v : llm.getBodyBlock().getTerminator()->getOperands())
    slotted.insert(v);
  slots = pipe.chunks * pipe.ring;

  Type f32Type = b.getF32Type();
  Value lossAcc = get(lossSym), countAcc = get(countSym);
  mrt::FillOp::create(b, loc, lossAcc, f32(0.0));
  mrt::FillOp::create(b, loc, countAcc, f32(0.0));
  int64_t P = pipe.stages, V = pipe.chunks, M = pipe.micro, R = pipe.ring;
  int64_t total = M * V;
  using Pred = arith::CmpIPredicate;
  auto cmp = [&](Pred p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y).getResult();
  };
  auto sel = [&](Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y).getResult();
  };
  auto add = [&](Value x, Value y) {
    return arith::AddIOp::create(b, loc, x, y).getResult();
  };
  auto sub = [&](Value x, Value y) {
    return arith::SubIOp::create(b, loc, x, y).getResult();
  };
  auto mul = [&](Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, index(y)).getResult();
  };
  auto div = [&](Value x, int64_t y) {
    return arith::DivSIOp::create(b, loc, x, index(y)).getResult();
  };
  auto rem = [&](Value x, int64_t y) {
    return arith::RemSIOp::create(b, loc, x, index(y)).getResult();
  };
  auto min = [&](Value x, Value y) { return sel(cmp(Pred::slt, x, y), x, y); };
  auto notOf = [&](Value x) {
    return arith::XOrIOp::create(
               b, loc, x,
               arith::ConstantOp::create(b, loc, b.getBoolAttr(true)))
        .getResult();
  };
  Value stage = toIndex(mrt::GridCoordOp::create(
      b, loc, b.getI64Type(), FlatSymbolRefAttr::get(ctx, llmName),
      b.getStringAttr("pp")));
  Value prev = toI64(rem(add(stage, index(P - 1)), P));
  Value next = toI64(rem(add(stage, index(1)), P));
  // Warmup forwards of stage s: P - 1 - s (1F1B); (P - 1 - s) * 2 +
  // (V - 1) * P (interleaved, Megatron's schedule); at most all of them.
  Value lag = sub(index(P - 1), stage);
  Value warm = V == 1 ? lag : add(mul(lag, 2), index((V - 1) * P));
  warm = min(warm, index(total));
  // Action t of 2 * total: warmup forwards, then forward/backward pairs,
  // then cooldown backwards.
  auto loop = scf::ForOp::create(b, loc, index(0), index(2 * total), index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value t = loop.getInductionVar();
  Value inWarm = cmp(Pred::slt, t, warm);
  Value inCool = cmp(Pred::sge, t, sub(index(2 * total), warm));
  Value u = sub(t, warm);
  Value even = cmp(Pred::eq, rem(u, 2), index(0));
  Value isF = arith::OrIOp::create(
      b, loc, inWarm, arith::AndIOp::create(b, loc, notOf(inCool), even));
  Value kF = sel(inWarm, t, add(warm, div(u, 2)));
  Value kB = sel(inCool, sub(t, index(total)), div(u, 2));
  auto action = scf::IfOp::create(b, loc, isF, /*else=*/true);
  Value microbatch;
  auto setUp = [&](Value k, bool fwd) {
    // Megatron's interleaved order: groups of P microbatches per chunk.
    Value c = rem(div(k, P), V);
    if (!fwd)
      c = sub(index(V - 1), c);
    Value j = add(mul(div(k, P * V), P), rem(k, P));
    Value vs = add(mul(c, P), stage);
    chunk = c;
    microbatch = j;
    sample = schedule.sampleOffset ? add(schedule.sampleOffset, j) : j;
    bridgeSample = schedule.bridgeByMicrobatch ? j : sample;
    slotIndex = add(mul(c, R), rem(j, R));
    isFirstVs = cmp(Pred::eq, vs, index(0));
    isLastVs = cmp(Pred::eq, vs, index(P * V - 1));
    env.clear();
  };
  auto region = [&](Value cond, auto fn) -> LogicalResult {
    auto op = scf::IfOp::create(b, loc, cond, /*else=*/false);
    return inBlock(op.thenBlock(), fn);
  };
  LogicalResult fwdOk = inBlock(action.thenBlock(), [&]() -> LogicalResult {
    setUp(kF, true);
    if (failed(region(isFirstVs, [&]() -> LogicalResult {
          if (schedule.beforeFirstForward)
            schedule.beforeFirstForward(microbatch);
          for (mimo::ModuleOp m : firstStage)
            if (failed(runForward(m)))
              return failure();
          return success();
        })))
      return failure();
    ends = {isFirstVs, prev, notOf(isLastVs), next, 0};
    if (failed(runForward(llm)))
      return failure();
    // The loss and its token count, summed in microbatch order.
    return region(isLastVs, [&]() -> LogicalResult {
      auto &r = results[llmName];
      Value loss = mrt::ReadScalarOp::create(b, loc, f32Type, viewOf(r[0]),
                                             b.getI64IntegerAttr(0));
      Value count =
          mrt::ReadScalarOp::create(b, loc, b.getI32Type(), viewOf(r[1]),
                                    b.getI64IntegerAttr(0));
      auto accumulate = [&](Value acc, Value v) {
        Value old = mrt::ReadScalarOp::create(b, loc, f32Type, acc,
                                              b.getI64IntegerAttr(0));
        mrt::FillOp::create(b, loc, acc,
                            arith::AddFOp::create(b, loc, old, v));
      };
      accumulate(get(lossSym), loss);
      accumulate(get(countSym),
                 arith::SIToFPOp::create(b, loc, f32Type, count));
      return success();
    });
  });
  if (failed(fwdOk))
    return failure();
  LogicalResult bwdOk = inBlock(action.elseBlock(), [&]() -> LogicalResult {
    setUp(kB, false);
    if (failed(region(isLastVs, [&]() -> LogicalResult {
          mrt::FillOp::create(b, loc, get(seedSym), f32(1.0));
          return success();
        })))
      return failure();
    ends = {isLastVs, next, notOf(isFirstVs), prev, 1};
    if (failed(runBackward(llm)))
      return failure();
    return region(isFirstVs, [&]() -> LogicalResult {
      if (schedule.afterFirstBackward)
        schedule.afterFirstBackward(microbatch);
      for (mimo::ModuleOp m : llvm::reverse(firstStage))
        if (failed(runBackward(m)))
          return failure();
      return success();
    });
  });
  if (failed(bwdOk))
    return failure();
  b.setInsertionPointAfter(loop);
  chunk = slotIndex = isFirstVs = isLastVs = Value();
  localLoss = mrt::ReadScalarOp::create(b, loc, f32Type, get(lossSym),
                                        b.getI64IntegerAttr(0));
  localCount = mrt::ReadScalarOp::create(b, loc, f32Type, get(countSym),
                                         b.getI64IntegerAttr(0));
  return success();
}

void Lowering::lowerInit() {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(top.getBody());
  auto init = func::FuncOp::create(b, loc, "init", b.getFunctionType({}, {}));
  b.setInsertionPointToStart(init.addEntryBlock());
  Value zeroOffset = i64(0);
  enterRanks();
  for (const Param &p : params) {
    // (Disaggregated: the module's ranks initialise its parameters.)
    OpBuilder::InsertionGuard perParam(b);
    if (disaggregated)
      b.setInsertionPointToStart(
          scf::IfOp::create(b, loc, inModule(p.module), false).thenBlock());
    if (p.stage >= 0)
      b.setInsertionPointToStart(
          scf::IfOp::create(b, loc, onStageOf(p), false).thenBlock());
    Value buf = get(p.name);
    mrt::InitKind kind = p.init == mimo::InitKind::zeros ? mrt::InitKind::Zeros
                         : p.init == mimo::InitKind::ones
                             ? mrt::InitKind::Ones
                             : mrt::InitKind::Normal;
    FloatAttr std =
        kind == mrt::InitKind::Normal ? b.getF64FloatAttr(p.std) : FloatAttr();
    auto init = [&](Value view, Value offset, int64_t rowLength) {
      mrt::InitParamOp::create(
          b, loc, mrt::InitKindAttr::get(ctx, kind), view, offset,
          b.getStringAttr(p.name), std,
          rowLength > 0 ? b.getI64IntegerAttr(rowLength) : IntegerAttr());
    };
    Type elem = p.type.getElementType();
    int64_t tp = tpOf.lookup(p.module);
    // `view` (shape `local`) is this rank's part of a tensor whose RNG
    // stream starts at `base`: all of it, or slice [r * n, (r + 1) * n) of
    // dim d (n = local size, r = tp rank). View it as [A, n * B] (A: the
    // dims before d, B: after): outer row a starts at full index
    // base + a * (n * tp) * B + r * n * B.
    auto initPart = [&](Value view, ArrayRef<int64_t> local, int64_t d,
                        Value base) {
      if (d < 0) {
        init(view, base, 0);
        return;
      }
      int64_t n = local[d];
      int64_t outer = 1, inner = 1;
      for (int64_t i = 0; i < d; ++i)
        outer *= local[i];
      for (int64_t i = d + 1; i < int64_t(local.size()); ++i)
        inner *= local[i];
      Value start =
          arith::MulIOp::create(b, loc, tpRank(p.module), i64(n * inner));
      if (base != zeroOffset)
        start = arith::AddIOp::create(b, loc, base, start);
      if (inner == 1) {
        // Split on the last dim: rows of the full tensor's row length.
        init(view, start, n * tp);
        return;
      }
      Value rows = mrt::ReshapeOp::create(
          b, loc, mrt::BufferType::get(ctx, {outer, n * inner}, elem), view);
      auto loop = scf::ForOp::create(b, loc, index(0), index(outer), index(1));
      OpBuilder::InsertionGuard inner_(b);
      b.setInsertionPointToStart(loop.getBody());
      Value a = loop.getInductionVar();
      Value row = mrt::SliceOp::create(
          b, loc, mrt::BufferType::get(ctx, {n * inner}, elem), rows, a);
      Value offset = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, toI64(a), i64(n * tp * inner)), start);
      init(row, offset, 0);
    };
    ArrayRef<int64_t> local = p.type.getShape();
    if (kind != mrt::InitKind::Normal) {
      init(buf, zeroOffset, 0);
    } else if (p.ppDim != 0) {
      initPart(buf, local, p.tpDim, zeroOffset);
    } else {
      // A stage's layers: local layer l is layer i of its chunk c, global
      // layer (c * stages + s) * n + i (n layers per chunk, s the stage).
      int64_t layerElems = 1;
      for (int64_t e : local.drop_front())
        layerElems *= e;
      if (p.tpDim >= 0)
        layerElems *= tp;
      Value stage = mrt::GridCoordOp::create(
          b, loc, b.getI64Type(), FlatSymbolRefAttr::get(ctx, p.module),
          b.getStringAttr("pp"));
      auto loop =
          scf::ForOp::create(b, loc, index(0), index(local[0]), index(1));
      OpBuilder::InsertionGuard inner_(b);
      b.setInsertionPointToStart(loop.getBody());
      Value l = toI64(loop.getInductionVar());
      int64_t n = pipe.chunkLayers;
      Value c = arith::DivSIOp::create(b, loc, l, i64(n));
      Value i = arith::RemSIOp::create(b, loc, l, i64(n));
      Value global = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc,
              arith::AddIOp::create(
                  b, loc, arith::MulIOp::create(b, loc, c, i64(pipe.stages)),
                  stage),
              i64(n)),
          i);
      Value layer = mrt::SliceOp::create(
          b, loc, mrt::BufferType::get(ctx, local.drop_front(), elem), buf,
          loop.getInductionVar());
      initPart(layer, local.drop_front(), p.tpDim - 1,
               arith::MulIOp::create(b, loc, global, i64(layerElems)));
    }
    zero(get(p.name + ".m"));
    zero(get(p.name + ".v"));
    // The master copy starts from the initialised bf16 values (this rank's
    // part of them with the distributed optimizer).
    if (p.mixed())
      kernel("convert", {p.shard ? dpShardOf(p, p.name) : get(p.name),
                         get(p.name + ".master")});
  }
  func::ReturnOp::create(b, loc);
}

Value Lowering::dpShardOf(const Param &p, StringRef sym) {
  Value full = get(sym);
  auto t = cast<mrt::BufferType>(full.getType());
  int64_t dpM = dpOf.lookup(p.module);
  Value blocks = mrt::ReshapeOp::create(
      b, loc, mrt::BufferType::get(ctx, {dpM, p.shard}, t.getElementType()),
      full);
  return mrt::SliceOp::create(
      b, loc, mrt::BufferType::get(ctx, {p.shard}, t.getElementType()), blocks,
      toIndex(mrt::GridCoordOp::create(b, loc, b.getI64Type(),
                                       FlatSymbolRefAttr::get(ctx, p.module),
                                       b.getStringAttr("dp"))));
}

double Lowering::flopsPerStep() {
  double perSample = 0;
  for (mimo::ModuleOp m : model.getModules())
    if (m.getKind() != ModuleKind::backward)
      perSample += trainingFlopsPerSample(m, model.getBytesPerElement());
  return perSample * double(model.getGlobalBatchSize());
}

LogicalResult Lowering::run() {
  if (failed(checkPlan()))
    return failure();
  double flops = flopsPerStep();
  b.setInsertionPoint(model);
  auto program = mrt::ProgramOp::create(
      b, loc, b.getStringAttr(model.getSymName()), b.getI64IntegerAttr(world),
      b.getF64FloatAttr(flops), FlatSymbolRefAttr::get(ctx, "init"),
      FlatSymbolRefAttr::get(ctx, "step"));
  b.setInsertionPointAfter(program);
  for (mimo::ModuleOp m : model.getModules())
    if (m.getKind() != ModuleKind::backward) {
      usedNames.insert(m.getSymName());
      StringRef name = m.getSymName();
      int64_t tp = tpOf.lookup(name), cp = cpOfModule(name),
              pp = ppOf.lookup(name), dpM = dpOf.lookup(name);
      mrt::GridOp::create(b, loc, name, tp, cp, pp, dpM, offsetOf.lookup(name),
                          spanOf(name));
    }
  if (disaggregated) {
    // One replica over every rank: tp coordinate = world rank, the tp group
    // = the world (the bridge's point-to-point, the step totals).
    usedNames.insert(kWorldGrid);
    mrt::GridOp::create(b, loc, kWorldGrid, world, 1, 1, 1, 0, world);
  }
  declPoint = model;
  if (failed(collectParams()) || failed(lowerStep()))
    return failure();
  lowerInit();
  model.erase();
  return success();
}

struct ConvertMimoToMimortPass
    : public mimo::impl::ConvertMimoToMimortBase<ConvertMimoToMimortPass> {
  using Base::Base;

  void runOnOperation() override {
    mlir::ModuleOp top = getOperation();
    auto models = llvm::to_vector(top.getOps<ModelOp>());
    if (models.size() != 1) {
      top.emitError() << "convert-mimo-to-mimort: expects one mimo.model, "
                         "found "
                      << models.size();
      return signalPassFailure();
    }
    if (dataSamples < 0) {
      top.emitError() << "convert-mimo-to-mimort: data-samples must not be "
                         "negative, got "
                      << int64_t(dataSamples);
      return signalPassFailure();
    }
    if (device != "cpu" && device != "cuda") {
      top.emitError() << "convert-mimo-to-mimort: device must be cpu or "
                         "cuda, got '"
                      << device << "'";
      return signalPassFailure();
    }
    Lowering lowering(top, models[0], dataSamples);
    if (failed(lowering.run()))
      return signalPassFailure();
    for (auto program : top.getOps<mrt::ProgramOp>())
      program.setDevice(device);
  }
};

} // namespace

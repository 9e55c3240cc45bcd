//===- MimoOps.cpp - mimo ops: builders, printers, verifiers --------------===//
//
// Verifier messages are lowercase, state the rule and the values found.
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoOps.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mimo;

namespace {

/// Prints a type list as "(a, b)".
std::string typesToString(TypeRange types) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "(";
  llvm::interleaveComma(types, os);
  os << ")";
  return s;
}

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Checks that `v` has rank `rank`, else emits "<what> must be rank R, got T".
LogicalResult expectRank(Operation *op, Value v, int64_t rank, StringRef what) {
  RankedTensorType t = tensorType(v);
  if (t.getRank() != rank)
    return op->emitOpError()
           << what << " must be rank " << rank << ", got " << t;
  if (!t.hasStaticShape())
    return op->emitOpError() << what << " must have a static shape, got " << t;
  return success();
}

/// All float `values` share one element type.
LogicalResult expectSameFloatElementType(Operation *op, ValueRange values) {
  Type elem;
  for (Value v : values) {
    auto t = cast<RankedTensorType>(v.getType());
    if (!isa<FloatType>(t.getElementType()))
      continue;
    if (!elem)
      elem = t.getElementType();
    else if (elem != t.getElementType())
      return op->emitOpError()
             << "float operands and results must share one element type, got "
             << elem << " and " << t.getElementType();
  }
  return success();
}

/// All float operands and results share one element type.
LogicalResult expectSameFloatElementType(Operation *op) {
  SmallVector<Value> all(op->getOperands());
  llvm::append_range(all, op->getResults());
  return expectSameFloatElementType(op, all);
}

LogicalResult expectShape(Operation *op, Value v, ArrayRef<int64_t> shape,
                          StringRef what) {
  RankedTensorType t = tensorType(v);
  if (t.getShape() != shape) {
    std::string expected;
    llvm::raw_string_ostream os(expected);
    llvm::interleave(shape, os, "x");
    return op->emitOpError()
           << what << " must have shape " << expected << ", got " << t;
  }
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// ModelOp
//===----------------------------------------------------------------------===//

SmallVector<mimo::ModuleOp, 4> ModelOp::getModules() {
  return llvm::to_vector(getBody().front().getOps<mimo::ModuleOp>());
}

mimo::ModuleOp ModelOp::getLlm() {
  for (mimo::ModuleOp m : getBody().front().getOps<mimo::ModuleOp>())
    if (m.getKind() == ModuleKind::llm)
      return m;
  return nullptr;
}

int64_t ModelOp::getBytesPerElement() {
  return getPrecision() == "fp32" ? 4 : 2;
}

/// Module-level parameters of `m` by name.
static llvm::StringMap<Type> moduleParams(mimo::ModuleOp m) {
  llvm::StringMap<Type> params;
  for (auto p : m.getBodyBlock().getOps<ParamOp>())
    params[p.getName()] = p.getType();
  return params;
}

/// Float arguments of a forward module that another module produces: the
/// gradients its backward returns.
static SmallVector<Type> differentiableInputs(mimo::ModuleOp m) {
  ArrayRef<Type> in = m.getFunctionType().getInputs();
  switch (m.getKind()) {
  case ModuleKind::projector:
    return SmallVector<Type>(in.begin(), in.end());
  case ModuleKind::llm:
    return SmallVector<Type>(in.begin() + std::min<size_t>(2, in.size()),
                             in.end());
  default:
    return {};
  }
}

LogicalResult
ModelOp::verifyBackwardModules(llvm::StringMap<mimo::ModuleOp> &byName) {
  llvm::StringSet<> seen;
  for (mimo::ModuleOp b : getModules()) {
    if (b.getKind() != ModuleKind::backward)
      continue;
    StringRef of = cast<SymbolRefAttr>(b.getInputsAttr()[0]).getRootReference();
    mimo::ModuleOp f = byName.lookup(of);
    if (!f || f.getKind() == ModuleKind::backward)
      return b.emitOpError()
             << "backward module '" << b.getSymName() << "' input @" << of
             << " is not a forward module of this model";
    if (!seen.insert(of).second)
      return b.emitOpError()
             << "module '" << of << "' has more than one backward module";
    // Arguments: one gradient per output (the loss alone for the LLM), then
    // the forward module's residuals.
    FunctionType ft = f.getFunctionType();
    SmallVector<Type> expected;
    if (f.getKind() == ModuleKind::llm)
      expected.push_back(ft.getResult(0));
    else
      llvm::append_range(expected, f.getOutputTypes());
    llvm::append_range(expected,
                       ft.getResults().drop_front(f.getOutputTypes().size()));
    if (TypeRange(b.getFunctionType().getInputs()) != TypeRange(expected))
      return b.emitOpError()
             << "backward module '" << b.getSymName() << "' takes "
             << typesToString(b.getFunctionType().getInputs())
             << ", expected the output gradients and residuals of '" << of
             << "' " << typesToString(expected);
    SmallVector<Type> grads = differentiableInputs(f);
    if (TypeRange(b.getFunctionType().getResults()) != TypeRange(grads))
      return b.emitOpError()
             << "backward module '" << b.getSymName() << "' returns "
             << typesToString(b.getFunctionType().getResults())
             << ", expected the gradients of '" << of << "' inputs "
             << typesToString(grads);
    llvm::StringMap<Type> params = moduleParams(f);
    for (Operation &op : b.getBodyBlock()) {
      StringRef name;
      Type type;
      if (auto p = dyn_cast<ParamOp>(op)) {
        name = p.getName();
        type = p.getType();
      } else if (auto g = dyn_cast<ParamGradOp>(op)) {
        name = g.getName();
        type = g.getGradient().getType();
      } else {
        continue;
      }
      auto it = params.find(name);
      if (it == params.end())
        return op.emitOpError()
               << "names parameter '" << name << "', which module '" << of
               << "' does not declare";
      if (it->second != type)
        return op.emitOpError()
               << "parameter '" << name << "' of '" << of << "' has type "
               << it->second << ", got " << type;
    }
  }
  return success();
}

LogicalResult ModelOp::verifyRegions() {
  if (getPrecision() != "bf16" && getPrecision() != "fp16" &&
      getPrecision() != "fp32")
    return emitOpError() << "precision must be bf16, fp16 or fp32, got '"
                         << getPrecision() << "'";
  if (getSeqLenAttr().getInt() < 1)
    return emitOpError() << "seq_len must be at least 1, got "
                         << getSeqLenAttr().getInt();
  if (getGlobalBatchSizeAttr().getInt() < 1)
    return emitOpError() << "global_batch_size must be at least 1, got "
                         << getGlobalBatchSizeAttr().getInt();
  if (getImagesPerSampleAttr().getInt() < 0)
    return emitOpError() << "images_per_sample must be non-negative, got "
                         << getImagesPerSampleAttr().getInt();

  llvm::StringMap<mimo::ModuleOp> byName;
  int64_t llms = 0;
  for (Operation &op : getBody().front()) {
    // The partitioned IR also declares each module's device grid here, and
    // mimo-bridge the bridges between module grids.
    if (isa<mlir::shard::GridOp, BridgeOp>(op))
      continue;
    auto m = dyn_cast<mimo::ModuleOp>(op);
    if (!m)
      return op.emitOpError() << "cannot appear in a mimo.model; only "
                                 "mimo.module, mimo.bridge and shard.grid ops "
                                 "can";
    byName[m.getSymName()] = m;
    if (m.getKind() == ModuleKind::llm)
      ++llms;
  }
  if (llms != 1)
    return emitOpError() << "model must have exactly one llm module, found "
                         << llms;

  // Wiring: encoder -> its projector -> the LLM.
  llvm::StringMap<int64_t> projectorsPerEncoder;
  int64_t imageTokens = 0;
  mimo::ModuleOp llm = getLlm();
  for (mimo::ModuleOp m : getModules()) {
    if (m.getKind() != ModuleKind::projector)
      continue;
    StringRef src =
        cast<SymbolRefAttr>(m.getInputsAttr()[0]).getRootReference();
    mimo::ModuleOp enc = byName.lookup(src);
    if (!enc || enc.getKind() != ModuleKind::encoder)
      return m.emitOpError()
             << "projector '" << m.getSymName() << "' input @" << src
             << " is not an encoder module of this model";
    ++projectorsPerEncoder[src];
    if (enc.getOutputTypes() != m.getFunctionType().getInputs())
      return m.emitOpError() << "projector '" << m.getSymName() << "' takes "
                             << typesToString(m.getFunctionType().getInputs())
                             << " but encoder '" << src << "' returns "
                             << typesToString(enc.getOutputTypes());
  }
  for (mimo::ModuleOp m : getModules())
    if (m.getKind() == ModuleKind::encoder &&
        projectorsPerEncoder.lookup(m.getSymName()) != 1)
      return m.emitOpError() << "encoder '" << m.getSymName() << "' feeds "
                             << projectorsPerEncoder.lookup(m.getSymName())
                             << " projectors, expected exactly 1";

  FunctionType llmType = llm.getFunctionType();
  size_t llmInputs = llm.getInputsAttr() ? llm.getInputsAttr().size() : 0;
  if (llmType.getNumInputs() != 2 + llmInputs)
    return llm.emitOpError()
           << "llm takes " << llmType.getNumInputs()
           << " arguments, expected ids, labels and one per input ("
           << 2 + llmInputs << ")";
  for (auto [i, ref] :
       llvm::enumerate(llm.getInputsAttr() ? llm.getInputsAttr().getValue()
                                           : ArrayRef<Attribute>())) {
    StringRef src = cast<SymbolRefAttr>(ref).getRootReference();
    mimo::ModuleOp proj = byName.lookup(src);
    if (!proj || proj.getKind() != ModuleKind::projector)
      return llm.emitOpError() << "llm input @" << src
                               << " is not a projector module of this model";
    TypeRange results = proj.getOutputTypes();
    Type want = llmType.getInput(2 + i);
    if (results.size() != 1 || results[0] != want)
      return llm.emitOpError() << "llm argument " << 2 + i << " has type "
                               << want << " but projector '" << src
                               << "' returns " << typesToString(results);
    imageTokens += cast<RankedTensorType>(want).getDimSize(0);
  }
  if (imageTokens > getSeqLen())
    return emitOpError() << "image tokens (" << imageTokens
                         << ") exceed seq_len (" << getSeqLen() << ")";

  if (failed(verifyBackwardModules(byName)))
    return failure();

  // A plan fixes every module's grid against the layout.
  PlanAttr plan = getPlanAttr();
  if (!plan)
    return success();
  ParallelAttr first;
  SmallVector<std::pair<mimo::ModuleOp, ParallelAttr>> grids;
  for (mimo::ModuleOp m : getModules()) {
    if (m.getKind() == ModuleKind::backward)
      continue; // runs on its forward module's grid
    ParallelAttr par = m.getParallelAttr();
    if (!par)
      return m.emitOpError() << "module '" << m.getSymName()
                             << "' has no #mimo.parallel while the model has "
                                "a plan";
    if (!first)
      first = par;
    grids.push_back({m, par});
    int64_t span = par.getSize();
    if (getGlobalBatchSize() % (plan.getMicroBatchSize() * par.getDp()) != 0)
      return m.emitOpError()
             << "global batch size (" << getGlobalBatchSize()
             << ") must be divisible by micro-batch size ("
             << plan.getMicroBatchSize() << ") x dp (" << par.getDp()
             << ") of module '" << m.getSymName() << "'";
    switch (plan.getLayout()) {
    case Layout::homogeneous:
      if (par.getTp() != first.getTp() || par.getCp() != first.getCp() ||
          par.getPp() != first.getPp() || par.getDp() != first.getDp())
        return m.emitOpError()
               << "module '" << m.getSymName() << "' grid [tp " << par.getTp()
               << ", cp " << par.getCp() << ", pp " << par.getPp() << ", dp "
               << par.getDp() << "] differs from the first module's in a "
               << "homogeneous layout";
      [[fallthrough]];
    case Layout::colocated:
      if (span != plan.getWorld() || par.getOffset() != 0)
        return m.emitOpError()
               << "module '" << m.getSymName() << "' grid spans ranks ["
               << par.getOffset() << ", " << par.getOffset() + span
               << ") (tp*cp*pp*dp = " << span << "), expected all "
               << plan.getWorld() << " ranks in a "
               << stringifyLayout(plan.getLayout()) << " layout";
      break;
    case Layout::disaggregated:
      if (par.getOffset() + span > plan.getWorld())
        return m.emitOpError()
               << "module '" << m.getSymName() << "' grid spans ranks ["
               << par.getOffset() << ", " << par.getOffset() + span
               << "), beyond the world size " << plan.getWorld();
      break;
    }
  }
  if (plan.getLayout() == Layout::disaggregated) {
    // A projector may share its encoder's ranks; any other pair is disjoint.
    for (size_t i = 0; i < grids.size(); ++i) {
      for (size_t j = i + 1; j < grids.size(); ++j) {
        auto [a, pa] = grids[i];
        auto [b, pb] = grids[j];
        auto feeds = [](mimo::ModuleOp enc, mimo::ModuleOp proj) {
          return proj.getKind() == ModuleKind::projector &&
                 cast<SymbolRefAttr>(proj.getInputsAttr()[0])
                         .getRootReference() == enc.getSymName();
        };
        if (feeds(a, b) || feeds(b, a))
          continue;
        int64_t lo = std::max(pa.getOffset(), pb.getOffset());
        int64_t hi = std::min(pa.getOffset() + pa.getSize(),
                              pb.getOffset() + pb.getSize());
        if (lo < hi)
          return b.emitOpError()
                 << "modules '" << a.getSymName() << "' and '" << b.getSymName()
                 << "' overlap on ranks [" << lo << ", " << hi
                 << ") in a disaggregated layout";
      }
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ModuleOp
//===----------------------------------------------------------------------===//

int64_t mimo::ModuleOp::getNumLayers() {
  int64_t n = 0;
  getBody().walk([&](StackOp s) { n += s.getCount(); });
  return n;
}

ParseResult mimo::ModuleOp::parse(OpAsmParser &parser, OperationState &result) {
  StringRef kindName;
  SMLoc kindLoc = parser.getCurrentLocation();
  if (parser.parseKeyword(&kindName))
    return failure();
  std::optional<ModuleKind> kind = symbolizeModuleKind(kindName);
  if (!kind)
    return parser.emitError(kindLoc, "unknown module kind '")
           << kindName << "' (expected encoder, projector or llm)";
  StringAttr name;
  if (parser.parseSymbolName(name, getSymNameAttrName(result.name),
                             result.attributes))
    return failure();
  SmallVector<OpAsmParser::Argument> args;
  SmallVector<Type> resultTypes;
  SmallVector<DictionaryAttr> resultAttrs;
  bool isVariadic = false;
  if (function_interface_impl::parseFunctionSignatureWithArguments(
          parser, /*allowVariadic=*/false, args, isVariadic, resultTypes,
          resultAttrs))
    return failure();
  SmallVector<Type> argTypes;
  for (OpAsmParser::Argument &a : args)
    argTypes.push_back(a.type);
  MLIRContext *ctx = parser.getContext();
  result.addAttribute(
      getFunctionTypeAttrName(result.name),
      TypeAttr::get(FunctionType::get(ctx, argTypes, resultTypes)));
  result.addAttribute(getKindAttrName(result.name),
                      ModuleKindAttr::get(ctx, *kind));
  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  Region *body = result.addRegion();
  return parser.parseRegion(*body, args);
}

void mimo::ModuleOp::print(OpAsmPrinter &p) {
  p << ' ' << stringifyModuleKind(getKind()) << ' ';
  p.printSymbolName(getSymName());
  p << '(';
  llvm::interleaveComma(getBody().getArguments(), p,
                        [&](BlockArgument a) { p.printRegionArgument(a); });
  p << ')';
  ArrayRef<Type> results = getFunctionType().getResults();
  if (!results.empty()) {
    p << " -> ";
    if (results.size() == 1) {
      p << results.front();
    } else {
      p << '(';
      llvm::interleaveComma(results, p);
      p << ')';
    }
  }
  SmallVector<StringRef> elided = {
      getSymNameAttrName(), getFunctionTypeAttrName(), getKindAttrName()};
  if (getResidualsAttr().getInt() == 0)
    elided.push_back(getResidualsAttrName());
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs(), elided);
  p << ' ';
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/true);
}

LogicalResult mimo::ModuleOp::verify() {
  size_t inputs = getInputsAttr() ? getInputsAttr().size() : 0;
  switch (getKind()) {
  case ModuleKind::encoder:
    if (inputs != 0)
      return emitOpError() << "encoder '" << getSymName()
                           << "' must not name inputs, got " << inputs;
    break;
  case ModuleKind::projector:
    if (inputs != 1)
      return emitOpError() << "projector '" << getSymName()
                           << "' must name exactly one input encoder, got "
                           << inputs;
    break;
  case ModuleKind::llm:
    break;
  case ModuleKind::backward:
    if (inputs != 1)
      return emitOpError() << "backward module '" << getSymName()
                           << "' must name exactly one forward module, got "
                           << inputs;
    if (getParallelAttr())
      return emitOpError() << "backward module '" << getSymName()
                           << "' runs on its forward module's grid and takes "
                              "no #mimo.parallel";
    break;
  }
  int64_t residuals = getResidualsAttr().getInt();
  if (residuals < 0 || residuals > int64_t(getFunctionType().getNumResults()))
    return emitOpError() << "residuals (" << residuals
                         << ") must be between 0 and the number of results ("
                         << getFunctionType().getNumResults() << ")";
  return success();
}

LogicalResult mimo::ModuleOp::verifyRegions() {
  Block &entry = getBodyBlock();
  if (TypeRange(entry.getArgumentTypes()) != getFunctionType().getInputs())
    return emitOpError() << "entry block arguments "
                         << typesToString(entry.getArgumentTypes())
                         << " do not match the module signature "
                         << typesToString(getFunctionType().getInputs());
  ParallelAttr par = getParallelAttr();
  if (!par || getKind() == ModuleKind::backward)
    return success();
  // Divisibility rules of the module's grid over its ops.
  int64_t layers = getNumLayers();
  // In the homogeneous layout an encoder or projector runs whole on the
  // first pipeline stage; after mimo-pipeline the layers are one stage's.
  auto model = (*this)->getParentOfType<ModelOp>();
  bool placedWhole = getKind() != ModuleKind::llm && model &&
                     model.getPlanAttr() &&
                     model.getPlanAttr().getLayout() == Layout::homogeneous;
  bool pipelined = (*this)->hasAttr("mimo.pipeline");
  if (par.getPp() > 1 && !placedWhole && !pipelined &&
      (layers == 0 || layers % par.getPp() != 0))
    return emitOpError() << "layers (" << layers
                         << ") must be divisible by pipeline-parallel size ("
                         << par.getPp() << ")";
  if (par.getRecompute() == RecomputeKind::layers && !placedWhole &&
      par.getRecomputeLayers() * (pipelined ? 1 : par.getPp()) > layers)
    return emitOpError() << "recompute layers (" << par.getRecomputeLayers()
                         << ") exceed the layers per pipeline stage ("
                         << (pipelined ? layers : layers / par.getPp()) << ")";
  int64_t tp = par.getTp(), cp = par.getCp();
  // After mimo-partition the shapes are one tp (and cp) rank's: already
  // divided. Context parallelism splits the LLM's sequence only (an encoder
  // on a cp grid runs whole on each cp rank).
  if ((*this)->hasAttr("mimo.partitioned"))
    tp = cp = 1;
  if (getKind() != ModuleKind::llm)
    cp = 1;
  WalkResult walk = getBody().walk([&](Operation *op) -> WalkResult {
    if (auto attn = dyn_cast<AttentionOp>(op)) {
      if (attn.getHeads() % tp != 0) {
        attn.emitOpError() << "heads (" << attn.getHeads()
                           << ") must be divisible by tensor-parallel size ("
                           << tp << ")";
        return WalkResult::interrupt();
      }
      if (attn.getKvHeads() % tp != 0) {
        attn.emitOpError() << "kv_heads (" << attn.getKvHeads()
                           << ") must be divisible by tensor-parallel size ("
                           << tp << ")";
        return WalkResult::interrupt();
      }
      int64_t tokens = tensorType(attn.getQuery()).getDimSize(0);
      int64_t chunks = attn.getCausal() ? 2 * cp : cp;
      if (cp > 1 && tokens % chunks != 0) {
        attn.emitOpError() << "tokens (" << tokens << ") must be divisible by "
                           << (attn.getCausal() ? "2 x " : "")
                           << "context-parallel size (" << cp << ")";
        return WalkResult::interrupt();
      }
    }
    if (auto emb = dyn_cast<EmbeddingOp>(op)) {
      int64_t vocab = tensorType(emb.getTable()).getDimSize(0);
      if (emb.getParallel() == TpSplit::vocab && vocab % tp != 0) {
        emb.emitOpError() << "vocabulary (" << vocab
                          << ") must be divisible by tensor-parallel size ("
                          << tp << ")";
        return WalkResult::interrupt();
      }
    }
    if (auto lin = dyn_cast<LinearOp>(op)) {
      TpSplit s = lin.getParallel();
      int64_t dim = tensorType(lin.getResult()).getDimSize(1);
      if (s == TpSplit::row)
        dim = tensorType(lin.getInput()).getDimSize(1);
      if (s != TpSplit::none && dim % tp != 0) {
        lin.emitOpError() << (s == TpSplit::row ? "input" : "output")
                          << " features (" << dim
                          << ") must be divisible by tensor-parallel size ("
                          << tp << ")";
        return WalkResult::interrupt();
      }
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

//===----------------------------------------------------------------------===//
// ReturnOp / StackOp
//===----------------------------------------------------------------------===//

LogicalResult ReturnOp::verify() {
  auto module = (*this)->getParentOfType<mimo::ModuleOp>();
  ArrayRef<Type> results = module.getFunctionType().getResults();
  if (TypeRange(getOperandTypes()) != TypeRange(results))
    return emitOpError() << "returns " << typesToString(getOperandTypes())
                         << " but module '" << module.getSymName()
                         << "' declares " << typesToString(results);
  return success();
}

void StackOp::build(OpBuilder &builder, OperationState &state, int64_t count,
                    ValueRange inits) {
  build(builder, state, count, inits, ValueRange(), TypeRange(),
        /*reverse=*/false);
}

void StackOp::build(OpBuilder &builder, OperationState &state, int64_t count,
                    ValueRange inits, ValueRange xs, TypeRange ysSliceTypes,
                    bool reverse) {
  state.addOperands(inits);
  state.addOperands(xs);
  Properties &props = state.getOrAddProperties<Properties>();
  props.count = count;
  props.operandSegmentSizes = {static_cast<int32_t>(inits.size()),
                               static_cast<int32_t>(xs.size())};
  if (reverse)
    props.reverse = builder.getUnitAttr();
  state.addTypes(inits.getTypes());
  for (Type t : ysSliceTypes) {
    auto slice = cast<RankedTensorType>(t);
    SmallVector<int64_t> shape = {count};
    llvm::append_range(shape, slice.getShape());
    state.addTypes(RankedTensorType::get(shape, slice.getElementType()));
  }
  Region *region = state.addRegion();
  Block *block = new Block();
  region->push_back(block);
  for (Value v : inits)
    block->addArgument(v.getType(), state.location);
  for (Value v : xs) {
    auto t = cast<RankedTensorType>(v.getType());
    block->addArgument(
        RankedTensorType::get(t.getShape().drop_front(), t.getElementType()),
        state.location);
  }
}

/// `t` without its leading (per-iteration) dimension.
static RankedTensorType sliceType(Type t) {
  auto r = cast<RankedTensorType>(t);
  return RankedTensorType::get(r.getShape().drop_front(), r.getElementType());
}

LogicalResult StackOp::verify() {
  int64_t count = getCount();
  if (count < 1)
    return emitOpError() << "count must be at least 1, got " << count;
  unsigned carried = getNumCarried();
  if (getNumResults() < carried ||
      TypeRange(getInits().getTypes()) !=
          TypeRange(getCarriedResults().getTypes()))
    return emitOpError() << "results "
                         << typesToString(getCarriedResults().getTypes())
                         << " must match the carried values "
                         << typesToString(getInits().getTypes());
  for (auto [i, x] : llvm::enumerate(getXs())) {
    auto t = cast<RankedTensorType>(x.getType());
    if (t.getRank() < 1 || t.getDimSize(0) != count)
      return emitOpError() << "xs operand " << i
                           << " must have a leading dimension of count ("
                           << count << "), got " << t;
  }
  for (auto [i, r] : llvm::enumerate(getCollectedResults())) {
    auto t = cast<RankedTensorType>(r.getType());
    if (t.getRank() < 1 || t.getDimSize(0) != count)
      return emitOpError() << "collected result " << i
                           << " must have a leading dimension of count ("
                           << count << "), got " << t;
  }
  return success();
}

LogicalResult StackOp::verifyRegions() {
  Block &body = getBodyBlock();
  unsigned carried = getNumCarried();
  SmallVector<Type> expected(getInits().getTypes());
  for (Value x : getXs())
    expected.push_back(sliceType(x.getType()));
  if (TypeRange(body.getArgumentTypes()) != TypeRange(expected))
    return emitOpError() << "layer arguments "
                         << typesToString(body.getArgumentTypes())
                         << " must match the carried values and xs slices "
                         << typesToString(expected);
  auto yield = cast<YieldOp>(body.getTerminator());
  SmallVector<Type> yields(getCarriedResults().getTypes());
  for (Value r : getCollectedResults())
    yields.push_back(sliceType(r.getType()));
  if (TypeRange(yield.getOperandTypes()) != TypeRange(yields))
    return yield.emitOpError()
           << "yields " << typesToString(yield.getOperandTypes())
           << " but the stack carries and collects " << typesToString(yields);
  return success();
}

//===----------------------------------------------------------------------===//
// BridgeOp
//===----------------------------------------------------------------------===//

LogicalResult BridgeOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto model = (*this)->getParentOfType<ModelOp>();
  auto lookup = [&](FlatSymbolRefAttr name) {
    return tables.lookupSymbolIn<mimo::ModuleOp>(model, name);
  };
  mimo::ModuleOp src = lookup(getSourceAttr()), dst = lookup(getTargetAttr());
  if (!src || src.getKind() != ModuleKind::projector)
    return emitOpError() << "source " << getSourceAttr()
                         << " must name a projector module";
  if (!dst || dst.getKind() != ModuleKind::llm)
    return emitOpError() << "target " << getTargetAttr()
                         << " must name the LLM module";
  if (!dst.getInputsAttr() ||
      !llvm::any_of(dst.getInputsAttr(), [&](Attribute a) {
        return cast<SymbolRefAttr>(a).getRootReference() == src.getSymName();
      }))
    return emitOpError() << "the LLM does not read " << getSourceAttr();
  int64_t factor = getFactor();
  auto ps = src.getParallelAttr(), pd = dst.getParallelAttr();
  int64_t ds = ps ? ps.getDp() : 1, dd = pd ? pd.getDp() : 1;
  bool disaggregated = model.getPlanAttr() &&
                       model.getPlanAttr().getLayout() == Layout::disaggregated;
  auto grids = [&](InFlightDiagnostic d) -> LogicalResult {
    return d << " (source dp = " << ds << ", target dp = " << dd
             << ", factor = " << factor << ")";
  };
  switch (getKind()) {
  case BridgeKind::equal:
    if (ds != dd || factor != 1)
      return grids(emitOpError() << "equal needs the same dp and factor 1");
    break;
  case BridgeKind::fan_in:
    if (factor < 2 || ds != factor * dd)
      return grids(
          emitOpError()
          << "fan_in needs source dp = factor x target dp, factor > 1");
    break;
  case BridgeKind::fan_out:
    if (factor < 2 || dd != factor * ds)
      return grids(
          emitOpError()
          << "fan_out needs target dp = factor x source dp, factor > 1");
    break;
  case BridgeKind::leaders:
    if (!disaggregated || factor != 1)
      return grids(emitOpError() << "leaders needs the disaggregated layout "
                                    "and factor 1");
    break;
  }
  if (disaggregated && getKind() != BridgeKind::leaders)
    return emitOpError() << "modules on disjoint ranks (disaggregated) meet "
                            "through leaders, not "
                         << stringifyBridgeKind(getKind());
  return success();
}

//===----------------------------------------------------------------------===//
// RecomputeOp
//===----------------------------------------------------------------------===//

LogicalResult RecomputeOp::verify() {
  std::optional<int64_t> layers = getLayers();
  if (!layers) {
    if (!getSaved().empty())
      return emitOpError() << "saved values are only read with `layers`; "
                              "without it every layer recomputes";
    return success();
  }
  auto stack = cast<StackOp>((*this)->getParentOp());
  if (*layers < 1 || *layers > stack.getCount())
    return emitOpError() << "layers must be in [1, " << stack.getCount()
                         << "] (the enclosing stack's count), got " << *layers;
  if (TypeRange(getSaved().getTypes()) != TypeRange(getResultTypes()))
    return emitOpError() << "saved values "
                         << typesToString(getSaved().getTypes())
                         << " must match the results "
                         << typesToString(getResultTypes());
  return success();
}

LogicalResult RecomputeOp::verifyRegions() {
  Block &body = getBodyBlock();
  if (TypeRange(body.getArgumentTypes()) != TypeRange(getInputs().getTypes()))
    return emitOpError() << "region arguments "
                         << typesToString(body.getArgumentTypes())
                         << " must match the inputs "
                         << typesToString(getInputs().getTypes());
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError() << "region must end in mimo.yield";
  if (TypeRange(yield.getOperandTypes()) != TypeRange(getResultTypes()))
    return yield.emitOpError()
           << "yields " << typesToString(yield.getOperandTypes())
           << " but the recompute region returns "
           << typesToString(getResultTypes());
  return success();
}

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError() << "name must not be empty";
  if (!tensorType(getResult()).hasStaticShape())
    return emitOpError() << "must have a static shape, got "
                         << getResult().getType();
  if (FloatAttr std = getStdAttr()) {
    if (getInit() != InitKind::normal)
      return emitOpError() << "std given for init "
                           << stringifyInitKind(getInit())
                           << "; only normal takes a std";
    if (!(std.getValueAsDouble() > 0))
      return emitOpError() << "std must be positive, got "
                           << std.getValueAsDouble();
  }
  return success();
}

/// How the uses of `value` split it under tensor parallelism; a stacked
/// parameter passed to a stack as `xs` is split as its per-layer slice is.
static TpSplit tpSplitOfUses(Value value) {
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (auto lin = dyn_cast<LinearOp>(user)) {
      TpSplit s = lin.getParallel();
      if (use.get() == lin.getBias() && s == TpSplit::row)
        return TpSplit::none; // added once, after the sum
      return s;
    }
    if (auto emb = dyn_cast<EmbeddingOp>(user))
      return emb.getParallel();
    if (auto stack = dyn_cast<StackOp>(user)) {
      unsigned index = use.getOperandNumber();
      if (index >= stack.getNumCarried()) {
        TpSplit s = tpSplitOfUses(stack.getBodyBlock().getArgument(index));
        if (s != TpSplit::none)
          return s;
      }
    }
    if (auto rc = dyn_cast<RecomputeOp>(user)) {
      unsigned index = use.getOperandNumber();
      if (index < rc.getInputs().size()) {
        TpSplit s = tpSplitOfUses(rc.getBodyBlock().getArgument(index));
        if (s != TpSplit::none)
          return s;
      }
    }
  }
  return TpSplit::none;
}

TpSplit ParamOp::getTpSplit() { return tpSplitOfUses(getResult()); }

//===----------------------------------------------------------------------===//
// Compute ops
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input")) ||
      failed(expectRank(*this, getWeight(), 2, "weight")) ||
      failed(expectSameFloatElementType(*this)))
    return failure();
  ArrayRef<int64_t> w = tensorType(getWeight()).getShape();
  int64_t in = getTransposeWeight() ? w[1] : w[0];
  int64_t out = getTransposeWeight() ? w[0] : w[1];
  int64_t tokens = tensorType(getInput()).getDimSize(0);
  if (tensorType(getInput()).getDimSize(1) != in)
    return emitOpError() << "input features ("
                         << tensorType(getInput()).getDimSize(1)
                         << ") must equal the weight's input features (" << in
                         << ")";
  if (getBias() && failed(expectShape(*this, getBias(), {out}, "bias")))
    return failure();
  return expectShape(*this, getResult(), {tokens, out}, "result");
}

int64_t AttentionOp::getHeadDim() {
  return tensorType(getQuery()).getDimSize(1) / getHeads();
}

/// A context-parallel attention's rows are two equal chunks.
static LogicalResult verifyContextParallel(Operation *op, int64_t cp,
                                           int64_t tokens) {
  if (cp < 1)
    return op->emitOpError()
           << "context_parallel must be at least 1, got " << cp;
  if (cp > 1 && tokens % 2 != 0)
    return op->emitOpError()
           << "context_parallel = " << cp
           << " needs two equal chunks of tokens per rank, got " << tokens
           << " tokens";
  return success();
}

LogicalResult AttentionOp::verify() {
  if (failed(expectRank(*this, getQuery(), 2, "query")) ||
      failed(expectRank(*this, getKey(), 2, "key")) ||
      failed(expectRank(*this, getValue(), 2, "value")) ||
      failed(expectSameFloatElementType(
          *this, {getQuery(), getKey(), getValue(), getResult()})))
    return failure();
  int64_t heads = getHeadsAttr().getInt();
  int64_t kvHeads = getKvHeadsAttr().getInt();
  if (heads < 1)
    return emitOpError() << "heads must be at least 1, got " << heads;
  if (kvHeads < 1)
    return emitOpError() << "kv_heads must be at least 1, got " << kvHeads;
  if (heads % kvHeads != 0)
    return emitOpError() << "heads (" << heads
                         << ") must be divisible by kv_heads (" << kvHeads
                         << ")";
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  if (q[1] % heads != 0)
    return emitOpError() << "query width (" << q[1]
                         << ") must be divisible by heads (" << heads << ")";
  int64_t headDim = q[1] / heads;
  if (failed(expectShape(*this, getKey(), {q[0], kvHeads * headDim}, "key")) ||
      failed(
          expectShape(*this, getValue(), {q[0], kvHeads * headDim}, "value")) ||
      failed(expectShape(*this, getResult(), q, "result")))
    return failure();
  if (getLse() && failed(expectShape(*this, getLse(), {q[0], heads}, "lse")))
    return failure();
  int64_t segment = getSegmentAttr().getInt();
  if (segment < 0)
    return emitOpError() << "segment must be non-negative, got " << segment;
  if (segment > 0 && q[0] % segment != 0)
    return emitOpError() << "tokens (" << q[0]
                         << ") must be divisible by segment (" << segment
                         << ")";
  if (FloatAttr theta = getRopeThetaAttr()) {
    if (!(theta.getValueAsDouble() > 0))
      return emitOpError() << "rope_theta must be positive, got "
                           << theta.getValueAsDouble();
    if (headDim % 2 != 0)
      return emitOpError() << "rotary embeddings need an even head dim, got "
                           << headDim;
  }
  return verifyContextParallel(*this, getContextParallel(), q[0]);
}

template <typename NormOp> static LogicalResult verifyNorm(NormOp op) {
  if (failed(expectRank(op, op.getInput(), 2, "input")) ||
      failed(expectSameFloatElementType(op)))
    return failure();
  int64_t hidden = tensorType(op.getInput()).getDimSize(1);
  if (failed(expectShape(op, op.getGamma(), {hidden}, "gamma")))
    return failure();
  if (!(op.getEps().convertToDouble() > 0))
    return op.emitOpError()
           << "eps must be positive, got " << op.getEps().convertToDouble();
  if (op.getResult().getType() != op.getInput().getType())
    return op.emitOpError()
           << "result type " << op.getResult().getType()
           << " must equal the input type " << op.getInput().getType();
  return success();
}

LogicalResult LayerNormOp::verify() {
  if (failed(verifyNorm(*this)))
    return failure();
  return expectShape(*this, getBeta(), {tensorType(getInput()).getDimSize(1)},
                     "beta");
}

LogicalResult RmsNormOp::verify() { return verifyNorm(*this); }

LogicalResult EmbeddingOp::verify() {
  if (failed(expectRank(*this, getIds(), 1, "ids")) ||
      failed(expectRank(*this, getTable(), 2, "table")))
    return failure();
  if (getParallel() == TpSplit::column || getParallel() == TpSplit::row)
    return emitOpError() << "parallel must be none or vocab, got "
                         << stringifyTpSplit(getParallel());
  int64_t tokens = tensorType(getIds()).getDimSize(0);
  int64_t hidden = tensorType(getTable()).getDimSize(1);
  if (tensorType(getResult()).getElementType() !=
      tensorType(getTable()).getElementType())
    return emitOpError() << "result element type must equal the table's";
  return expectShape(*this, getResult(), {tokens, hidden}, "result");
}

int64_t PatchEmbedOp::getNumImages() {
  return tensorType(getPixels()).getDimSize(0);
}
int64_t PatchEmbedOp::getPatchesPerImage() {
  ArrayRef<int64_t> px = tensorType(getPixels()).getShape();
  return (px[2] / getPatchSize()) * (px[3] / getPatchSize());
}
int64_t PatchEmbedOp::getTokensPerImage() {
  return tensorType(getPositions()).getDimSize(0);
}

/// Pixels `[images, channels, height, width]` cut into patches of
/// `patchSize`, projected by `weight` `[channels * patch^2, hidden]` (which
/// `what` names in messages).
static LogicalResult verifyPatchGeometry(Operation *op, Value pixels,
                                         IntegerAttr patchSize, Value weight,
                                         StringRef what) {
  if (failed(expectRank(op, pixels, 4, "pixels")) ||
      failed(expectRank(op, weight, 2, what)))
    return failure();
  int64_t p = patchSize.getInt();
  if (p < 1)
    return op->emitOpError() << "patch_size must be at least 1, got " << p;
  ArrayRef<int64_t> px = tensorType(pixels).getShape();
  if (px[2] % p != 0 || px[3] % p != 0)
    return op->emitOpError()
           << "image size " << px[2] << "x" << px[3]
           << " must be divisible by patch_size (" << p << ")";
  int64_t hidden = tensorType(weight).getDimSize(1);
  return expectShape(op, weight, {px[1] * p * p, hidden}, what);
}

LogicalResult PatchEmbedOp::verify() {
  if (failed(expectRank(*this, getPositions(), 2, "positions")) ||
      failed(expectSameFloatElementType(*this)) ||
      failed(verifyPatchGeometry(*this, getPixels(), getPatchSizeAttr(),
                                 getWeight(), "weight")))
    return failure();
  ArrayRef<int64_t> px = tensorType(getPixels()).getShape();
  int64_t hidden = tensorType(getWeight()).getDimSize(1);
  if (failed(expectShape(*this, getBias(), {hidden}, "bias")))
    return failure();
  int64_t cls = 0;
  if (getClassTokens()) {
    if (failed(expectRank(*this, getClassTokens(), 2, "class_tokens")))
      return failure();
    cls = tensorType(getClassTokens()).getDimSize(0);
    if (failed(expectShape(*this, getClassTokens(), {cls, hidden},
                           "class_tokens")))
      return failure();
  }
  int64_t perImage = getPatchesPerImage() + cls;
  if (failed(
          expectShape(*this, getPositions(), {perImage, hidden}, "positions")))
    return failure();
  return expectShape(*this, getResult(), {px[0] * perImage, hidden}, "result");
}

LogicalResult MergeModalitiesOp::verify() {
  if (failed(expectRank(*this, getText(), 2, "text")) ||
      failed(expectRank(*this, getIds(), 1, "ids")) ||
      failed(expectSameFloatElementType(*this)))
    return failure();
  ArrayRef<int64_t> text = tensorType(getText()).getShape();
  if (failed(expectShape(*this, getIds(), {text[0]}, "ids")))
    return failure();
  if (getPlaceholderIds().size() != getSources().size())
    return emitOpError() << "placeholder_ids has " << getPlaceholderIds().size()
                         << " entries but there are " << getSources().size()
                         << " sources";
  llvm::SmallDenseSet<int64_t> seen;
  for (int64_t id : getPlaceholderIds())
    if (!seen.insert(id).second)
      return emitOpError() << "placeholder id " << id << " used twice";
  int64_t total = 0;
  for (auto [i, src] : llvm::enumerate(getSources())) {
    if (failed(expectRank(*this, src, 2, "source")))
      return failure();
    ArrayRef<int64_t> s = tensorType(src).getShape();
    if (s[1] != text[1])
      return emitOpError() << "source " << i << " hidden size (" << s[1]
                           << ") must equal the text hidden size (" << text[1]
                           << ")";
    total += s[0];
  }
  if (total > text[0])
    return emitOpError() << "encoder tokens (" << total
                         << ") exceed the sequence length (" << text[0] << ")";
  if (getResult().getType() != getText().getType())
    return emitOpError() << "result type " << getResult().getType()
                         << " must equal the text type " << getText().getType();
  return success();
}

LogicalResult CrossEntropyOp::verify() {
  if (failed(expectRank(*this, getLogits(), 2, "logits")) ||
      failed(expectRank(*this, getLabels(), 1, "labels")))
    return failure();
  if (getParallel() == TpSplit::column || getParallel() == TpSplit::row)
    return emitOpError() << "parallel must be none or vocab, got "
                         << stringifyTpSplit(getParallel());
  return expectShape(*this, getLabels(),
                     {tensorType(getLogits()).getDimSize(0)}, "labels");
}

//===----------------------------------------------------------------------===//
// Backward ops
//===----------------------------------------------------------------------===//

/// `v` must have exactly the type of `like` ("<what> must have type T").
static LogicalResult expectSameType(Operation *op, Value v, Type like,
                                    StringRef what) {
  if (v.getType() != like)
    return op->emitOpError()
           << what << " must have type " << like << ", got " << v.getType();
  return success();
}

LogicalResult LinearGradOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input")) ||
      failed(expectRank(*this, getWeight(), 2, "weight")))
    return failure();
  ArrayRef<int64_t> w = tensorType(getWeight()).getShape();
  int64_t out = getTransposeWeight() ? w[0] : w[1];
  int64_t tokens = tensorType(getInput()).getDimSize(0);
  if (failed(expectShape(*this, getGrad(), {tokens, out}, "grad")) ||
      failed(expectSameType(*this, getInputGrad(), getInput().getType(),
                            "input_grad")) ||
      failed(expectSameType(*this, getWeightGrad(), getWeight().getType(),
                            "weight_grad")))
    return failure();
  if (getHasBias() != static_cast<bool>(getBiasGrad()))
    return emitOpError() << "bias_grad must be present exactly when has_bias "
                            "is set";
  if (getBiasGrad())
    return expectShape(*this, getBiasGrad(), {out}, "bias_grad");
  return success();
}

LogicalResult AttentionGradOp::verify() {
  Type q = getQuery().getType();
  int64_t tokens = tensorType(getQuery()).getDimSize(0);
  if (failed(expectSameType(*this, getGrad(), q, "grad")) ||
      failed(expectSameType(*this, getOutput(), q, "output")) ||
      failed(expectShape(*this, getLse(), {tokens, getHeadsAttr().getInt()},
                         "lse")) ||
      failed(expectSameType(*this, getQueryGrad(), q, "query_grad")) ||
      failed(expectSameType(*this, getKeyGrad(), getKey().getType(),
                            "key_grad")) ||
      failed(expectSameType(*this, getValueGrad(), getValue().getType(),
                            "value_grad")))
    return failure();
  return verifyContextParallel(*this, getContextParallel(), tokens);
}

/// `full` is the whole sequence, `part` one rank's two chunks of it.
static LogicalResult verifyContextChunks(Operation *op, Value full, Value part,
                                         int64_t cp, StringRef fullName,
                                         StringRef partName) {
  if (cp < 2)
    return op->emitOpError() << "cp must be at least 2, got " << cp;
  auto f = cast<RankedTensorType>(full.getType());
  auto p = cast<RankedTensorType>(part.getType());
  if (f.getElementType() != p.getElementType() || f.getRank() != p.getRank() ||
      f.getRank() < 1 || f.getShape().drop_front() != p.getShape().drop_front())
    return op->emitOpError() << partName << " " << p << " must be " << fullName
                             << " " << f << " with fewer rows";
  int64_t rows = f.getDimSize(0);
  if (rows % (2 * cp) != 0)
    return op->emitOpError() << "the " << fullName << "'s " << rows
                             << " tokens do not split into 2 * cp = " << 2 * cp
                             << " equal chunks";
  if (p.getDimSize(0) * cp != rows)
    return op->emitOpError()
           << partName << " has " << p.getDimSize(0)
           << " rows; this rank's chunks of " << rows
           << " tokens over cp = " << cp << " are " << rows / cp;
  return success();
}

LogicalResult ContextSliceOp::verify() {
  return verifyContextChunks(*this, getInput(), getResult(), getCp(), "input",
                             "result");
}

LogicalResult ContextPadOp::verify() {
  return verifyContextChunks(*this, getResult(), getInput(), getCp(), "result",
                             "input");
}

template <typename NormGradOp>
static LogicalResult verifyNormGrad(NormGradOp op) {
  if (failed(expectRank(op, op.getInput(), 2, "input")) ||
      failed(
          expectSameType(op, op.getGrad(), op.getInput().getType(), "grad")) ||
      failed(expectShape(op, op.getGamma(),
                         {tensorType(op.getInput()).getDimSize(1)}, "gamma")) ||
      failed(expectSameType(op, op.getInputGrad(), op.getInput().getType(),
                            "input_grad")) ||
      failed(expectSameType(op, op.getGammaGrad(), op.getGamma().getType(),
                            "gamma_grad")))
    return failure();
  return success();
}

LogicalResult LayerNormGradOp::verify() {
  if (failed(verifyNormGrad(*this)))
    return failure();
  return expectSameType(*this, getBetaGrad(), getGamma().getType(),
                        "beta_grad");
}

LogicalResult RmsNormGradOp::verify() { return verifyNormGrad(*this); }

LogicalResult EmbeddingGradOp::verify() {
  if (failed(expectRank(*this, getIds(), 1, "ids")) ||
      failed(expectRank(*this, getGrad(), 2, "grad")) ||
      failed(expectRank(*this, getTableGrad(), 2, "table_grad")))
    return failure();
  int64_t tokens = tensorType(getIds()).getDimSize(0);
  int64_t hidden = tensorType(getTableGrad()).getDimSize(1);
  return expectShape(*this, getGrad(), {tokens, hidden}, "grad");
}

LogicalResult PatchEmbedGradOp::verify() {
  if (failed(verifyPatchGeometry(*this, getPixels(), getPatchSizeAttr(),
                                 getWeightGrad(), "weight_grad")))
    return failure();
  int64_t p = getPatchSizeAttr().getInt();
  ArrayRef<int64_t> px = tensorType(getPixels()).getShape();
  int64_t hidden = tensorType(getWeightGrad()).getDimSize(1);
  int64_t cls =
      getClassTokensGrad() ? tensorType(getClassTokensGrad()).getDimSize(0) : 0;
  int64_t perImage = (px[2] / p) * (px[3] / p) + cls;
  if (failed(expectShape(*this, getBiasGrad(), {hidden}, "bias_grad")) ||
      failed(expectShape(*this, getPositionsGrad(), {perImage, hidden},
                         "positions_grad")) ||
      failed(expectShape(*this, getGrad(), {px[0] * perImage, hidden}, "grad")))
    return failure();
  if (getClassTokensGrad())
    return expectShape(*this, getClassTokensGrad(), {cls, hidden},
                       "class_tokens_grad");
  return success();
}

LogicalResult MergeModalitiesGradOp::verify() {
  if (failed(expectRank(*this, getGrad(), 2, "grad")) ||
      failed(expectRank(*this, getIds(), 1, "ids")))
    return failure();
  ArrayRef<int64_t> g = tensorType(getGrad()).getShape();
  if (failed(expectShape(*this, getIds(), {g[0]}, "ids")) ||
      failed(expectSameType(*this, getTextGrad(), getGrad().getType(),
                            "text_grad")))
    return failure();
  if (getPlaceholderIds().size() != getSourceGrads().size())
    return emitOpError() << "placeholder_ids has " << getPlaceholderIds().size()
                         << " entries but there are " << getSourceGrads().size()
                         << " source gradients";
  for (auto [i, src] : llvm::enumerate(getSourceGrads())) {
    if (failed(expectRank(*this, src, 2, "source gradient")))
      return failure();
    if (tensorType(src).getDimSize(1) != g[1])
      return emitOpError() << "source gradient " << i << " hidden size ("
                           << tensorType(src).getDimSize(1)
                           << ") must equal the sequence hidden size (" << g[1]
                           << ")";
  }
  return success();
}

LogicalResult CrossEntropyGradOp::verify() {
  if (failed(expectRank(*this, getLogits(), 2, "logits")) ||
      failed(expectShape(*this, getLabels(),
                         {tensorType(getLogits()).getDimSize(0)}, "labels")))
    return failure();
  return expectSameType(*this, getLogitsGrad(), getLogits().getType(),
                        "logits_grad");
}

#define GET_OP_CLASSES
#include "mimo/Dialect/Mimo/MimoOps.cpp.inc"

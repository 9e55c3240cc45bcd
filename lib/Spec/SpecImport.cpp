//===- SpecImport.cpp - A validated spec to mimo IR -----------------------===//
//
// Builds one `mimo.model`: each vit encoder as patch embedding + a layer
// stack + final norm, each mlp projector as its linears, the decoder as
// embedding + modality merge + a layer stack + final norm + LM head + loss.
// Tensor-parallel roles follow Megatron: q/k/v and the first FFN matrices
// are column-parallel, the attention output and the last FFN matrix
// row-parallel, the embedding, LM head and loss vocabulary-parallel.
//
//===----------------------------------------------------------------------===//

#include "mimo/Spec/SpecImport.h"
#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Spec/Spec.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;

namespace mimo::spec {
namespace {

class IRBuilder {
public:
  IRBuilder(MLIRContext &ctx, const Spec &spec, StringRef fileName)
      : ctx(ctx), spec(spec), b(&ctx),
        loc(FileLineColLoc::get(&ctx, fileName, 1, 1)) {
    if (spec.precision == "fp32")
      elt = b.getF32Type();
    else if (spec.precision == "fp16")
      elt = b.getF16Type();
    else
      elt = b.getBF16Type();
  }

  OwningOpRef<mlir::ModuleOp> build();

private:
  RankedTensorType t(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, elt);
  }
  RankedTensorType ids(int64_t n) {
    return RankedTensorType::get({n}, b.getI32Type());
  }
  Value param(const std::string &name, ArrayRef<int64_t> shape,
              InitKind init = InitKind::normal) {
    auto op = ParamOp::create(b, loc, t(shape), b.getStringAttr(name),
                              InitKindAttr::get(&ctx, init), FloatAttr());
    return op.getResult();
  }
  Value linear(const std::string &name, Value x, int64_t out, bool bias,
               TpSplit split) {
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t in = xt.getDimSize(1);
    Value w = param(name + ".weight", {in, out});
    Value bv = bias ? param(name + ".bias", {out}, InitKind::zeros) : Value();
    return LinearOp::create(b, loc, t({xt.getDimSize(0), out}), x, w, bv,
                            TpSplitAttr::get(&ctx, split), UnitAttr())
        .getResult();
  }
  Value norm(const ModuleSpec &m, const std::string &name, Value x) {
    int64_t h = cast<RankedTensorType>(x.getType()).getDimSize(1);
    Value g = param(name + ".weight", {h}, InitKind::ones);
    FloatAttr eps = b.getF64FloatAttr(m.normEps);
    if (m.norm == "rmsnorm")
      return RmsNormOp::create(b, loc, x.getType(), x, g, eps).getResult();
    Value beta = param(name + ".bias", {h}, InitKind::zeros);
    return LayerNormOp::create(b, loc, x.getType(), x, g, beta, eps)
        .getResult();
  }
  /// One pre-norm transformer layer over `x`.
  Value layer(const ModuleSpec &m, Value x, bool causal, int64_t segment);
  void buildEncoder(const ModuleSpec &m);
  void buildProjector(const ModuleSpec &m);
  void buildDecoder(const ModuleSpec &m);
  mimo::ModuleOp beginModule(const std::string &name, ModuleKind kind,
                             ArrayRef<Type> inputs, ArrayRef<Type> results,
                             ArrayRef<std::string> inputModules);

  MLIRContext &ctx;
  const Spec &spec;
  OpBuilder b;
  Location loc;
  Type elt;
  ModelOp model;
  llvm::StringMap<RankedTensorType> outputs; ///< module -> its output type
};

mimo::ModuleOp IRBuilder::beginModule(const std::string &name, ModuleKind kind,
                                      ArrayRef<Type> inputs,
                                      ArrayRef<Type> results,
                                      ArrayRef<std::string> inputModules) {
  b.setInsertionPointToEnd(&model.getBody().front());
  ArrayAttr refs;
  if (!inputModules.empty()) {
    SmallVector<Attribute> syms;
    for (const std::string &s : inputModules)
      syms.push_back(FlatSymbolRefAttr::get(&ctx, s));
    refs = b.getArrayAttr(syms);
  }
  auto m = mimo::ModuleOp::create(
      b, loc, b.getStringAttr(name),
      TypeAttr::get(b.getFunctionType(inputs, results)),
      ModuleKindAttr::get(&ctx, kind), refs, ParallelAttr(), IntegerAttr());
  Block *entry = new Block();
  m.getBody().push_back(entry);
  for (Type ty : inputs)
    entry->addArgument(ty, loc);
  b.setInsertionPointToStart(entry);
  return m;
}

Value IRBuilder::layer(const ModuleSpec &m, Value x, bool causal,
                       int64_t segment) {
  int64_t tokens = cast<RankedTensorType>(x.getType()).getDimSize(0);
  int64_t headDim = m.hidden / m.heads;
  Value n1 = norm(m, "attn_norm", x);
  Value q = linear("attn.q", n1, m.heads * headDim, m.bias, TpSplit::column);
  Value k = linear("attn.k", n1, m.kvHeads * headDim, m.bias, TpSplit::column);
  Value v = linear("attn.v", n1, m.kvHeads * headDim, m.bias, TpSplit::column);
  FloatAttr rope;
  if (m.kind == ModuleKindSpec::Decoder && m.position == "rope")
    rope = b.getF64FloatAttr(m.ropeTheta);
  Value o = AttentionOp::create(b, loc, q.getType(), Type(), q, k, v,
                                b.getI64IntegerAttr(m.heads),
                                b.getI64IntegerAttr(m.kvHeads),
                                causal ? b.getUnitAttr() : UnitAttr(),
                                b.getI64IntegerAttr(segment), rope)
                .getResult();
  Value proj = linear("attn.out", o, m.hidden, m.bias, TpSplit::row);
  Value h = AddOp::create(b, loc, x, proj).getResult();
  Value n2 = norm(m, "ffn_norm", h);
  Value f;
  if (m.activation == "swiglu") {
    Value gate = linear("ffn.gate", n2, m.ffnHidden, m.bias, TpSplit::column);
    Value up = linear("ffn.up", n2, m.ffnHidden, m.bias, TpSplit::column);
    f = SwigluOp::create(b, loc, gate, up).getResult();
  } else {
    Value fc1 = linear("ffn.fc1", n2, m.ffnHidden, m.bias, TpSplit::column);
    f = GeluOp::create(b, loc, fc1).getResult();
  }
  Value down = linear("ffn.fc2", f, m.hidden, m.bias, TpSplit::row);
  (void)tokens;
  return AddOp::create(b, loc, h, down).getResult();
}

void IRBuilder::buildEncoder(const ModuleSpec &m) {
  int64_t perItem = m.tokensPerItem();
  int64_t items = m.itemsPerSample;
  RankedTensorType pixels = t({items, m.channels, m.imageSize, m.imageSize});
  RankedTensorType out = t({items * perItem, m.hidden});
  outputs[m.name] = out;
  beginModule(m.name, ModuleKind::encoder, {pixels}, {out}, {});
  Value px = b.getInsertionBlock()->getArgument(0);
  int64_t k = m.channels * m.patchSize * m.patchSize;
  Value w = param("patch.weight", {k, m.hidden});
  Value bias = param("patch.bias", {m.hidden}, InitKind::zeros);
  Value pos = param("patch.positions", {perItem, m.hidden});
  Value cls = m.classTokens > 0
                  ? param("patch.class_tokens", {m.classTokens, m.hidden})
                  : Value();
  Value x = PatchEmbedOp::create(b, loc, out, px, w, bias, pos, cls,
                                 b.getI64IntegerAttr(m.patchSize))
                .getResult();
  auto stack = StackOp::create(b, loc, m.layers, ValueRange{x});
  {
    OpBuilder::InsertionGuard g(b);
    Block &body = stack.getBody().front();
    b.setInsertionPointToStart(&body);
    Value y = layer(m, body.getArgument(0), /*causal=*/false, perItem);
    YieldOp::create(b, loc, ValueRange{y});
  }
  Value y = norm(m, "final_norm", stack.getResult(0));
  ReturnOp::create(b, loc, ValueRange{y});
}

void IRBuilder::buildProjector(const ModuleSpec &m) {
  RankedTensorType in = outputs.lookup(m.input);
  const ModuleSpec *llm = spec.find(m.output);
  RankedTensorType out = t({in.getDimSize(0), llm->hidden});
  outputs[m.name] = out;
  beginModule(m.name, ModuleKind::projector, {in}, {out}, {m.input});
  Value x = b.getInsertionBlock()->getArgument(0);
  for (int64_t i = 0; i < m.layers; ++i) {
    std::string name = "fc" + std::to_string(i + 1);
    bool last = i + 1 == m.layers;
    int64_t width = last ? llm->hidden : m.hidden;
    if (!last && m.activation == "swiglu") {
      Value gate = linear(name + ".gate", x, width, m.bias, TpSplit::none);
      Value up = linear(name + ".up", x, width, m.bias, TpSplit::none);
      x = SwigluOp::create(b, loc, gate, up).getResult();
      continue;
    }
    x = linear(name, x, width, m.bias, TpSplit::none);
    if (!last)
      x = GeluOp::create(b, loc, x).getResult();
  }
  ReturnOp::create(b, loc, ValueRange{x});
}

void IRBuilder::buildDecoder(const ModuleSpec &m) {
  SmallVector<Type> inputs = {ids(spec.seqLen), ids(spec.seqLen)};
  SmallVector<std::string> projectors;
  SmallVector<int64_t> placeholders;
  for (const ModuleSpec &p : spec.modules) {
    if (p.kind != ModuleKindSpec::Mlp)
      continue;
    inputs.push_back(outputs.lookup(p.name));
    projectors.push_back(p.name);
    placeholders.push_back(p.placeholderId);
  }
  Type scalar = RankedTensorType::get({}, b.getF32Type());
  beginModule(m.name, ModuleKind::llm, inputs, {scalar, scalar}, projectors);
  Block *entry = b.getInsertionBlock();
  Value idsArg = entry->getArgument(0), labels = entry->getArgument(1);
  Value table = param("embed.weight", {m.vocab, m.hidden});
  RankedTensorType act = t({spec.seqLen, m.hidden});
  Value x = EmbeddingOp::create(b, loc, act, idsArg, table,
                                TpSplitAttr::get(&ctx, TpSplit::vocab))
                .getResult();
  if (!projectors.empty())
    x = MergeModalitiesOp::create(b, loc, act, x, idsArg,
                                  entry->getArguments().drop_front(2),
                                  b.getDenseI64ArrayAttr(placeholders))
            .getResult();
  if (m.position == "learned") {
    Value pos = param("embed.positions", {spec.seqLen, m.hidden});
    x = AddOp::create(b, loc, x, pos).getResult();
  }
  auto stack = StackOp::create(b, loc, m.layers, ValueRange{x});
  {
    OpBuilder::InsertionGuard g(b);
    Block &body = stack.getBody().front();
    b.setInsertionPointToStart(&body);
    Value y = layer(m, body.getArgument(0), /*causal=*/true, /*segment=*/0);
    YieldOp::create(b, loc, ValueRange{y});
  }
  Value h = norm(m, "final_norm", stack.getResult(0));
  RankedTensorType logitsType = t({spec.seqLen, m.vocab});
  Value logits;
  if (m.tieEmbeddings) {
    logits = LinearOp::create(b, loc, logitsType, h, table, Value(),
                              TpSplitAttr::get(&ctx, TpSplit::vocab),
                              b.getUnitAttr())
                 .getResult();
  } else {
    logits = linear("lm_head", h, m.vocab, /*bias=*/false, TpSplit::vocab);
  }
  auto ce = CrossEntropyOp::create(b, loc, scalar, scalar, logits, labels,
                                   b.getI64IntegerAttr(-100),
                                   TpSplitAttr::get(&ctx, TpSplit::vocab));
  ReturnOp::create(b, loc, ValueRange{ce.getLoss(), ce.getCount()});
}

OwningOpRef<mlir::ModuleOp> IRBuilder::build() {
  OwningOpRef<mlir::ModuleOp> top = mlir::ModuleOp::create(loc);
  b.setInsertionPointToEnd(top->getBody());
  const OptimizerSpec &o = spec.optimizer;
  SmallVector<NamedAttribute> opt = {
      b.getNamedAttr("kind", b.getStringAttr(o.kind)),
      b.getNamedAttr("lr", b.getF64FloatAttr(o.lr)),
      b.getNamedAttr("beta1", b.getF64FloatAttr(o.beta1)),
      b.getNamedAttr("beta2", b.getF64FloatAttr(o.beta2)),
      b.getNamedAttr("eps", b.getF64FloatAttr(o.eps)),
      b.getNamedAttr("weight_decay", b.getF64FloatAttr(o.weightDecay)),
      b.getNamedAttr("grad_clip", b.getF64FloatAttr(o.gradClip))};
  model = ModelOp::create(
      b, loc, b.getStringAttr(spec.name), b.getI64IntegerAttr(spec.seqLen),
      b.getI64IntegerAttr(spec.imagesPerSample),
      b.getI64IntegerAttr(spec.globalBatchSize), b.getI64IntegerAttr(spec.seed),
      b.getStringAttr(spec.precision), b.getDictionaryAttr(opt), PlanAttr());
  model.getBody().push_back(new Block());
  // Dataflow order: encoders, their projectors, then the LLM.
  for (const ModuleSpec &m : spec.modules)
    if (m.kind == ModuleKindSpec::Vit)
      buildEncoder(m);
  for (const ModuleSpec &m : spec.modules)
    if (m.kind == ModuleKindSpec::Mlp)
      buildProjector(m);
  for (const ModuleSpec &m : spec.modules)
    if (m.kind == ModuleKindSpec::Decoder)
      buildDecoder(m);
  return top;
}

} // namespace

std::vector<SpecError> validateSpecText(llvm::StringRef text) {
  std::vector<SpecError> errors;
  (void)parseSpec(text.str(), ImportOptions(), errors);
  return errors;
}

OwningOpRef<mlir::ModuleOp> importSpecText(llvm::StringRef text,
                                           llvm::StringRef fileName,
                                           MLIRContext &context,
                                           const ImportOptions &options,
                                           llvm::raw_ostream &errs) {
  std::vector<SpecError> errors;
  std::optional<Spec> spec = parseSpec(text.str(), options, errors);
  if (!spec) {
    for (const SpecError &e : errors) {
      errs << fileName << ": ";
      if (!e.path.empty())
        errs << e.path << ": ";
      errs << e.message << "\n";
    }
    return nullptr;
  }
  context.getOrLoadDialect<MimoDialect>();
  OwningOpRef<mlir::ModuleOp> module =
      IRBuilder(context, *spec, fileName).build();
  if (failed(mlir::verify(*module))) {
    errs << fileName
         << ": internal error: the imported model does not "
            "verify (see the diagnostic above)\n";
    return nullptr;
  }
  return module;
}

OwningOpRef<mlir::ModuleOp> importSpecFile(llvm::StringRef path,
                                           MLIRContext &context,
                                           const ImportOptions &options,
                                           llvm::raw_ostream &errs) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer) {
    errs << path << ": cannot read the spec: " << buffer.getError().message()
         << "\n";
    return nullptr;
  }
  return importSpecText((*buffer)->getBuffer(), path, context, options, errs);
}

} // namespace mimo::spec

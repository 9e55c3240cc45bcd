//===- MimoCost.cpp - The cost interface of every mimo op -----------------===//
//
// Each op describes its shapes and tensor-parallel role as a cost::OpDesc;
// the closed forms are in lib/Cost/OpCost.cpp.
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoOps.h"

using namespace mlir;
using namespace mimo;

#include "mimo/Dialect/Mimo/MimoInterfaces.cpp.inc"

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

cost::TpSplit toCost(TpSplit s) {
  switch (s) {
  case TpSplit::none:
    return cost::TpSplit::None;
  case TpSplit::column:
    return cost::TpSplit::Column;
  case TpSplit::row:
    return cost::TpSplit::Row;
  case TpSplit::vocab:
    return cost::TpSplit::Vocab;
  }
  return cost::TpSplit::None;
}

/// Whether `v`'s feature dim is split under tensor parallelism: outputs of
/// column-parallel linears and of attention (heads are split), and
/// elementwise ops over them, up to the row-parallel linear that consumes
/// them.
bool featuresSplit(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (auto lin = dyn_cast<LinearOp>(def))
    return lin.getParallel() == TpSplit::column ||
           lin.getParallel() == TpSplit::vocab;
  if (isa<AttentionOp>(def))
    return true;
  if (isa<GeluOp, SwigluOp, AddOp>(def))
    return llvm::all_of(def->getOperands(), featuresSplit);
  return false;
}

cost::OpDesc elementwise(cost::OpKind kind, Operation *op) {
  cost::OpDesc d;
  d.kind = kind;
  ArrayRef<int64_t> s = shapeOf(op->getResult(0));
  d.tokens = s[0];
  d.in = s.size() > 1 ? s[1] : 1;
  d.split = llvm::all_of(op->getOperands(), featuresSplit)
                ? cost::TpSplit::Column
                : cost::TpSplit::None;
  return d;
}

} // namespace

cost::OpDesc ParamOp::getOpDesc() {
  cost::OpDesc d;
  d.kind = cost::OpKind::Param;
  d.numel = cast<RankedTensorType>(getType()).getNumElements();
  d.split = toCost(getTpSplit());
  return d;
}

cost::OpDesc LinearOp::getOpDesc() {
  cost::OpDesc d;
  d.kind = cost::OpKind::Linear;
  d.tokens = shapeOf(getInput())[0];
  d.in = shapeOf(getInput())[1];
  d.out = shapeOf(getResult())[1];
  d.bias = static_cast<bool>(getBias());
  d.split = toCost(getParallel());
  if (d.split == cost::TpSplit::Column || d.split == cost::TpSplit::Vocab) {
    // Another column-parallel linear earlier in this block reading the same
    // input shares the input's collective.
    for (Operation *user : getInput().getUsers()) {
      auto other = dyn_cast<LinearOp>(user);
      if (!other || other == *this || other->getBlock() != (*this)->getBlock())
        continue;
      if ((other.getParallel() == TpSplit::column ||
           other.getParallel() == TpSplit::vocab) &&
          other->isBeforeInBlock(*this)) {
        d.sharedInput = true;
        break;
      }
    }
  }
  return d;
}

cost::OpDesc AttentionOp::getOpDesc() {
  cost::OpDesc d;
  d.kind = cost::OpKind::Attention;
  d.tokens = shapeOf(getQuery())[0];
  d.heads = getHeads();
  d.kvHeads = getKvHeads();
  d.headDim = getHeadDim();
  d.causal = getCausal();
  d.rope = static_cast<bool>(getRopeThetaAttr());
  d.segment = getSegment();
  d.split = cost::TpSplit::Column;
  return d;
}

cost::OpDesc LayerNormOp::getOpDesc() {
  cost::OpDesc d;
  d.kind = cost::OpKind::LayerNorm;
  d.tokens = shapeOf(getInput())[0];
  d.in = shapeOf(getInput())[1];
  return d;
}

cost::OpDesc RmsNormOp::getOpDesc() {
  cost::OpDesc d;
  d.kind = cost::OpKind::RmsNorm;
  d.tokens = shapeOf(getInput())[0];
  d.in = shapeOf(getInput())[1];
  return d;
}

cost::OpDesc GeluOp::getOpDesc() {
  return elementwise(cost::OpKind::Gelu, getOperation());
}
cost::OpDesc SwigluOp::getOpDesc() {
  return elementwise(cost::OpKind::Swiglu, getOperation());
}
cost::OpDesc AddOp::getOpDesc() {
  return elementwise(cost::OpKind::Add, getOperation());
}

cost::OpDesc EmbeddingOp::getOpDesc() {
  cost::OpDesc d;
  d.kind = cost::OpKind::Embedding;
  d.tokens = shapeOf(getIds())[0];
  d.vocab = shapeOf(getTable())[0];
  d.in = shapeOf(getTable())[1];
  d.split = toCost(getParallel());
  return d;
}

cost::OpDesc PatchEmbedOp::getOpDesc() {
  cost::OpDesc d;
  d.kind = cost::OpKind::PatchEmbed;
  d.images = getNumImages();
  d.channels = shapeOf(getPixels())[1];
  d.patch = getPatchSize();
  d.imageTokens = getPatchesPerImage();
  d.tokens = getTokensPerImage();
  d.in = shapeOf(getWeight())[1];
  return d;
}

cost::OpDesc MergeModalitiesOp::getOpDesc() {
  cost::OpDesc d;
  d.kind = cost::OpKind::MergeModalities;
  d.tokens = shapeOf(getText())[0];
  d.in = shapeOf(getText())[1];
  for (Value src : getSources())
    d.imageTokens += shapeOf(src)[0];
  return d;
}

cost::OpDesc CrossEntropyOp::getOpDesc() {
  cost::OpDesc d;
  d.kind = cost::OpKind::CrossEntropy;
  d.tokens = shapeOf(getLogits())[0];
  d.vocab = shapeOf(getLogits())[1];
  d.split = toCost(getParallel());
  return d;
}

//===- MimoProfile.cpp - mimo IR to the planner's model profile -----------===//

#include "mimo/Dialect/Mimo/MimoProfile.h"

using namespace mlir;
using namespace mimo;

namespace {

cost::ModuleKind toCost(ModuleKind k) {
  switch (k) {
  case ModuleKind::encoder:
    return cost::ModuleKind::Encoder;
  case ModuleKind::projector:
    return cost::ModuleKind::Projector;
  case ModuleKind::llm:
    return cost::ModuleKind::LLM;
  }
  return cost::ModuleKind::Encoder;
}

/// Appends the costed ops of `block` (not descending into stacks) to the
/// profile's blocks, opening a new count-1 block after each stack.
LogicalResult collect(Block &block, cost::ModuleProfile &module) {
  cost::BlockProfile *straight = nullptr;
  for (Operation &op : block) {
    if (auto stack = dyn_cast<StackOp>(op)) {
      cost::BlockProfile layer;
      layer.count = stack.getCount();
      layer.isLayerStack = true;
      for (Operation &inner : stack.getBody().front()) {
        if (isa<YieldOp>(inner))
          continue;
        auto costed = dyn_cast<CostOpInterface>(inner);
        if (!costed)
          return inner.emitOpError()
                 << "has no cost model; the planner cannot cost this stack";
        layer.ops.push_back(costed.getOpDesc());
      }
      module.blocks.push_back(std::move(layer));
      straight = nullptr;
      continue;
    }
    if (isa<ReturnOp, ParamGradOp>(op))
      continue;
    auto costed = dyn_cast<CostOpInterface>(op);
    if (!costed)
      return op.emitOpError()
             << "has no cost model; the planner cannot cost this module";
    if (!straight) {
      module.blocks.emplace_back();
      straight = &module.blocks.back();
    }
    straight->ops.push_back(costed.getOpDesc());
  }
  return success();
}

} // namespace

FailureOr<cost::ModelProfile> mimo::buildModelProfile(ModelOp model) {
  cost::ModelProfile profile;
  profile.name = model.getSymName().str();
  profile.training.seqLen = model.getSeqLen();
  profile.training.imagesPerSample = model.getImagesPerSample();
  profile.training.globalBatchSize = model.getGlobalBatchSize();
  profile.training.bytesPerElement = model.getBytesPerElement();
  profile.training.precision = model.getPrecision().str();
  for (mimo::ModuleOp m : model.getModules()) {
    if (m.getKind() == ModuleKind::backward)
      continue;
    cost::ModuleProfile mp;
    mp.name = m.getSymName().str();
    mp.kind = toCost(m.getKind());
    if (ArrayAttr inputs = m.getInputsAttr())
      for (Attribute a : inputs)
        mp.inputs.push_back(cast<SymbolRefAttr>(a).getRootReference().str());
    if (failed(collect(m.getBodyBlock(), mp)))
      return failure();
    // Tokens and hidden size: the module's main activation is its first
    // result for encoders and projectors, the embedded sequence for the LLM.
    if (m.getKind() == ModuleKind::llm) {
      mp.tokensPerSample = model.getSeqLen();
    } else {
      auto out = cast<RankedTensorType>(m.getFunctionType().getResult(0));
      mp.tokensPerSample = out.getDimSize(0);
    }
    m.getBody().walk([&](Operation *op) {
      if (auto attn = dyn_cast<AttentionOp>(op)) {
        mp.heads = attn.getHeads();
        mp.kvHeads = attn.getKvHeads();
      }
      if (auto ln = dyn_cast<LayerNormOp>(op))
        mp.hidden = cast<RankedTensorType>(ln.getType()).getDimSize(1);
      if (auto rms = dyn_cast<RmsNormOp>(op))
        mp.hidden = cast<RankedTensorType>(rms.getType()).getDimSize(1);
    });
    if (mp.hidden == 0) // a projector: its output width
      mp.hidden = cast<RankedTensorType>(m.getFunctionType().getResult(0))
                      .getDimSize(1);
    profile.modules.push_back(std::move(mp));
  }
  return profile;
}

double mimo::trainingFlopsPerSample(mimo::ModuleOp m,
                                    int64_t bytesPerElement) {
  if (auto recorded = m->getAttrOfType<FloatAttr>("mimo.flops_per_sample"))
    return recorded.getValueAsDouble();
  cost::CostContext cctx;
  cctx.bytesPerElement = bytesPerElement;
  double flops = 0;
  m.getBody().walk([&](CostOpInterface op) {
    double times = 1;
    for (auto s = op->getParentOfType<StackOp>(); s;
         s = s->getParentOfType<StackOp>())
      times *= s.getCount();
    cost::OpCost c = op.getCost(cctx);
    flops += times * (c.fwdFlops + c.bwdFlops);
  });
  return flops;
}

//===- ReferenceModels.cpp - Profiles of published model shapes -----------===//
//
// Op order and tensor-parallel roles mirror lib/Spec/SpecImport.cpp (a
// pre-norm layer: norm, q/k/v column-parallel, attention, out row-parallel,
// add, norm, fc1 column, activation, fc2 row, add).
//
//===----------------------------------------------------------------------===//

#include "mimo/Planner/ReferenceModels.h"

namespace mimo::planner {

using cost::BlockProfile;
using cost::ModuleKind;
using cost::ModuleProfile;
using cost::OpDesc;
using cost::OpKind;
using cost::TpSplit;

bool referenceShape(const std::string &name, TransformerShape &out) {
  struct Row {
    const char *name;
    int64_t layers, hidden, heads;
  };
  // REFERENCE.md, "Model shapes used in those experiments".
  static const Row rows[] = {
      {"vit-1b", 40, 1408, 16},  {"vit-3b", 48, 2304, 36},
      {"llm-7b", 32, 4096, 32},  {"llm-14b", 48, 5120, 40},
      {"llm-32b", 64, 6144, 48}, {"llm-70b", 80, 8192, 64},
  };
  for (const Row &r : rows)
    if (name == r.name) {
      out = TransformerShape();
      out.layers = r.layers;
      out.hidden = r.hidden;
      out.heads = r.heads;
      return true;
    }
  return false;
}

namespace {

OpDesc param(int64_t numel, TpSplit split = TpSplit::None) {
  OpDesc d;
  d.kind = OpKind::Param;
  d.numel = numel;
  d.split = split;
  return d;
}

OpDesc linear(int64_t tokens, int64_t in, int64_t out, TpSplit split,
              bool shared = false) {
  OpDesc d;
  d.kind = OpKind::Linear;
  d.tokens = tokens;
  d.in = in;
  d.out = out;
  d.split = split;
  d.sharedInput = shared;
  return d;
}

OpDesc elementwise(OpKind kind, int64_t tokens, int64_t width, TpSplit split) {
  OpDesc d;
  d.kind = kind;
  d.tokens = tokens;
  d.in = width;
  d.split = split;
  return d;
}

void norm(std::vector<OpDesc> &ops, const TransformerShape &s, int64_t tokens) {
  ops.push_back(param(s.hidden));
  if (!s.rmsnorm)
    ops.push_back(param(s.hidden));
  ops.push_back(elementwise(s.rmsnorm ? OpKind::RmsNorm : OpKind::LayerNorm,
                            tokens, s.hidden, TpSplit::None));
}

BlockProfile layer(const TransformerShape &s, int64_t tokens, bool causal,
                   int64_t segment) {
  BlockProfile b;
  b.isLayerStack = true;
  b.count = s.layers;
  int64_t kv = s.kvHeads ? s.kvHeads : s.heads;
  int64_t d = s.hidden / s.heads;
  int64_t ffn = s.ffn ? s.ffn : 4 * s.hidden;
  auto &ops = b.ops;
  norm(ops, s, tokens);
  ops.push_back(param(s.hidden * s.heads * d, TpSplit::Column));
  ops.push_back(linear(tokens, s.hidden, s.heads * d, TpSplit::Column));
  ops.push_back(param(s.hidden * kv * d, TpSplit::Column));
  ops.push_back(linear(tokens, s.hidden, kv * d, TpSplit::Column, true));
  ops.push_back(param(s.hidden * kv * d, TpSplit::Column));
  ops.push_back(linear(tokens, s.hidden, kv * d, TpSplit::Column, true));
  OpDesc attn;
  attn.kind = OpKind::Attention;
  attn.tokens = tokens;
  attn.heads = s.heads;
  attn.kvHeads = kv;
  attn.headDim = d;
  attn.causal = causal;
  attn.segment = segment;
  attn.split = TpSplit::Column;
  ops.push_back(attn);
  ops.push_back(param(s.heads * d * s.hidden, TpSplit::Row));
  ops.push_back(linear(tokens, s.heads * d, s.hidden, TpSplit::Row));
  ops.push_back(elementwise(OpKind::Add, tokens, s.hidden, TpSplit::None));
  norm(ops, s, tokens);
  if (s.swiglu) {
    ops.push_back(param(s.hidden * ffn, TpSplit::Column));
    ops.push_back(linear(tokens, s.hidden, ffn, TpSplit::Column));
    ops.push_back(param(s.hidden * ffn, TpSplit::Column));
    ops.push_back(linear(tokens, s.hidden, ffn, TpSplit::Column, true));
    ops.push_back(elementwise(OpKind::Swiglu, tokens, ffn, TpSplit::Column));
  } else {
    ops.push_back(param(s.hidden * ffn, TpSplit::Column));
    ops.push_back(linear(tokens, s.hidden, ffn, TpSplit::Column));
    ops.push_back(elementwise(OpKind::Gelu, tokens, ffn, TpSplit::Column));
  }
  ops.push_back(param(ffn * s.hidden, TpSplit::Row));
  ops.push_back(linear(tokens, ffn, s.hidden, TpSplit::Row));
  ops.push_back(elementwise(OpKind::Add, tokens, s.hidden, TpSplit::None));
  return b;
}

} // namespace

cost::ModelProfile makeMultimodalProfile(const MultimodalShape &m) {
  cost::ModelProfile p;
  p.name = "multimodal";
  p.training.seqLen = m.seqLen;
  p.training.imagesPerSample = m.imagesPerSample;
  p.training.globalBatchSize = m.globalBatchSize;
  p.training.bytesPerElement = m.bytesPerElement;
  p.training.precision = m.bytesPerElement >= 4 ? "fp32" : "bf16";
  const int64_t encTokens = m.imagesPerSample * m.tokensPerImage;

  ModuleProfile vit;
  vit.name = "vision";
  vit.kind = ModuleKind::Encoder;
  vit.tokensPerSample = encTokens;
  vit.hidden = m.vit.hidden;
  vit.heads = m.vit.heads;
  vit.kvHeads = m.vit.kvHeads ? m.vit.kvHeads : m.vit.heads;
  if (m.imagesPerSample > 0) {
    BlockProfile pre;
    int64_t k = m.channels * m.patch * m.patch;
    pre.ops.push_back(param(k * m.vit.hidden));
    pre.ops.push_back(param(m.vit.hidden));
    pre.ops.push_back(param(m.tokensPerImage * m.vit.hidden));
    OpDesc pe;
    pe.kind = OpKind::PatchEmbed;
    pe.images = m.imagesPerSample;
    pe.channels = m.channels;
    pe.patch = m.patch;
    pe.imageTokens = m.tokensPerImage;
    pe.tokens = m.tokensPerImage;
    pe.in = m.vit.hidden;
    pre.ops.push_back(pe);
    vit.blocks.push_back(pre);
    vit.blocks.push_back(layer(m.vit, encTokens, false, m.tokensPerImage));
    BlockProfile post;
    norm(post.ops, m.vit, encTokens);
    vit.blocks.push_back(post);
  }

  ModuleProfile proj;
  proj.name = "projector";
  proj.kind = ModuleKind::Projector;
  proj.inputs = {"vision"};
  proj.tokensPerSample = encTokens;
  proj.hidden = m.llm.hidden;
  if (m.imagesPerSample > 0) {
    BlockProfile b;
    int64_t in = m.vit.hidden;
    for (int64_t i = 0; i < m.projectorLayers; ++i) {
      int64_t out = m.llm.hidden;
      b.ops.push_back(param(in * out));
      b.ops.push_back(linear(encTokens, in, out, TpSplit::None));
      if (i + 1 < m.projectorLayers)
        b.ops.push_back(
            elementwise(OpKind::Gelu, encTokens, out, TpSplit::None));
      in = out;
    }
    proj.blocks.push_back(b);
  }

  ModuleProfile llm;
  llm.name = "llm";
  llm.kind = ModuleKind::LLM;
  if (m.imagesPerSample > 0)
    llm.inputs = {"projector"};
  llm.tokensPerSample = m.seqLen;
  llm.hidden = m.llm.hidden;
  llm.heads = m.llm.heads;
  llm.kvHeads = m.llm.kvHeads ? m.llm.kvHeads : m.llm.heads;
  {
    BlockProfile pre;
    pre.ops.push_back(param(m.llm.vocab * m.llm.hidden, TpSplit::Vocab));
    OpDesc emb;
    emb.kind = OpKind::Embedding;
    emb.tokens = m.seqLen;
    emb.vocab = m.llm.vocab;
    emb.in = m.llm.hidden;
    emb.split = TpSplit::Vocab;
    pre.ops.push_back(emb);
    if (m.imagesPerSample > 0) {
      OpDesc merge;
      merge.kind = OpKind::MergeModalities;
      merge.tokens = m.seqLen;
      merge.in = m.llm.hidden;
      merge.imageTokens = encTokens;
      pre.ops.push_back(merge);
    }
    llm.blocks.push_back(pre);
    llm.blocks.push_back(layer(m.llm, m.seqLen, true, 0));
    BlockProfile post;
    norm(post.ops, m.llm, m.seqLen);
    post.ops.push_back(param(m.llm.hidden * m.llm.vocab, TpSplit::Vocab));
    post.ops.push_back(
        linear(m.seqLen, m.llm.hidden, m.llm.vocab, TpSplit::Vocab));
    OpDesc ce;
    ce.kind = OpKind::CrossEntropy;
    ce.tokens = m.seqLen;
    ce.vocab = m.llm.vocab;
    ce.split = TpSplit::Vocab;
    post.ops.push_back(ce);
    llm.blocks.push_back(post);
  }
  if (m.imagesPerSample > 0)
    p.modules = {vit, proj, llm};
  else
    p.modules = {llm};
  return p;
}

} // namespace mimo::planner

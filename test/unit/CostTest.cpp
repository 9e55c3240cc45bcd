//===- CostTest.cpp - Op costs against published closed forms -------------===//
//
// [N21] Narayanan et al. 2021, eq. (3); [K22] Korthikanti et al. 2022,
// table 2 (without dropout masks); INTERFACES.md parameter convention.
// The layer sums go through the IR's cost interface (a spec imported into
// mimo IR), so the interface and the closed forms are checked together.
//
//===----------------------------------------------------------------------===//

#include "mimo/Cost/OpCost.h"
#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Dialect/Mimo/MimoProfile.h"
#include "mimo/Spec/SpecImport.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

using namespace mimo;

namespace {

/// A one-encoder spec with the given LLM shape (FFN 4h, GELU, LayerNorm).
std::string specText(int64_t seq, int64_t layers, int64_t hidden, int64_t heads,
                     int64_t kvHeads, int64_t vocab,
                     const char *activation = "gelu", int64_t ffn = 0) {
  if (ffn == 0)
    ffn = 4 * hidden;
  return std::string(R"({"mimo_spec": 1, "name": "m", "modules": [
    {"name": "vision", "kind": "vit", "layers": 2, "hidden": 64, "heads": 4,
     "ffn_hidden": 256, "activation": "gelu", "norm": "layernorm",
     "image_size": 32, "patch_size": 8},
    {"name": "proj", "kind": "mlp", "input": "vision", "output": "llm",
     "layers": 2, "hidden": 64, "activation": "gelu"},
    {"name": "llm", "kind": "decoder", "layers": )") +
         std::to_string(layers) + R"(, "hidden": )" + std::to_string(hidden) +
         R"(, "heads": )" + std::to_string(heads) + R"(, "kv_heads": )" +
         std::to_string(kvHeads) + R"(, "ffn_hidden": )" + std::to_string(ffn) +
         R"(, "activation": ")" + activation +
         R"(", "norm": "layernorm", "position": "rope", "vocab": )" +
         std::to_string(vocab) + R"(}],
    "data": {"seq_len": )" +
         std::to_string(seq) +
         R"(, "images_per_sample": 1},
    "training": {"global_batch_size": 8, "precision": "bf16",
                 "optimizer": {"kind": "adam", "lr": 0.0001}}})";
}

struct Imported {
  mlir::MLIRContext ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  ModelOp model;
  explicit Imported(const std::string &text) {
    std::string err;
    llvm::raw_string_ostream os(err);
    module = spec::importSpecText(text, "test.json", ctx, {}, os);
    EXPECT_TRUE(module) << err;
    if (module)
      model = *module->getBody()->getOps<ModelOp>().begin();
  }
  mimo::ModuleOp llm() { return model.getLlm(); }
};

/// Sums the cost of every op of one layer (the body of the module's stack).
cost::OpCost layerCost(mimo::ModuleOp m, const cost::CostContext &ctx) {
  cost::OpCost total;
  m.getBody().walk([&](StackOp stack) {
    for (mlir::Operation &op : stack.getBody().front())
      if (auto c = llvm::dyn_cast<CostOpInterface>(op))
        cost::accumulate(total, c.getCost(ctx));
  });
  return total;
}

/// Sums a whole module, stacks counted `count` times.
cost::OpCost moduleCost(mimo::ModuleOp m, const cost::CostContext &ctx) {
  cost::OpCost total;
  m.getBody().walk([&](CostOpInterface op) {
    double times = 1;
    if (auto s = op->getParentOfType<StackOp>())
      times = s.getCount();
    cost::accumulate(total, op.getCost(ctx), times);
  });
  return total;
}

constexpr int64_t kSeq = 2048, kHidden = 1024, kHeads = 16, kVocab = 32000,
                  kLayers = 4;

TEST(CostTest, LayerForwardFlopsMatchMegatron) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab));
  cost::OpCost c = layerCost(im.llm(), {});
  double s = kSeq, h = kHidden;
  // [N21]: 24 s h^2 + 4 s^2 h per layer forward.
  EXPECT_DOUBLE_EQ(c.fwdFlops, 24 * s * h * h + 4 * s * s * h);
  EXPECT_DOUBLE_EQ(c.bwdFlops, 2 * c.fwdFlops);
}

TEST(CostTest, WholeLlmMatchesMegatronIterationFormula) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab));
  cost::OpCost c = moduleCost(im.llm(), {});
  double s = kSeq, h = kHidden, L = kLayers, V = kVocab;
  // [N21]: 72 B s L h^2 (1 + s/(6h) + V/(12 L h)) for forward + backward.
  double expected = 72 * s * L * h * h * (1 + s / (6 * h) + V / (12 * L * h));
  EXPECT_NEAR(c.fwdFlops + c.bwdFlops, expected, expected * 1e-12);
}

TEST(CostTest, TensorParallelSplitsFlopsEvenly) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab));
  cost::OpCost one = layerCost(im.llm(), {});
  for (int64_t tp : {2, 4, 8}) {
    cost::CostContext ctx;
    ctx.tp = tp;
    cost::OpCost split = layerCost(im.llm(), ctx);
    EXPECT_NEAR(split.fwdFlops * tp, one.fwdFlops, one.fwdFlops * 1e-12)
        << "tp " << tp;
    EXPECT_NEAR(split.params * tp, one.params, 4.0 * kHidden * tp)
        << "tp " << tp; // norms are replicated
  }
}

TEST(CostTest, ParametersFollowTheSixNdConvention) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab));
  double h = kHidden;
  // INTERFACES.md: 12 h^2 + 4 h per layer (no biases in the decoder: the
  // 4h are the two LayerNorms' gains and biases), h V for the embedding.
  EXPECT_DOUBLE_EQ(layerCost(im.llm(), {}).params, 12 * h * h + 4 * h);
  double whole = moduleCost(im.llm(), {}).params;
  // + final norm (2h) + untied LM head (h V).
  EXPECT_DOUBLE_EQ(whole,
                   kLayers * (12 * h * h + 4 * h) + 2 * h * kVocab + 2 * h);
}

TEST(CostTest, GroupedQueryAttentionShrinksKeyValueProjections) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, 4, kVocab));
  double s = kSeq, h = kHidden, kv = 4.0 * (kHidden / kHeads);
  cost::OpCost c = layerCost(im.llm(), {});
  // q and out: 2 h^2; k and v: 2 h kv; FFN 8 h^2; scores 4 s^2 h.
  EXPECT_DOUBLE_EQ(c.fwdFlops, 2 * s * (2 * h * h + 2 * h * kv + 8 * h * h) +
                                   4 * s * s * h);
  EXPECT_DOUBLE_EQ(c.params, 2 * h * h + 2 * h * kv + 8 * h * h + 4 * h);
}

TEST(CostTest, SwigluUsesThreeMatrices) {
  int64_t ffn = 2816;
  Imported im(
      specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab, "swiglu", ffn));
  double s = kSeq, h = kHidden, f = ffn;
  cost::OpCost c = layerCost(im.llm(), {});
  EXPECT_DOUBLE_EQ(c.fwdFlops, 2 * s * (4 * h * h + 3 * h * f) + 4 * s * s * h);
}

// [K22] activation bytes per layer, bf16, without the two dropout masks:
// 32 s h (no parallelism), (8 + 24/t) s h (tensor parallel), 32 s h / t
// (tensor + sequence parallel). On top: the norms' fp32 statistics and the
// flash-attention log-sum-exp, which [K22] does not list.
double extras(double s, double heads, int64_t tp, bool sp) {
  double stats = 2 * 8 * s / (sp ? tp : 1);
  return stats + 4 * s * heads / tp;
}

TEST(CostTest, ActivationMemoryMatchesKorthikanti) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab));
  double s = kSeq, h = kHidden;
  cost::OpCost none = layerCost(im.llm(), {});
  EXPECT_DOUBLE_EQ(none.savedActivationBytes,
                   32 * s * h + extras(s, kHeads, 1, false));
  for (int64_t t : {2, 4, 8}) {
    cost::CostContext tp;
    tp.tp = t;
    EXPECT_DOUBLE_EQ(layerCost(im.llm(), tp).savedActivationBytes,
                     (8 + 24.0 / t) * s * h + extras(s, kHeads, t, false))
        << "tp " << t;
    tp.sequenceParallel = true;
    EXPECT_DOUBLE_EQ(layerCost(im.llm(), tp).savedActivationBytes,
                     32.0 / t * s * h + extras(s, kHeads, t, true))
        << "tp+sp " << t;
  }
}

TEST(CostTest, WithoutFlashAttentionTheSoftmaxIsKept) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab));
  double s = kSeq, h = kHidden, a = kHeads;
  cost::CostContext ctx;
  ctx.flashAttention = false;
  // [K22] 5 a s^2 counts softmax (2), dropout mask (1) and dropout output
  // (2); without dropout the bf16 softmax output, 2 a s^2, remains.
  EXPECT_DOUBLE_EQ(layerCost(im.llm(), ctx).savedActivationBytes,
                   32 * s * h + 2 * a * s * s + 2 * 8 * s);
}

TEST(CostTest, TensorParallelCommunicationPerLayer) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab));
  double s = kSeq, h = kHidden;
  cost::CostContext ctx;
  ctx.tp = 4;
  cost::OpCost c = layerCost(im.llm(), ctx);
  // [M19]: two all-reduces of s h in the forward (g after attention and
  // FFN), two in the backward (f before them), bf16.
  EXPECT_DOUBLE_EQ(c.tpFwdCommBytes, 2 * 2 * s * h);
  EXPECT_DOUBLE_EQ(c.tpBwdCommBytes, 2 * 2 * s * h);
  ctx.tp = 1;
  EXPECT_DOUBLE_EQ(layerCost(im.llm(), ctx).tpFwdCommBytes, 0);
}

TEST(CostTest, ContextParallelSplitsTokensAndRingsKeyValues) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab));
  cost::OpCost one = layerCost(im.llm(), {});
  cost::CostContext ctx;
  ctx.cp = 4;
  cost::OpCost c = layerCost(im.llm(), ctx);
  EXPECT_NEAR(c.fwdFlops * 4, one.fwdFlops, one.fwdFlops * 1e-12);
  double kvChunk = 2.0 * (kSeq / 4) * 2 * kHidden; // bf16 K and V chunk
  EXPECT_DOUBLE_EQ(c.cpFwdP2PBytes, 3 * kvChunk);
  // K, V and their gradients on each of the 3 ring steps, then the K/V
  // gradients' way home.
  EXPECT_DOUBLE_EQ(c.cpBwdP2PBytes, (2 * 3 + 1) * kvChunk);
}

TEST(CostTest, CausalAttentionExecutesHalfTheScores) {
  cost::OpDesc attn;
  attn.kind = cost::OpKind::Attention;
  attn.tokens = 1024;
  attn.heads = attn.kvHeads = 8;
  attn.headDim = 64;
  attn.causal = true;
  cost::OpCost c = cost::computeOpCost(attn, {});
  EXPECT_DOUBLE_EQ(c.fwdFlops, 4.0 * 1024 * 1024 * 512);
  EXPECT_DOUBLE_EQ(c.execFwdFlops, c.fwdFlops * 1025.0 / 2048.0);
  // [D22]: the backward recomputes the scores, 2.5x the forward.
  EXPECT_DOUBLE_EQ(c.execBwdFlops, 2.5 * c.execFwdFlops);
}

TEST(CostTest, RopeAddsMemoryTrafficNotModelFlops) {
  cost::OpDesc attn;
  attn.kind = cost::OpKind::Attention;
  attn.tokens = 256;
  attn.heads = 8;
  attn.kvHeads = 2;
  attn.headDim = 64;
  cost::OpCost plain = cost::computeOpCost(attn, {});
  attn.rope = true;
  cost::OpCost rope = cost::computeOpCost(attn, {});
  EXPECT_DOUBLE_EQ(rope.fwdFlops, plain.fwdFlops);
  double rotated = 256.0 * (8 + 2) * 64; // q and k elements
  EXPECT_DOUBLE_EQ(rope.bytesRead - plain.bytesRead, 2 * rotated);
  EXPECT_DOUBLE_EQ(rope.execFwdFlops - plain.execFwdFlops, 6 * rotated);
}

TEST(CostTest, SegmentedAttentionCostsPerSegment) {
  cost::OpDesc attn;
  attn.kind = cost::OpKind::Attention;
  attn.tokens = 4 * 256;
  attn.segment = 256;
  attn.heads = attn.kvHeads = 4;
  attn.headDim = 32;
  EXPECT_DOUBLE_EQ(cost::computeOpCost(attn, {}).fwdFlops,
                   4 * (4.0 * 256 * 256 * 128));
}

TEST(CostTest, PatchEmbeddingIsOneMatmul) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, kHeads, kVocab));
  mimo::ModuleOp vision = im.model.getModules().front();
  PatchEmbedOp pe = *vision.getBody().getOps<PatchEmbedOp>().begin();
  cost::OpCost c = pe.getCost({});
  // 1 image of (32/8)^2 = 16 patches of 3*8*8 values into 64 features.
  EXPECT_DOUBLE_EQ(c.fwdFlops, 2.0 * 16 * 192 * 64);
  EXPECT_TRUE(c.isMatmul);
  EXPECT_EQ(c.gemmM, 16);
  EXPECT_EQ(c.gemmK, 192);
}

TEST(CostTest, ProfileListsEveryModuleWithItsLayers) {
  Imported im(specText(kSeq, kLayers, kHidden, kHeads, 4, kVocab));
  mlir::FailureOr<cost::ModelProfile> p = buildModelProfile(im.model);
  ASSERT_TRUE(succeeded(p));
  ASSERT_EQ(p->modules.size(), 3u);
  EXPECT_EQ(p->modules[0].kind, cost::ModuleKind::Encoder);
  EXPECT_EQ(p->modules[0].layers(), 2);
  EXPECT_EQ(p->modules[0].tokensPerSample, 16);
  EXPECT_EQ(p->modules[1].kind, cost::ModuleKind::Projector);
  EXPECT_EQ(p->modules[1].inputs, std::vector<std::string>{"vision"});
  EXPECT_EQ(p->modules[2].layers(), kLayers);
  EXPECT_EQ(p->modules[2].tokensPerSample, kSeq);
  EXPECT_EQ(p->modules[2].hidden, kHidden);
  EXPECT_EQ(p->modules[2].heads, kHeads);
  EXPECT_EQ(p->modules[2].kvHeads, 4);
  EXPECT_EQ(p->training.bytesPerElement, 2);
  // The profile costs the same as the IR.
  cost::OpCost fromProfile;
  for (const cost::BlockProfile &b : p->modules[2].blocks)
    for (const cost::OpDesc &d : b.ops)
      cost::accumulate(fromProfile, cost::computeOpCost(d, {}),
                       double(b.count));
  EXPECT_DOUBLE_EQ(fromProfile.fwdFlops, moduleCost(im.llm(), {}).fwdFlops);
}

} // namespace

namespace {
/// Count of scratch buffers of one shape in a list.
int64_t countOf(const std::vector<cost::ScratchBuffer> &list, int64_t rows,
                int64_t cols, int64_t elementBytes) {
  int64_t n = 0;
  for (const cost::ScratchBuffer &s : list)
    n += s.rows == rows && s.cols == cols && s.elementBytes == elementBytes;
  return n;
}
} // namespace

// mimo's trainer (docs/lowering.md "Buffers"; the CPU kernels'
// ...WorkspaceBytes): rotated q and k forward; q, k and their gradients
// rotated backward, plus one f32 per row and head.
TEST(CostTest, AttentionScratchOfMimosTrainer) {
  cost::OpDesc attn;
  attn.kind = cost::OpKind::Attention;
  attn.tokens = 128;
  attn.heads = 8;
  attn.kvHeads = 4;
  attn.headDim = 16;
  attn.rope = true;
  cost::CostContext ctx;
  ctx.bytesPerElement = 4;
  cost::OpCost c = cost::computeOpCost(attn, ctx);
  EXPECT_EQ(c.fwdScratch.size(), 2u);
  EXPECT_EQ(countOf(c.fwdScratch, 128, 128, 4), 1);
  EXPECT_EQ(countOf(c.fwdScratch, 128, 64, 4), 1);
  EXPECT_EQ(countOf(c.bwdScratch, 128, 128, 4), 2);
  EXPECT_EQ(countOf(c.bwdScratch, 128, 64, 4), 2);
  EXPECT_EQ(countOf(c.bwdScratch, 128 * 8, 0, 4), 1);
  EXPECT_DOUBLE_EQ(c.outputBytes, 4.0 * 128 * 128 + 4.0 * 128 * 8);
  // Ring attention over cp = 2: two K and two V blocks of the local rows
  // (k rotated into them), their gradients backward, and a half-chunk's
  // partial output and log-sum-exp.
  ctx.cp = 2;
  cost::OpCost r = cost::computeOpCost(attn, ctx);
  EXPECT_EQ(countOf(r.fwdScratch, 64, 64, 4), 4);
  EXPECT_EQ(countOf(r.fwdScratch, 64, 128, 4), 1);
  EXPECT_EQ(countOf(r.fwdScratch, 32, 128, 4), 1);
  EXPECT_EQ(countOf(r.fwdScratch, 32, 8, 4), 1);
  EXPECT_EQ(countOf(r.bwdScratch, 64, 64, 4), 9);
}

// Norm statistics are recomputed into scratch, not kept; the backward
// takes the normalized input (and a layer norm's beta gradient).
TEST(CostTest, NormStatisticsAreScratchInMimosTrainer) {
  cost::OpDesc ln;
  ln.kind = cost::OpKind::LayerNorm;
  ln.tokens = 32;
  ln.in = 64;
  cost::CostContext ctx;
  ctx.bytesPerElement = 4;
  cost::OpCost c = cost::computeOpCost(ln, ctx);
  EXPECT_DOUBLE_EQ(c.savedActivationBytes - c.recomputedStatBytes,
                   4.0 * 32 * 64);
  EXPECT_EQ(countOf(c.fwdScratch, 32, 0, 4), 2);
  EXPECT_EQ(countOf(c.bwdScratch, 32, 64, 4), 1);
  EXPECT_EQ(countOf(c.bwdScratch, 64, 0, 4), 1);
  // An add writes into its residual stream's dead buffer.
  cost::OpDesc add;
  add.kind = cost::OpKind::Add;
  add.tokens = 32;
  add.in = 64;
  EXPECT_DOUBLE_EQ(cost::computeOpCost(add, ctx).outputBytes, 0);
  // A vocabulary-split cross-entropy keeps three f32 per row either way.
  cost::OpDesc ce;
  ce.kind = cost::OpKind::CrossEntropy;
  ce.tokens = 128;
  ce.vocab = 512;
  ce.split = cost::TpSplit::Vocab;
  ctx.tp = 2;
  cost::OpCost x = cost::computeOpCost(ce, ctx);
  EXPECT_EQ(countOf(x.fwdScratch, 128, 0, 4), 3);
  EXPECT_EQ(countOf(x.bwdScratch, 128, 0, 4), 4);
}

//===- KernelTable.cpp - The kernels mimort.kernel may call ---------------===//

#include "mimo/Dialect/Mimort/KernelTable.h"

using namespace mimo::mimort;

namespace {

using K = KernelArgKind;
using E = KernelElem;

constexpr KernelArg T(const char *n, int group = 0) {
  return {n, K::Tensor, E::Float, group};
}
constexpr KernelArg Ids(const char *n) { return {n, K::Tensor, E::I32, 0}; }
constexpr KernelArg Opt(const char *n) {
  return {n, K::OptionalTensor, E::Float, 0};
}
constexpr KernelArg WS(const char *n) { return {n, K::Workspace, E::Any, 0}; }
constexpr KernelArg I(const char *n) { return {n, K::I64, E::Any, 0}; }
constexpr KernelArg F(const char *n) { return {n, K::F32, E::Any, 0}; }
constexpr KernelArg B(const char *n) { return {n, K::Bool, E::Any, 0}; }
constexpr KernelArg Attn() { return {"attention", K::Attention, E::Any, 0}; }

const KernelArg gemmArgs[] = {B("trans_a"), B("trans_b"), F("alpha"), T("a"),
                              T("b"),       F("beta"),    T("c")};
const KernelArg linearFwdArgs[] = {T("x"), T("w"), Opt("b"), T("y"),
                                   B("transposed_weight")};
const KernelArg linearBwdArgs[] = {T("x"),
                                   T("w"),
                                   T("dy"),
                                   Opt("dx"),
                                   T("dw"),
                                   Opt("db"),
                                   B("transposed_weight")};
const KernelArg layerNormFwdArgs[] = {T("x", 1), T("gamma"), T("beta"),
                                      F("eps"),  T("y", 1),  T("mean"),
                                      T("rstd")};
const KernelArg layerNormBwdArgs[] = {T("x", 1),   T("gamma"), T("mean"),
                                      T("rstd"),   T("dy", 1), T("dx", 1),
                                      T("dgamma"), T("dbeta")};
const KernelArg rmsNormFwdArgs[] = {T("x", 1), T("gamma"), F("eps"), T("y", 1),
                                    T("rstd")};
const KernelArg rmsNormBwdArgs[] = {T("x", 1),  T("gamma"), T("rstd"),
                                    T("dy", 1), T("dx", 1), T("dgamma")};
const KernelArg geluFwdArgs[] = {T("x", 1), T("y", 1)};
const KernelArg geluBwdArgs[] = {T("x", 1), T("dy", 1), T("dx", 1)};
const KernelArg swigluFwdArgs[] = {T("gate", 1), T("up", 1), T("out", 1)};
const KernelArg swigluBwdArgs[] = {T("gate", 1), T("up", 1), T("dout", 1),
                                   T("dgate", 1), T("dup", 1)};
const KernelArg attnFwdArgs[] = {Attn(), T("q"),   T("k"),
                                 T("v"), T("out"), T("lse")};
const KernelArg attnBwdArgs[] = {Attn(),   T("q"),   T("k"),         T("v"),
                                 T("out"), T("lse"), T("dout"),      T("dq"),
                                 T("dk"),  T("dv"),  WS("workspace")};
const KernelArg attnBlockFwdArgs[] = {Attn(),   I("q_offset"), I("k_offset"),
                                      T("q"),   T("k"),        T("v"),
                                      T("out"), T("lse")};
const KernelArg attnMergeArgs[] = {T("out"), T("lse"), T("block_out"),
                                   T("block_lse")};
const KernelArg attnBlockBwdArgs[] = {
    Attn(),  I("q_offset"), I("k_offset"),  T("q"),    T("k"),
    T("v"),  T("out"),      T("lse"),       T("dout"), T("dq"),
    T("dk"), T("dv"),       WS("workspace")};
const KernelArg ropeFwdArgs[] = {T("x", 1),     T("y", 1), I("heads"),
                                 I("head_dim"), I("pos0"), F("theta")};
const KernelArg ropeBwdArgs[] = {T("dy", 1),    T("dx", 1), I("heads"),
                                 I("head_dim"), I("pos0"),  F("theta")};
const KernelArg embFwdArgs[] = {Ids("ids"), T("table"), T("out"), I("v0"),
                                I("v1")};
const KernelArg embBwdArgs[] = {Ids("ids"), T("dout"), T("dtable"), I("v0"),
                                I("v1")};
const KernelArg mergeFwdArgs[] = {T("text"), Ids("ids"), I("placeholder_id"),
                                  T("source"), T("out")};
const KernelArg mergeBwdArgs[] = {T("dout"), Ids("ids"), I("placeholder_id"),
                                  T("dtext"), T("dsource")};
const KernelArg patchFwdArgs[] = {{"patch_embed", K::PatchEmbed, E::Any, 0},
                                  T("pixels"),
                                  T("w"),
                                  Opt("b"),
                                  Opt("pos"),
                                  Opt("cls"),
                                  T("out"),
                                  WS("workspace")};
const KernelArg patchBwdArgs[] = {{"patch_embed", K::PatchEmbed, E::Any, 0},
                                  T("pixels"),
                                  T("dout"),
                                  T("dw"),
                                  Opt("db"),
                                  Opt("dpos"),
                                  Opt("dcls"),
                                  WS("workspace")};
const KernelArg ceFwdArgs[] = {T("logits"), Ids("labels"), T("loss_sum"),
                               Ids("count"), T("lse")};
const KernelArg ceBwdArgs[] = {T("logits"), Ids("labels"), T("lse"),
                               I("v0"),     F("scale"),    T("dlogits")};
const KernelArg ceMaxArgs[] = {T("logits"), T("row_max")};
const KernelArg ceSumExpArgs[] = {T("logits"), T("global_max"), T("sum_exp")};
const KernelArg ceTargetArgs[] = {T("logits"), Ids("labels"), I("v0"),
                                  T("target")};
const KernelArg ceCombineArgs[] = {T("global_max"), T("sum_exp"),  T("target"),
                                   Ids("labels"),   T("loss_sum"), Ids("count"),
                                   T("lse")};
const KernelArg addArgs[] = {T("a", 1), T("b", 1), T("out", 1)};
const KernelArg scaleArgs[] = {T("x", 1), F("alpha"), T("out", 1)};
const KernelArg sumSquaresArgs[] = {T("x"), T("out"), B("accumulate")};
const KernelArg convertArgs[] = {T("x", 1), T("y", 1)};
const KernelArg adamArgs[] = {{"adam", K::Adam, E::Any, 0},
                              T("param", 1),
                              T("grad", 1),
                              T("m", 1),
                              T("v", 1)};

const KernelInfo table[] = {
    {"gemm", "gemm", gemmArgs},
    {"linear_forward", "linearForward", linearFwdArgs},
    {"linear_backward", "linearBackward", linearBwdArgs},
    {"layer_norm_forward", "layerNormForward", layerNormFwdArgs},
    {"layer_norm_backward", "layerNormBackward", layerNormBwdArgs},
    {"rms_norm_forward", "rmsNormForward", rmsNormFwdArgs},
    {"rms_norm_backward", "rmsNormBackward", rmsNormBwdArgs},
    {"gelu_forward", "geluForward", geluFwdArgs},
    {"gelu_backward", "geluBackward", geluBwdArgs},
    {"swiglu_forward", "swigluForward", swigluFwdArgs},
    {"swiglu_backward", "swigluBackward", swigluBwdArgs},
    {"attention_forward", "attentionForward", attnFwdArgs},
    {"attention_backward", "attentionBackward", attnBwdArgs},
    {"attention_block_forward", "attentionBlockForward", attnBlockFwdArgs},
    {"attention_merge", "attentionMerge", attnMergeArgs},
    {"attention_block_backward", "attentionBlockBackward", attnBlockBwdArgs},
    {"rope_forward", "ropeForward", ropeFwdArgs},
    {"rope_backward", "ropeBackward", ropeBwdArgs},
    {"embedding_forward", "embeddingForward", embFwdArgs},
    {"embedding_backward", "embeddingBackward", embBwdArgs},
    {"merge_rows_forward", "mergeRowsForward", mergeFwdArgs},
    {"merge_rows_backward", "mergeRowsBackward", mergeBwdArgs},
    {"patch_embed_forward", "patchEmbedForward", patchFwdArgs},
    {"patch_embed_backward", "patchEmbedBackward", patchBwdArgs},
    {"cross_entropy_forward", "crossEntropyForward", ceFwdArgs},
    {"cross_entropy_backward", "crossEntropyBackward", ceBwdArgs},
    {"cross_entropy_local_max", "crossEntropyLocalMax", ceMaxArgs},
    {"cross_entropy_local_sum_exp", "crossEntropyLocalSumExp", ceSumExpArgs},
    {"cross_entropy_target_logit", "crossEntropyTargetLogit", ceTargetArgs},
    {"cross_entropy_combine", "crossEntropyCombine", ceCombineArgs},
    {"add", "add", addArgs},
    {"scale", "scale", scaleArgs},
    {"sum_squares", "sumSquares", sumSquaresArgs},
    {"convert", "convert", convertArgs},
    {"adam_step", "adamStep", adamArgs},
};

} // namespace

llvm::ArrayRef<KernelInfo> mimo::mimort::kernelTable() { return table; }

const KernelInfo *mimo::mimort::lookupKernel(llvm::StringRef name) {
  for (const KernelInfo &k : table)
    if (name == k.name)
      return &k;
  return nullptr;
}

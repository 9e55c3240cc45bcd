//===- KernelTable.h - The kernels mimort.kernel may call -------*- C++ -*-===//
//
// One entry per method of mimo::kernels::Kernels (kernels/include/mimo/
// kernels/Kernels.h), its arguments in C++ order. The verifier of
// mimort.kernel and the EmitC lowering both read this table, so a kernel
// the verifier accepts is one the lowering can call.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_DIALECT_MIMORT_KERNELTABLE_H
#define MIMO_DIALECT_MIMORT_KERNELTABLE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace mimo::mimort {

enum class KernelArgKind {
  Tensor,         ///< a !mimort.buffer operand (TensorView)
  OptionalTensor, ///< a buffer or !mimort.absent
  Workspace,      ///< a buffer operand passed as a Workspace
  I64,            ///< an i64 operand (int64_t)
  F32,            ///< an f32 operand (float)
  Bool,           ///< a BoolAttr attribute (bool)
  Attention,      ///< #mimort.attention (AttentionParams)
  PatchEmbed,     ///< #mimort.patch_embed (PatchEmbedParams)
  Adam,           ///< #mimort.adam plus the i64 step and f32 scale operands
};

/// Element types a tensor argument accepts.
enum class KernelElem { Any, Float, I32 };

struct KernelArg {
  const char *name;
  KernelArgKind kind;
  KernelElem elem = KernelElem::Any;
  /// Tensors with the same non-zero group must have the same shape.
  int sameShapeGroup = 0;
};

struct KernelInfo {
  const char *name;   ///< the mimort name, "linear_forward"
  const char *method; ///< the C++ method, "linearForward"
  llvm::ArrayRef<KernelArg> args;
};

/// Every kernel, in the order of Kernels.h.
llvm::ArrayRef<KernelInfo> kernelTable();
/// nullptr when there is no such kernel.
const KernelInfo *lookupKernel(llvm::StringRef name);

/// Whether the argument is an attribute rather than operands.
inline bool isAttributeArg(KernelArgKind kind) {
  return kind == KernelArgKind::Bool || kind == KernelArgKind::Attention ||
         kind == KernelArgKind::PatchEmbed || kind == KernelArgKind::Adam;
}
/// Operands an argument takes (Adam: step and gradient scale).
inline unsigned operandsOf(KernelArgKind kind) {
  if (kind == KernelArgKind::Adam)
    return 2;
  return isAttributeArg(kind) ? 0 : 1;
}

} // namespace mimo::mimort

#endif // MIMO_DIALECT_MIMORT_KERNELTABLE_H

//===- MimortDialect.cpp - The mimort per-rank program dialect ------------===//

#include "mimo/Dialect/Mimort/MimortDialect.h"
#include "mimo/Dialect/Mimort/MimortOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mimo::mimort;

#include "mimo/Dialect/Mimort/MimortDialect.cpp.inc"
#include "mimo/Dialect/Mimort/MimortEnums.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "mimo/Dialect/Mimort/MimortTypes.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "mimo/Dialect/Mimort/MimortAttrs.cpp.inc"

void MimortDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "mimo/Dialect/Mimort/MimortOps.cpp.inc"
      >();
}

void MimortDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "mimo/Dialect/Mimort/MimortTypes.cpp.inc"
      >();
}

void MimortDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "mimo/Dialect/Mimort/MimortAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// BufferType
//===----------------------------------------------------------------------===//

Type BufferType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type elementType;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType) || parser.parseGreater())
    return {};
  return parser.getChecked<BufferType>(parser.getContext(), shape, elementType);
}

void BufferType::print(AsmPrinter &printer) const {
  printer << "<";
  for (int64_t d : getShape())
    printer << d << "x";
  printer << getElementType() << ">";
}

LogicalResult BufferType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> shape, Type elementType) {
  if (shape.empty() || shape.size() > 5)
    return emitError() << "buffer rank must be between 1 and 5, got "
                       << shape.size();
  for (int64_t d : shape)
    if (d <= 0)
      return emitError() << "buffer dims must be positive, got " << d;
  if (!elementType.isF32() && !elementType.isBF16() &&
      !elementType.isInteger(32))
    return emitError() << "buffer element type must be f32, bf16 or i32, got "
                       << elementType;
  return success();
}

int64_t BufferType::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : getShape())
    n *= d;
  return n;
}

int64_t BufferType::getElementBytes() const {
  return getElementType().isBF16() ? 2 : 4;
}

//===----------------------------------------------------------------------===//
// Kernel parameter attributes
//===----------------------------------------------------------------------===//

static LogicalResult checkFinite(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef what, FloatAttr value) {
  if (!value.getValue().isFinite())
    return emitError() << what << " must be finite";
  return success();
}

LogicalResult
AttentionParamsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                            int64_t qHeads, int64_t kvHeads, int64_t headDim,
                            BoolAttr, int64_t segment, FloatAttr scale) {
  if (qHeads <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitError() << "attention q_heads, kv_heads and head_dim must be "
                          "positive, got "
                       << qHeads << ", " << kvHeads << ", " << headDim;
  if (qHeads % kvHeads != 0)
    return emitError() << "attention q_heads (" << qHeads
                       << ") must be a multiple of kv_heads (" << kvHeads
                       << ")";
  if (segment < 0)
    return emitError() << "attention segment must be non-negative, got "
                       << segment;
  if (scale.getValueAsDouble() < 0)
    return emitError() << "attention scale must be non-negative, got "
                       << scale.getValueAsDouble();
  return checkFinite(emitError, "attention scale", scale);
}

LogicalResult
PatchEmbedParamsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             int64_t patch, int64_t classTokens) {
  if (patch <= 0)
    return emitError() << "patch size must be positive, got " << patch;
  if (classTokens < 0)
    return emitError() << "class_tokens must be non-negative, got "
                       << classTokens;
  return success();
}

LogicalResult
AdamParamsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       FloatAttr lr, FloatAttr beta1, FloatAttr beta2,
                       FloatAttr eps, FloatAttr weightDecay, BoolAttr) {
  for (auto [name, v] : {std::pair<StringRef, FloatAttr>{"lr", lr},
                         {"beta1", beta1},
                         {"beta2", beta2},
                         {"eps", eps},
                         {"weight_decay", weightDecay}})
    if (failed(checkFinite(emitError, "adam " + name.str(), v)))
      return failure();
  for (auto [name, v] :
       {std::pair<StringRef, FloatAttr>{"beta1", beta1}, {"beta2", beta2}})
    if (v.getValueAsDouble() < 0 || v.getValueAsDouble() >= 1)
      return emitError() << "adam " << name << " must be in [0, 1), got "
                         << v.getValueAsDouble();
  if (lr.getValueAsDouble() < 0 || eps.getValueAsDouble() <= 0 ||
      weightDecay.getValueAsDouble() < 0)
    return emitError() << "adam lr and weight_decay must be non-negative and "
                          "eps positive, got lr "
                       << lr.getValueAsDouble() << ", eps "
                       << eps.getValueAsDouble() << ", weight_decay "
                       << weightDecay.getValueAsDouble();
  return success();
}

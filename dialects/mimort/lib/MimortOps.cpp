//===- MimortOps.cpp - mimort op verifiers
//---------------------------------===//

#include "mimo/Dialect/Mimort/MimortOps.h"
#include "mimo/Dialect/Mimort/KernelTable.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mimo::mimort;

#define GET_OP_CLASSES
#include "mimo/Dialect/Mimort/MimortOps.cpp.inc"

namespace {

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

bool isFloatElement(Type t) { return t.isF32() || t.isBF16(); }

/// The one op of type OpT in the module around `op`, or null.
template <typename OpT> OpT findInModule(Operation *op) {
  auto module = op->getParentOfType<ModuleOp>();
  if (!module)
    return {};
  for (OpT found : module.getOps<OpT>())
    return found;
  return {};
}

/// Resolves `grid` and `dims` to a group; returns its size.
FailureOr<int64_t> verifyGroup(Operation *op, SymbolTableCollection &tables,
                               FlatSymbolRefAttr gridRef, ArrayAttr dims) {
  auto grid = tables.lookupNearestSymbolFrom<GridOp>(op, gridRef.getAttr());
  if (!grid)
    return op->emitOpError()
           << "'" << gridRef.getValue() << "' does not name a mimort.grid";
  if (dims.empty())
    return op->emitOpError() << "group needs at least one grid dim";
  if (!parseDimMask(dims))
    return op->emitOpError()
           << "group dims must be distinct names among tp, cp, pp, dp, got "
           << dims;
  int64_t size = 1;
  for (Attribute d : dims)
    size *= grid.getDimSize(cast<StringAttr>(d).getValue());
  return size;
}

} // namespace

std::optional<unsigned> mimo::mimort::parseDimMask(ArrayAttr dims) {
  unsigned mask = 0;
  for (Attribute a : dims) {
    auto s = dyn_cast<StringAttr>(a);
    if (!s)
      return std::nullopt;
    unsigned bit = llvm::StringSwitch<unsigned>(s.getValue())
                       .Case("tp", 1)
                       .Case("cp", 2)
                       .Case("pp", 4)
                       .Case("dp", 8)
                       .Default(0);
    if (!bit || (mask & bit))
      return std::nullopt;
    mask |= bit;
  }
  return mask;
}

//===----------------------------------------------------------------------===//
// Program structure
//===----------------------------------------------------------------------===//

LogicalResult ProgramOp::verify() {
  if (getWorldSizeAttr().getInt() < 1)
    return emitOpError() << "world_size must be at least 1, got "
                         << getWorldSizeAttr().getInt();
  if (getFlopsPerStep().isNegative() || !getFlopsPerStep().isFinite())
    return emitOpError() << "flops_per_step must be finite and non-negative";
  if (getDevice() != "cpu" && getDevice() != "cuda")
    return emitOpError() << "device must be \"cpu\" or \"cuda\", got \""
                         << getDevice() << "\"";
  auto module = (*this)->getParentOfType<ModuleOp>();
  if (llvm::range_size(module.getOps<ProgramOp>()) != 1)
    return emitOpError() << "expects exactly one mimort.program per module";
  return success();
}

LogicalResult ProgramOp::verifySymbolUses(SymbolTableCollection &tables) {
  MLIRContext *ctx = getContext();
  auto check = [&](FlatSymbolRefAttr ref, StringRef role,
                   FunctionType expected) -> LogicalResult {
    auto fn =
        tables.lookupNearestSymbolFrom<func::FuncOp>(*this, ref.getAttr());
    if (!fn)
      return emitOpError() << role << " function " << ref
                           << " does not name a func.func";
    if (fn.getFunctionType() != expected)
      return emitOpError() << role << " function " << ref << " must have type "
                           << expected << ", got " << fn.getFunctionType();
    return success();
  };
  Builder b(ctx);
  if (failed(check(getInitAttr(), "init", b.getFunctionType({}, {}))))
    return failure();
  return check(getStepAttr(), "step",
               b.getFunctionType({b.getI64Type()}, {b.getF32Type()}));
}

int64_t GridOp::getDimSize(StringRef dim) {
  return llvm::StringSwitch<int64_t>(dim)
      .Case("tp", getTpAttr().getInt())
      .Case("cp", getCpAttr().getInt())
      .Case("pp", getPpAttr().getInt())
      .Case("dp", getDpAttr().getInt())
      .Default(-1);
}

LogicalResult BufferOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (!getOnAttr()) {
    if (getStageAttr())
      return emitOpError() << "'stage' needs 'on' (the grid whose pipeline "
                              "stage holds the buffer)";
    return success();
  }
  auto grid = tables.lookupNearestSymbolFrom<GridOp>(*this, getOnAttr());
  if (!grid)
    return emitOpError() << "'on' " << getOnAttr()
                         << " does not name a mimort.grid";
  if (auto stage = getStageAttr()) {
    int64_t pp = grid.getPpAttr().getInt();
    if (stage.getInt() < 0 || stage.getInt() >= pp)
      return emitOpError() << "stage " << stage.getInt()
                           << " is not a stage of " << getOnAttr()
                           << " (pp = " << pp << ")";
  }
  return success();
}

LogicalResult GridOp::verify() {
  for (StringRef d : {"tp", "cp", "pp", "dp"})
    if (getDimSize(d) < 1)
      return emitOpError() << d << " must be at least 1, got " << getDimSize(d);
  int64_t product = getTpAttr().getInt() * getCpAttr().getInt() *
                    getPpAttr().getInt() * getDpAttr().getInt();
  if (product != getSizeAttr().getInt())
    return emitOpError() << "tp*cp*pp*dp (" << product
                         << ") must equal the rank count ("
                         << getSizeAttr().getInt() << ")";
  if (getOffsetAttr().getInt() < 0)
    return emitOpError() << "rank offset must be non-negative, got "
                         << getOffsetAttr().getInt();
  if (auto program = findInModule<ProgramOp>(*this))
    if (getOffsetAttr().getInt() + getSizeAttr().getInt() >
        program.getWorldSizeAttr().getInt())
      return emitOpError() << "ranks [" << getOffsetAttr().getInt() << ", "
                           << getOffsetAttr().getInt() + getSizeAttr().getInt()
                           << ") exceed the world size ("
                           << program.getWorldSizeAttr().getInt() << ")";
  return success();
}

LogicalResult DataOp::verify() {
  if (getGlobalBatchAttr().getInt() < 1 || getSeqLenAttr().getInt() < 1)
    return emitOpError() << "global_batch and seq_len must be positive, got "
                         << getGlobalBatchAttr().getInt() << " and "
                         << getSeqLenAttr().getInt();
  if (getVocabAttr().getInt() < 2)
    return emitOpError() << "vocab must be at least 2, got "
                         << getVocabAttr().getInt();
  if (getImageTokenIdOrDefault() >= getVocabAttr().getInt())
    return emitOpError() << "image_token_id (" << getImageTokenIdAttr().getInt()
                         << ") must be below vocab (" << getVocabAttr().getInt()
                         << ")";
  if (getImagesPerSampleAttr().getInt() < 0 ||
      getTokensPerImageAttr().getInt() < 0 || getChannelsAttr().getInt() < 1 ||
      getImageSizeAttr().getInt() < 1)
    return emitOpError() << "image sizes must be non-negative (images, "
                            "tokens per image) or positive (channels, size)";
  if (getImagesPerSampleAttr().getInt() * getTokensPerImageAttr().getInt() >
      getSeqLenAttr().getInt())
    return emitOpError() << "images_per_sample x tokens_per_image ("
                         << getImagesPerSampleAttr().getInt() << " x "
                         << getTokensPerImageAttr().getInt()
                         << ") exceeds seq_len (" << getSeqLenAttr().getInt()
                         << ")";
  if (getSamples() && getSamplesAttr().getInt() < 1)
    return emitOpError() << "samples must be positive, got "
                         << getSamplesAttr().getInt();
  auto module = (*this)->getParentOfType<ModuleOp>();
  if (llvm::range_size(module.getOps<DataOp>()) != 1)
    return emitOpError() << "expects at most one mimort.data per module";
  return success();
}

LogicalResult DataOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto grid = tables.lookupNearestSymbolFrom<GridOp>(*this, getGridAttr());
  if (!grid)
    return emitOpError() << "'" << getGrid() << "' does not name a mimort.grid";
  if (getGlobalBatchAttr().getInt() % grid.getDpAttr().getInt() != 0)
    return emitOpError() << "global_batch (" << getGlobalBatchAttr().getInt()
                         << ") must be divisible by the grid's dp ("
                         << grid.getDpAttr().getInt() << ")";
  return success();
}

int64_t DataOp::getLocalBatch() {
  auto grid =
      SymbolTable::lookupNearestSymbolFrom<GridOp>(*this, getGridAttr());
  return grid ? getGlobalBatchAttr().getInt() / grid.getDpAttr().getInt()
              : getGlobalBatchAttr().getInt();
}

//===----------------------------------------------------------------------===//
// Buffers and views
//===----------------------------------------------------------------------===//

static FailureOr<BufferOp> lookupBuffer(Operation *op,
                                        SymbolTableCollection &tables,
                                        FlatSymbolRefAttr name) {
  auto buffer = tables.lookupNearestSymbolFrom<BufferOp>(op, name.getAttr());
  if (!buffer)
    return op->emitOpError()
           << "'" << name.getValue() << "' does not name a mimort.buffer";
  return buffer;
}

LogicalResult GetOp::verifySymbolUses(SymbolTableCollection &tables) {
  FailureOr<BufferOp> buffer = lookupBuffer(*this, tables, getNameAttr());
  if (failed(buffer))
    return failure();
  if (buffer->getType() != getType())
    return emitOpError() << "result type " << getType()
                         << " differs from the buffer's type "
                         << buffer->getType();
  return success();
}

LogicalResult SliceOp::verify() {
  auto source = getSource().getType();
  auto result = getResult().getType();
  if (source.getRank() < 2)
    return emitOpError() << "source must have rank 2 or more, got "
                         << source.getRank();
  if (result.getShape() != source.getShape().drop_front() ||
      result.getElementType() != source.getElementType())
    return emitOpError() << "result must be " << source.getElementType()
                         << " of shape "
                         << shapeString(source.getShape().drop_front())
                         << ", got " << result;
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto source = getSource().getType();
  auto result = getResult().getType();
  if (source.getNumElements() != result.getNumElements() ||
      source.getElementType() != result.getElementType())
    return emitOpError() << "cannot reshape " << source << " ("
                         << source.getNumElements() << " elements) to "
                         << result << " (" << result.getNumElements()
                         << " elements)";
  return success();
}

LogicalResult InitParamOp::verify() {
  auto type = getBuffer().getType();
  if (!isFloatElement(type.getElementType()))
    return emitOpError() << "parameters must have a float element type, got "
                         << type.getElementType();
  if (getName().empty())
    return emitOpError() << "name must not be empty";
  if (getKind() == InitKind::Normal) {
    if (!getStd() || !(getStd()->convertToDouble() > 0))
      return emitOpError() << "normal init needs a positive std";
  } else if (getStd()) {
    return emitOpError() << stringifyInitKind(getKind())
                         << " init takes no std";
  }
  if (getRowLength() && getRowLengthAttr().getInt() < type.getShape().back())
    return emitOpError() << "row_length (" << getRowLengthAttr().getInt()
                         << ") must be at least the last dim ("
                         << type.getShape().back() << ")";
  return success();
}

LogicalResult FillOp::verify() {
  Type elem = getBuffer().getType().getElementType();
  Type want = isFloatElement(elem) ? Type(Float32Type::get(getContext()))
                                   : Type(IntegerType::get(getContext(), 32));
  if (getValue().getType() != want)
    return emitOpError() << "value for " << elem << " elements must be " << want
                         << ", got " << getValue().getType();
  return success();
}

LogicalResult CopyOp::verify() {
  auto s = getSource().getType();
  auto t = getTarget().getType();
  if (s.getElementType() != t.getElementType() ||
      s.getNumElements() != t.getNumElements())
    return emitOpError() << "source " << s << " and target " << t
                         << " must have the same element type and count";
  return success();
}

LogicalResult ReadScalarOp::verify() {
  auto type = getBuffer().getType();
  if (getIndexAttr().getInt() < 0 ||
      getIndexAttr().getInt() >= type.getNumElements())
    return emitOpError() << "index " << getIndexAttr().getInt()
                         << " is outside the " << type.getNumElements()
                         << " elements";
  Type want = isFloatElement(type.getElementType())
                  ? Type(Float32Type::get(getContext()))
                  : Type(IntegerType::get(getContext(), 32));
  if (getResult().getType() != want)
    return emitOpError() << "result for " << type.getElementType()
                         << " elements must be " << want << ", got "
                         << getResult().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

LogicalResult KernelOp::verify() {
  const KernelInfo *info = lookupKernel(getKernel());
  if (!info)
    return emitOpError() << "unknown kernel '" << getKernel() << "'";
  unsigned expected = 0;
  for (const KernelArg &a : info->args)
    expected += operandsOf(a.kind);
  auto diag = [&]() {
    return emitOpError() << "kernel '" << info->name << "' ";
  };
  if (getArgs().size() != expected)
    return diag() << "takes " << expected << " operands, got "
                  << getArgs().size();

  MLIRContext *ctx = getContext();
  Type i64 = IntegerType::get(ctx, 64), f32 = Float32Type::get(ctx);
  llvm::StringSet<> attrNames;
  llvm::DenseMap<int, std::pair<unsigned, StringRef>> groupFirst;
  unsigned pos = 0;
  for (const KernelArg &a : info->args) {
    if (isAttributeArg(a.kind)) {
      attrNames.insert(a.name);
      Attribute attr = (*this)->getAttr(a.name);
      bool ok = false;
      StringRef what;
      switch (a.kind) {
      case KernelArgKind::Bool:
        ok = isa_and_nonnull<BoolAttr>(attr);
        what = "a bool";
        break;
      case KernelArgKind::Attention:
        ok = isa_and_nonnull<AttentionParamsAttr>(attr);
        what = "a #mimort.attention";
        break;
      case KernelArgKind::PatchEmbed:
        ok = isa_and_nonnull<PatchEmbedParamsAttr>(attr);
        what = "a #mimort.patch_embed";
        break;
      default:
        ok = isa_and_nonnull<AdamParamsAttr>(attr);
        what = "a #mimort.adam";
        break;
      }
      if (!ok)
        return diag() << "needs " << what << " attribute '" << a.name << "'";
      if (a.kind == KernelArgKind::Adam) {
        if (getArgs()[pos].getType() != i64 ||
            getArgs()[pos + 1].getType() != f32)
          return diag() << "takes the adam step (i64) and gradient scale "
                           "(f32) as operands "
                        << pos << " and " << pos + 1;
        pos += 2;
      }
      continue;
    }
    Value v = getArgs()[pos];
    Type t = v.getType();
    auto operandDiag = [&]() {
      return diag() << "operand " << pos << " (" << a.name << ") ";
    };
    switch (a.kind) {
    case KernelArgKind::I64:
      if (t != i64)
        return operandDiag() << "must be i64, got " << t;
      break;
    case KernelArgKind::F32:
      if (t != f32)
        return operandDiag() << "must be f32, got " << t;
      break;
    case KernelArgKind::Workspace:
      if (!isa<BufferType>(t))
        return operandDiag() << "must be a !mimort.buffer, got " << t;
      break;
    default: {
      if (isa<AbsentType>(t)) {
        if (a.kind != KernelArgKind::OptionalTensor)
          return operandDiag() << "is required and cannot be absent";
        break;
      }
      auto buffer = dyn_cast<BufferType>(t);
      if (!buffer)
        return operandDiag() << "must be a !mimort.buffer, got " << t;
      Type elem = buffer.getElementType();
      if (a.elem == KernelElem::Float && !isFloatElement(elem))
        return operandDiag() << "must have f32 or bf16 elements, got " << elem;
      if (a.elem == KernelElem::I32 && !elem.isInteger(32))
        return operandDiag() << "must have i32 elements, got " << elem;
      if (a.sameShapeGroup) {
        auto [it, first] =
            groupFirst.try_emplace(a.sameShapeGroup, pos, a.name);
        if (!first) {
          auto other = cast<BufferType>(getArgs()[it->second.first].getType());
          if (other.getShape() != buffer.getShape())
            return operandDiag()
                   << "has shape " << shapeString(buffer.getShape())
                   << " but operand " << it->second.first << " ("
                   << it->second.second << ") has "
                   << shapeString(other.getShape());
        }
      }
      break;
    }
    }
    ++pos;
  }
  for (NamedAttribute attr : (*this)->getDiscardableAttrs())
    if (!attrNames.contains(attr.getName().getValue()))
      return diag() << "has no attribute '" << attr.getName().getValue() << "'";
  return success();
}

//===----------------------------------------------------------------------===//
// Communication
//===----------------------------------------------------------------------===//

#define MIMORT_GROUP_SIZE(OpT)                                                 \
  int64_t OpT::getGroupSize() {                                                \
    auto grid =                                                                \
        SymbolTable::lookupNearestSymbolFrom<GridOp>(*this, getGridAttr());    \
    int64_t size = 1;                                                          \
    for (Attribute d : getDims())                                              \
      size *= grid.getDimSize(cast<StringAttr>(d).getValue());                 \
    return size;                                                               \
  }
MIMORT_GROUP_SIZE(AllReduceOp)
MIMORT_GROUP_SIZE(AllGatherOp)
MIMORT_GROUP_SIZE(ReduceScatterOp)
MIMORT_GROUP_SIZE(BroadcastOp)
MIMORT_GROUP_SIZE(SendOp)
MIMORT_GROUP_SIZE(RecvOp)
MIMORT_GROUP_SIZE(RecvStartOp)
#undef MIMORT_GROUP_SIZE

LogicalResult AllReduceOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (failed(verifyGroup(*this, tables, getGridAttr(), getDims())))
    return failure();
  // bf16 sums accumulate in f32 on every backend; a max would compare bits.
  if (getBuffer().getType().getElementType().isBF16() &&
      getReduce() != ReduceKind::Sum)
    return emitOpError() << "only sum all-reduces of bf16 buffers are "
                            "supported, got "
                         << stringifyReduceKind(getReduce());
  return success();
}

/// `big` must hold `groupSize` blocks of `small`'s size, same element type.
static LogicalResult verifyBlocks(Operation *op, FailureOr<int64_t> groupSize,
                                  BufferType small, BufferType big,
                                  StringRef smallName, StringRef bigName) {
  if (failed(groupSize))
    return failure();
  if (small.getElementType() != big.getElementType())
    return op->emitOpError() << smallName << " and " << bigName
                             << " must have the same element type";
  if (big.getNumElements() != small.getNumElements() * *groupSize)
    return op->emitOpError() << bigName << " must hold group size ("
                             << *groupSize << ") x " << small.getNumElements()
                             << " elements, got " << big.getNumElements();
  return success();
}

LogicalResult AllGatherOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyBlocks(
      *this, verifyGroup(*this, tables, getGridAttr(), getDims()),
      getSource().getType(), getTarget().getType(), "source", "target");
}

LogicalResult ReduceScatterOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyBlocks(
      *this, verifyGroup(*this, tables, getGridAttr(), getDims()),
      getTarget().getType(), getSource().getType(), "target", "source");
}

LogicalResult BroadcastOp::verifySymbolUses(SymbolTableCollection &tables) {
  FailureOr<int64_t> size =
      verifyGroup(*this, tables, getGridAttr(), getDims());
  if (failed(size))
    return failure();
  if (getRootAttr().getInt() < 0 || getRootAttr().getInt() >= *size)
    return emitOpError() << "root " << getRootAttr().getInt()
                         << " is not a rank of the group (size " << *size
                         << ")";
  return success();
}

/// A point-to-point op names a group and a non-negative tag.
template <typename OpT>
static LogicalResult verifyPointToPoint(OpT op, SymbolTableCollection &tables) {
  if (failed(verifyGroup(op, tables, op.getGridAttr(), op.getDims())))
    return failure();
  if (op.getTagAttr().getInt() < 0)
    return op.emitOpError()
           << "tag must be non-negative, got " << op.getTagAttr().getInt();
  return success();
}

LogicalResult SendOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyPointToPoint(*this, tables);
}

LogicalResult RecvOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyPointToPoint(*this, tables);
}

LogicalResult RecvStartOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyPointToPoint(*this, tables);
}

/// The declaration a view was taken from (through slices and reshapes), or
/// null when it is not a mimort.get's.
static FlatSymbolRefAttr declarationOf(Value view) {
  while (Operation *def = view.getDefiningOp()) {
    if (auto get = dyn_cast<GetOp>(def))
      return get.getNameAttr();
    if (!isa<SliceOp, ReshapeOp>(def))
      return {};
    view = def->getOperand(0);
  }
  return {};
}

LogicalResult RecvStartOp::verify() {
  Value request = getRequest();
  auto users = llvm::to_vector(request.getUsers());
  auto wait = users.size() == 1 ? dyn_cast<RecvWaitOp>(users[0]) : RecvWaitOp();
  if (!wait || wait->getBlock() != (*this)->getBlock())
    return emitOpError() << "request must have exactly one use, a "
                            "mimort.recv_wait in the same block; it has "
                         << users.size() << " use(s)";
  if (wait->isBeforeInBlock(*this))
    return emitOpError() << "request is waited for before it is started";
  FlatSymbolRefAttr decl = declarationOf(getBuffer());
  if (!decl)
    return success();
  // The buffer belongs to the communicator until the wait.
  for (Operation *op = (*this)->getNextNode(); op != wait.getOperation();
       op = op->getNextNode()) {
    Operation *user = nullptr;
    op->walk([&](Operation *inner) {
      for (Value v : inner->getOperands())
        if (isa<BufferType>(v.getType()) && declarationOf(v) == decl) {
          user = inner;
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    if (user) {
      InFlightDiagnostic d = emitOpError()
                             << "buffer " << decl << " is used by '"
                             << user->getName()
                             << "' before the receive's mimort.recv_wait";
      d.attachNote(user->getLoc()) << "used here";
      return d;
    }
  }
  return success();
}

LogicalResult GridCoordOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto grid = tables.lookupNearestSymbolFrom<GridOp>(*this, getGridAttr());
  if (!grid)
    return emitOpError() << "'" << getGrid() << "' does not name a mimort.grid";
  if (grid.getDimSize(getDim()) < 0)
    return emitOpError() << "dim must be one of tp, cp, pp, dp, got '"
                         << getDim() << "'";
  return success();
}

//===----------------------------------------------------------------------===//
// Host staging and data
//===----------------------------------------------------------------------===//

LogicalResult OffloadOp::verifySymbolUses(SymbolTableCollection &tables) {
  return lookupBuffer(*this, tables, getNameAttr());
}

LogicalResult FetchOp::verifySymbolUses(SymbolTableCollection &tables) {
  return lookupBuffer(*this, tables, getNameAttr());
}

LogicalResult NextBatchOp::verify() {
  auto data = findInModule<DataOp>(*this);
  if (!data)
    return emitOpError() << "needs a mimort.data in the module";
  int64_t local = data.getLocalBatch();
  int64_t tokens = local * data.getSeqLenAttr().getInt();
  for (auto [name, v] :
       {std::pair<StringRef, Value>{"input_ids", getInputIds()},
        {"labels", getLabels()}}) {
    auto type = cast<BufferType>(v.getType());
    if (!type.getElementType().isInteger(32) || type.getNumElements() != tokens)
      return emitOpError() << name << " must be i32 with local batch x "
                           << "seq_len (" << local << " x "
                           << data.getSeqLenAttr().getInt()
                           << ") elements, got " << type;
  }
  if (getPixels()) {
    if (data.getImagesPerSampleAttr().getInt() == 0)
      return emitOpError() << "pixels given but the data has no images";
    auto type = cast<BufferType>(getPixels().getType());
    int64_t n = local * data.getImagesPerSampleAttr().getInt() *
                data.getChannelsAttr().getInt() *
                data.getImageSizeAttr().getInt() *
                data.getImageSizeAttr().getInt();
    if (!type.getElementType().isF32() || type.getNumElements() != n)
      return emitOpError() << "pixels must be f32 with " << n
                           << " elements, got " << type;
  }
  return success();
}

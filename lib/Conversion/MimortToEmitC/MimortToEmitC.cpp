//===- MimortToEmitC.cpp - Lower mimort programs to EmitC -----------------===//
//
// One conversion, one type converter (MLIR22-NOTES.md §4): upstream
// func/scf/arith patterns and the mimort patterns below share it, so index
// values become size_t consistently and mimort buffers become TensorViews.
// Every mimort op turns into a call of mimo/program/Support.h; literal
// arguments (names, enums, shapes, kernel parameter structs) are emitted as
// opaque C++ text so the generated code reads like hand-written code.
//
//===----------------------------------------------------------------------===//

#include "mimo/Conversion/Passes.h"
#include "mimo/Dialect/Mimort/KernelTable.h"
#include "mimo/Dialect/Mimort/MimortOps.h"

#include "mlir/Conversion/ArithToEmitC/ArithToEmitC.h"
#include "mlir/Conversion/FuncToEmitC/FuncToEmitC.h"
#include "mlir/Conversion/SCFToEmitC/SCFToEmitC.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/EmitC/Transforms/TypeConversions.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Iterators.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/Support/Format.h"

namespace mimo {
#define GEN_PASS_DEF_CONVERTMIMORTTOEMITC
#include "mimo/Conversion/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;
using namespace mimo::mimort;

namespace {

//===----------------------------------------------------------------------===//
// C++ literals
//===----------------------------------------------------------------------===//

std::string cppString(StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string cppFloat(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.9g", v);
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s + "f";
}

std::string cppDouble(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.17g", v);
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

std::string cppBool(bool v) { return v ? "true" : "false"; }

std::string cppDimMask(ArrayAttr dims) {
  std::string s;
  for (Attribute d : dims) {
    StringRef name = cast<StringAttr>(d).getValue();
    s += (s.empty() ? "" : " | ") + std::string("mimo::rt::k") +
         char(toupper(name[0])) + name.substr(1).str() + "Mask";
  }
  return s;
}

std::string cppReduce(ReduceKind k) {
  return k == ReduceKind::Sum ? "mimo::rt::ReduceOp::Sum"
                              : "mimo::rt::ReduceOp::Max";
}

/// Builds the `args` of an emitc.call_opaque: operands (by index) mixed with
/// opaque literals, in C++ argument order.
class CallBuilder {
public:
  CallBuilder(ConversionPatternRewriter &rewriter) : rewriter(rewriter) {}
  CallBuilder &operand(Value v) {
    args.push_back(rewriter.getIndexAttr(operands.size()));
    operands.push_back(v);
    return *this;
  }
  CallBuilder &literal(const std::string &text) {
    args.push_back(emitc::OpaqueAttr::get(rewriter.getContext(), text));
    return *this;
  }
  emitc::CallOpaqueOp build(Location loc, StringRef callee,
                            TypeRange results = {}) {
    return emitc::CallOpaqueOp::create(rewriter, loc, results, callee, operands,
                                       rewriter.getArrayAttr(args));
  }

private:
  ConversionPatternRewriter &rewriter;
  SmallVector<Value> operands;
  SmallVector<Attribute> args;
};

Type tensorViewType(MLIRContext *ctx) {
  return emitc::OpaqueType::get(ctx, kTensorViewCppType);
}

/// Replaces `op` by a call of `callee` whose arguments `fill` adds.
template <typename OpT>
LogicalResult replaceWithCall(OpT op, ConversionPatternRewriter &rewriter,
                              const TypeConverter *converter, StringRef callee,
                              function_ref<void(CallBuilder &)> fill) {
  SmallVector<Type> results;
  if (failed(converter->convertTypes(op->getResultTypes(), results)))
    return rewriter.notifyMatchFailure(op, "result type not convertible");
  CallBuilder call(rewriter);
  fill(call);
  auto callOp = call.build(op.getLoc(), callee, results);
  if (results.empty())
    rewriter.eraseOp(op);
  else
    rewriter.replaceOp(op, callOp.getResults());
  return success();
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

struct GetLowering : OpConversionPattern<GetOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GetOp op, OpAdaptor,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(
        op, r, getTypeConverter(), "mimo::program::buffer",
        [&](CallBuilder &c) { c.literal(cppString(op.getName())); });
  }
};

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SliceOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(), "mimo::program::slice",
                           [&](CallBuilder &c) {
                             c.operand(a.getSource()).operand(a.getIndex());
                           });
  }
};

struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ReshapeOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    std::string shape = "{";
    for (int64_t d : op.getResult().getType().getShape())
      shape += (shape.size() > 1 ? ", " : "") + std::to_string(d);
    shape += "}";
    return replaceWithCall(
        op, r, getTypeConverter(), "mimo::program::reshape",
        [&](CallBuilder &c) { c.operand(a.getSource()).literal(shape); });
  }
};

struct AbsentLowering : OpConversionPattern<AbsentOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AbsentOp op, OpAdaptor,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(), "mimo::program::absent",
                           [](CallBuilder &) {});
  }
};

struct InitParamLowering : OpConversionPattern<InitParamOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(InitParamOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    if (op.getKind() != InitKind::Normal)
      return replaceWithCall(
          op, r, getTypeConverter(), "mimo::program::initConstant",
          [&](CallBuilder &c) {
            c.operand(a.getBuffer())
                .literal(op.getKind() == InitKind::Ones ? "1.0f" : "0.0f");
          });
    int64_t rowLength = op.getRowLength()
                            ? op.getRowLengthAttr().getInt()
                            : op.getBuffer().getType().getShape().back();
    return replaceWithCall(op, r, getTypeConverter(),
                           "mimo::program::initNormal", [&](CallBuilder &c) {
                             c.operand(a.getBuffer())
                                 .literal(cppString(op.getName()))
                                 .literal(
                                     cppFloat(op.getStd()->convertToDouble()))
                                 .operand(a.getOffset())
                                 .literal(std::to_string(rowLength));
                           });
  }
};

struct FillLowering : OpConversionPattern<FillOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(FillOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(), "mimo::program::fill",
                           [&](CallBuilder &c) {
                             c.operand(a.getBuffer()).operand(a.getValue());
                           });
  }
};

struct CopyLowering : OpConversionPattern<CopyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(CopyOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(), "mimo::program::copy",
                           [&](CallBuilder &c) {
                             c.operand(a.getSource()).operand(a.getTarget());
                           });
  }
};

struct ReadScalarLowering : OpConversionPattern<ReadScalarOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ReadScalarOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    StringRef callee = op.getResult().getType().isF32()
                           ? "mimo::program::readF32"
                           : "mimo::program::readI32";
    return replaceWithCall(
        op, r, getTypeConverter(), callee, [&](CallBuilder &c) {
          c.operand(a.getBuffer())
              .literal(std::to_string(op.getIndexAttr().getInt()));
        });
  }
};

struct KernelLowering : OpConversionPattern<KernelOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(KernelOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    const KernelInfo *info = lookupKernel(op.getKernel());
    if (!info)
      return r.notifyMatchFailure(op, "unknown kernel");
    ValueRange operands = a.getArgs();
    // The Adam parameter struct takes run-time fields, so it is built by a
    // call of its own before the kernel call.
    Value adamParams;
    for (const KernelArg &arg : info->args) {
      if (arg.kind != KernelArgKind::Adam)
        continue;
      auto adam = cast<AdamParamsAttr>(op->getAttr(arg.name));
      CallBuilder c(r);
      c.literal(cppFloat(adam.getLr().getValueAsDouble()))
          .literal(cppFloat(adam.getBeta1().getValueAsDouble()))
          .literal(cppFloat(adam.getBeta2().getValueAsDouble()))
          .literal(cppFloat(adam.getEps().getValueAsDouble()))
          .literal(cppFloat(adam.getWeightDecay().getValueAsDouble()))
          .literal(cppBool(adam.getDecoupled().getValue()))
          .operand(operands[0])
          .operand(operands[1]);
      adamParams = c.build(op.getLoc(), "mimo::program::adamParams",
                           emitc::OpaqueType::get(getContext(),
                                                  "mimo::kernels::AdamParams"))
                       .getResult(0);
    }
    CallBuilder call(r);
    call.literal(cppString(info->name))
        .literal(std::string("&mimo::kernels::Kernels::") + info->method);
    unsigned pos = 0;
    for (const KernelArg &arg : info->args) {
      switch (arg.kind) {
      case KernelArgKind::Bool:
        call.literal(cppBool(cast<BoolAttr>(op->getAttr(arg.name)).getValue()));
        break;
      case KernelArgKind::Attention: {
        auto p = cast<AttentionParamsAttr>(op->getAttr(arg.name));
        call.literal("mimo::kernels::AttentionParams{" +
                     std::to_string(p.getQHeads()) + ", " +
                     std::to_string(p.getKvHeads()) + ", " +
                     std::to_string(p.getHeadDim()) + ", " +
                     cppBool(p.getCausal().getValue()) + ", " +
                     std::to_string(p.getSegment()) + ", " +
                     cppFloat(p.getScale().getValueAsDouble()) + "}");
        break;
      }
      case KernelArgKind::PatchEmbed: {
        auto p = cast<PatchEmbedParamsAttr>(op->getAttr(arg.name));
        call.literal("mimo::kernels::PatchEmbedParams{" +
                     std::to_string(p.getPatch()) + ", " +
                     std::to_string(p.getClassTokens()) + "}");
        break;
      }
      case KernelArgKind::Adam:
        call.operand(adamParams);
        pos += 2;
        break;
      default:
        call.operand(operands[pos++]);
        break;
      }
    }
    call.build(op.getLoc(), "mimo::program::callKernel");
    r.eraseOp(op);
    return success();
  }
};

template <typename OpT> std::string groupLiteralGrid(OpT op) {
  return cppString(op.getGrid());
}

struct AllReduceLowering : OpConversionPattern<AllReduceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AllReduceOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(),
                           "mimo::program::allReduce", [&](CallBuilder &c) {
                             c.operand(a.getBuffer())
                                 .literal(cppString(op.getGrid()))
                                 .literal(cppDimMask(op.getDims()))
                                 .literal(cppReduce(op.getReduce()));
                           });
  }
};

struct AllGatherLowering : OpConversionPattern<AllGatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AllGatherOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(),
                           "mimo::program::allGather", [&](CallBuilder &c) {
                             c.operand(a.getSource())
                                 .operand(a.getTarget())
                                 .literal(cppString(op.getGrid()))
                                 .literal(cppDimMask(op.getDims()));
                           });
  }
};

struct ReduceScatterLowering : OpConversionPattern<ReduceScatterOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ReduceScatterOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(),
                           "mimo::program::reduceScatter", [&](CallBuilder &c) {
                             c.operand(a.getSource())
                                 .operand(a.getTarget())
                                 .literal(cppString(op.getGrid()))
                                 .literal(cppDimMask(op.getDims()))
                                 .literal(cppReduce(op.getReduce()));
                           });
  }
};

struct BroadcastLowering : OpConversionPattern<BroadcastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(BroadcastOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(),
                           "mimo::program::broadcast", [&](CallBuilder &c) {
                             c.operand(a.getBuffer())
                                 .literal(cppString(op.getGrid()))
                                 .literal(cppDimMask(op.getDims()))
                                 .literal(
                                     std::to_string(op.getRootAttr().getInt()));
                           });
  }
};

template <typename OpT> struct PointToPointLowering : OpConversionPattern<OpT> {
  PointToPointLowering(const TypeConverter &tc, MLIRContext *ctx,
                       StringRef callee)
      : OpConversionPattern<OpT>(tc, ctx), callee(callee) {}
  LogicalResult matchAndRewrite(OpT op, typename OpT::Adaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(
        op, r, this->getTypeConverter(), callee, [&](CallBuilder &c) {
          c.operand(a.getBuffer())
              .operand(a.getPeer())
              .literal(cppString(op.getGrid()))
              .literal(cppDimMask(op.getDims()))
              .literal(std::to_string(op.getTagAttr().getInt()));
        });
  }
  std::string callee;
};

struct RecvWaitLowering : OpConversionPattern<RecvWaitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(RecvWaitOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(), "mimo::program::recvWait",
                           [&](CallBuilder &c) { c.operand(a.getRequest()); });
  }
};

struct GridCoordLowering : OpConversionPattern<GridCoordOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GridCoordOp op, OpAdaptor,
                                ConversionPatternRewriter &r) const override {
    std::string dim = op.getDim().upper();
    return replaceWithCall(op, r, getTypeConverter(),
                           "mimo::program::gridCoord", [&](CallBuilder &c) {
                             c.literal(cppString(op.getGrid()))
                                 .literal("mimo::rt::GridDim::" + dim);
                           });
  }
};

template <typename OpT> struct StagingLowering : OpConversionPattern<OpT> {
  StagingLowering(const TypeConverter &tc, MLIRContext *ctx, StringRef callee)
      : OpConversionPattern<OpT>(tc, ctx), callee(callee) {}
  LogicalResult matchAndRewrite(OpT op, typename OpT::Adaptor,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(
        op, r, this->getTypeConverter(), callee,
        [&](CallBuilder &c) { c.literal(cppString(op.getName())); });
  }
  std::string callee;
};

struct NextBatchLowering : OpConversionPattern<NextBatchOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(NextBatchOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    return replaceWithCall(op, r, getTypeConverter(),
                           "mimo::program::nextBatch", [&](CallBuilder &c) {
                             c.operand(a.getInputIds()).operand(a.getLabels());
                             if (a.getPixels())
                               c.operand(a.getPixels());
                           });
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

std::string cppCategory(MemoryCategory c) {
  switch (c) {
  case MemoryCategory::Params:
    return "mimo::rt::MemoryCategory::Params";
  case MemoryCategory::Grads:
    return "mimo::rt::MemoryCategory::Grads";
  case MemoryCategory::Optimizer:
    return "mimo::rt::MemoryCategory::Optimizer";
  case MemoryCategory::Activations:
    return "mimo::rt::MemoryCategory::Activations";
  case MemoryCategory::Workspace:
    return "mimo::rt::MemoryCategory::Workspace";
  }
  return "";
}

std::string cppDType(Type t) {
  if (t.isBF16())
    return "mimo::kernels::DType::BF16";
  if (t.isInteger(32))
    return "mimo::kernels::DType::I32";
  return "mimo::kernels::DType::F32";
}

struct ConvertMimortToEmitCPass
    : mimo::impl::ConvertMimortToEmitCBase<ConvertMimortToEmitCPass> {
  using Base::Base;

  /// Replaces the module-level declarations by `describe()` and wraps the
  /// program in its namespace and factory.
  LogicalResult lowerDeclarations(ModuleOp module) {
    MLIRContext *ctx = module.getContext();
    auto programs = llvm::to_vector(module.getOps<ProgramOp>());
    if (programs.size() != 1)
      return module.emitError()
             << "convert-mimort-to-emitc needs exactly one mimort.program, "
                "found "
             << programs.size();
    ProgramOp program = programs.front();

    // Process groups the program uses, in first-use order, so that every
    // rank creates them in the same order at start-up.
    SmallVector<std::pair<std::string, std::string>> groups;
    module.walk([&](Operation *op) {
      auto grid = op->getAttrOfType<FlatSymbolRefAttr>("grid");
      auto dims = op->getAttrOfType<ArrayAttr>("dims");
      if (!grid || !dims || !isa<MimortDialect>(op->getDialect()))
        return;
      std::pair<std::string, std::string> g{cppString(grid.getValue()),
                                            cppDimMask(dims)};
      if (!llvm::is_contained(groups, g))
        groups.push_back(g);
    });

    OpBuilder b(ctx);
    Location loc = program.getLoc();
    b.setInsertionPointToStart(module.getBody());
    emitc::IncludeOp::create(b, loc, "cstddef", /*is_standard_include=*/true);
    emitc::IncludeOp::create(b, loc, "cstdint", true);
    emitc::IncludeOp::create(b, loc, "mimo/program/Support.h", false);
    emitc::VerbatimOp::create(b, loc, "\nnamespace mimo_generated {\n");

    auto descType = emitc::PointerType::get(
        emitc::OpaqueType::get(ctx, "mimo::program::ProgramDesc"));
    auto describe = emitc::FuncOp::create(b, loc, "describe",
                                          b.getFunctionType({descType}, {}));
    Block *body = describe.addEntryBlock();
    b.setInsertionPointToStart(body);
    Value desc = body->getArgument(0);
    auto call = [&](StringRef callee, ArrayRef<std::string> literals) {
      SmallVector<Attribute> args{b.getIndexAttr(0)};
      for (const std::string &l : literals)
        args.push_back(emitc::OpaqueAttr::get(ctx, l));
      emitc::CallOpaqueOp::create(b, loc, TypeRange{}, callee, ValueRange{desc},
                                  b.getArrayAttr(args));
    };
    call("mimo::program::setProgram",
         {cppString(program.getSymName()),
          std::to_string(program.getWorldSizeAttr().getInt()),
          cppDouble(program.getFlopsPerStep().convertToDouble())});
    if (program.getDevice() != "cpu")
      call("mimo::program::setDevice", {cppString(program.getDevice())});
    SmallVector<Operation *> declarations{program};
    for (GridOp g : module.getOps<GridOp>()) {
      call("mimo::program::addGrid",
           {cppString(g.getSymName()), std::to_string(g.getTpAttr().getInt()),
            std::to_string(g.getCpAttr().getInt()),
            std::to_string(g.getPpAttr().getInt()),
            std::to_string(g.getDpAttr().getInt()),
            std::to_string(g.getOffsetAttr().getInt()),
            std::to_string(g.getSizeAttr().getInt())});
      declarations.push_back(g);
    }
    for (auto &[grid, mask] : groups)
      call("mimo::program::addGroup", {grid, mask});
    for (BufferOp buf : module.getOps<BufferOp>()) {
      std::string shape = "{";
      for (int64_t d : buf.getType().getShape())
        shape += (shape.size() > 1 ? ", " : "") + std::to_string(d);
      SmallVector<std::string> args{
          cppString(buf.getSymName()), cppCategory(buf.getCategory()),
          cppDType(buf.getType().getElementType()), shape + "}"};
      if (buf.getOnAttr())
        args.push_back(cppString(buf.getOnAttr().getValue()));
      if (auto stage = buf.getStageAttr())
        args.push_back(std::to_string(stage.getInt()));
      call("mimo::program::addBuffer", args);
      declarations.push_back(buf);
    }
    for (DataOp d : module.getOps<DataOp>()) {
      call("mimo::program::setData",
           {cppString(d.getGrid()),
            std::to_string(d.getGlobalBatchAttr().getInt()),
            std::to_string(d.getSeqLenAttr().getInt()),
            std::to_string(d.getVocabAttr().getInt()),
            std::to_string(d.getImageTokenIdOrDefault()),
            std::to_string(d.getImagesPerSampleAttr().getInt()),
            std::to_string(d.getTokensPerImageAttr().getInt()),
            std::to_string(d.getChannelsAttr().getInt()),
            std::to_string(d.getImageSizeAttr().getInt()),
            std::to_string(d.getSamples() ? d.getSamplesAttr().getInt() : 0)});
      declarations.push_back(d);
    }
    emitc::ReturnOp::create(b, loc, Value());

    b.setInsertionPointToEnd(module.getBody());
    emitc::VerbatimOp::create(b, loc, "} // namespace mimo_generated\n");
    std::string factory =
        "mimo::program::Program mimoProgram() {\n"
        "  return {mimo_generated::describe, mimo_generated::" +
        program.getInit().str() +
        ", mimo_generated::" + program.getStep().str() + "};\n}";
    emitc::VerbatimOp::create(b, loc, factory);
    for (Operation *op : declarations)
      op->erase();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (failed(lowerDeclarations(module)))
      return signalPassFailure();
    // Unused views, absent arguments and constants would become unused C++
    // variables.
    for (auto fn : module.getOps<func::FuncOp>())
      fn.walk<WalkOrder::PostOrder, ReverseIterator>([&](Operation *op) {
        if (op != fn && isOpTriviallyDead(op))
          op->erase();
      });

    TypeConverter converter;
    converter.addConversion([](Type t) -> std::optional<Type> {
      if (emitc::isSupportedEmitCType(t))
        return t;
      return std::nullopt;
    });
    populateEmitCSizeTTypeConversions(converter);
    populateMimortToEmitCTypeConversions(converter);

    RewritePatternSet patterns(ctx);
    populateFuncToEmitCPatterns(converter, patterns);
    populateSCFToEmitCConversionPatterns(patterns, converter);
    populateArithToEmitCPatterns(converter, patterns);
    populateMimortToEmitCPatterns(converter, patterns);

    ConversionTarget target(*ctx);
    target.addLegalDialect<emitc::EmitCDialect>();
    target.addIllegalDialect<func::FuncDialect, scf::SCFDialect,
                             arith::ArithDialect, MimortDialect>();
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void mimo::populateMimortToEmitCTypeConversions(TypeConverter &converter) {
  converter.addConversion(
      [](BufferType t) -> Type { return tensorViewType(t.getContext()); });
  converter.addConversion(
      [](AbsentType t) -> Type { return tensorViewType(t.getContext()); });
  converter.addConversion([](RequestType t) -> Type {
    return emitc::OpaqueType::get(t.getContext(), kRequestCppType);
  });
}

void mimo::populateMimortToEmitCPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<GetLowering, SliceLowering, ReshapeLowering, AbsentLowering,
               InitParamLowering, FillLowering, CopyLowering,
               ReadScalarLowering, KernelLowering, AllReduceLowering,
               AllGatherLowering, ReduceScatterLowering, BroadcastLowering,
               GridCoordLowering, NextBatchLowering>(converter, ctx);
  patterns.add<PointToPointLowering<SendOp>>(converter, ctx,
                                             "mimo::program::send");
  patterns.add<PointToPointLowering<RecvOp>>(converter, ctx,
                                             "mimo::program::recv");
  patterns.add<PointToPointLowering<RecvStartOp>>(converter, ctx,
                                                  "mimo::program::recvStart");
  patterns.add<RecvWaitLowering>(converter, ctx);
  patterns.add<StagingLowering<OffloadOp>>(converter, ctx,
                                           "mimo::program::offload");
  patterns.add<StagingLowering<FetchOp>>(converter, ctx,
                                         "mimo::program::fetch");
}

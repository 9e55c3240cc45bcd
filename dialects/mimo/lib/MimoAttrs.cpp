//===- MimoAttrs.cpp - mimo enums and attributes --------------------------===//

#include "mimo/Dialect/Mimo/MimoAttrs.h"
#include "mimo/Dialect/Mimo/MimoDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mimo;

#include "mimo/Dialect/Mimo/MimoEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "mimo/Dialect/Mimo/MimoAttrs.cpp.inc"

void MimoDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "mimo/Dialect/Mimo/MimoAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// ParallelAttr
//===----------------------------------------------------------------------===//

namespace {
/// Parses `key = <integer>`; the key has been consumed.
ParseResult parseIntValue(AsmParser &parser, StringRef key, int64_t &value) {
  if (parser.parseEqual() || parser.parseInteger(value))
    return parser.emitError(parser.getCurrentLocation(),
                            "expected an integer for '")
           << key << "'";
  return success();
}
} // namespace

Attribute ParallelAttr::parse(AsmParser &parser, Type) {
  int64_t tp = 1, cp = 1, pp = 1, dp = 1, layers = 0, offset = 0;
  RecomputeKind recompute = RecomputeKind::none;
  bool offAct = false, offParams = false, offOpt = false, sp = false,
       distOpt = false;
  llvm::SmallDenseSet<StringRef, 8> seen;
  if (parser.parseLess())
    return {};
  auto parseEntry = [&]() -> ParseResult {
    StringRef key;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key))
      return failure();
    if (!seen.insert(key).second)
      return parser.emitError(loc, "'") << key << "' given twice";
    if (key == "tp")
      return parseIntValue(parser, key, tp);
    if (key == "cp")
      return parseIntValue(parser, key, cp);
    if (key == "pp")
      return parseIntValue(parser, key, pp);
    if (key == "dp")
      return parseIntValue(parser, key, dp);
    if (key == "offset")
      return parseIntValue(parser, key, offset);
    if (key == "sequence_parallel") {
      sp = true;
      return success();
    }
    if (key == "distributed_optimizer") {
      distOpt = true;
      return success();
    }
    if (key == "recompute") {
      StringRef kind;
      SMLoc kindLoc = parser.getCurrentLocation();
      if (parser.parseEqual() || parser.parseKeyword(&kind))
        return failure();
      std::optional<RecomputeKind> parsed = symbolizeRecomputeKind(kind);
      if (!parsed)
        return parser.emitError(kindLoc, "unknown recompute kind '")
               << kind << "' (expected none, selective, full or layers(N))";
      recompute = *parsed;
      if (recompute == RecomputeKind::layers &&
          (parser.parseLParen() || parser.parseInteger(layers) ||
           parser.parseRParen()))
        return failure();
      return success();
    }
    if (key == "offload") {
      if (parser.parseEqual())
        return failure();
      return parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Square, [&]() -> ParseResult {
            StringRef what;
            SMLoc whatLoc = parser.getCurrentLocation();
            if (parser.parseKeyword(&what))
              return failure();
            if (what == "activations")
              offAct = true;
            else if (what == "params")
              offParams = true;
            else if (what == "optimizer")
              offOpt = true;
            else
              return parser.emitError(whatLoc, "unknown offload target '")
                     << what << "' (expected activations, params or optimizer)";
            return success();
          });
    }
    return parser.emitError(loc, "unknown key '")
           << key << "' in #mimo.parallel";
  };
  if (parser.parseCommaSeparatedList(parseEntry) || parser.parseGreater())
    return {};
  return parser.getChecked<ParallelAttr>(parser.getContext(), tp, cp, pp, dp,
                                         recompute, layers, offAct, offParams,
                                         offOpt, sp, distOpt, offset);
}

void ParallelAttr::print(AsmPrinter &p) const {
  p << "<tp = " << getTp() << ", cp = " << getCp() << ", pp = " << getPp()
    << ", dp = " << getDp();
  if (getRecompute() != RecomputeKind::none) {
    p << ", recompute = " << stringifyRecomputeKind(getRecompute());
    if (getRecompute() == RecomputeKind::layers)
      p << "(" << getRecomputeLayers() << ")";
  }
  if (getOffloadActivations() || getOffloadParams() || getOffloadOptimizer()) {
    SmallVector<StringRef> what;
    if (getOffloadActivations())
      what.push_back("activations");
    if (getOffloadParams())
      what.push_back("params");
    if (getOffloadOptimizer())
      what.push_back("optimizer");
    p << ", offload = [";
    llvm::interleaveComma(what, p);
    p << "]";
  }
  if (getSequenceParallel())
    p << ", sequence_parallel";
  if (getDistributedOptimizer())
    p << ", distributed_optimizer";
  if (getOffset() != 0)
    p << ", offset = " << getOffset();
  p << ">";
}

LogicalResult ParallelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t tp, int64_t cp, int64_t pp,
                                   int64_t dp, RecomputeKind recompute,
                                   int64_t recomputeLayers, bool, bool, bool,
                                   bool sequenceParallel, bool,
                                   int64_t offset) {
  std::pair<StringRef, int64_t> dims[] = {
      {"tp", tp}, {"cp", cp}, {"pp", pp}, {"dp", dp}};
  for (auto [name, value] : dims)
    if (value < 1)
      return emitError() << name << " must be at least 1, got " << value;
  if (recompute == RecomputeKind::layers && recomputeLayers < 1)
    return emitError() << "recompute layers must be at least 1, got "
                       << recomputeLayers;
  if (recompute != RecomputeKind::layers && recomputeLayers != 0)
    return emitError() << "recompute layers (" << recomputeLayers
                       << ") given without recompute = layers";
  if (sequenceParallel && tp == 1)
    return emitError() << "sequence parallelism needs tensor parallelism "
                          "(tp = 1)";
  if (offset < 0)
    return emitError() << "rank offset must be non-negative, got " << offset;
  return success();
}

//===----------------------------------------------------------------------===//
// PlanAttr
//===----------------------------------------------------------------------===//

Attribute PlanAttr::parse(AsmParser &parser, Type) {
  StringRef layoutName;
  int64_t world = 0, mbs = 1, vstages = 1;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseKeyword(&layoutName))
    return {};
  std::optional<Layout> layout = symbolizeLayout(layoutName);
  if (!layout) {
    parser.emitError(loc, "unknown layout '")
        << layoutName << "' (expected homogeneous, colocated or disaggregated)";
    return {};
  }
  llvm::SmallDenseSet<StringRef, 4> seen;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key))
      return {};
    if (!seen.insert(key).second) {
      parser.emitError(keyLoc, "'") << key << "' given twice";
      return {};
    }
    int64_t *slot = llvm::StringSwitch<int64_t *>(key)
                        .Case("world", &world)
                        .Case("micro_batch_size", &mbs)
                        .Case("virtual_stages", &vstages)
                        .Default(nullptr);
    if (!slot) {
      parser.emitError(keyLoc, "unknown key '") << key << "' in #mimo.plan";
      return {};
    }
    if (failed(parseIntValue(parser, key, *slot)))
      return {};
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<PlanAttr>(parser.getContext(), *layout, world, mbs,
                                     vstages);
}

void PlanAttr::print(AsmPrinter &p) const {
  p << "<" << stringifyLayout(getLayout()) << ", world = " << getWorld()
    << ", micro_batch_size = " << getMicroBatchSize();
  if (getVirtualStages() != 1)
    p << ", virtual_stages = " << getVirtualStages();
  p << ">";
}

LogicalResult PlanAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               Layout, int64_t world, int64_t microBatchSize,
                               int64_t virtualStages) {
  if (world < 1)
    return emitError() << "world size must be at least 1, got " << world;
  if (microBatchSize < 1)
    return emitError() << "micro-batch size must be at least 1, got "
                       << microBatchSize;
  if (virtualStages < 1)
    return emitError() << "virtual stages must be at least 1, got "
                       << virtualStages;
  return success();
}

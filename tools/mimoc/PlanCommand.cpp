//===- PlanCommand.cpp - mimoc plan ---------------------------------------===//
//
//   mimoc plan SPEC --hardware NAME|FILE --gpus N --gpus-per-node G
//              [--cluster FILE] [--gbs N] [--seq N] [--top K]
//              [--layouts homogeneous,colocated,disaggregated]
//              [--evaluate PLAN] [--json] [--trace FILE]
//              [--calibration FILE] [--memory-model megatron|mimo]
//
// Imports the spec into mimo IR, describes it for the planner and either
// searches plans or scores the one given (INTERFACES.md, "mimoc plan").
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "mimo/Dialect/Mimo/MimoDialect.h"
#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Dialect/Mimo/MimoProfile.h"
#include "mimo/Planner/Evaluator.h"
#include "mimo/Planner/Report.h"
#include "mimo/Planner/Search.h"
#include "mimo/Spec/SpecImport.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <sstream>

namespace cl = llvm::cl;
using namespace mimo::planner;

namespace mimo::tools {

cl::SubCommand &planSubCommand() {
  static cl::SubCommand sub("plan", "Search parallel plans for a model spec, "
                                    "or score one (--evaluate)");
  return sub;
}

namespace {

cl::opt<std::string> planInput(cl::Positional, cl::Required,
                               cl::desc("<spec.json>"),
                               cl::sub(planSubCommand()),
                               cl::cat(mimocCategory()));
cl::opt<std::string>
    planHardware("hardware",
                 cl::desc("Hardware: a built-in name (h100-sxm, h200, cpu) "
                          "or a hardware JSON file"),
                 cl::value_desc("name|file"), cl::init(""),
                 cl::sub(planSubCommand()), cl::sub(buildSubCommand()),
                 cl::cat(mimocCategory()));
cl::opt<int64_t> planGpus("gpus", cl::desc("GPUs of the job"), cl::init(0),
                          cl::sub(planSubCommand()), cl::sub(buildSubCommand()),
                          cl::cat(mimocCategory()));
cl::opt<int64_t> planGpusPerNode("gpus-per-node", cl::desc("GPUs per node"),
                                 cl::init(0), cl::sub(planSubCommand()),
                                 cl::sub(buildSubCommand()),
                                 cl::cat(mimocCategory()));
cl::opt<std::string>
    planCluster("cluster",
                cl::desc("Cluster JSON {hardware, gpus, gpus_per_node}; "
                         "flags given beside it take precedence"),
                cl::value_desc("file"), cl::init(""), cl::sub(planSubCommand()),
                cl::sub(buildSubCommand()), cl::cat(mimocCategory()));
cl::opt<int64_t> planGbs("gbs", cl::desc("Override the global batch size"),
                         cl::init(0), cl::sub(planSubCommand()),
                         cl::cat(mimocCategory()));
cl::opt<int64_t> planSeq("seq", cl::desc("Override the sequence length"),
                         cl::init(0), cl::sub(planSubCommand()),
                         cl::cat(mimocCategory()));
cl::opt<int64_t> planTop("top", cl::desc("Plans listed (default 5)"),
                         cl::init(5), cl::sub(planSubCommand()),
                         cl::cat(mimocCategory()));
cl::opt<std::string>
    planLayouts("layouts",
                cl::desc("Comma-separated layouts to search (default: "
                         "homogeneous,colocated,disaggregated)"),
                cl::init(""), cl::sub(planSubCommand()),
                cl::cat(mimocCategory()));
cl::opt<std::string> planEvaluate("evaluate",
                                  cl::desc("Score this plan.json as written"),
                                  cl::value_desc("plan"), cl::init(""),
                                  cl::sub(planSubCommand()),
                                  cl::cat(mimocCategory()));
cl::opt<bool> planJson("json", cl::desc("Print one JSON object"),
                       cl::init(false), cl::sub(planSubCommand()),
                       cl::cat(mimocCategory()));
cl::opt<std::string>
    planTrace("trace",
              cl::desc("Write a Chrome/Perfetto trace of the predicted "
                       "timeline (best plan, or the evaluated one)"),
              cl::value_desc("file"), cl::init(""), cl::sub(planSubCommand()),
              cl::cat(mimocCategory()));
cl::opt<std::string>
    planCalibration("calibration",
                    cl::desc("JSON overriding hardware figures with "
                             "measurements"),
                    cl::value_desc("file"), cl::init(""),
                    cl::sub(planSubCommand()), cl::sub(buildSubCommand()),
                    cl::cat(mimocCategory()));

cl::opt<std::string> planMemoryModel(
    "memory-model",
    cl::desc("Whose allocation the memory prediction follows: megatron "
             "(Megatron-LM on PyTorch, as the published measurements were "
             "taken; default) or mimo (mimo's own trainer's buffers)"),
    cl::value_desc("megatron|mimo"), cl::init("megatron"),
    cl::sub(planSubCommand()), cl::sub(buildSubCommand()),
    cl::cat(mimocCategory()));

int fail(const std::string &message) {
  llvm::errs() << "mimoc plan: " << message << "\n";
  return 1;
}

bool positiveFlag(const char *flag, int64_t value, bool zeroMeansUnset,
                  std::string &error) {
  if (value > 0 || (zeroMeansUnset && value == 0))
    return true;
  error = std::string("--") + flag + ": expected a positive integer, got " +
          std::to_string(value);
  return false;
}

} // namespace

bool clusterFlagsGiven() {
  for (const cl::Option *o : std::initializer_list<const cl::Option *>{
           &planHardware, &planGpus, &planGpusPerNode, &planCluster,
           &planCalibration, &planMemoryModel})
    if (o->getNumOccurrences() > 0)
      return true;
  return false;
}

/// The cluster from --cluster and the flags beside it.
bool buildCluster(Cluster &c, std::string &error) {
  if (!positiveFlag("gpus", planGpus, true, error) ||
      !positiveFlag("gpus-per-node", planGpusPerNode, true, error))
    return false;
  if (!planCluster.empty() && !loadClusterFile(planCluster, c, error))
    return false;
  if (!planHardware.empty() && !loadHardware(planHardware, c.hardware, error))
    return false;
  if (planGpus > 0)
    c.gpus = planGpus;
  if (planGpusPerNode > 0)
    c.gpusPerNode = planGpusPerNode;
  if (c.hardware.name.empty()) {
    error = "--hardware: required (a built-in name or a file), or --cluster";
    return false;
  }
  if (c.gpus <= 0) {
    error = "--gpus: required (a positive integer), or --cluster";
    return false;
  }
  if (c.gpusPerNode <= 0) {
    error = "--gpus-per-node: required (a positive integer), or --cluster";
    return false;
  }
  if (c.gpusPerNode > c.gpus && c.gpus % c.gpusPerNode != 0)
    c.gpusPerNode = c.gpus; // a partial node
  if (c.gpus % c.gpusPerNode != 0) {
    error = "--gpus: " + std::to_string(c.gpus) +
            " is not a whole number of nodes of --gpus-per-node " +
            std::to_string(c.gpusPerNode);
    return false;
  }
  if (!planCalibration.empty() &&
      !applyCalibrationFile(planCalibration, c.hardware, error))
    return false;
  if (!parseMemoryModel(planMemoryModel, c.memoryModel)) {
    error = "--memory-model: expected megatron or mimo, got '" +
            planMemoryModel + "'";
    return false;
  }
  return true;
}

namespace {

bool parseLayouts(std::vector<planner::Layout> &out, std::string &error) {
  if (planLayouts.empty())
    return true;
  out.clear();
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(planLayouts).split(parts, ',', -1, false);
  for (llvm::StringRef p : parts) {
    planner::Layout l;
    if (!parseLayout(p.trim().str(), l)) {
      error = "--layouts: unknown layout '" + p.trim().str() +
              "' (expected homogeneous, colocated, disaggregated)";
      return false;
    }
    if (std::find(out.begin(), out.end(), l) == out.end())
      out.push_back(l);
  }
  if (out.empty()) {
    error = "--layouts: expected at least one layout";
    return false;
  }
  return true;
}

int writeTrace(const Evaluation &e) {
  if (planTrace.empty())
    return 0;
  std::string error;
  if (!writeFileAtomically(planTrace, timelineToTraceJson(e), error))
    return fail(error);
  return 0;
}

} // namespace

int runPlan() {
  std::string error;
  if (!positiveFlag("gbs", planGbs, true, error) ||
      !positiveFlag("seq", planSeq, true, error) ||
      !positiveFlag("top", planTop, false, error))
    return fail(error);
  Cluster cluster;
  if (!buildCluster(cluster, error))
    return fail(error);
  SearchOptions options;
  options.topK = planTop;
  if (!parseLayouts(options.layouts, error))
    return fail(error);
  planner::Plan plan;
  if (!planEvaluate.empty() && !loadPlanFile(planEvaluate, plan, error))
    return fail(error);

  mlir::MLIRContext context;
  context.getOrLoadDialect<MimoDialect>();
  spec::ImportOptions importOptions;
  if (planSeq > 0)
    importOptions.seqLen = planSeq;
  if (planGbs > 0)
    importOptions.globalBatchSize = planGbs;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      spec::importSpecFile(planInput, context, importOptions);
  if (!module)
    return 1;
  ModelOp model;
  module->walk([&](ModelOp m) { model = m; });
  if (!model)
    return fail(planInput + ": the spec holds no mimo.model");
  mlir::FailureOr<cost::ModelProfile> profile = buildModelProfile(model);
  if (mlir::failed(profile))
    return 1;

  std::ostringstream os;
  if (!planEvaluate.empty()) {
    Evaluator evaluator(*profile, cluster);
    Evaluation e = evaluator.evaluate(plan, !planTrace.empty());
    if (planJson)
      os << evaluationToJson(e) << "\n";
    else
      printEvaluationReport(os, e, *profile);
    llvm::outs() << os.str();
    // A plan that breaks a rule of the model or cluster is bad input; one
    // that only runs out of memory is a valid answer ("feasible": false).
    if (e.invalid)
      return fail(planEvaluate + ": " + e.reason);
    return writeTrace(e);
  }

  SearchResult result = searchPlans(*profile, cluster, options);
  if (planJson)
    os << searchResultToJson(result) << "\n";
  else
    printSearchReport(os, result, *profile, cluster);
  llvm::outs() << os.str();
  if (!result.haveBest)
    return fail("no feasible plan on " + std::to_string(cluster.gpus) + " x " +
                cluster.hardware.name);
  if (!planTrace.empty()) {
    Evaluator evaluator(*profile, cluster);
    return writeTrace(evaluator.evaluate(result.best.plan, true));
  }
  return 0;
}

} // namespace mimo::tools

//===- BuildCommand.cpp - mimoc build -------------------------------------===//
//
//   mimoc build SPEC.json -o trainer              the trainer executable
//   mimoc build SPEC.json --plan plan.json -o trainer   on the plan's world
//   mimoc build SPEC.json --hardware H --gpus N --gpus-per-node G -o trainer
//                                                 on the best plan found
//   mimoc build SPEC.json --emit=mlir [-o F]      the mimort program
//   mimoc build SPEC.json --emit=cpp -o DIR       the trainer's source folder
//
// The whole lowering: import the spec, attach the plan (mimo-plan-
// parallelism: --plan as written, or with the cluster flags of `mimoc plan`
// the best plan its search finds, whose report goes to stderr; the world is
// the plan's), add the backward (mimo-generate-backward) and the other
// mimo passes, lower to the per-rank program (convert-mimo-to-mimort), then
// emit and build the trainer as `mimoc build-mimort` does.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "TrainerOutput.h"

#include "mimo/Conversion/Passes.h"
#include "mimo/Dialect/Mimo/MimoDialect.h"
#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Dialect/Mimo/MimoProfile.h"
#include "mimo/Dialect/Mimort/MimortDialect.h"
#include "mimo/Planner/Plan.h"
#include "mimo/Planner/Report.h"
#include "mimo/Planner/Search.h"
#include "mimo/Spec/SpecImport.h"
#include "mimo/Target/TrainerEmitter.h"
#include "mimo/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <sstream>

namespace cl = llvm::cl;

namespace mimo::tools {

cl::SubCommand &buildSubCommand() {
  static cl::SubCommand sub("build", "Build a trainer from a model spec "
                                     "and a plan: a trainer executable");
  return sub;
}

namespace {

enum class EmitKind { Exe, Mlir, Cpp };

cl::opt<std::string> input(cl::Positional, cl::Required,
                           cl::desc("<spec.json>"), cl::sub(buildSubCommand()),
                           cl::cat(mimocCategory()));
cl::opt<std::string>
    output("o",
           cl::desc("The trainer executable, the mimort program (--emit=mlir, "
                    "default stdout) or the source folder (--emit=cpp)"),
           cl::value_desc("path"), cl::sub(buildSubCommand()),
           cl::cat(mimocCategory()));
cl::opt<EmitKind> emit(
    "emit", cl::desc("What to produce"), cl::init(EmitKind::Exe),
    cl::values(clEnumValN(EmitKind::Exe, "exe", "the trainer executable"),
               clEnumValN(EmitKind::Mlir, "mlir", "the mimort program"),
               clEnumValN(EmitKind::Cpp, "cpp",
                          "a source folder that builds the trainer without "
                          "MLIR")),
    cl::sub(buildSubCommand()), cl::cat(mimocCategory()));
cl::opt<std::string>
    planFile("plan",
             cl::desc("Attach this plan.json (mimo-plan-parallelism) before "
                      "lowering; the trainer runs on the plan's world"),
             cl::value_desc("plan.json"), cl::sub(buildSubCommand()),
             cl::cat(mimocCategory()));
cl::opt<int64_t> dataSamples(
    "data-samples",
    cl::desc("Make the synthetic data a fixed pool of N samples (0: a fresh "
             "stream)"),
    cl::init(0), cl::sub(buildSubCommand()), cl::cat(mimocCategory()));
cl::opt<int64_t> gbs("gbs", cl::desc("Override training.global_batch_size"),
                     cl::init(0), cl::sub(buildSubCommand()),
                     cl::cat(mimocCategory()));
cl::opt<int64_t> seqLen(
    "seq",
    cl::desc(
        "Override data.seq_len (build a plan searched with mimoc plan --seq)"),
    cl::init(0), cl::sub(buildSubCommand()), cl::cat(mimocCategory()));
cl::opt<std::string> prebuilt(
    "prebuilt",
    cl::desc("Link against the libmimo_program in DIR; 'auto' (default) uses "
             "this build tree's when it is current, 'none' builds the "
             "runtime and kernels from source"),
    cl::value_desc("DIR|auto|none"), cl::init("auto"),
    cl::sub(buildSubCommand()), cl::cat(mimocCategory()));
cl::opt<std::string> buildDir(
    "build-dir",
    cl::desc("Where the source folder is written and built (default: a "
             "temporary directory, removed after a successful build)"),
    cl::value_desc("dir"), cl::sub(buildSubCommand()),
    cl::cat(mimocCategory()));
cl::opt<std::string> device(
    "device",
    cl::desc("Where the trainer runs: cpu (MPI, f32) or cuda (one GPU per "
             "process, NCCL)"),
    cl::value_desc("cpu|cuda"), cl::init("cpu"), cl::sub(buildSubCommand()),
    cl::cat(mimocCategory()));
cl::opt<int> jobs("j", cl::desc("Parallel build jobs (0: the tool decides)"),
                  cl::init(0), cl::sub(buildSubCommand()),
                  cl::cat(mimocCategory()));
cl::opt<bool>
    keepTemps("keep-temps",
              cl::desc("Keep the temporary folder the trainer is generated "
                       "and built in, and print its path"),
              cl::init(false), cl::sub(buildSubCommand()),
              cl::cat(mimocCategory()));

int fail(const llvm::Twine &message) {
  llvm::errs() << "mimoc build: " << message << "\n";
  return 1;
}

} // namespace

int runBuild() {
  if (dataSamples < 0)
    return fail("--data-samples: expected a non-negative integer, got " +
                std::to_string(dataSamples));
  if (gbs.getNumOccurrences() > 0 && gbs <= 0)
    return fail("--gbs: expected a positive integer, got " +
                std::to_string(gbs));
  if (seqLen.getNumOccurrences() > 0 && seqLen <= 0)
    return fail("--seq: expected a positive integer, got " +
                std::to_string(seqLen));
  if (device != "cpu" && device != "cuda")
    return fail("--device: expected cpu or cuda, got '" + device + "'");
  mlir::MLIRContext context;
  context.loadDialect<MimoDialect, mimort::MimortDialect,
                      mlir::func::FuncDialect, mlir::arith::ArithDialect,
                      mlir::scf::SCFDialect, mlir::emitc::EmitCDialect>();
  spec::ImportOptions importOptions;
  if (gbs > 0)
    importOptions.globalBatchSize = gbs;
  if (seqLen > 0)
    importOptions.seqLen = seqLen;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      spec::importSpecFile(input, context, importOptions);
  if (!module)
    return 1;
  // The CPU kernels are the f32 reference: a bf16 or fp16 model builds a
  // program (--emit=mlir) but no CPU trainer.
  if (emit != EmitKind::Mlir && device == "cpu")
    for (ModelOp model : module->getOps<ModelOp>())
      if (model.getPrecision() != "fp32")
        return fail("training.precision is '" + model.getPrecision() +
                    "' but the CPU kernels compute in f32: build with "
                    "--device cuda, or set training.precision to fp32");

  // With the cluster flags: the search's best plan, reported on stderr.
  std::string searched;
  if (clusterFlagsGiven()) {
    if (!planFile.empty())
      return fail("--plan and the cluster flags (--hardware, --gpus, "
                  "--gpus-per-node, --cluster, --calibration, --memory-model) "
                  "are exclusive: give a plan, or a cluster to search one for");
    planner::Cluster cluster;
    std::string error;
    if (!buildCluster(cluster, error))
      return fail(error);
    ModelOp model;
    module->walk([&](ModelOp m) { model = m; });
    if (!model)
      return fail(input + ": the spec holds no mimo.model");
    mlir::FailureOr<cost::ModelProfile> profile = buildModelProfile(model);
    if (mlir::failed(profile))
      return 1;
    planner::SearchResult result = planner::searchPlans(*profile, cluster);
    if (!result.haveBest)
      return fail("no feasible plan for '" + input + "' on " +
                  std::to_string(cluster.gpus) + " x " + cluster.hardware.name);
    std::ostringstream report;
    planner::printEvaluationReport(report, result.best, *profile);
    llvm::errs() << "mimoc build: the best plan on " << cluster.gpus << " x "
                 << cluster.hardware.name << "\n"
                 << report.str();
    searched = planner::planToJson(result.best.plan);
  }

  mlir::PassManager pm = mlir::PassManager::on<mlir::ModuleOp>(&context);
  if (!planFile.empty() || !searched.empty()) {
    MimoPlanParallelismOptions planOptions;
    planOptions.planFile = planFile;
    planOptions.planJson = searched;
    pm.addNestedPass<ModelOp>(createMimoPlanParallelism(planOptions));
  }
  pm.addNestedPass<ModelOp>(createMimoBridge());
  pm.addNestedPass<ModelOp>(createMimoGenerateBackward());
  pm.addNestedPass<ModelOp>(createMimoPartition());
  pm.addNestedPass<ModelOp>(createMimoPipeline());
  pm.addNestedPass<ModelOp>(createMimoApplyRecompute());
  pm.addNestedPass<ModelOp>(createMimoInsertOffload());
  ConvertMimoToMimortOptions lowerOptions;
  lowerOptions.dataSamples = dataSamples;
  lowerOptions.device = device;
  pm.addPass(createConvertMimoToMimort(lowerOptions));
  if (mlir::failed(pm.run(*module)))
    return fail("lowering '" + input + "' failed");

  if (emit == EmitKind::Mlir) {
    std::string error;
    llvm::Error err = llvm::writeToOutput(output.empty() ? std::string("-")
                                                         : output.getValue(),
                                          [&](llvm::raw_ostream &os) {
                                            module->print(os);
                                            return llvm::Error::success();
                                          });
    if (err)
      return fail(llvm::toString(std::move(err)));
    return 0;
  }
  TrainerOutputOptions out;
  out.sourceOnly = emit == EmitKind::Cpp;
  out.buildDir = buildDir;
  out.prebuilt = prebuilt;
  out.jobs = jobs;
  out.keepTemps = keepTemps;
  return writeTrainer(*module, output, out, "mimoc build");
}

} // namespace mimo::tools

//===- PlanParallelism.cpp - mimo-plan-parallelism ------------------------===//
//
// Attaches a parallel plan to a mimo.model: a plan.json checked against the
// model and cluster, or the best plan the planner finds.
//
//===----------------------------------------------------------------------===//

#include "mimo/Dialect/Mimo/MimoProfile.h"
#include "mimo/Planner/Evaluator.h"
#include "mimo/Planner/Hardware.h"
#include "mimo/Planner/Plan.h"
#include "mimo/Planner/Search.h"
#include "mimo/Transforms/Passes.h"

namespace mimo {
#define GEN_PASS_DEF_MIMOPLANPARALLELISM
#include "mimo/Transforms/Passes.h.inc"
} // namespace mimo

using namespace mlir;
using namespace mimo;

namespace {

RecomputeKind toIR(planner::RecomputeKind k) {
  switch (k) {
  case planner::RecomputeKind::None:
    return RecomputeKind::none;
  case planner::RecomputeKind::Selective:
    return RecomputeKind::selective;
  case planner::RecomputeKind::Full:
    return RecomputeKind::full;
  case planner::RecomputeKind::FullLayers:
    return RecomputeKind::layers;
  }
  return RecomputeKind::none;
}

Layout toIR(planner::Layout l) {
  switch (l) {
  case planner::Layout::Homogeneous:
    return Layout::homogeneous;
  case planner::Layout::Colocated:
    return Layout::colocated;
  case planner::Layout::Disaggregated:
    return Layout::disaggregated;
  }
  return Layout::homogeneous;
}

ParallelAttr toIR(MLIRContext *ctx, const planner::ModulePlan &m) {
  int64_t layers = m.recompute.kind == planner::RecomputeKind::FullLayers
                       ? m.recompute.layers
                       : 0;
  return ParallelAttr::get(ctx, m.tp, m.cp, m.pp, m.dp, toIR(m.recompute.kind),
                           layers, m.offloadActivations, m.offloadParams,
                           m.offloadOptimizer, m.sequenceParallel,
                           m.distributedOptimizer, m.rankOffset);
}

/// Ranks the plan spans: every grid's size, or the furthest span end.
int64_t worldOf(const planner::Plan &plan) {
  int64_t world = 0;
  for (const planner::ModulePlan &m : plan.modules)
    world = std::max(world, m.rankOffset + m.size());
  return world;
}

struct MimoPlanParallelismPass
    : public mimo::impl::MimoPlanParallelismBase<MimoPlanParallelismPass> {
  using Base::Base;

  void runOnOperation() override {
    ModelOp model = getOperation();
    FailureOr<cost::ModelProfile> profile = buildModelProfile(model);
    if (failed(profile))
      return signalPassFailure();

    planner::Plan plan;
    std::string error;
    bool given = !planFile.empty() || !planJson.empty();
    if (!planFile.empty() && !planJson.empty())
      return fail(model, "mimo-plan-parallelism: plan and plan-json are "
                         "exclusive");
    if (!planFile.empty() && !planner::loadPlanFile(planFile, plan, error))
      return fail(model, error);
    if (!planJson.empty() &&
        !planner::parsePlan(planJson, "plan-json", plan, error))
      return fail(model, error);
    const std::string label =
        planFile.empty() ? std::string("plan-json") : planFile.getValue();

    planner::Cluster cluster;
    if (!planner::loadHardware(hardware, cluster.hardware, error))
      return fail(model, error);
    if (!calibration.empty() &&
        !planner::applyCalibrationFile(calibration, cluster.hardware, error))
      return fail(model, error);
    if (!planner::parseMemoryModel(memoryModel, cluster.memoryModel))
      return fail(model, "mimo-plan-parallelism: memory-model: expected "
                         "megatron or mimo, got '" +
                             memoryModel + "'");
    cluster.gpus = gpus > 0 ? int64_t(gpus) : (given ? worldOf(plan) : 0);
    cluster.gpusPerNode = std::min<int64_t>(gpusPerNode, cluster.gpus);
    if (cluster.gpus < 1)
      return fail(model, "mimo-plan-parallelism: give plan=FILE, or gpus=N "
                         "(with hardware=NAME) to search");
    if (gpusPerNode < 1)
      return fail(model, "mimo-plan-parallelism: gpus-per-node must be at "
                         "least 1, got " +
                             std::to_string(int64_t(gpusPerNode)));

    planner::Evaluator evaluator(*profile, cluster);
    if (given) {
      std::string why = evaluator.validate(plan);
      if (!why.empty())
        return fail(model, label + ": " + why);
    } else {
      planner::SearchResult result = planner::searchPlans(*profile, cluster);
      if (!result.haveBest)
        return fail(model, "mimo-plan-parallelism: no plan fits " +
                               std::to_string(cluster.gpus) + " x " +
                               cluster.hardware.name);
      plan = result.best.plan;
    }
    attach(model, plan);
  }

  void fail(ModelOp model, const std::string &message) {
    model.emitError() << message;
    signalPassFailure();
  }

  void attach(ModelOp model, const planner::Plan &plan) {
    MLIRContext *ctx = model.getContext();
    model.setPlanAttr(PlanAttr::get(ctx, toIR(plan.layout), worldOf(plan),
                                    plan.microBatchSize, plan.virtualStages));
    for (mimo::ModuleOp m : model.getModules()) {
      const planner::ModulePlan *mp = plan.find(m.getSymName().str());
      // A projector runs on its encoder's grid unless it has its own entry;
      // it has no layer stack, so none of the encoder's recompute (the
      // planner costs it without, Evaluator::stagesOf).
      planner::ModulePlan inherited;
      if (!mp && m.getKind() == ModuleKind::projector) {
        mp = plan.find(
            cast<SymbolRefAttr>(m.getInputsAttr()[0]).getRootReference().str());
        if (mp) {
          inherited = *mp;
          inherited.recompute = planner::Recompute();
          mp = &inherited;
        }
      }
      if (!mp) {
        m.emitOpError() << "module '" << m.getSymName()
                        << "' has no entry in the plan";
        return signalPassFailure();
      }
      m.setParallelAttr(toIR(ctx, *mp));
    }
  }
};

} // namespace

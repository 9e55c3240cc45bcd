//===- MimoProfile.h - mimo IR to the planner's model profile ---*- C++ -*-===//

#ifndef MIMO_DIALECT_MIMO_MIMOPROFILE_H
#define MIMO_DIALECT_MIMO_MIMOPROFILE_H

#include "mimo/Cost/ModelProfile.h"
#include "mimo/Dialect/Mimo/MimoOps.h"

namespace mimo {

/// Describes `model` for the planner: every module's ops through the cost
/// interface, each stack once with its count. Fails (with a diagnostic on
/// the op) if an op in a module does not implement the cost interface.
mlir::FailureOr<cost::ModelProfile> buildModelProfile(ModelOp model);

/// Forward plus backward FLOPs of one sample through forward module `m`,
/// from the cost interface of its ops (stacked ops counted once per layer).
/// `mimo-partition` records this on the modules it splits (attribute
/// `mimo.flops_per_sample`) before their shapes become local; the function
/// returns that record when present, so it always gives the model's FLOPs.
double trainingFlopsPerSample(mimo::ModuleOp m, int64_t bytesPerElement);

} // namespace mimo

#endif // MIMO_DIALECT_MIMO_MIMOPROFILE_H

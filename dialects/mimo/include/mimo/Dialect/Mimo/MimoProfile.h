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

} // namespace mimo

#endif // MIMO_DIALECT_MIMO_MIMOPROFILE_H

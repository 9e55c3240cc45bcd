//===- MimoInterfaces.td - mimo op interfaces --------------*- tablegen -*-===//

#ifndef MIMO_DIALECT_MIMOINTERFACES_TD
#define MIMO_DIALECT_MIMOINTERFACES_TD

include "mlir/IR/OpBase.td"

def Mimo_CostOpInterface : OpInterface<"CostOpInterface"> {
  let cppNamespace = "::mimo";
  let description = [{
    What an op costs: parameters, forward/backward FLOPs, bytes read and
    written, activation bytes saved for the backward and the tensor-parallel
    collectives it needs, per sample, under a tp/cp split. An op describes
    its shapes as a `cost::OpDesc`; the closed forms live in
    `mimo/Cost/OpCost.h` so the planner and this interface share them.
  }];
  let methods = [
    InterfaceMethod<"Describes this op's shapes and parallel role.",
      "::mimo::cost::OpDesc", "getOpDesc">,
    InterfaceMethod<"Cost of this op per sample and rank under `ctx`.",
      "::mimo::cost::OpCost", "getCost",
      (ins "const ::mimo::cost::CostContext &":$ctx), [{}], [{
        return ::mimo::cost::computeOpCost(
            ::mlir::cast<::mimo::CostOpInterface>($_op.getOperation())
                .getOpDesc(), ctx);
      }]>
  ];
}

#endif // MIMO_DIALECT_MIMOINTERFACES_TD

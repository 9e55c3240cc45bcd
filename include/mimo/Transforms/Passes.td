//===- Passes.td - mimo passes ------------------------------*- tablegen -*-===//

#ifndef MIMO_TRANSFORMS_PASSES_TD
#define MIMO_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def MimoReportCosts : Pass<"mimo-report-costs", "::mimo::ModelOp"> {
  let summary = "Report each module's parameters, FLOPs and activation memory";
  let description = [{
    Sums the cost interface of every op of each module (stacks counted
    `count` times) under the given tensor/context-parallel split and emits
    one remark per module: parameters on a rank, model forward and backward
    FLOPs per sample, and saved-activation bytes per sample. The figures are
    the ones the planner starts from, so a compiler engineer can check them
    on any IR.

    ```
    mimo-opt model.mlir --mimo-report-costs="tp=2"
    ```
  }];
  let options = [
    Option<"tp", "tp", "int64_t", "1", "tensor-parallel size">,
    Option<"cp", "cp", "int64_t", "1", "context-parallel size">,
    Option<"sequenceParallel", "sequence-parallel", "bool", "false",
           "Megatron sequence parallelism">
  ];
}

#endif // MIMO_TRANSFORMS_PASSES_TD

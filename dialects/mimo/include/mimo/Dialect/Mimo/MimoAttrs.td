//===- MimoAttrs.td - mimo enums and attributes ------------*- tablegen -*-===//

#ifndef MIMO_DIALECT_MIMOATTRS_TD
#define MIMO_DIALECT_MIMOATTRS_TD

include "mimo/Dialect/Mimo/MimoDialect.td"
include "mlir/IR/EnumAttr.td"

def Mimo_ModuleKind : I32Enum<"ModuleKind", "role of a module in the model", [
  I32EnumCase<"encoder", 0>,
  I32EnumCase<"projector", 1>,
  I32EnumCase<"llm", 2>,
  I32EnumCase<"backward", 3>
]> {
  let cppNamespace = "::mimo";
}
def Mimo_ModuleKindAttr : EnumAttr<Mimo_Dialect, Mimo_ModuleKind, "module_kind"> {
  let assemblyFormat = "`<` $value `>`";
}

def Mimo_TpSplit : I32Enum<"TpSplit", "tensor-parallel role of an op", [
  I32EnumCase<"none", 0>,
  I32EnumCase<"column", 1>,
  I32EnumCase<"row", 2>,
  I32EnumCase<"vocab", 3>
]> {
  let cppNamespace = "::mimo";
}
def Mimo_TpSplitAttr : EnumAttr<Mimo_Dialect, Mimo_TpSplit, "tp_split"> {
  let assemblyFormat = "`<` $value `>`";
}

def Mimo_InitKind : I32Enum<"InitKind", "parameter initialisation", [
  I32EnumCase<"normal", 0>,
  I32EnumCase<"zeros", 1>,
  I32EnumCase<"ones", 2>
]> {
  let cppNamespace = "::mimo";
}
def Mimo_InitKindAttr : EnumAttr<Mimo_Dialect, Mimo_InitKind, "init"> {
  let assemblyFormat = "`<` $value `>`";
}

def Mimo_Layout : I32Enum<"Layout", "how modules share ranks", [
  I32EnumCase<"homogeneous", 0>,
  I32EnumCase<"colocated", 1>,
  I32EnumCase<"disaggregated", 2>
]> {
  let cppNamespace = "::mimo";
}

def Mimo_BridgeKindAttr : I32EnumAttr<"BridgeKind",
    "how the bridge moves encoder tokens to the LLM's grid", [
  I32EnumAttrCase<"equal", 0>,
  I32EnumAttrCase<"fan_in", 1>,
  I32EnumAttrCase<"fan_out", 2>,
  I32EnumAttrCase<"leaders", 3>
]> {
  let cppNamespace = "::mimo";
}

def Mimo_RecomputeKind : I32Enum<"RecomputeKind", "activation recompute", [
  I32EnumCase<"none", 0>,
  I32EnumCase<"selective", 1>,
  I32EnumCase<"full", 2>,
  I32EnumCase<"layers", 3>
]> {
  let cppNamespace = "::mimo";
}

def Mimo_ParallelAttr : Mimo_Attr<"Parallel", "parallel"> {
  let summary = "parallel plan of one module";
  let description = [{
    The grid of one module, dims ordered [tp, cp, pp, dp] with tp fastest,
    over the ranks [offset, offset + tp*cp*pp*dp), plus how its memory is
    managed. Defaults are omitted when printed.

    ```mlir
    #mimo.parallel<tp = 2, cp = 1, pp = 2, dp = 4, recompute = layers(4),
                   offload = [activations, params], sequence_parallel,
                   distributed_optimizer, offset = 16>
    ```
    `recompute` is `none`, `selective` (attention core), `full` or
    `layers(N)` (full recompute of the first N layers of each stage);
    `offload` lists any of `activations`, `params`, `optimizer`.
  }];
  let parameters = (ins
    "int64_t":$tp, "int64_t":$cp, "int64_t":$pp, "int64_t":$dp,
    "::mimo::RecomputeKind":$recompute, "int64_t":$recomputeLayers,
    "bool":$offloadActivations, "bool":$offloadParams,
    "bool":$offloadOptimizer, "bool":$sequenceParallel,
    "bool":$distributedOptimizer, "int64_t":$offset);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Ranks this module's grid spans: tp * cp * pp * dp.
    int64_t getSize() const {
      return getTp() * getCp() * getPp() * getDp();
    }
  }];
}

def Mimo_PlanAttr : Mimo_Attr<"Plan", "plan"> {
  let summary = "parallel plan of the whole model";
  let description = [{
    The layout, the world size, the micro-batch size and the pipeline
    schedule: one virtual stage per rank is 1F1B, more is interleaved 1F1B.

    ```mlir
    #mimo.plan<colocated, world = 16, micro_batch_size = 1, virtual_stages = 2>
    ```
  }];
  let parameters = (ins "::mimo::Layout":$layout, "int64_t":$world,
                        "int64_t":$microBatchSize, "int64_t":$virtualStages);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

#endif // MIMO_DIALECT_MIMOATTRS_TD

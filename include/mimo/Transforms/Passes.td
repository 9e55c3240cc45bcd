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

def MimoPlanParallelism : Pass<"mimo-plan-parallelism", "::mimo::ModelOp"> {
  let summary = "Attach a parallel plan to the model: a given plan.json or the best one found";
  let description = [{
    With `plan=FILE`, reads plan.json, checks it against the model and the
    cluster (divisibility, grid sizes, layout) and attaches it as written.
    Otherwise searches plans for the cluster (`hardware`, `gpus`,
    `gpus-per-node`, optional `calibration`) and attaches the fastest
    feasible one. The model gets `#mimo.plan<layout, world, micro-batch,
    virtual stages>` and every module its `#mimo.parallel` grid; a projector
    without its own entry runs on its encoder's grid.

    ```
    mimo-opt model.mlir --mimo-plan-parallelism="plan=plan.json"
    mimo-opt model.mlir --mimo-plan-parallelism="hardware=h100-sxm gpus=16 gpus-per-node=8"
    ```
  }];
  let options = [
    Option<"planFile", "plan", "std::string", "\"\"",
           "plan.json to attach as written">,
    Option<"hardware", "hardware", "std::string", "\"h100-sxm\"",
           "hardware name or file">,
    Option<"gpus", "gpus", "int64_t", "0",
           "GPUs in the job (search; default with a plan: its world size)">,
    Option<"gpusPerNode", "gpus-per-node", "int64_t", "8", "GPUs per node">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           "calibration file overriding hardware figures">,
    Option<"memoryModel", "memory-model", "std::string", "\"megatron\"",
           "whose allocation the search's memory check follows: megatron or "
           "mimo (mimo's own trainer's buffers)">,
    Option<"planJson", "plan-json", "std::string", "\"\"",
           "the text of a plan.json, attached as written (for tools that "
           "searched it themselves)">
  ];
}

def MimoGenerateBackward : Pass<"mimo-generate-backward", "::mimo::ModelOp"> {
  let summary = "Build the backward of every module from the ops' gradient rules";
  let description = [{
    For each forward module, creates a sibling `mimo.module backward` that
    takes the output gradients (for the LLM: the loss seed, 1 / global loss
    tokens) and the residuals, and returns the gradients of the inputs that
    other modules produce; parameter gradients leave through
    `mimo.param_grad`. On the way it puts the IR in the form the backward
    needs (docs/lowering.md):
     - parameters declared in a stack body are hoisted to the module as
       `[count, ...]` tensors passed to the stack as `xs`;
     - attention returns its log-sum-exp;
     - the forward returns, after its outputs, every value its backward
       reads (`residuals` on the module), stacks collecting per-layer
       residuals as `[count, ...]` results;
     - each stack's backward is a `reverse` stack over the same layers.
    Values used several times get their gradients summed with `mimo.add`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def MimoPartition : Pass<"mimo-partition", "::mimo::ModelOp"> {
  let summary = "Split each module over its grid's tensor-parallel ranks: local shapes and the collectives the splits need";
  let description = [{
    Runs after `mimo-generate-backward` on a planned model. For every
    forward module whose `#mimo.parallel` grid has tp > 1, and its backward,
    the IR becomes the program of one tensor-parallel rank:
     - parameters read by a split op take their local shape: `column` and
       `vocab` linears keep out / tp columns (and bias entries), `row`
       linears in / tp rows, the vocabulary-parallel embedding vocab / tp
       rows; stacked parameters split the same dim behind the layer dim;
     - attention keeps heads / tp query and kv_heads / tp key/value heads;
     - every value takes the shape its op gives the local operands, through
       stacks, residuals and the backward module's arguments;
     - a `shard.all_reduce` (sum over the tp axis) follows each partial sum:
       a row linear's output (its bias is added once, by tp rank 0), the
       vocabulary-parallel embedding's output, and a column or vocab
       linear's input gradient; where two such partial sums meet in an
       `add`, they are added first and reduced once.
    The vocabulary-parallel cross-entropy keeps its local logits; its
    lowering combines the shards (docs/lowering.md "Partition"). Module
    boundaries stay replicated, so modules with different grids still meet
    in full tensors. A `shard.grid @<module>_grid` with axes [dp, pp, cp,
    tp] (row-major, so tp is fastest as in the runtime's rank order) is
    declared in the model and tagged with its module; both modules get the
    `mimo.partitioned` unit attribute.

    With `sequence_parallel` in the module's plan (Megatron's sequence
    parallelism), every top-level layer stack's carried `[tokens, hidden]`
    values enter as this rank's tokens / tp rows (`shard.all_slice`) and
    leave all-gathered (`shard.all_gather`), in the forward and in the
    backward. Inside the layers the norms, residual adds and the values the
    backward keeps of the stream hold tokens / tp rows; the input of a
    column split is all-gathered (once per value), a row split's partial sum
    is reduce-scattered (`shard.reduce_scatter`) instead of all-reduced; in
    the backward a row split's output gradient and a column split's kept
    input are all-gathered for the weight gradient, a column split's input
    gradient is reduce-scattered and the norm weights' gradients (partial
    sums over this rank's tokens) are all-reduced. Context parallelism is
    rejected with the module named.
  }];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def MimoPipeline : Pass<"mimo-pipeline", "::mimo::ModelOp"> {
  let summary = "Split the LLM's layer stack over its grid's pipeline stages";
  let description = [{
    Runs after `mimo-generate-backward` (and `mimo-partition`) on a planned
    model. For the LLM when its `#mimo.parallel` grid has pp > 1, the
    module and its backward become the program of one pipeline stage: the
    layer stack of L layers keeps L / pp of them, and so do its stacked
    parameters (tagged `mimo.pp_dim = 0`), its collected residuals and the
    backward's matching arguments. With `virtual_stages = V` in the plan
    (the interleaved schedule) a stage's L / pp layers are V chunks of
    L / (pp V): chunk c of stage s is virtual stage c * pp + s. The module
    gets `mimo.pipeline = {layers = L, stages = pp, virtual = V}`; the ops
    before the stack belong to the first virtual stage, those after it to
    the last. `convert-mimo-to-mimort` builds the schedule (1F1B, or
    interleaved 1F1B) with point-to-point transfers of the carried hidden
    state and its gradient between neighbouring stages.

    In the homogeneous layout an encoder and projector on the same grid run
    whole on the first stage (Megatron's placement): they get
    `mimo.pp_stage = 0`. Elsewhere an encoder with pp > 1 is an error, as
    are layer counts the stages cannot split evenly and, for the
    interleaved schedule, a number of microbatches per pipeline (global
    batch / dp) that is not a multiple of pp.
  }];
}

def MimoApplyRecompute : Pass<"mimo-apply-recompute", "::mimo::ModelOp"> {
  let summary = "Re-run forward layer ops in the backward instead of keeping their values";
  let description = [{
    Runs after `mimo-generate-backward` (and `mimo-partition`,
    `mimo-pipeline`: it clones the rank's part of a layer, collectives
    included, and counts layers per pipeline stage). For every forward module
    whose `#mimo.parallel` asks for recompute, the values its layer stack
    keeps for the backward are rebuilt inside the backward stack by a
    `mimo.recompute` region of cloned forward ops:

    - `full`: every kept layer value but the layer input (the checkpoint,
      collected if the forward did not keep it already) is dropped from the
      forward's residuals and recomputed from the input and the layer's
      parameters;
    - `layers(N)`: the same for the first N layers of the stack (of each
      stage); the other layers still read what the forward kept, which the
      forward stack stores for rows N.. only (`mimo.kept_from`);
    - `selective`: attention's output and log-sum-exp are recomputed from
      the kept q, k and v (the attention core).

    Re-running the same ops on the same inputs gives bit-identical values.
    Modules without a layer stack (a projector) keep their values. The
    module gets `mimo.recomputed`.

    ```
    mimo-opt model.mlir --mimo-generate-backward --mimo-apply-recompute
    ```
  }];
}

def MimoInsertOffload : Pass<"mimo-insert-offload", "::mimo::ModelOp"> {
  let summary = "Resolve a plan's offload into the buffers that move to host memory";
  let description = [{
    Runs after `mimo-generate-backward` (and `mimo-apply-recompute`, which
    decides what the forward keeps). For every forward module whose
    `#mimo.parallel` lists `offload`, records on the module what moves to
    host memory, as `mimo.offload = {residuals = [...], params = [...],
    optimizer = [...]}`:

    - `activations`: the indices of the residuals the forward returns (what
      its backward reads), kept on the host between the colocated
      schedule's encoder forward (phase 1) and its backward (phase 3);
    - `params`: the module's parameters (with their gradient buffers),
      on the host during the LLM phase;
    - `optimizer`: the parameters whose Adam moments stay on the host
      through the forward and backward of each step.

    `convert-mimo-to-mimort` places the `mimort.offload` / `mimort.fetch`
    pairs at those schedule boundaries. Activations and parameters are only
    offloaded in the colocated layout, for an encoder or projector (what the
    LLM phase leaves idle); anything else is an error.

    ```
    mimo-opt model.mlir --mimo-generate-backward --mimo-insert-offload
    ```
  }];
}

def MimoBridge : Pass<"mimo-bridge", "::mimo::ModelOp"> {
  let summary = "Place the encoder-to-LLM bridge between module grids";
  let description = [{
    Runs after `mimo-plan-parallelism`. When the plan's layout is colocated
    or disaggregated, or a forward module's dp differs from the LLM's, adds
    one `mimo.bridge` per projector the LLM reads, naming how its tokens
    reach the LLM's grid: `equal` (same dp), `fan_in` / `fan_out` (one dp a
    multiple of the other, by that factor) or `leaders` (disaggregated).
    Checks what the bridge needs: a projector on its encoder's grid (tp and
    dp; disaggregated: its ranks), and colocated dps of which one divides
    the other. Homogeneous plans on one dp need no bridge and get none; a
    model that already has its bridges is left as it is.

    `convert-mimo-to-mimort` runs the three-phase schedule (ARCHITECTURE.md)
    around each bridge and rejects a plan that needs one but has none.

    ```
    mimo-opt model.mlir --mimo-plan-parallelism="plan=plan.json" --mimo-bridge
    ```
  }];
}

#endif // MIMO_TRANSFORMS_PASSES_TD

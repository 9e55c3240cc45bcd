//===- Passes.td - mimo conversion passes ---------------------*- tablegen -*-===//

#ifndef MIMO_CONVERSION_PASSES_TD
#define MIMO_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMimortToEmitC : Pass<"convert-mimort-to-emitc", "::mlir::ModuleOp"> {
  let summary = "Lower a mimort program (with func, scf, arith) to EmitC";
  let description = [{
    One dialect conversion with one type converter: `!mimort.buffer` and
    `!mimort.absent` become the opaque `mimo::kernels::TensorView`, `index`
    becomes `size_t`, other EmitC-compatible types stay. The upstream
    func/scf/arith patterns run beside the mimort patterns, so no
    `unrealized_conversion_cast` survives between them.

    Every mimort op becomes a call into `mimo/program/Support.h`
    (`mimo::program::buffer`, `slice`, `callKernel`, `allReduce`, ...). The
    module-level declarations (`mimort.program`, `mimort.grid`,
    `mimort.buffer`, `mimort.data`) become one function,
    `describe(mimo::program::ProgramDesc *)`, that hands the program's world
    size, grids, process groups, buffers and data loader to the runtime.
    The result is wrapped in `namespace mimo_generated` and ends with
    `mimo::program::Program mimoProgram()`, which `trainerMain` takes.
    Translate it with `mlir-translate --mlir-to-cpp` or
    `mimo::emitProgramCpp`.
  }];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

def ConvertMimoToMimort : Pass<"convert-mimo-to-mimort", "::mlir::ModuleOp"> {
  let summary = "Lower a mimo model with its backward to a per-rank mimort program (data- and tensor-parallel grids, the colocated bridge)";
  let description = [{
    Takes a `builtin.module` holding one `mimo.model` after
    `mimo-generate-backward` (and `mimo-partition` where a grid has tp > 1)
    and rewrites it into the per-rank program of its plan: a `mimort.program`, one `mimort.grid` per module, the data
    loader, one `mimort.buffer` per parameter, gradient, Adam moment,
    activation and scratch value, and the entry points `@init` and `@step`.

    Every mimo value gets a buffer: parameters `<module>.<name>` (params)
    with `.grad` (grads) and `.m` / `.v` (optimizer), tensor values of
    module bodies `<module>.v<N>` (activations), per-iteration buffers for
    values inside a stack body, `[count, ...]` buffers for collected stack
    results, and workspace buffers for recomputed statistics and kernel
    workspaces. Module inputs alias the buffers that feed them: a backward
    module's residuals are its forward module's results, a projector reads
    its encoder's output, the LLM its projectors' outputs, and token ids,
    labels and pixels are slices of the `mimort.next_batch` buffers.

    Stacks become `scf.for` loops over layers, ops become `mimort.kernel`
    calls (recomputing rotary embeddings, norm statistics and the
    cross-entropy log-sum-exp in the backward), and `@step` runs the local
    samples forward and backward, then the global-norm clip and one Adam
    step per parameter with the per-token gradient scale. Grids have cp = 1;
    tp * pp * dp = world for every module (homogeneous or colocated), or
    (disaggregated) the encoder with its projector and the LLM on disjoint
    rank spans that tile the world. Each rank loads its contiguous block of
    the global batch on the grid of the smallest dp (disaggregated: the
    whole batch, each module taking its replica's block) and every
    parameter gradient is summed over its module's dp group before the
    clip. Partitioned modules lower their `shard` collectives (all_reduce,
    all_gather, reduce_scatter, all_slice) to runtime collectives over the
    named dims, the row linear's bias to tp rank 0, vocabulary ranges and
    the vocabulary-parallel cross-entropy to the tp coordinate. A pipelined
    LLM (mimo-pipeline) runs the 1F1B or interleaved schedule. Modules on
    different dp, and every colocated or disaggregated plan, run the
    three-phase schedule with the encoder-to-LLM bridge: fan-in or fan-out
    by `all_gather` over the finer module's tp group, or (disaggregated)
    point to point between replica leaders over the `world` grid, each
    phase on its module's ranks. Context-parallel grids are rejected.
  }];
  let options = [
    Option<"dataSamples", "data-samples", "int64_t", /*default=*/"0",
           "When positive, the synthetic data source is a fixed pool of this "
           "many samples (the `samples` of `mimort.data`)">,
    Option<"device", "device", "std::string", /*default=*/"\"cpu\"",
           "Where the program runs: cpu or cuda (the `device` of "
           "`mimort.program`)">
  ];
  let dependentDialects = ["::mimo::mimort::MimortDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // MIMO_CONVERSION_PASSES_TD

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

#endif // MIMO_CONVERSION_PASSES_TD

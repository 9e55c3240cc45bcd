//===- MimortDialect.td - The mimort per-rank program dialect -*- tablegen -*-===//

#ifndef MIMO_DIALECT_MIMORTDIALECT_TD
#define MIMO_DIALECT_MIMORTDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def Mimort_Dialect : Dialect {
  let name = "mimort";
  let cppNamespace = "::mimo::mimort";
  let summary = "A per-rank SPMD training program over the mimo runtime";
  let description = [{
    `mimort` is the runtime-level form of a training job: the program one
    rank runs, written against the mimo runtime (`runtime/`) and kernels
    (`kernels/`). Every rank runs the same program; what differs between
    ranks is read at run time from the process grids the program declares
    (`mimort.grid_coord`) and the process groups collectives run on.

    A program is a `builtin.module` holding:

    - one `mimort.program` naming the world size, the FLOPs of one step and
      the two entry functions: `@init() -> ()` (parameter initialisation)
      and `@step(i64) -> f32` (one training step; takes the 1-based step
      number, returns the step's loss as every rank reports it);
    - `mimort.grid` declarations, one per module grid `[tp, cp, pp, dp]`
      over a span of ranks (Megatron's MIMO convention, tp fastest);
    - `mimort.buffer` declarations: every device buffer lives for the whole
      program, has a static shape, an element type and a memory category
      (params, grads, optimizer, activations, workspace), and is named; the
      runtime allocates them before `@init`, accounts them per category and
      checkpoints the `params` and `optimizer` buffers by name;
    - at most one `mimort.data`: the data loader (synthetic or a dataset
      directory), sharded over the data-parallel dim of a grid;
    - `func.func` bodies using `scf`, `arith` and the mimort ops.

    Parameters of a repeated layer stack live in one stacked buffer
    `[L, ...]`; the loop over layers is an `scf.for` whose induction variable
    selects a layer with `mimort.slice`. Kernels are called with
    `mimort.kernel`, whose name, operands and attributes are checked against
    the table of the runtime kernel interface (`mimo::kernels::Kernels`).

    The dialect lowers to EmitC with `convert-mimort-to-emitc` and from there
    to C++ that calls the support layer `mimo/program/Support.h`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Mimort_Op<string mnemonic, list<Trait> traits = []>
    : Op<Mimort_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

def Mimort_BufferType : TypeDef<Mimort_Dialect, "Buffer"> {
  let mnemonic = "buffer";
  let summary = "a statically shaped device buffer";
  let description = [{
    A view of device memory with a static row-major shape of rank 1 to 5 and
    an element type of `f32`, `bf16` or `i32`: `!mimort.buffer<4x128x64xf32>`.
    Values of this type are views (the C++ `mimo::kernels::TensorView`); the
    memory belongs to a `mimort.buffer` declaration.
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "::mlir::Type":$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getRank() const { return getShape().size(); }
    int64_t getNumElements() const;
    /// The element type's size in bytes.
    int64_t getElementBytes() const;
  }];
}

def Mimort_AbsentType : TypeDef<Mimort_Dialect, "Absent"> {
  let mnemonic = "absent";
  let summary = "an omitted optional kernel argument";
  let description = [{
    The type of `mimort.absent`, passed to `mimort.kernel` in the slot of an
    optional tensor argument (a bias, an input gradient that is not needed).
  }];
}

def Mimort_RequestType : TypeDef<Mimort_Dialect, "Request"> {
  let mnemonic = "request";
  let summary = "a receive in flight";
  let description = [{
    The result of `mimort.recv_start`, consumed by the `mimort.recv_wait`
    that completes the receive.
  }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Mimort_MemoryCategory : I32Enum<"MemoryCategory",
    "what a buffer is used for (the planner's memory categories)", [
      I32EnumCase<"Params", 0, "params">,
      I32EnumCase<"Grads", 1, "grads">,
      I32EnumCase<"Optimizer", 2, "optimizer">,
      I32EnumCase<"Activations", 3, "activations">,
      I32EnumCase<"Workspace", 4, "workspace">]> {
  let cppNamespace = "::mimo::mimort";
}
def Mimort_MemoryCategoryAttr
    : EnumAttr<Mimort_Dialect, Mimort_MemoryCategory, "category">;

def Mimort_ReduceKind : I32Enum<"ReduceKind", "a collective's reduction", [
      I32EnumCase<"Sum", 0, "sum">,
      I32EnumCase<"Max", 1, "max">]> {
  let cppNamespace = "::mimo::mimort";
}
def Mimort_ReduceKindAttr : EnumAttr<Mimort_Dialect, Mimort_ReduceKind, "reduce">;

def Mimort_InitKind : I32Enum<"InitKind", "how a parameter starts", [
      I32EnumCase<"Normal", 0, "normal">,
      I32EnumCase<"Zeros", 1, "zeros">,
      I32EnumCase<"Ones", 2, "ones">]> {
  let cppNamespace = "::mimo::mimort";
}
def Mimort_InitKindAttr : EnumAttr<Mimort_Dialect, Mimort_InitKind, "init">;

//===----------------------------------------------------------------------===//
// Kernel parameter structs
//===----------------------------------------------------------------------===//

class Mimort_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Mimort_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Mimort_AttentionParamsAttr : Mimort_Attr<"AttentionParams", "attention"> {
  let summary = "mimo::kernels::AttentionParams";
  let description = [{
    Shape and masking of an attention kernel call, field by field the C++
    struct: `#mimort.attention<q_heads = 8, kv_heads = 2, head_dim = 64,
    causal = true, segment = 0, scale = 0.0>` (floats are f64 attributes; scale 0 means
    1 / sqrt(head_dim); segment 0 means the whole sequence).
  }];
  let parameters = (ins "int64_t":$q_heads, "int64_t":$kv_heads,
                        "int64_t":$head_dim, "::mlir::BoolAttr":$causal,
                        "int64_t":$segment, "::mlir::FloatAttr":$scale);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Mimort_PatchEmbedParamsAttr : Mimort_Attr<"PatchEmbedParams", "patch_embed"> {
  let summary = "mimo::kernels::PatchEmbedParams";
  let description = [{
    Square patch size and the number of learned class tokens:
    `#mimort.patch_embed<patch = 14, class_tokens = 1>`.
  }];
  let parameters = (ins "int64_t":$patch, "int64_t":$class_tokens);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Mimort_AdamParamsAttr : Mimort_Attr<"AdamParams", "adam"> {
  let summary = "the static fields of mimo::kernels::AdamParams";
  let description = [{
    `#mimort.adam<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8,
    weight_decay = 0.1, decoupled = true>`. The step number and the gradient
    scale change every step, so `adam_step` takes them as operands.
  }];
  let parameters = (ins "::mlir::FloatAttr":$lr,
                        "::mlir::FloatAttr":$beta1,
                        "::mlir::FloatAttr":$beta2,
                        "::mlir::FloatAttr":$eps,
                        "::mlir::FloatAttr":$weight_decay,
                        "::mlir::BoolAttr":$decoupled);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // MIMO_DIALECT_MIMORTDIALECT_TD

//===- MimortOps.td - mimort ops -----------------------------*- tablegen -*-===//

#ifndef MIMO_DIALECT_MIMORTOPS_TD
#define MIMO_DIALECT_MIMORTOPS_TD

include "mimo/Dialect/Mimort/MimortDialect.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Mimort_Buffer : Type<CPred<"::llvm::isa<::mimo::mimort::BufferType>($_self)">,
    "mimort buffer", "::mimo::mimort::BufferType">;
def Mimort_Absent : Type<CPred<"::llvm::isa<::mimo::mimort::AbsentType>($_self)">,
    "mimort absent argument", "::mimo::mimort::AbsentType">;

/// Ops that live directly in the program's builtin.module.
class Mimort_DeclOp<string mnemonic, list<Trait> traits = []>
    : Mimort_Op<mnemonic, !listconcat(traits, [HasParent<"::mlir::ModuleOp">])>;

/// Ops that name a process group: a grid and some of its dims.
class Mimort_GroupOp<string mnemonic, list<Trait> traits = []>
    : Mimort_Op<mnemonic, !listconcat(traits,
        [DeclareOpInterfaceMethods<SymbolUserOpInterface>])> {
  code groupClassDecl = [{
    /// Product of the named dims of the grid; requires a verified op.
    int64_t getGroupSize();
  }];
}

//===----------------------------------------------------------------------===//
// Program structure
//===----------------------------------------------------------------------===//

def Mimort_ProgramOp : Mimort_DeclOp<"program", [Symbol,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the program's world size, step FLOPs and entry points";
  let description = [{
    Exactly one per module. `init` names a `func.func` of type `() -> ()`
    that initialises parameters and optimizer state; `step` names a
    `func.func` of type `(i64) -> f32` that runs one training step (its
    argument is the 1-based step number, its result the step's loss).
    `flops_per_step` is the model FLOP count of one step over the whole job
    (forward and backward), from which the trainer reports TFLOPs per GPU.
    `device` says where buffers live and kernels run: `"cpu"` (the default)
    or `"cuda"` (one GPU per process, NCCL between them).

    ```mlir
    mimort.program @tiny {world_size = 1 : i64, flops_per_step = 1.2e9 : f64,
                          init = @init, step = @step, device = "cuda"}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$world_size,
                       F64Attr:$flops_per_step, FlatSymbolRefAttr:$init,
                       FlatSymbolRefAttr:$step,
                       DefaultValuedStrAttr<StrAttr, "cpu">:$device);
  let assemblyFormat = "$sym_name attr-dict";
  let hasVerifier = 1;
}

def Mimort_GridOp : Mimort_DeclOp<"grid", [Symbol]> {
  let summary = "a module's process grid";
  let description = [{
    A grid of dims `[tp, cp, pp, dp]` over ranks `[offset, offset + size)`
    of the world, tp fastest: `rank = offset + tp_i + tp * (cp_i + cp *
    (pp_i + pp * dp_i))`. The grid's name (the module it belongs to) and a
    set of dims name a process group, resolved by the runtime.

    ```mlir
    mimort.grid @llm [tp = 2, cp = 1, pp = 1, dp = 2] ranks(0, 4)
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$tp, I64Attr:$cp,
                       I64Attr:$pp, I64Attr:$dp, I64Attr:$offset,
                       I64Attr:$size);
  let assemblyFormat = [{
    $sym_name ` ` `[` `tp` `=` $tp `,` `cp` `=` $cp `,` `pp` `=` $pp `,` `dp` `=`
    $dp `]` `ranks` `(` $offset `,` $size `)` attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The size of dim "tp", "cp", "pp" or "dp"; -1 for another name.
    int64_t getDimSize(::llvm::StringRef dim);
  }];
}

def Mimort_BufferOp : Mimort_DeclOp<"buffer", [Symbol,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a named device buffer that lives for the whole program";
  let description = [{
    Declares a buffer of the given type in a memory category. The runtime
    allocates every declared buffer before `init` runs, zero-filled, and
    accounts it in its category; `params` and `optimizer` buffers are saved
    in checkpoints under their name. Functions reach a buffer with
    `mimort.get`.

    With `on @grid` the buffer exists only on that grid's ranks (a module's
    parameters and optimizer state in the disaggregated layout); with
    `stage N` besides, only on its ranks at pipeline coordinate N (a
    pipelined LLM's embedding on the first stage, its head on the last).
    Elsewhere it is neither allocated nor saved, and reaching it is an
    error.

    ```mlir
    mimort.buffer @llm.layers.w1 params : !mimort.buffer<2x64x256xf32>
    mimort.buffer @vision.patch.weight params : !mimort.buffer<192x64xf32> on @vision
    mimort.buffer @llm.lm_head.weight params : !mimort.buffer<64x512xf32> on @llm stage 1
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       Mimort_MemoryCategoryAttr:$category,
                       TypeAttrOf<Mimort_BufferType>:$type,
                       OptionalAttr<FlatSymbolRefAttr>:$on,
                       OptionalAttr<I64Attr>:$stage);
  let assemblyFormat =
      "$sym_name $category `:` $type (`on` $on^)? (`stage` $stage^)? attr-dict";
}

def Mimort_DataOp : Mimort_DeclOp<"data",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the data loader";
  let description = [{
    At most one per module. Global batches of `global_batch` samples are
    split over the data-parallel dim of `grid` (rank r of dp takes the
    contiguous block r). Without `--data` the trainer draws deterministic
    synthetic samples from the seed; `samples`, when set, makes the
    synthetic source a fixed pool of that many samples that the loader
    cycles through. With `--data DIR` samples come from a safetensors
    dataset whose shapes must match.

    ```mlir
    mimort.data on @llm {global_batch = 8 : i64, seq_len = 64 : i64,
                         vocab = 32000 : i64}
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$grid, I64Attr:$global_batch,
                       I64Attr:$seq_len, I64Attr:$vocab,
                       DefaultValuedAttr<I64Attr, "-1">:$image_token_id,
                       DefaultValuedAttr<I64Attr, "0">:$images_per_sample,
                       DefaultValuedAttr<I64Attr, "0">:$tokens_per_image,
                       DefaultValuedAttr<I64Attr, "3">:$channels,
                       DefaultValuedAttr<I64Attr, "1">:$image_size,
                       OptionalAttr<I64Attr>:$samples);
  let assemblyFormat = "`on` $grid attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Samples per data-parallel rank; requires a verified op.
    int64_t getLocalBatch();
    /// The placeholder id of image tokens (vocab - 1 unless set).
    int64_t getImageTokenIdOrDefault() {
      return getImageTokenIdAttr().getInt() >= 0 ? getImageTokenIdAttr().getInt() : getVocabAttr().getInt() - 1;
    }
  }];
}

//===----------------------------------------------------------------------===//
// Buffers and views
//===----------------------------------------------------------------------===//

def Mimort_GetOp : Mimort_Op<"get",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>,
     MemoryEffects<[MemRead]>]> {
  let summary = "the current view of a declared buffer";
  let description = [{
    Not pure: an offloaded and fetched buffer may move, so a view must be
    taken after the `mimort.fetch` that brings it back.

    ```mlir
    %w1 = mimort.get @llm.layers.w1 : !mimort.buffer<2x64x256xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs Mimort_Buffer:$result);
  let assemblyFormat = "$name attr-dict `:` qualified(type($result))";
}

def Mimort_SliceOp : Mimort_Op<"slice", [Pure]> {
  let summary = "slice i along dim 0 of a stacked buffer";
  let description = [{
    Layer `i` of a stacked `[L, ...]` buffer: the result has the source's
    shape without dim 0. The index is checked against L at run time.

    ```mlir
    %w = mimort.slice %w1[%layer] : !mimort.buffer<2x64x256xf32> -> !mimort.buffer<64x256xf32>
    ```
  }];
  let arguments = (ins Mimort_Buffer:$source, Index:$index);
  let results = (outs Mimort_Buffer:$result);
  let assemblyFormat = [{
    $source `[` $index `]` attr-dict `:` qualified(type($source)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Mimort_ReshapeOp : Mimort_Op<"reshape", [Pure]> {
  let summary = "the same memory under another shape";
  let description = [{
    ```mlir
    %flat = mimort.reshape %ids : !mimort.buffer<4x16xi32> -> !mimort.buffer<64xi32>
    ```
  }];
  let arguments = (ins Mimort_Buffer:$source);
  let results = (outs Mimort_Buffer:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Mimort_AbsentOp : Mimort_Op<"absent", [Pure]> {
  let summary = "an omitted optional kernel argument";
  let description = [{
    ```mlir
    %none = mimort.absent : !mimort.absent
    ```
  }];
  let results = (outs Mimort_AbsentType:$result);
  let assemblyFormat = "attr-dict `:` qualified(type($result))";
}

def Mimort_InitParamOp : Mimort_Op<"init_param"> {
  let summary = "initialise a parameter from the counter-based RNG";
  let description = [{
    `normal` fills with `std * N(0, 1)` drawn from the runtime's Philox
    stream keyed on (seed, hash of `name`): element `(r, c)` of the buffer,
    viewed as rows of its last dim, takes value number
    `offset + r * row_length + c` of the stream. `row_length` defaults to the
    buffer's last dim, so a contiguous buffer draws `[offset, offset + n)`;
    a tensor-parallel shard of a larger tensor passes the full tensor's row
    length and its own first element as `offset`, and so holds exactly its
    slice of the single-rank values. `zeros` and `ones` ignore the stream.

    ```mlir
    mimort.init_param normal %w1, %c0 {name = "llm.layers.w1", std = 0.02 : f64} : !mimort.buffer<2x64x256xf32>
    ```
  }];
  let arguments = (ins Mimort_InitKindAttr:$kind, Mimort_Buffer:$buffer,
                       I64:$offset, StrAttr:$name,
                       OptionalAttr<F64Attr>:$std,
                       OptionalAttr<I64Attr>:$row_length);
  let assemblyFormat = [{
    $kind $buffer `,` $offset attr-dict `:` qualified(type($buffer))
  }];
  let hasVerifier = 1;
}

def Mimort_FillOp : Mimort_Op<"fill"> {
  let summary = "set every element of a buffer to a value";
  let description = [{
    The value is `f32` for float buffers and `i32` for `i32` buffers.

    ```mlir
    mimort.fill %dw1, %zero : !mimort.buffer<2x64x256xf32>, f32
    ```
  }];
  let arguments = (ins Mimort_Buffer:$buffer, AnyTypeOf<[F32, I32]>:$value);
  let assemblyFormat = "$buffer `,` $value attr-dict `:` qualified(type($buffer)) `,` qualified(type($value))";
  let hasVerifier = 1;
}

def Mimort_CopyOp : Mimort_Op<"copy"> {
  let summary = "copy one buffer into another of the same size";
  let description = [{
    ```mlir
    mimort.copy %x, %residual : !mimort.buffer<64x32xf32>, !mimort.buffer<64x32xf32>
    ```
  }];
  let arguments = (ins Mimort_Buffer:$source, Mimort_Buffer:$target);
  let assemblyFormat = "$source `,` $target attr-dict `:` qualified(type($source)) `,` qualified(type($target))";
  let hasVerifier = 1;
}

def Mimort_ReadScalarOp : Mimort_Op<"read_scalar", [MemoryEffects<[MemRead]>]> {
  let summary = "read one element back to the host";
  let description = [{
    Element `index` (flat) as an `f32` (float buffers) or `i32`; waits for
    the device. A read whose result is unused is dropped by the lowering.

    ```mlir
    %loss = mimort.read_scalar %loss_sum[0] : !mimort.buffer<1xf32> -> f32
    ```
  }];
  let arguments = (ins Mimort_Buffer:$buffer, I64Attr:$index);
  let results = (outs AnyTypeOf<[F32, I32]>:$result);
  let assemblyFormat = [{
    $buffer `[` $index `]` attr-dict `:` qualified(type($buffer)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def Mimort_KernelOp : Mimort_Op<"kernel"> {
  let summary = "call a kernel of the runtime kernel interface";
  let description = [{
    `kernel` names a method of `mimo::kernels::Kernels` in snake case
    (`linear_forward` is `linearForward`). The operands follow the C++
    signature in order, leaving out what is an attribute: every tensor is a
    `!mimort.buffer` (or `!mimort.absent` where the argument is optional),
    a workspace is a buffer, `int64_t` arguments are `i64` values and
    `float` arguments `f32` values. `bool` arguments and parameter structs
    are named attributes: `transposed_weight`, `trans_a`, `trans_b`,
    `accumulate`, `attention = #mimort.attention<...>`,
    `patch_embed = #mimort.patch_embed<...>`, `adam = #mimort.adam<...>`
    (whose step number and gradient scale are `adam_step`'s `i64` and `f32`
    operands). The verifier checks the name, the arity, each operand's kind
    and element type, same-shape constraints of elementwise kernels and the
    attributes against the kernel table (`KernelTable.h`). Gradient
    semantics are the interface's: input gradients are overwritten,
    parameter gradients accumulated.

    ```mlir
    mimort.kernel "linear_forward"(%x, %w, %none, %y) {transposed_weight = false}
        : !mimort.buffer<64x32xf32>, !mimort.buffer<32x128xf32>, !mimort.absent, !mimort.buffer<64x128xf32>
    ```
  }];
  let arguments = (ins StrAttr:$kernel, Variadic<AnyType>:$args);
  let assemblyFormat = "$kernel `(` $args `)` attr-dict `:` qualified(type($args))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Communication
//===----------------------------------------------------------------------===//

def Mimort_AllReduceOp : Mimort_GroupOp<"all_reduce"> {
  let summary = "in-place all-reduce over a process group";
  let description = [{
    The group is the ranks of grid `grid` that differ only in `dims`. Sums
    add contributions in increasing rank order on every backend, so results
    are bit-reproducible.

    ```mlir
    mimort.all_reduce sum %dw on @llm ["dp"] : !mimort.buffer<2x64x256xf32>
    ```
  }];
  let arguments = (ins Mimort_ReduceKindAttr:$reduce, Mimort_Buffer:$buffer,
                       FlatSymbolRefAttr:$grid, StrArrayAttr:$dims);
  let assemblyFormat = "$reduce $buffer `on` $grid $dims attr-dict `:` qualified(type($buffer))";
  let extraClassDeclaration = groupClassDecl;
}

def Mimort_AllGatherOp : Mimort_GroupOp<"all_gather"> {
  let summary = "gather every member's buffer, by local rank";
  let description = [{
    `target` holds group-size times `source`'s elements, member i's at
    block i.

    ```mlir
    mimort.all_gather %part, %full on @llm ["tp"] : !mimort.buffer<64x16xf32>, !mimort.buffer<2x64x16xf32>
    ```
  }];
  let arguments = (ins Mimort_Buffer:$source, Mimort_Buffer:$target,
                       FlatSymbolRefAttr:$grid, StrArrayAttr:$dims);
  let assemblyFormat = [{
    $source `,` $target `on` $grid $dims attr-dict `:` qualified(type($source)) `,` qualified(type($target))
  }];
  let extraClassDeclaration = groupClassDecl;
}

def Mimort_ReduceScatterOp : Mimort_GroupOp<"reduce_scatter"> {
  let summary = "reduce, then keep this member's block";
  let description = [{
    `source` holds group-size blocks of `target`'s size; member i receives
    the reduction of every member's block i.

    ```mlir
    mimort.reduce_scatter sum %full, %part on @llm ["dp"] : !mimort.buffer<256xf32>, !mimort.buffer<128xf32>
    ```
  }];
  let arguments = (ins Mimort_ReduceKindAttr:$reduce,
                       Mimort_Buffer:$source, Mimort_Buffer:$target,
                       FlatSymbolRefAttr:$grid, StrArrayAttr:$dims);
  let assemblyFormat = [{
    $reduce $source `,` $target `on` $grid $dims attr-dict `:` qualified(type($source)) `,` qualified(type($target))
  }];
  let extraClassDeclaration = groupClassDecl;
}

def Mimort_BroadcastOp : Mimort_GroupOp<"broadcast"> {
  let summary = "broadcast a buffer from one member of a group";
  let description = [{
    `root` is a local rank of the group.

    ```mlir
    mimort.broadcast %x on @llm ["pp"] root 0 : !mimort.buffer<64x32xf32>
    ```
  }];
  let arguments = (ins Mimort_Buffer:$buffer, FlatSymbolRefAttr:$grid,
                       StrArrayAttr:$dims, I64Attr:$root);
  let assemblyFormat = [{
    $buffer `on` $grid $dims `root` $root attr-dict `:` qualified(type($buffer))
  }];
  let extraClassDeclaration = groupClassDecl;
}

def Mimort_SendOp : Mimort_GroupOp<"send"> {
  let summary = "blocking send to a member of a group";
  let description = [{
    `peer` is a local rank of the group, computed at run time (e.g. from
    `mimort.grid_coord`); `tag` is non-negative.

    ```mlir
    mimort.send %act to %next on @llm ["pp"] tag 0 : !mimort.buffer<64x32xf32>
    ```
  }];
  let arguments = (ins Mimort_Buffer:$buffer, I64:$peer,
                       FlatSymbolRefAttr:$grid, StrArrayAttr:$dims,
                       I64Attr:$tag);
  let assemblyFormat = [{
    $buffer `to` $peer `on` $grid $dims `tag` $tag attr-dict `:` qualified(type($buffer))
  }];
  let extraClassDeclaration = groupClassDecl;
}

def Mimort_RecvOp : Mimort_GroupOp<"recv"> {
  let summary = "blocking receive from a member of a group";
  let description = [{
    ```mlir
    mimort.recv %act from %prev on @llm ["pp"] tag 0 : !mimort.buffer<64x32xf32>
    ```
  }];
  let arguments = (ins Mimort_Buffer:$buffer, I64:$peer,
                       FlatSymbolRefAttr:$grid, StrArrayAttr:$dims,
                       I64Attr:$tag);
  let assemblyFormat = [{
    $buffer `from` $peer `on` $grid $dims `tag` $tag attr-dict `:` qualified(type($buffer))
  }];
  let extraClassDeclaration = groupClassDecl;
}

def Mimort_RecvStartOp : Mimort_GroupOp<"recv_start"> {
  let summary = "post a receive that completes in the background";
  let description = [{
    Like `mimort.recv`, but returns at once: the message lands in `buffer`
    while the ops up to the `mimort.recv_wait` of the returned request run
    (ring attention computes on the current key/value blocks while the next
    ones arrive). The request has exactly one use, a `mimort.recv_wait`
    later in the same block, and nothing in between may touch the buffer's
    declaration (the same `mimort.get` symbol).

    ```mlir
    %req = mimort.recv_start %k_next from %prev on @llm ["cp"] tag 16 : !mimort.buffer<64x32xf32>
    ```
  }];
  let arguments = (ins Mimort_Buffer:$buffer, I64:$peer,
                       FlatSymbolRefAttr:$grid, StrArrayAttr:$dims,
                       I64Attr:$tag);
  let results = (outs Mimort_RequestType:$request);
  let assemblyFormat = [{
    $buffer `from` $peer `on` $grid $dims `tag` $tag attr-dict `:` qualified(type($buffer))
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = groupClassDecl;
}

def Mimort_RecvWaitOp : Mimort_Op<"recv_wait"> {
  let summary = "complete a receive posted by mimort.recv_start";
  let description = [{
    ```mlir
    mimort.recv_wait %req
    ```
  }];
  let arguments = (ins Mimort_RequestType:$request);
  let assemblyFormat = "$request attr-dict";
}

def Mimort_GridCoordOp : Mimort_Op<"grid_coord",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "this rank's coordinate along one dim of a grid";
  let description = [{
    ```mlir
    %tp_rank = mimort.grid_coord @llm "tp" : i64
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$grid, StrAttr:$dim);
  let results = (outs I64:$result);
  let assemblyFormat = "$grid $dim attr-dict `:` qualified(type($result))";
}

//===----------------------------------------------------------------------===//
// Host staging and data
//===----------------------------------------------------------------------===//

def Mimort_OffloadOp : Mimort_Op<"offload",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "move a buffer's contents to host memory";
  let description = [{
    The device memory is released (the runtime's HostStaging); views of the
    buffer are invalid until `mimort.fetch`.

    ```mlir
    mimort.offload @vision.saved
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let assemblyFormat = "$name attr-dict";
}

def Mimort_FetchOp : Mimort_Op<"fetch",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "bring an offloaded buffer back to the device";
  let description = [{
    ```mlir
    mimort.fetch @vision.saved
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let assemblyFormat = "$name attr-dict";
}

def Mimort_NextBatchOp : Mimort_Op<"next_batch"> {
  let summary = "load this rank's part of the next global batch";
  let description = [{
    Needs a `mimort.data`. `input_ids` and `labels` are `i32` buffers of
    local-batch x seq_len elements; `pixels`, when given, an `f32` buffer of
    local-batch x images x channels x image_size^2 elements.

    ```mlir
    mimort.next_batch %ids, %labels : !mimort.buffer<4x16xi32>, !mimort.buffer<4x16xi32>
    ```
  }];
  let arguments = (ins Mimort_Buffer:$input_ids, Mimort_Buffer:$labels,
                       Optional<Mimort_Buffer>:$pixels);
  let assemblyFormat = [{
    $input_ids `,` $labels (`pixels` $pixels^)? attr-dict `:` qualified(type($input_ids))
    `,` qualified(type($labels)) (`,` qualified(type($pixels))^)?
  }];
  let hasVerifier = 1;
}

#endif // MIMO_DIALECT_MIMORTOPS_TD

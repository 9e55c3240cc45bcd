//===- MimoOps.td - mimo ops --------------------------------*- tablegen -*-===//

#ifndef MIMO_DIALECT_MIMOOPS_TD
#define MIMO_DIALECT_MIMOOPS_TD

include "mimo/Dialect/Mimo/MimoDialect.td"
include "mimo/Dialect/Mimo/MimoAttrs.td"
include "mimo/Dialect/Mimo/MimoInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def Mimo_FloatTensor : RankedTensorOf<[F32, BF16, F16]>;
def Mimo_IdTensor : RankedTensorOf<[I32]>;

class Mimo_ComputeOp<string mnemonic, list<Trait> traits = []>
    : Mimo_Op<mnemonic, !listconcat(traits,
        [Pure, DeclareOpInterfaceMethods<Mimo_CostOpInterface>])>;

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Mimo_ModelOp : Mimo_Op<"model", [Symbol, SymbolTable, IsolatedFromAbove,
    SingleBlock, NoTerminator, NoRegionArguments]> {
  let summary = "a multimodal model and its training configuration";
  let description = [{
    Holds the modules of one model in dataflow order (encoders, projectors,
    the LLM) and the training configuration taken from the spec. With a
    `plan` it also fixes how the modules are laid out over ranks; the
    verifier then checks every module's grid against the layout and the
    world size.

    ```mlir
    mimo.model @tiny attributes {seq_len = 64 : i64, images_per_sample = 1 : i64,
        global_batch_size = 8 : i64, seed = 1 : i64, precision = "fp32",
        optimizer = {kind = "adamw", lr = 1.0e-3 : f64}} {
      mimo.module encoder @vision(...) -> ... { ... }
      ...
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$seq_len,
                       I64Attr:$images_per_sample, I64Attr:$global_batch_size,
                       I64Attr:$seed, StrAttr:$precision,
                       DictionaryAttr:$optimizer,
                       OptionalAttr<Mimo_PlanAttr>:$plan);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// Modules in the order they appear.
    llvm::SmallVector<::mimo::ModuleOp, 4> getModules();
    /// The one LLM module (null if the model is malformed).
    ::mimo::ModuleOp getLlm();
    /// Element size of activations: 2 for bf16/fp16, 4 for fp32.
    int64_t getBytesPerElement();
    /// Checks backward modules against their forward modules.
    mlir::LogicalResult
    verifyBackwardModules(llvm::StringMap<::mimo::ModuleOp> &byName);
  }];
}

def Mimo_ModuleOp : Mimo_Op<"module", [Symbol, IsolatedFromAbove,
    HasParent<"ModelOp">, AutomaticAllocationScope]> {
  let summary = "one module of the model: an encoder, a projector or the LLM";
  let description = [{
    A function over per-sample tensors. A projector names the encoder it
    reads (`inputs = [@vision]`) and takes that encoder's results; the LLM
    takes token ids, labels and one image-embedding tensor per projector it
    names in `inputs`, and returns the summed loss and the loss-token count.
    `parallel` is this module's grid once a plan is attached.

    After `mimo-generate-backward`, a forward module returns `residuals`
    extra values after its outputs (what its backward reads), and a module of
    kind `backward` with `inputs = [@forward]` takes the output gradients
    followed by those residuals and returns the gradients of the forward
    module's inputs that come from other modules; parameter gradients leave
    it through `mimo.param_grad`.

    ```mlir
    mimo.module projector @proj(%x: tensor<16x64xf32>) -> tensor<16x96xf32>
        attributes {inputs = [@vision]} { ... }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttrOf<FunctionType>:$function_type,
                       Mimo_ModuleKindAttr:$kind,
                       OptionalAttr<SymbolRefArrayAttr>:$inputs,
                       OptionalAttr<Mimo_ParallelAttr>:$parallel,
                       DefaultValuedAttr<I64Attr, "0">:$residuals);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    mlir::Block &getBodyBlock() { return getBody().front(); }
    /// Transformer layers of this module: the summed counts of its stacks.
    int64_t getNumLayers();
    /// Results that are outputs (not residuals for the backward).
    llvm::ArrayRef<mlir::Type> getOutputTypes() {
      return getFunctionType().getResults().drop_back(
          getResidualsAttr().getInt());
    }
  }];
}

def Mimo_ReturnOp : Mimo_Op<"return", [Pure, Terminator, ReturnLike,
    HasParent<"ModuleOp">]> {
  let summary = "results of a module";
  let arguments = (ins Variadic<AnyType>:$operands);
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
  let hasVerifier = 1;
}

def Mimo_StackOp : Mimo_Op<"stack", [AttrSizedOperandSegments,
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "a layer body repeated `count` times (a scan)";
  let description = [{
    The body is one layer; it runs `count` times, feeding its carried values
    (`inits`, the first block arguments and the first yielded values) from
    one iteration to the next. Parameters declared in the body are per
    iteration: layer i has its own. Pipeline parallelism splits a stack into
    per-stage stacks.

    A stack is also a scan: each `xs` operand is a `[count, ...]` tensor of
    which iteration i sees slice i (a block argument after the carried
    ones), and each value yielded after the carried ones is collected into a
    `[count, ...]` result (slot i from iteration i). With `reverse` the
    iterations run from count - 1 down to 0, which is how a backward stack
    walks the layers. `mimo-generate-backward` uses xs for hoisted stacked
    parameters and residuals, and the collected results for residuals and
    parameter gradients.

    ```mlir
    %h = mimo.stack 32 (%x) : tensor<8192x4096xbf16> -> tensor<8192x4096xbf16> {
    ^bb0(%arg: tensor<8192x4096xbf16>):
      ...
      mimo.yield %y : tensor<8192x4096xbf16>
    }
    %dx, %dw = mimo.stack 32 reverse (%dy) xs(%w : tensor<32x64x64xf32>)
        : tensor<8x64xf32> -> tensor<8x64xf32>, tensor<32x64x64xf32> {
    ^bb0(%g: tensor<8x64xf32>, %wi: tensor<64x64xf32>):
      ...
      mimo.yield %gx, %gw : tensor<8x64xf32>, tensor<64x64xf32>
    }
    ```
  }];
  let arguments = (ins I64Prop:$count, Variadic<AnyRankedTensor>:$inits,
                       Variadic<AnyRankedTensor>:$xs, UnitAttr:$reverse);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $count (`reverse` $reverse^)? `(` $inits `)`
    (`xs` `(` $xs^ `:` type($xs) `)`)? attr-dict `:` type($inits) `->`
    type($results) $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let builders = [
    OpBuilder<(ins "int64_t":$count, "mlir::ValueRange":$inits)>,
    OpBuilder<(ins "int64_t":$count, "mlir::ValueRange":$inits,
                   "mlir::ValueRange":$xs, "mlir::TypeRange":$ysSliceTypes,
                   "bool":$reverse)>
  ];
  let extraClassDeclaration = [{
    unsigned getNumCarried() { return getInits().size(); }
    mlir::ResultRange getCarriedResults() {
      return getResults().take_front(getNumCarried());
    }
    mlir::ResultRange getCollectedResults() {
      return getResults().drop_front(getNumCarried());
    }
    mlir::Block &getBodyBlock() { return getBody().front(); }
    /// Block arguments that see slices of `xs`.
    mlir::Block::BlockArgListType getSliceArguments() {
      return getBodyBlock().getArguments().drop_front(getNumCarried());
    }
  }];
}

def Mimo_YieldOp : Mimo_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["StackOp", "RecomputeOp"]>]> {
  let summary = "results of one layer of a stack, or of a recompute region";
  let arguments = (ins Variadic<AnyType>:$operands);
  let builders = [OpBuilder<(ins), [{ /* nothing to yield */ }]>];
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
}

def Mimo_BridgeOp : Mimo_Op<"bridge", [HasParent<"ModelOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "how one projector's tokens reach the LLM's grid";
  let description = [{
    Placed in the model by `mimo-bridge` when the encoder side (a projector
    and its encoder) and the LLM do not share one grid: the colocated
    layout, modules on different dp, or the disaggregated layout. The
    projected tokens `[tokens, hidden]` (replicated over the source's tp)
    move to the target's grid in the forward and their gradients back:

    - `equal`: the same dp; each rank reads its own slot.
    - `fan_in` (source dp = `factor` x target dp): the target's tp (x pp)
      group holds the `factor` source slots of its dp slot; forward
      all-gathers them, backward takes the local slot.
    - `fan_out` (target dp = `factor` x source dp): forward reads its slot of
      the source's block; backward all-gathers the gradients over the
      source's tp group.
    - `leaders` (disaggregated, disjoint rank spans): point to point between
      replica leaders (tp = pp = 0), broadcast to the receiving tp group.

    `convert-mimo-to-mimort` builds the three-phase schedule around it.

    ```mlir
    mimo.bridge fan_in @projector to @llm factor 2
    ```
  }];
  let arguments = (ins Mimo_BridgeKindAttr:$kind, FlatSymbolRefAttr:$source,
                       FlatSymbolRefAttr:$target, I64Attr:$factor);
  let assemblyFormat = "$kind $source `to` $target `factor` $factor attr-dict";
}

def Mimo_RecomputeOp : Mimo_Op<"recompute", [AttrSizedOperandSegments,
    IsolatedFromAbove, HasParent<"StackOp">, RecursiveMemoryEffects]> {
  let summary = "forward values a backward layer re-runs instead of reading";
  let description = [{
    Inside a backward stack's layer: the forward ops of one layer, cloned by
    `mimo-apply-recompute`, that rebuild values the forward would otherwise
    have kept for the backward. The region is isolated: `inputs` are what it
    reads (the kept layer input, the layer's parameter slices, kept values
    such as attention's q, k and v for selective recompute); the yielded
    values are the results.

    With `layers = N` the region runs only for the first N layers of the
    stack (in forward order, counted from the first layer the stack holds);
    the other layers take their results from `saved`, the values the forward
    kept for those layers. Without `layers` every layer recomputes and
    `saved` is empty.

    ```mlir
    %ln, %h = mimo.recompute (%x, %gamma, %w : tensor<8x16xf32>, tensor<16xf32>,
        tensor<16x32xf32>) : tensor<8x16xf32>, tensor<8x32xf32> {
    ^bb0(%x0: tensor<8x16xf32>, %g0: tensor<16xf32>, %w0: tensor<16x32xf32>):
      %n = mimo.rms_norm %x0, %g0 : ...
      %y = mimo.linear %n, %w0 : ...
      mimo.yield %n, %y : tensor<8x16xf32>, tensor<8x32xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs,
                       Variadic<AnyRankedTensor>:$saved,
                       OptionalAttr<I64Attr>:$layers);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    (`layers` $layers^)? `(` $inputs `:` type($inputs) `)`
    (`saved` `(` $saved^ `:` type($saved) `)`)? attr-dict `:` type($results)
    $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    mlir::Block &getBodyBlock() { return getBody().front(); }
  }];
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def Mimo_ParamOp : Mimo_ComputeOp<"param"> {
  let summary = "a trainable parameter";
  let description = [{
    Declares a parameter of the enclosing layer (inside a stack: one per
    repetition) or module. `init` is `normal` (std `std`, default 0.02),
    `zeros` or `ones`. How tensor parallelism splits it follows from the op
    that uses it.

    ```mlir
    %w = mimo.param "attn.q.weight" : tensor<64x64xf32>
    %g = mimo.param "ln1.weight" init = ones : tensor<64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name,
      DefaultValuedAttr<Mimo_InitKindAttr, "::mimo::InitKind::normal">:$init,
      OptionalAttr<F64Attr>:$std);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat =
      "$name (`init` `=` $init^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// How tensor parallelism splits this parameter, from its users.
    ::mimo::TpSplit getTpSplit();
  }];
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Mimo_LinearOp : Mimo_ComputeOp<"linear"> {
  let summary = "y = x W (+ b)";
  let description = [{
    `input` is `[tokens, in]`, `weight` is `[in, out]` (or `[out, in]` with
    `transpose_weight`, as an LM head tied to the embedding is), `bias` is
    `[out]`. `parallel` is its tensor-parallel role: `column` splits `out`,
    `row` splits `in` (its output is summed over the TP group), `vocab` is a
    column split over vocabulary rows (the LM head).

    ```mlir
    %y = mimo.linear %x, %w, %b {parallel = #mimo.tp_split<column>}
        : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<16x256xf32>
    ```
  }];
  let arguments = (ins Mimo_FloatTensor:$input, Mimo_FloatTensor:$weight,
      Optional<Mimo_FloatTensor>:$bias,
      DefaultValuedAttr<Mimo_TpSplitAttr, "::mimo::TpSplit::none">:$parallel,
      UnitAttr:$transpose_weight);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Mimo_AttentionOp : Mimo_ComputeOp<"attention"> {
  let summary = "scaled dot-product attention, causal or bidirectional";
  let description = [{
    `query` is `[tokens, heads * head_dim]`, `key` and `value` are
    `[tokens, kv_heads * head_dim]` (grouped-query attention when
    `kv_heads < heads`). `causal` masks future tokens; `segment`, when
    non-zero, keeps attention inside consecutive segments of that many tokens
    (one image's patches in a ViT). With `rope_theta`, rotary position
    embeddings are applied to queries and keys first. With
    `context_parallel = N > 1` (set by `mimo-partition`) the rows are this
    rank's two load-balanced chunks of a sequence split over the N ranks of
    the module's cp axis (`mimo.context_slice`): the lowering runs ring
    attention, the keys and values passed around the cp ring, the masks and
    rotary positions taken from the chunks' global positions. The optional second
    result is the per-row log-sum-exp `[tokens, heads]` (f32) that the
    backward reads; `mimo-generate-backward` asks for it.

    ```mlir
    %o = mimo.attention %q, %k, %v {heads = 8 : i64, kv_heads = 2 : i64,
        causal, rope_theta = 1.0e+04 : f64}
        : (tensor<64x64xf32>, tensor<64x16xf32>, tensor<64x16xf32>) -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins Mimo_FloatTensor:$query, Mimo_FloatTensor:$key,
      Mimo_FloatTensor:$value, I64Attr:$heads, I64Attr:$kv_heads,
      UnitAttr:$causal, DefaultValuedAttr<I64Attr, "0">:$segment,
      OptionalAttr<F64Attr>:$rope_theta,
      DefaultValuedAttr<I64Attr, "1">:$context_parallel);
  let results = (outs Mimo_FloatTensor:$result, Optional<RankedTensorOf<[F32]>>:$lse);
  let assemblyFormat =
      "$query `,` $key `,` $value attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getHeadDim();
  }];
}

def Mimo_LayerNormOp : Mimo_ComputeOp<"layer_norm"> {
  let summary = "layer normalisation over the last dimension";
  let arguments = (ins Mimo_FloatTensor:$input, Mimo_FloatTensor:$gamma,
      Mimo_FloatTensor:$beta, DefaultValuedAttr<F64Attr, "1.0e-5">:$eps);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $gamma `,` $beta attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Mimo_RmsNormOp : Mimo_ComputeOp<"rms_norm"> {
  let summary = "RMS normalisation over the last dimension";
  let arguments = (ins Mimo_FloatTensor:$input, Mimo_FloatTensor:$gamma,
      DefaultValuedAttr<F64Attr, "1.0e-5">:$eps);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $gamma attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Mimo_GeluOp : Mimo_ComputeOp<"gelu", [SameOperandsAndResultType]> {
  let summary = "GELU (tanh approximation)";
  let arguments = (ins Mimo_FloatTensor:$input);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Mimo_SwigluOp : Mimo_ComputeOp<"swiglu", [SameOperandsAndResultType]> {
  let summary = "silu(gate) * up";
  let arguments = (ins Mimo_FloatTensor:$gate, Mimo_FloatTensor:$up);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Mimo_AddOp : Mimo_ComputeOp<"add", [SameOperandsAndResultType]> {
  let summary = "elementwise sum (residual connections)";
  let arguments = (ins Mimo_FloatTensor:$lhs, Mimo_FloatTensor:$rhs);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Mimo_EmbeddingOp : Mimo_ComputeOp<"embedding"> {
  let summary = "token embedding lookup";
  let description = [{
    `ids` is `[tokens]`, `table` is `[vocab, hidden]`. With
    `parallel = vocab` each tensor-parallel rank holds a slice of the
    vocabulary and the partial lookups are summed.
  }];
  let arguments = (ins Mimo_IdTensor:$ids, Mimo_FloatTensor:$table,
      DefaultValuedAttr<Mimo_TpSplitAttr, "::mimo::TpSplit::none">:$parallel);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat =
      "$ids `,` $table attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Mimo_PatchEmbedOp : Mimo_ComputeOp<"patch_embed"> {
  let summary = "image patches to tokens, with positions and class tokens";
  let description = [{
    `pixels` is `[images, channels, height, width]`; each
    `patch_size x patch_size` patch (channel-major) is projected by `weight`
    `[channels * patch_size^2, hidden]` plus `bias`; `class_tokens`
    `[k, hidden]`, when given, are prepended to every image; the learned
    `positions` `[tokens_per_image, hidden]` are added per image. The result
    is `[images * tokens_per_image, hidden]`.
  }];
  let arguments = (ins Mimo_FloatTensor:$pixels, Mimo_FloatTensor:$weight,
      Mimo_FloatTensor:$bias, Mimo_FloatTensor:$positions,
      Optional<Mimo_FloatTensor>:$class_tokens, I64Attr:$patch_size);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat = [{
    $pixels `,` $weight `,` $bias `,` $positions (`,` $class_tokens^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumImages();
    int64_t getPatchesPerImage();
    int64_t getTokensPerImage();
  }];
}

def Mimo_MergeModalitiesOp : Mimo_ComputeOp<"merge_modalities"> {
  let summary = "place encoder tokens at their positions in the LLM sequence";
  let description = [{
    `text` is the embedded sequence `[seq, hidden]` and `ids` its token ids;
    each `sources[i]` (`[n_i, hidden]`, one projector's output) fills, in
    order, the positions whose id is `placeholder_ids[i]`. The data pipeline
    guarantees exactly `n_i` such positions.
  }];
  let arguments = (ins Mimo_FloatTensor:$text, Mimo_IdTensor:$ids,
      Variadic<Mimo_FloatTensor>:$sources,
      DenseI64ArrayAttr:$placeholder_ids);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat = [{
    $text `,` $ids (`,` $sources^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Mimo_CrossEntropyOp : Mimo_ComputeOp<"cross_entropy"> {
  let summary = "summed token cross-entropy and the count of loss tokens";
  let description = [{
    `logits` is `[tokens, vocab]`, `labels` `[tokens]`; labels equal to
    `ignore_index` do not count. Returns the summed loss and the number of
    loss tokens (both 0-d f32); the per-token loss divides the sum over all
    data-parallel ranks by the global count. With `parallel = vocab` the
    logits are split over the vocabulary.
  }];
  let arguments = (ins Mimo_FloatTensor:$logits, Mimo_IdTensor:$labels,
      DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
      DefaultValuedAttr<Mimo_TpSplitAttr, "::mimo::TpSplit::none">:$parallel);
  let results = (outs 0DTensorOf<[F32]>:$loss, 0DTensorOf<[F32]>:$count);
  let assemblyFormat =
      "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Backward (created by mimo-generate-backward)
//===----------------------------------------------------------------------===//

class Mimo_GradOp<string mnemonic, list<Trait> traits = []>
    : Mimo_Op<mnemonic, !listconcat(traits, [Pure])>;

def Mimo_ParamGradOp : Mimo_Op<"param_grad", [HasParent<"ModuleOp">]> {
  let summary = "the gradient of a parameter, accumulated over microbatches";
  let description = [{
    In a backward module: `gradient` is the gradient of the forward module's
    parameter `name` (same type) for this microbatch; the lowering adds it to
    the parameter's gradient buffer.
  }];
  let arguments = (ins StrAttr:$name, Mimo_FloatTensor:$gradient);
  let assemblyFormat = "$name `,` $gradient attr-dict `:` type($gradient)";
}

def Mimo_LinearGradOp : Mimo_GradOp<"linear_grad"> {
  let summary = "input, weight and bias gradients of mimo.linear";
  let arguments = (ins Mimo_FloatTensor:$grad, Mimo_FloatTensor:$input,
      Mimo_FloatTensor:$weight,
      DefaultValuedAttr<Mimo_TpSplitAttr, "::mimo::TpSplit::none">:$parallel,
      UnitAttr:$transpose_weight, UnitAttr:$has_bias);
  let results = (outs Mimo_FloatTensor:$input_grad,
                      Mimo_FloatTensor:$weight_grad,
                      Optional<Mimo_FloatTensor>:$bias_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Mimo_AttentionGradOp : Mimo_GradOp<"attention_grad"> {
  let summary = "query, key and value gradients of mimo.attention";
  let arguments = (ins Mimo_FloatTensor:$grad, Mimo_FloatTensor:$query,
      Mimo_FloatTensor:$key, Mimo_FloatTensor:$value,
      Mimo_FloatTensor:$output, RankedTensorOf<[F32]>:$lse,
      I64Attr:$heads, I64Attr:$kv_heads, UnitAttr:$causal,
      DefaultValuedAttr<I64Attr, "0">:$segment,
      OptionalAttr<F64Attr>:$rope_theta,
      DefaultValuedAttr<I64Attr, "1">:$context_parallel);
  let results = (outs Mimo_FloatTensor:$query_grad, Mimo_FloatTensor:$key_grad,
                      Mimo_FloatTensor:$value_grad);
  let assemblyFormat = [{
    $grad `,` $query `,` $key `,` $value `,` $output `,` $lse attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Mimo_LayerNormGradOp : Mimo_GradOp<"layer_norm_grad"> {
  let summary = "input, gamma and beta gradients of mimo.layer_norm";
  let description = [{
    Recomputes the mean and inverse deviation from `input` (the same
    deterministic reduction as the forward, so the result is identical to
    keeping them).
  }];
  let arguments = (ins Mimo_FloatTensor:$grad, Mimo_FloatTensor:$input,
      Mimo_FloatTensor:$gamma, DefaultValuedAttr<F64Attr, "1.0e-5">:$eps);
  let results = (outs Mimo_FloatTensor:$input_grad, Mimo_FloatTensor:$gamma_grad,
                      Mimo_FloatTensor:$beta_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $gamma attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Mimo_RmsNormGradOp : Mimo_GradOp<"rms_norm_grad"> {
  let summary = "input and gamma gradients of mimo.rms_norm";
  let arguments = (ins Mimo_FloatTensor:$grad, Mimo_FloatTensor:$input,
      Mimo_FloatTensor:$gamma, DefaultValuedAttr<F64Attr, "1.0e-5">:$eps);
  let results = (outs Mimo_FloatTensor:$input_grad, Mimo_FloatTensor:$gamma_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $gamma attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Mimo_GeluGradOp : Mimo_GradOp<"gelu_grad", [SameOperandsAndResultType]> {
  let summary = "input gradient of mimo.gelu";
  let arguments = (ins Mimo_FloatTensor:$grad, Mimo_FloatTensor:$input);
  let results = (outs Mimo_FloatTensor:$input_grad);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($input_grad)";
}

def Mimo_SwigluGradOp : Mimo_GradOp<"swiglu_grad", [SameOperandsAndResultType]> {
  let summary = "gate and up gradients of mimo.swiglu";
  let arguments = (ins Mimo_FloatTensor:$grad, Mimo_FloatTensor:$gate,
                       Mimo_FloatTensor:$up);
  let results = (outs Mimo_FloatTensor:$gate_grad, Mimo_FloatTensor:$up_grad);
  let assemblyFormat = "$grad `,` $gate `,` $up attr-dict `:` type($gate_grad)";
}

def Mimo_EmbeddingGradOp : Mimo_GradOp<"embedding_grad"> {
  let summary = "table gradient of mimo.embedding (scatter-add of rows)";
  let arguments = (ins Mimo_FloatTensor:$grad, Mimo_IdTensor:$ids,
      DefaultValuedAttr<Mimo_TpSplitAttr, "::mimo::TpSplit::none">:$parallel);
  let results = (outs Mimo_FloatTensor:$table_grad);
  let assemblyFormat =
      "$grad `,` $ids attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Mimo_PatchEmbedGradOp : Mimo_GradOp<"patch_embed_grad"> {
  let summary = "weight, bias, position and class-token gradients of mimo.patch_embed";
  let arguments = (ins Mimo_FloatTensor:$grad, Mimo_FloatTensor:$pixels,
                       I64Attr:$patch_size);
  let results = (outs Mimo_FloatTensor:$weight_grad, Mimo_FloatTensor:$bias_grad,
                      Mimo_FloatTensor:$positions_grad,
                      Optional<Mimo_FloatTensor>:$class_tokens_grad);
  let assemblyFormat =
      "$grad `,` $pixels attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Mimo_MergeModalitiesGradOp : Mimo_GradOp<"merge_modalities_grad"> {
  let summary = "text and source gradients of mimo.merge_modalities";
  let description = [{
    Routes the sequence gradient back: rows at placeholder positions go, in
    order, to their source; the others to the text (zero at placeholders).
  }];
  let arguments = (ins Mimo_FloatTensor:$grad, Mimo_IdTensor:$ids,
                       DenseI64ArrayAttr:$placeholder_ids);
  let results = (outs Mimo_FloatTensor:$text_grad,
                      Variadic<Mimo_FloatTensor>:$source_grads);
  let assemblyFormat =
      "$grad `,` $ids attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Mimo_CrossEntropyGradOp : Mimo_GradOp<"cross_entropy_grad"> {
  let summary = "logits gradient of mimo.cross_entropy";
  let description = [{
    `loss_grad` (0-d f32) scales the gradient of the summed loss: it carries
    1 / (loss tokens summed over the data-parallel group), which makes the
    loss per token for every plan.
  }];
  let arguments = (ins Mimo_FloatTensor:$logits, Mimo_IdTensor:$labels,
      0DTensorOf<[F32]>:$loss_grad,
      DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
      DefaultValuedAttr<Mimo_TpSplitAttr, "::mimo::TpSplit::none">:$parallel);
  let results = (outs Mimo_FloatTensor:$logits_grad);
  let assemblyFormat = [{
    $logits `,` $labels `,` $loss_grad attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Context parallelism (created by mimo-partition)
//===----------------------------------------------------------------------===//

def Mimo_ContextSliceOp : Mimo_Op<"context_slice", [Pure]> {
  let summary = "this rank's load-balanced chunks of a sequence";
  let description = [{
    The token dim (dim 0) of `input` is cut into `2 * cp` equal chunks; the
    rank at coordinate `i` of `grid`'s cp axis keeps chunks `i` and
    `2 * cp - 1 - i`, in that order (causal load balancing: every rank gets
    one early and one late chunk, so the same share of the causal mask).

    ```mlir
    %local = mimo.context_slice %x {grid = @llm_grid, cp = 2 : i64}
        : tensor<128x64xf32> -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, FlatSymbolRefAttr:$grid,
      I64Attr:$cp);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Mimo_ContextPadOp : Mimo_Op<"context_pad", [Pure]> {
  let summary = "this rank's chunks placed back in a zero sequence";
  let description = [{
    The adjoint of `mimo.context_slice` on one rank: the result is the full
    sequence with this rank's two chunks at their positions and zeros
    elsewhere (summing it over the cp ranks gives the gathered sequence).
    The backward of a context-parallel module pads the gradient of its
    sliced stream back to full length.

    ```mlir
    %full = mimo.context_pad %g {grid = @llm_grid, cp = 2 : i64}
        : tensor<64x64xf32> -> tensor<128x64xf32>
    ```
  }];
  let arguments = (ins Mimo_FloatTensor:$input, FlatSymbolRefAttr:$grid,
      I64Attr:$cp);
  let results = (outs Mimo_FloatTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif // MIMO_DIALECT_MIMOOPS_TD

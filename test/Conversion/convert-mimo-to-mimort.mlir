// RUN: mimo-opt %s --mimo-generate-backward --convert-mimo-to-mimort | FileCheck %s
// RUN: mimo-opt %s --mimo-generate-backward --convert-mimo-to-mimort=data-samples=4 | FileCheck %s --check-prefix=POOL
// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-generate-backward --convert-mimo-to-mimort | FileCheck %s --check-prefix=TINY
// RUN: mimo-opt %s --mimo-generate-backward --convert-mimo-to-mimort --convert-mimort-to-emitc | mlir-translate --mlir-to-cpp | FileCheck %s --check-prefix=EMITC
//
// The tiny model's shape, small: a one-layer ViT (patch embedding,
// layer norm, segment attention, GELU), a linear projector and a two-layer
// decoder (RMS norm, RoPE attention with grouped kv heads, SwiGLU, tied
// LM head), lowered after mimo-generate-backward into the world-1 program.

// CHECK-LABEL: module {
// CHECK: mimort.program @small {flops_per_step = {{.*}}, init = @init, step = @step, world_size = 1 : i64}
// CHECK: mimort.grid @vision [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// CHECK: mimort.grid @proj [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// CHECK: mimort.grid @llm [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// Parameters, their gradients and Adam moments; stacked parameters keep
// their layer dim.
// CHECK: mimort.buffer @vision.patch.weight params : !mimort.buffer<48x16xf32>
// CHECK-NEXT: mimort.buffer @vision.patch.weight.grad grads : !mimort.buffer<48x16xf32>
// CHECK-NEXT: mimort.buffer @vision.patch.weight.m optimizer : !mimort.buffer<48x16xf32>
// CHECK-NEXT: mimort.buffer @vision.patch.weight.v optimizer : !mimort.buffer<48x16xf32>
// CHECK: mimort.buffer @llm.layers.q.weight params : !mimort.buffer<2x32x32xf32>
// CHECK: mimort.data on @llm {global_batch = 2 : i64, image_size = 8 : i64, image_token_id = 63 : i64, images_per_sample = 1 : i64, seq_len = 16 : i64, tokens_per_image = 4 : i64, vocab = 64 : i64}
// CHECK: mimort.buffer @data.input_ids activations : !mimort.buffer<2x16xi32>
// CHECK: mimort.buffer @data.labels activations : !mimort.buffer<2x16xi32>
// CHECK: mimort.buffer @data.pixels activations : !mimort.buffer<2x1x3x8x8xf32>
// CHECK: mimort.buffer @llm_grad.seed activations : !mimort.buffer<1xf32>
// Per-iteration buffers of a stack body, [count, ...] collected results,
// scratch in workspace buffers.
// CHECK: mimort.buffer @llm.stack2.carry0 activations : !mimort.buffer<16x32xf32>
// CHECK: mimort.buffer @llm.stack2.ys0 activations : !mimort.buffer<2x16x32xf32>
// CHECK: mimort.buffer @llm.ws{{[0-9]+}}.q_rope workspace : !mimort.buffer<16x32xf32>
// CHECK: mimort.buffer @llm.count activations : !mimort.buffer<1xi32>

// CHECK-LABEL: func.func @step(%arg0: i64) -> f32 {
// CHECK: %[[G0:.*]] = mimort.get @vision.patch.weight.grad
// CHECK: mimort.fill %[[G0]], %{{.*}} : !mimort.buffer<48x16xf32>, f32
// CHECK: mimort.next_batch %{{.*}}, %{{.*}} pixels %{{.*}} : !mimort.buffer<2x16xi32>, !mimort.buffer<2x16xi32>, !mimort.buffer<2x1x3x8x8xf32>
// The local samples, one at a time.
// CHECK: scf.for %[[S:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, f32) {
// CHECK: %[[PX:.*]] = mimort.get @data.pixels
// CHECK-NEXT: %[[PXI:.*]] = mimort.slice %[[PX]][%[[S]]] : !mimort.buffer<2x1x3x8x8xf32> -> !mimort.buffer<1x3x8x8xf32>
// CHECK: mimort.kernel "patch_embed_forward"(%[[PXI]], {{.*}}) {patch_embed = #mimort.patch_embed<patch = 4, class_tokens = 0>}
// Encoder layers: carried value copied in, parameters sliced per layer.
// CHECK: mimort.copy %{{.*}}, %{{.*}} : !mimort.buffer<4x16xf32>, !mimort.buffer<4x16xf32>
// CHECK: scf.for %[[L:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: mimort.slice %{{.*}}[%[[L]]] : !mimort.buffer<1x16xf32> -> !mimort.buffer<16xf32>
// CHECK: mimort.kernel "layer_norm_forward"
// CHECK: mimort.kernel "linear_forward"
// CHECK: mimort.kernel "attention_forward"({{.*}}) {attention = #mimort.attention<q_heads = 2, kv_heads = 2, head_dim = 8, causal = false, segment = 4, scale = 0.000000e+00 : f64>}
// CHECK: mimort.kernel "gelu_forward"
// CHECK: mimort.kernel "add"
// Collected residuals go to slot L, then the carried value is updated.
// CHECK: %[[YS:.*]] = mimort.slice %{{.*}}[%[[L]]] : !mimort.buffer<1x4x16xf32> -> !mimort.buffer<4x16xf32>
// CHECK-NEXT: mimort.copy %{{.*}}, %[[YS]]
// CHECK: }
// Projector, then the LLM.
// CHECK: mimort.kernel "linear_forward"({{.*}}) {transposed_weight = false} : !mimort.buffer<4x16xf32>, !mimort.buffer<16x32xf32>, !mimort.buffer<32xf32>, !mimort.buffer<4x32xf32>
// CHECK: %[[IDS:.*]] = mimort.slice %{{.*}}[%[[S]]] : !mimort.buffer<2x16xi32> -> !mimort.buffer<16xi32>
// CHECK: mimort.kernel "embedding_forward"(%[[IDS]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: mimort.kernel "merge_rows_forward"(%{{.*}}, %[[IDS]], %{{.*}}, %{{.*}}, %{{.*}}) : !mimort.buffer<16x32xf32>, !mimort.buffer<16xi32>, i64, !mimort.buffer<4x32xf32>, !mimort.buffer<16x32xf32>
// CHECK: scf.for
// CHECK: mimort.kernel "rms_norm_forward"
// RoPE on q and k first (positions from 0), then attention on the rotated values.
// CHECK: mimort.kernel "rope_forward"(%[[Q:[^,]*]], %[[QR:[^,]*]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: mimort.kernel "rope_forward"(%[[K:[^,]*]], %[[KR:[^,]*]], %{{.*}})
// CHECK: mimort.kernel "attention_forward"(%[[QR]], %[[KR]], %[[K]], {{.*}}causal = true
// CHECK: mimort.kernel "swiglu_forward"
// CHECK: }
// Tied LM head and the loss.
// CHECK: mimort.kernel "linear_forward"({{.*}}) {transposed_weight = true}
// CHECK: mimort.kernel "cross_entropy_forward"({{.*}}) : !mimort.buffer<16x64xf32>, !mimort.buffer<16xi32>, !mimort.buffer<1xf32>, !mimort.buffer<1xi32>, !mimort.buffer<16xf32>
// CHECK: mimort.read_scalar %{{.*}}[0] : !mimort.buffer<1xf32> -> f32
// CHECK: mimort.read_scalar %{{.*}}[0] : !mimort.buffer<1xi32> -> i32
// The LLM backward: seed 1, recomputed log-sum-exp, scale from the seed.
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[SEED:.*]] = mimort.get @llm_grad.seed
// CHECK-NEXT: mimort.fill %[[SEED]], %[[ONE]]
// CHECK: mimort.kernel "cross_entropy_forward"
// CHECK: %[[SCALE:.*]] = mimort.read_scalar %{{.*}}[0] : !mimort.buffer<1xf32> -> f32
// CHECK: mimort.kernel "cross_entropy_backward"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SCALE]], %{{.*}})
// Weight gradients accumulate, so their buffers are zeroed first.
// CHECK: mimort.fill %[[DW:.*]], %{{.*}} : !mimort.buffer<64x32xf32>, f32
// CHECK: mimort.kernel "linear_backward"({{.*}}, %[[DW]], %{{.*}}) {transposed_weight = true}
// The layers in reverse: layer count - 1 - j.
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT: %[[LAST:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[R:.*]] = arith.subi %[[LAST]], %[[J]] : index
// CHECK: mimort.kernel "swiglu_backward"
// Rotations recomputed for the backward, gradients rotated back.
// CHECK: mimort.kernel "rope_forward"
// CHECK: mimort.kernel "rope_forward"
// CHECK: mimort.kernel "attention_backward"({{.*}}) {attention = #mimort.attention<q_heads = 2, kv_heads = 1, head_dim = 16, causal = true
// CHECK: mimort.kernel "rope_backward"
// CHECK: mimort.kernel "rope_backward"
// Norm statistics recomputed by the forward kernel.
// CHECK: mimort.kernel "rms_norm_forward"(%[[X:[^,]*]], %{{.*}}, %{{.*}}, %{{.*}}, %[[RSTD:[^)]*]])
// CHECK: mimort.kernel "rms_norm_backward"(%[[X]], %{{.*}}, %[[RSTD]],
// A layer's weight gradients (mimo.param_grad of the stack's per-layer
// results) add into that layer's row of the .grad buffer inside the loop.
// CHECK: %[[QG:.*]] = mimort.get @llm.layers.q.weight.grad
// CHECK-NEXT: %[[QROW:.*]] = mimort.slice %[[QG]][%[[R]]] : !mimort.buffer<2x32x32xf32> -> !mimort.buffer<32x32xf32>
// CHECK-NEXT: mimort.kernel "add"(%[[QROW]], %{{.*}}, %[[QROW]])
// CHECK: }
// CHECK: mimort.kernel "merge_rows_backward"({{.*}}) : !mimort.buffer<16x32xf32>, !mimort.buffer<16xi32>, i64, !mimort.buffer<16x32xf32>, !mimort.buffer<4x32xf32>
// CHECK: mimort.kernel "embedding_backward"
// Projector backward reads the LLM's image gradient; the encoder's after it.
// CHECK: mimort.kernel "linear_backward"
// CHECK: mimort.kernel "gelu_backward"
// CHECK: mimort.kernel "attention_backward"
// CHECK: mimort.kernel "layer_norm_forward"
// CHECK: mimort.kernel "layer_norm_backward"
// CHECK: mimort.kernel "patch_embed_backward"
// CHECK: scf.yield
// CHECK-NEXT: }
// Step totals over the LLM's dp group, global norm, clip, Adam.
// CHECK: mimort.all_reduce sum %{{.*}} on @llm ["dp"] : !mimort.buffer<1xf32>
// CHECK: mimort.all_reduce sum %{{.*}} on @llm ["dp"] : !mimort.buffer<1xf32>
// CHECK: mimort.kernel "sum_squares"({{.*}}) {accumulate = false}
// CHECK: mimort.kernel "sum_squares"({{.*}}) {accumulate = true}
// CHECK: %[[SS:.*]] = mimort.read_scalar %{{.*}}[0]
// A non-finite norm skips the update.
// CHECK: %[[DIFF:.*]] = arith.subf %[[NORM:.*]], %[[NORM]] : f32
// CHECK: %[[FINITE:.*]] = arith.cmpf oeq, %[[DIFF]], %{{.*}} : f32
// CHECK: scf.if %[[FINITE]] {
// CHECK: mimort.kernel "adam_step"(%arg0, %[[GS:[^,]*]], {{.*}}) {adam = #mimort.adam<lr = 1.000000e-03 : f64, beta1 = 9.000000e-01 : f64, beta2 = {{.*}}, eps = 1.000000e-08 : f64, weight_decay = 1.000000e-02 : f64, decoupled = true>}
// CHECK: %[[MEAN:.*]] = arith.divf
// CHECK-NEXT: return %[[MEAN]] : f32

// CHECK-LABEL: func.func @init() {
// CHECK: %[[PW:.*]] = mimort.get @vision.patch.weight
// CHECK-NEXT: mimort.init_param normal %[[PW]], %{{.*}} {name = "vision.patch.weight", std = 2.000000e-02 : f64}
// CHECK: mimort.init_param normal %{{.*}}, %{{.*}} {name = "vision.patch.positions", std = 1.000000e-02 : f64}
// CHECK: mimort.init_param ones %{{.*}}, %{{.*}} {name = "vision.layers.norm.weight"}
// CHECK: mimort.init_param zeros %{{.*}}, %{{.*}} {name = "proj.fc.bias"}

// POOL: mimort.data on @llm {{{.*}}samples = 4 : i64

// TINY: mimort.program @tiny {flops_per_step = {{.*}}, init = @init, step = @step, world_size = 1 : i64}
// TINY: mimort.buffer @llm.layers.attn.k.weight params : !mimort.buffer<4x128x64xf32>
// TINY: mimort.data on @llm {global_batch = 8 : i64, image_size = 32 : i64, image_token_id = 511 : i64, images_per_sample = 2 : i64, seq_len = 128 : i64, tokens_per_image = 16 : i64, vocab = 512 : i64}
// TINY: mimort.buffer @data.pixels activations : !mimort.buffer<8x2x3x32x32xf32>
// TINY-LABEL: func.func @step
// TINY: mimort.next_batch
// TINY: scf.for
// TINY: mimort.kernel "patch_embed_forward"
// TINY: scf.for
// TINY: mimort.kernel "attention_forward"({{.*}}) {attention = #mimort.attention<q_heads = 4, kv_heads = 4, head_dim = 16, causal = false, segment = 16
// TINY: mimort.kernel "rope_forward"
// TINY: mimort.kernel "attention_forward"({{.*}}) {attention = #mimort.attention<q_heads = 8, kv_heads = 4, head_dim = 16, causal = true, segment = 0
// TINY: mimort.kernel "cross_entropy_backward"
// TINY: mimort.kernel "merge_rows_backward"
// TINY: mimort.kernel "patch_embed_backward"
// TINY: mimort.kernel "adam_step"
// TINY-LABEL: func.func @init

// EMITC: mimo::program::setProgram
// EMITC: float step(
// EMITC: mimo::program::callKernel("merge_rows_forward", &mimo::kernels::Kernels::mergeRowsForward,

module {
  mimo.model @small attributes {global_batch_size = 2 : i64, images_per_sample = 1 : i64, optimizer = {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64, grad_clip = 1.000000e+00 : f64, kind = "adamw", lr = 1.000000e-03 : f64, weight_decay = 1.000000e-02 : f64}, precision = "fp32", seed = 1 : i64, seq_len = 16 : i64} {
    mimo.module encoder @vision(%px: tensor<1x3x8x8xf32>) -> tensor<4x16xf32> {
      %w = mimo.param "patch.weight" : tensor<48x16xf32>
      %b = mimo.param "patch.bias" init = <zeros> : tensor<16xf32>
      %pos = mimo.param "patch.positions" {std = 1.000000e-02 : f64} : tensor<4x16xf32>
      %x = mimo.patch_embed %px, %w, %b, %pos {patch_size = 4 : i64} : (tensor<1x3x8x8xf32>, tensor<48x16xf32>, tensor<16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
      %h = mimo.stack 1(%x) : tensor<4x16xf32> -> tensor<4x16xf32> {
      ^bb0(%a: tensor<4x16xf32>):
        %g = mimo.param "norm.weight" init = <ones> : tensor<16xf32>
        %be = mimo.param "norm.bias" init = <zeros> : tensor<16xf32>
        %n = mimo.layer_norm %a, %g, %be : (tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
        %wq = mimo.param "q.weight" : tensor<16x16xf32>
        %q = mimo.linear %n, %wq : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
        %o = mimo.attention %q, %q, %n {heads = 2 : i64, kv_heads = 2 : i64, segment = 4 : i64} : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
        %f = mimo.gelu %o : tensor<4x16xf32>
        %r = mimo.add %a, %f : tensor<4x16xf32>
        mimo.yield %r : tensor<4x16xf32>
      }
      mimo.return %h : tensor<4x16xf32>
    }
    mimo.module projector @proj(%e: tensor<4x16xf32>) -> tensor<4x32xf32> attributes {inputs = [@vision]} {
      %w = mimo.param "fc.weight" : tensor<16x32xf32>
      %b = mimo.param "fc.bias" init = <zeros> : tensor<32xf32>
      %y = mimo.linear %e, %w, %b : (tensor<4x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
      mimo.return %y : tensor<4x32xf32>
    }
    mimo.module llm @llm(%ids: tensor<16xi32>, %labels: tensor<16xi32>, %img: tensor<4x32xf32>) -> (tensor<f32>, tensor<f32>) attributes {inputs = [@proj]} {
      %t = mimo.param "embed.weight" : tensor<64x32xf32>
      %x = mimo.embedding %ids, %t : (tensor<16xi32>, tensor<64x32xf32>) -> tensor<16x32xf32>
      %m = mimo.merge_modalities %x, %ids, %img {placeholder_ids = array<i64: 63>} : (tensor<16x32xf32>, tensor<16xi32>, tensor<4x32xf32>) -> tensor<16x32xf32>
      %h = mimo.stack 2(%m) : tensor<16x32xf32> -> tensor<16x32xf32> {
      ^bb0(%a: tensor<16x32xf32>):
        %g = mimo.param "norm.weight" init = <ones> : tensor<32xf32>
        %n = mimo.rms_norm %a, %g : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
        %wq = mimo.param "q.weight" : tensor<32x32xf32>
        %q = mimo.linear %n, %wq : (tensor<16x32xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
        %wk = mimo.param "k.weight" : tensor<32x16xf32>
        %k = mimo.linear %n, %wk : (tensor<16x32xf32>, tensor<32x16xf32>) -> tensor<16x16xf32>
        %o = mimo.attention %q, %k, %k {causal, heads = 2 : i64, kv_heads = 1 : i64, rope_theta = 1.000000e+04 : f64} : (tensor<16x32xf32>, tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x32xf32>
        %wu = mimo.param "up.weight" : tensor<32x32xf32>
        %u = mimo.linear %o, %wu : (tensor<16x32xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
        %s = mimo.swiglu %o, %u : tensor<16x32xf32>
        %r = mimo.add %a, %s : tensor<16x32xf32>
        mimo.yield %r : tensor<16x32xf32>
      }
      %logits = mimo.linear %h, %t {transpose_weight} : (tensor<16x32xf32>, tensor<64x32xf32>) -> tensor<16x64xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<16x64xf32>, tensor<16xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

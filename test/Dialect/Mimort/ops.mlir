// RUN: mimo-opt %s | mimo-opt | FileCheck %s
// RUN: mimo-opt %s -mlir-print-op-generic | mimo-opt | FileCheck %s
//
// Every mimort op, type and attribute survives printing and parsing.

// CHECK: mimort.program @roundtrip {flops_per_step = 1.000000e+06 : f64, init = @init, step = @step, world_size = 4 : i64}
mimort.program @roundtrip {world_size = 4 : i64, flops_per_step = 1.0e6 : f64,
                           init = @init, step = @step}
// CHECK: mimort.grid @llm [tp = 2, cp = 1, pp = 1, dp = 2] ranks(0, 4)
mimort.grid @llm [tp = 2, cp = 1, pp = 1, dp = 2] ranks(0, 4)
// CHECK: mimort.data on @llm {global_batch = 4 : i64, samples = 8 : i64, seq_len = 16 : i64, vocab = 64 : i64}
mimort.data on @llm {global_batch = 4 : i64, seq_len = 16 : i64, vocab = 64 : i64, samples = 8 : i64}
// CHECK: mimort.buffer @w params : !mimort.buffer<2x8x16xf32>
mimort.buffer @w params : !mimort.buffer<2x8x16xf32>
// CHECK: mimort.buffer @w_on params : !mimort.buffer<4xf32> on @llm
mimort.buffer @w_on params : !mimort.buffer<4xf32> on @llm
// CHECK: mimort.buffer @w_stage params : !mimort.buffer<4xf32> on @llm stage 0
mimort.buffer @w_stage params : !mimort.buffer<4xf32> on @llm stage 0
// CHECK: mimort.buffer @h activations : !mimort.buffer<32x16xbf16>
mimort.buffer @h activations : !mimort.buffer<32x16xbf16>
mimort.buffer @x activations : !mimort.buffer<32x8xf32>
mimort.buffer @y activations : !mimort.buffer<32x16xf32>
mimort.buffer @g grads : !mimort.buffer<2x8x16xf32>
mimort.buffer @m optimizer : !mimort.buffer<8x16xf32>
mimort.buffer @v optimizer : !mimort.buffer<8x16xf32>
mimort.buffer @ws workspace : !mimort.buffer<1024xf32>
mimort.buffer @ids activations : !mimort.buffer<2x16xi32>
mimort.buffer @labels activations : !mimort.buffer<2x16xi32>
mimort.buffer @gathered activations : !mimort.buffer<2x32x16xf32>

// CHECK-LABEL: func.func @init
func.func @init() {
  %c0 = arith.constant 0 : i64
  // CHECK: %[[W:.*]] = mimort.get @w : !mimort.buffer<2x8x16xf32>
  %w = mimort.get @w : !mimort.buffer<2x8x16xf32>
  // CHECK: mimort.init_param normal %[[W]], %{{.*}} {name = "llm.w", row_length = 32 : i64, std = 2.000000e-02 : f64} : !mimort.buffer<2x8x16xf32>
  mimort.init_param normal %w, %c0 {name = "llm.w", std = 0.02 : f64, row_length = 32 : i64} : !mimort.buffer<2x8x16xf32>
  // CHECK: mimort.init_param zeros
  mimort.init_param zeros %w, %c0 {name = "llm.w"} : !mimort.buffer<2x8x16xf32>
  // CHECK: mimort.init_param ones
  mimort.init_param ones %w, %c0 {name = "llm.w"} : !mimort.buffer<2x8x16xf32>
  return
}

// CHECK-LABEL: func.func @step
func.func @step(%step: i64) -> f32 {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %i0 = arith.constant 0 : i64
  %i1 = arith.constant 1 : i64
  %w = mimort.get @w : !mimort.buffer<2x8x16xf32>
  %x = mimort.get @x : !mimort.buffer<32x8xf32>
  %y = mimort.get @y : !mimort.buffer<32x16xf32>
  %g = mimort.get @g : !mimort.buffer<2x8x16xf32>
  %m = mimort.get @m : !mimort.buffer<8x16xf32>
  %v = mimort.get @v : !mimort.buffer<8x16xf32>
  %ids = mimort.get @ids : !mimort.buffer<2x16xi32>
  %labels = mimort.get @labels : !mimort.buffer<2x16xi32>
  // CHECK: mimort.next_batch %{{.*}}, %{{.*}} : !mimort.buffer<2x16xi32>, !mimort.buffer<2x16xi32>
  mimort.next_batch %ids, %labels : !mimort.buffer<2x16xi32>, !mimort.buffer<2x16xi32>
  // CHECK: mimort.reshape %{{.*}} : !mimort.buffer<2x16xi32> -> !mimort.buffer<32xi32>
  %flat = mimort.reshape %ids : !mimort.buffer<2x16xi32> -> !mimort.buffer<32xi32>
  // CHECK: mimort.slice %{{.*}}[%{{.*}}] : !mimort.buffer<2x8x16xf32> -> !mimort.buffer<8x16xf32>
  %w0 = mimort.slice %w[%c0] : !mimort.buffer<2x8x16xf32> -> !mimort.buffer<8x16xf32>
  %g0 = mimort.slice %g[%c0] : !mimort.buffer<2x8x16xf32> -> !mimort.buffer<8x16xf32>
  // CHECK: mimort.absent : !mimort.absent
  %none = mimort.absent : !mimort.absent
  // CHECK: mimort.kernel "linear_forward"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {transposed_weight = false} : !mimort.buffer<32x8xf32>, !mimort.buffer<8x16xf32>, !mimort.absent, !mimort.buffer<32x16xf32>
  mimort.kernel "linear_forward"(%x, %w0, %none, %y) {transposed_weight = false} : !mimort.buffer<32x8xf32>, !mimort.buffer<8x16xf32>, !mimort.absent, !mimort.buffer<32x16xf32>
  // CHECK: mimort.kernel "adam_step"({{.*}}) {adam = #mimort.adam<lr = 1.000000e-03 : f64, beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, eps = 1.000000e-08 : f64, weight_decay = 1.000000e-01 : f64, decoupled = true>}
  mimort.kernel "adam_step"(%step, %one, %w0, %g0, %m, %v) {adam = #mimort.adam<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.1, decoupled = true>} : i64, f32, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>
  // CHECK: #mimort.attention<q_heads = 4, kv_heads = 2, head_dim = 4, causal = true, segment = 0, scale = 0.000000e+00 : f64>
  mimort.kernel "attention_forward"(%y, %y, %y, %y, %y) {attention = #mimort.attention<q_heads = 4, kv_heads = 2, head_dim = 4, causal = true, segment = 0, scale = 0.0>} : !mimort.buffer<32x16xf32>, !mimort.buffer<32x16xf32>, !mimort.buffer<32x16xf32>, !mimort.buffer<32x16xf32>, !mimort.buffer<32x16xf32>
  // CHECK: #mimort.patch_embed<patch = 2, class_tokens = 1>
  mimort.kernel "patch_embed_forward"(%y, %y, %none, %none, %none, %y, %y) {patch_embed = #mimort.patch_embed<patch = 2, class_tokens = 1>} : !mimort.buffer<32x16xf32>, !mimort.buffer<32x16xf32>, !mimort.absent, !mimort.absent, !mimort.absent, !mimort.buffer<32x16xf32>, !mimort.buffer<32x16xf32>
  // CHECK: mimort.fill %{{.*}}, %{{.*}} : !mimort.buffer<2x8x16xf32>, f32
  mimort.fill %g, %zero : !mimort.buffer<2x8x16xf32>, f32
  // CHECK: mimort.copy %{{.*}}, %{{.*}} : !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>
  mimort.copy %m, %v : !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>
  // CHECK: mimort.all_reduce sum %{{.*}} on @llm ["dp"] : !mimort.buffer<2x8x16xf32>
  mimort.all_reduce sum %g on @llm ["dp"] : !mimort.buffer<2x8x16xf32>
  // CHECK: mimort.all_reduce max %{{.*}} on @llm ["tp", "dp"]
  mimort.all_reduce max %y on @llm ["tp", "dp"] : !mimort.buffer<32x16xf32>
  %gathered = mimort.get @gathered : !mimort.buffer<2x32x16xf32>
  // CHECK: mimort.all_gather %{{.*}}, %{{.*}} on @llm ["tp"] : !mimort.buffer<32x16xf32>, !mimort.buffer<2x32x16xf32>
  mimort.all_gather %y, %gathered on @llm ["tp"] : !mimort.buffer<32x16xf32>, !mimort.buffer<2x32x16xf32>
  // CHECK: mimort.reduce_scatter sum %{{.*}}, %{{.*}} on @llm ["dp"] : !mimort.buffer<2x32x16xf32>, !mimort.buffer<32x16xf32>
  mimort.reduce_scatter sum %gathered, %y on @llm ["dp"] : !mimort.buffer<2x32x16xf32>, !mimort.buffer<32x16xf32>
  // CHECK: mimort.broadcast %{{.*}} on @llm ["tp"] root 1 : !mimort.buffer<32x16xf32>
  mimort.broadcast %y on @llm ["tp"] root 1 : !mimort.buffer<32x16xf32>
  // CHECK: %[[R:.*]] = mimort.grid_coord @llm "tp" : i64
  %r = mimort.grid_coord @llm "tp" : i64
  // CHECK: mimort.send %{{.*}} to %[[R]] on @llm ["tp"] tag 3 : !mimort.buffer<32x16xf32>
  mimort.send %y to %r on @llm ["tp"] tag 3 : !mimort.buffer<32x16xf32>
  // CHECK: mimort.recv %{{.*}} from %[[R]] on @llm ["tp"] tag 3 : !mimort.buffer<32x16xf32>
  mimort.recv %y from %r on @llm ["tp"] tag 3 : !mimort.buffer<32x16xf32>
  // CHECK: %[[Q:.*]] = mimort.recv_start %{{.*}} from %[[R]] on @llm ["tp"] tag 4 : !mimort.buffer<2x32x16xf32>
  %req = mimort.recv_start %gathered from %r on @llm ["tp"] tag 4 : !mimort.buffer<2x32x16xf32>
  mimort.send %y to %r on @llm ["tp"] tag 4 : !mimort.buffer<32x16xf32>
  // CHECK: mimort.recv_wait %[[Q]]
  mimort.recv_wait %req
  // CHECK: mimort.offload @h
  mimort.offload @h
  // CHECK: mimort.fetch @h
  mimort.fetch @h
  // CHECK: mimort.read_scalar %{{.*}}[3] : !mimort.buffer<32x16xf32> -> f32
  %s = mimort.read_scalar %y[3] : !mimort.buffer<32x16xf32> -> f32
  // CHECK: mimort.read_scalar %{{.*}}[0] : !mimort.buffer<32xi32> -> i32
  %n = mimort.read_scalar %flat[0] : !mimort.buffer<32xi32> -> i32
  return %s : f32
}

// RUN: mimo-opt %s | FileCheck %s
// RUN: mimo-opt %s | mimo-opt | FileCheck %s
// RUN: mimo-opt %s -mlir-print-op-generic | mimo-opt | FileCheck %s

// One op of every kind, in a small model that verifies as a whole.

// CHECK-LABEL: mimo.model @all_ops
// CHECK-SAME: plan = #mimo.plan<colocated, world = 4, micro_batch_size = 1, virtual_stages = 2>
mimo.model @all_ops attributes {seq_len = 32 : i64, images_per_sample = 2 : i64,
    global_batch_size = 8 : i64, seed = 7 : i64, precision = "fp32",
    optimizer = {kind = "adamw", lr = 1.0e-3 : f64},
    plan = #mimo.plan<colocated, world = 4, micro_batch_size = 1, virtual_stages = 2>} {
  // CHECK: mimo.module encoder @vision(%{{.*}}: tensor<2x3x8x8xf32>) -> tensor<10x16xf32>
  // CHECK-SAME: parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4, recompute = full, offload = [activations, params]>
  mimo.module encoder @vision(%pixels: tensor<2x3x8x8xf32>) -> tensor<10x16xf32>
      attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4, recompute = full, offload = [activations, params]>} {
    // CHECK: mimo.param "patch.weight" : tensor<48x16xf32>
    %w = mimo.param "patch.weight" : tensor<48x16xf32>
    // CHECK: mimo.param "patch.bias" init = <zeros> : tensor<16xf32>
    %b = mimo.param "patch.bias" init = <zeros> : tensor<16xf32>
    %pos = mimo.param "patch.positions" {std = 0.01 : f64} : tensor<5x16xf32>
    %cls = mimo.param "patch.class" : tensor<1x16xf32>
    // CHECK: mimo.patch_embed %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {patch_size = 4 : i64}
    %x = mimo.patch_embed %pixels, %w, %b, %pos, %cls {patch_size = 4 : i64}
        : (tensor<2x3x8x8xf32>, tensor<48x16xf32>, tensor<16xf32>, tensor<5x16xf32>, tensor<1x16xf32>) -> tensor<10x16xf32>
    // CHECK: mimo.stack 2(%{{.*}}) : tensor<10x16xf32> -> tensor<10x16xf32>
    %y = mimo.stack 2 (%x) : tensor<10x16xf32> -> tensor<10x16xf32> {
    ^bb0(%h: tensor<10x16xf32>):
      %g = mimo.param "ln.weight" init = <ones> : tensor<16xf32>
      %be = mimo.param "ln.bias" init = <zeros> : tensor<16xf32>
      // CHECK: mimo.layer_norm
      %n = mimo.layer_norm %h, %g, %be {eps = 1.0e-6 : f64}
          : (tensor<10x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<10x16xf32>
      %wq = mimo.param "q.weight" : tensor<16x16xf32>
      // CHECK: mimo.linear %{{.*}}, %{{.*}} {parallel = #mimo.tp_split<column>}
      %q = mimo.linear %n, %wq {parallel = #mimo.tp_split<column>}
          : (tensor<10x16xf32>, tensor<16x16xf32>) -> tensor<10x16xf32>
      // CHECK: mimo.attention %{{.*}}, %{{.*}}, %{{.*}} {heads = 4 : i64, kv_heads = 4 : i64, segment = 5 : i64}
      %o = mimo.attention %q, %q, %q {heads = 4 : i64, kv_heads = 4 : i64, segment = 5 : i64}
          : (tensor<10x16xf32>, tensor<10x16xf32>, tensor<10x16xf32>) -> tensor<10x16xf32>
      // CHECK: mimo.gelu %{{.*}} : tensor<10x16xf32>
      %a = mimo.gelu %o : tensor<10x16xf32>
      // CHECK: mimo.add %{{.*}}, %{{.*}} : tensor<10x16xf32>
      %r = mimo.add %h, %a : tensor<10x16xf32>
      // CHECK: mimo.yield %{{.*}} : tensor<10x16xf32>
      mimo.yield %r : tensor<10x16xf32>
    }
    // CHECK: mimo.return %{{.*}} : tensor<10x16xf32>
    mimo.return %y : tensor<10x16xf32>
  }
  // CHECK: mimo.module projector @proj(%{{.*}}: tensor<10x16xf32>) -> tensor<10x32xf32> attributes {inputs = [@vision]
  mimo.module projector @proj(%x: tensor<10x16xf32>) -> tensor<10x32xf32>
      attributes {inputs = [@vision], parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4>} {
    %w = mimo.param "fc.weight" : tensor<16x32xf32>
    %b = mimo.param "fc.bias" init = <zeros> : tensor<32xf32>
    %y = mimo.linear %x, %w, %b : (tensor<10x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<10x32xf32>
    mimo.return %y : tensor<10x32xf32>
  }
  // CHECK: mimo.module llm @llm
  mimo.module llm @llm(%ids: tensor<32xi32>, %labels: tensor<32xi32>, %img: tensor<10x32xf32>) -> (tensor<f32>, tensor<f32>)
      attributes {inputs = [@proj], parallel = #mimo.parallel<tp = 2, cp = 1, pp = 2, dp = 1, recompute = layers(1), sequence_parallel, distributed_optimizer>} {
    %table = mimo.param "embed.weight" : tensor<64x32xf32>
    // CHECK: mimo.embedding %{{.*}}, %{{.*}} {parallel = #mimo.tp_split<vocab>}
    %t = mimo.embedding %ids, %table {parallel = #mimo.tp_split<vocab>} : (tensor<32xi32>, tensor<64x32xf32>) -> tensor<32x32xf32>
    // CHECK: mimo.merge_modalities %{{.*}}, %{{.*}}, %{{.*}} {placeholder_ids = array<i64: 63>}
    %m = mimo.merge_modalities %t, %ids, %img {placeholder_ids = array<i64: 63>}
        : (tensor<32x32xf32>, tensor<32xi32>, tensor<10x32xf32>) -> tensor<32x32xf32>
    %h = mimo.stack 2 (%m) : tensor<32x32xf32> -> tensor<32x32xf32> {
    ^bb0(%x: tensor<32x32xf32>):
      %g = mimo.param "norm.weight" init = <ones> : tensor<32xf32>
      // CHECK: mimo.rms_norm
      %n = mimo.rms_norm %x, %g : (tensor<32x32xf32>, tensor<32xf32>) -> tensor<32x32xf32>
      %wq = mimo.param "q.weight" : tensor<32x32xf32>
      %wk = mimo.param "k.weight" : tensor<32x16xf32>
      %q = mimo.linear %n, %wq {parallel = #mimo.tp_split<column>} : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
      %k = mimo.linear %n, %wk {parallel = #mimo.tp_split<column>} : (tensor<32x32xf32>, tensor<32x16xf32>) -> tensor<32x16xf32>
      // CHECK: mimo.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, heads = 4 : i64, kv_heads = 2 : i64, rope_theta = 1.000000e+04 : f64}
      %o = mimo.attention %q, %k, %k {heads = 4 : i64, kv_heads = 2 : i64, causal, rope_theta = 1.0e4 : f64}
          : (tensor<32x32xf32>, tensor<32x16xf32>, tensor<32x16xf32>) -> tensor<32x32xf32>
      %wo = mimo.param "o.weight" : tensor<32x32xf32>
      %p = mimo.linear %o, %wo {parallel = #mimo.tp_split<row>} : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
      // CHECK: mimo.swiglu %{{.*}}, %{{.*}} : tensor<32x32xf32>
      %s = mimo.swiglu %p, %p : tensor<32x32xf32>
      %r = mimo.add %x, %s : tensor<32x32xf32>
      mimo.yield %r : tensor<32x32xf32>
    }
    // CHECK: mimo.linear %{{.*}}, %{{.*}} {parallel = #mimo.tp_split<vocab>, transpose_weight}
    %logits = mimo.linear %h, %table {parallel = #mimo.tp_split<vocab>, transpose_weight}
        : (tensor<32x32xf32>, tensor<64x32xf32>) -> tensor<32x64xf32>
    // CHECK: mimo.cross_entropy %{{.*}}, %{{.*}} {parallel = #mimo.tp_split<vocab>}
    %loss, %count = mimo.cross_entropy %logits, %labels {parallel = #mimo.tp_split<vocab>}
        : (tensor<32x64xf32>, tensor<32xi32>) -> (tensor<f32>, tensor<f32>)
    mimo.return %loss, %count : tensor<f32>, tensor<f32>
  }
}

// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-tp2-sequence-parallel.json" --mimo-generate-backward --mimo-partition | FileCheck %s
//
// tiny.json under tp = 2 with sequence parallelism: each layer stack's
// residual stream (the carried [tokens, hidden]) enters as this rank's half
// of the tokens (all_slice) and leaves all-gathered. Inside a layer the
// norms and residual adds run on 16 of the encoder's 32 tokens; the input of
// a column split is all-gathered (once for q, k and v), the partial sum of a
// row split is reduce-scattered instead of all-reduced.

// CHECK-LABEL: mimo.module encoder @vision
// CHECK: %[[X:.*]] = mimo.patch_embed
// CHECK: %[[MINE:.*]] = shard.all_slice %[[X]] on @vision_grid grid_axes = [3] slice_axis = 0 : tensor<32x64xf32> -> tensor<16x64xf32>
// CHECK: %[[LAYERS:.*]]:12 = mimo.stack 2(%[[MINE]])
// CHECK-NEXT: ^bb0(%[[IN:[^:]*]]: tensor<16x64xf32>
// CHECK-NEXT: %[[N1:.*]] = mimo.layer_norm %[[IN]], {{.*}} -> tensor<16x64xf32>
// CHECK-NEXT: %[[G1:.*]] = shard.all_gather %[[N1]] on @vision_grid grid_axes = [3] gather_axis = 0 : tensor<16x64xf32> -> tensor<32x64xf32>
// CHECK-NEXT: mimo.linear %[[G1]], {{.*}}tp_split<column>
// CHECK-NEXT: mimo.linear %[[G1]], {{.*}}tp_split<column>
// CHECK-NEXT: mimo.linear %[[G1]], {{.*}}tp_split<column>
// CHECK: %[[O:.*]] = mimo.linear {{.*}}tp_split<row>{{.*}} -> tensor<32x64xf32>
// CHECK-NEXT: %[[RS:.*]] = shard.reduce_scatter %[[O]] on @vision_grid grid_axes = [3] scatter_axis = 0 : tensor<32x64xf32> -> tensor<16x64xf32>
// CHECK-NEXT: %[[H:.*]] = mimo.add %[[IN]], %[[RS]] : tensor<16x64xf32>
// CHECK-NEXT: mimo.layer_norm %[[H]], {{.*}} -> tensor<16x64xf32>
// CHECK-NEXT: shard.all_gather
// What the backward keeps of the stream is this rank's tokens.
// CHECK: mimo.yield {{.*}} : tensor<16x64xf32>, tensor<32x128xf32>, tensor<32x128xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<32x32xf32>, tensor<32x2xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>
// CHECK: %[[FULL:.*]] = shard.all_gather %[[LAYERS]]#0 on @vision_grid grid_axes = [3] gather_axis = 0 : tensor<16x64xf32> -> tensor<32x64xf32>
// CHECK: mimo.layer_norm %[[FULL]]

// The backward: the stream's gradient is sliced into the stack and gathered
// after it; a row split's weight gradient gathers the output gradient, a
// column split's the kept input, its input gradient is reduce-scattered, and
// the norm weights' gradients (from half the tokens) are all-reduced.
// CHECK-LABEL: mimo.module backward @vision_grad
// CHECK: %[[DX:.*]], %{{.*}}, %{{.*}} = mimo.layer_norm_grad
// CHECK: %[[DMINE:.*]] = shard.all_slice %[[DX]] {{.*}} : tensor<32x64xf32> -> tensor<16x64xf32>
// CHECK: mimo.stack 2 reverse(%[[DMINE]])
// CHECK: %[[DY:.*]] = shard.all_gather %{{.*}} -> tensor<32x64xf32>
// CHECK-NEXT: mimo.linear_grad %[[DY]], {{.*}}tp_split<row>
// CHECK: %[[KEPT:.*]] = shard.all_gather %{{.*}} -> tensor<32x64xf32>
// CHECK-NEXT: %[[DN:.*]], %{{.*}}, %{{.*}} = mimo.linear_grad %{{.*}}, %[[KEPT]], {{.*}}tp_split<column>
// CHECK-NEXT: %[[DNS:.*]] = shard.reduce_scatter %[[DN]] {{.*}} : tensor<32x64xf32> -> tensor<16x64xf32>
// CHECK-NEXT: %{{.*}}, %[[GAMMA:.*]], %[[BETA:.*]] = mimo.layer_norm_grad %[[DNS]]
// CHECK-DAG: shard.all_reduce %[[BETA]] on @vision_grid grid_axes = [3] : tensor<64xf32>
// CHECK-DAG: shard.all_reduce %[[GAMMA]] on @vision_grid grid_axes = [3] : tensor<64xf32>
// The q, k and v input gradients are added before one reduce-scatter.
// CHECK: %[[QK:.*]] = mimo.add %{{.*}}, %{{.*}} : tensor<32x64xf32>
// CHECK: %[[QKV:.*]] = mimo.add %[[QK]], %{{.*}} : tensor<32x64xf32>
// CHECK-NEXT: shard.reduce_scatter %[[QKV]] {{.*}} -> tensor<16x64xf32>
// CHECK: shard.all_gather %{{.*}} -> tensor<32x64xf32>
// CHECK: mimo.patch_embed_grad

// The LLM: 128 tokens, 64 per rank.
// CHECK-LABEL: mimo.module llm @llm
// CHECK: shard.all_slice %{{.*}} on @llm_grid grid_axes = [3] slice_axis = 0 : tensor<128x128xf32> -> tensor<64x128xf32>
// CHECK: shard.all_gather %{{.*}} on @llm_grid grid_axes = [3] gather_axis = 0 : tensor<64x128xf32> -> tensor<128x128xf32>

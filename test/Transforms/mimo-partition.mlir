// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-tp2.json" --mimo-generate-backward --mimo-partition | FileCheck %s
//
// tiny.json under a tp = 2 plan: each module becomes one tensor-parallel
// rank's program. Column and vocabulary splits halve the output dim of
// their weights, row splits the input dim (behind the stacked layer dim),
// attention keeps half the heads, and each partial sum is followed by a
// sum all-reduce over the tp axis (axis 3 of the [dp, pp, cp, tp] grid);
// partial sums that meet in an add are added before one all-reduce.

// CHECK-DAG: shard.grid @llm_grid(shape = 1x1x1x2) {mimo.module = @llm}
// CHECK-DAG: shard.grid @vision_grid(shape = 1x1x1x2) {mimo.module = @vision}

// The encoder: column q/k/v and fc1 (with their biases), row out and fc2.
// CHECK-LABEL: mimo.module encoder @vision
// CHECK-SAME: mimo.partitioned
// CHECK: mimo.param "patch.weight" : tensor<192x64xf32>
// CHECK: mimo.param "layers.attn.q.weight" {mimo.tp_dim = 2 : i64} : tensor<2x64x32xf32>
// CHECK: mimo.param "layers.attn.q.bias" {{.*}}{mimo.tp_dim = 1 : i64} : tensor<2x32xf32>
// CHECK: mimo.param "layers.attn.out.weight" {mimo.tp_dim = 1 : i64} : tensor<2x32x64xf32>
// CHECK: mimo.param "layers.attn.out.bias" init = <zeros> : tensor<2x64xf32>
// CHECK: mimo.param "layers.ffn.fc1.weight" {mimo.tp_dim = 2 : i64} : tensor<2x64x128xf32>
// CHECK: mimo.param "layers.ffn.fc2.weight" {mimo.tp_dim = 1 : i64} : tensor<2x128x64xf32>
// CHECK: mimo.attention {{.*}}heads = 2 : i64, kv_heads = 2 : i64{{.*}} : (tensor<32x32xf32>, tensor<32x32xf32>, tensor<32x32xf32>) -> (tensor<32x32xf32>, tensor<32x2xf32>)
// CHECK: %[[OUT:.*]] = mimo.linear {{.*}}parallel = #mimo.tp_split<row>{{.*}} -> tensor<32x64xf32>
// CHECK-NEXT: shard.all_reduce %[[OUT]] on @vision_grid grid_axes = [3] : tensor<32x64xf32> -> tensor<32x64xf32>
// CHECK: mimo.gelu %{{.*}} : tensor<32x128xf32>

// Its backward: the column linears' input gradients are partial sums.
// CHECK-LABEL: mimo.module backward @vision_grad
// CHECK: %[[DX:.*]], %{{.*}}, %{{.*}} = mimo.linear_grad {{.*}}parallel = #mimo.tp_split<column>{{.*}} -> (tensor<32x64xf32>, tensor<64x128xf32>, tensor<128xf32>)
// CHECK-NEXT: shard.all_reduce %[[DX]] on @vision_grid grid_axes = [3]

// The projector has no split ops: replicated, unchanged.
// CHECK-LABEL: mimo.module projector @projector
// CHECK: mimo.param "fc1.weight" : tensor<64x128xf32>

// The LLM: vocabulary-parallel embedding and LM head, GQA heads halved.
// CHECK-LABEL: mimo.module llm @llm
// CHECK-SAME: -> (tensor<f32>, tensor<f32>, tensor<128xi32>, tensor<128x256xf32>
// CHECK: mimo.param "embed.weight" {mimo.tp_dim = 0 : i64} : tensor<256x128xf32>
// CHECK: %[[E:.*]] = mimo.embedding {{.*}} -> tensor<128x128xf32>
// CHECK-NEXT: %[[ER:.*]] = shard.all_reduce %[[E]] on @llm_grid grid_axes = [3]
// CHECK-NEXT: mimo.merge_modalities %[[ER]]
// CHECK: mimo.param "layers.attn.k.weight" {mimo.tp_dim = 2 : i64} : tensor<4x128x32xf32>
// CHECK: mimo.attention {{.*}}heads = 4 : i64, kv_heads = 2 : i64
// CHECK: mimo.param "lm_head.weight" {mimo.tp_dim = 1 : i64} : tensor<128x256xf32>
// CHECK: mimo.cross_entropy %{{.*}}, %{{.*}} {parallel = #mimo.tp_split<vocab>} : (tensor<128x256xf32>, tensor<128xi32>)

// CHECK-LABEL: mimo.module backward @llm_grad(%arg0: tensor<f32>, %arg1: tensor<128xi32>, %arg2: tensor<128x256xf32>
// CHECK: mimo.cross_entropy_grad {{.*}} -> tensor<128x256xf32>
// The q, k and v input gradients are summed before one all-reduce.
// CHECK: %[[Q:.*]], %{{.*}} = mimo.linear_grad %query_grad{{.*}} -> (tensor<128x128xf32>, tensor<128x64xf32>)
// CHECK-NEXT: %[[QKV:.*]] = mimo.add %{{.*}}, %[[Q]] : tensor<128x128xf32>
// CHECK-NEXT: shard.all_reduce %[[QKV]] on @llm_grid grid_axes = [3]
// CHECK-NEXT: mimo.rms_norm_grad
// CHECK: mimo.embedding_grad {{.*}} -> tensor<256x128xf32>
// CHECK: mimo.param_grad "embed.weight"

// RUN: mimoc import %examples/tiny.json -o %t.mlir
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-cp2-tp2.json" --mimo-bridge --mimo-generate-backward --mimo-partition | FileCheck %s
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-cp4.json" --mimo-bridge --mimo-generate-backward --mimo-partition | FileCheck %s --check-prefix=CP4
//
// An encoder on a cp > 1 grid outside the homogeneous layout (plan.json
// rejects it; hand-edited IR).
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-colocated-cp2-tp2-dp2.json" | sed -E '/(encoder @vision|projector @projector)/s/tp = 1, cp = 1, pp = 1, dp = 8/tp = 1, cp = 2, pp = 1, dp = 4/' | not mimo-opt --mimo-bridge --mimo-generate-backward --mimo-partition 2>&1 | FileCheck %s --check-prefix=ENC

// The LLM's grid [dp, pp, cp, tp]; the homogeneous layout's encoder shares it
// and runs whole on each cp rank.
// CHECK: shard.grid @llm_grid(shape = 1x1x2x2)
// CHECK: mimo.module encoder @vision(%{{.*}}: tensor<2x3x32x32xf32>) -> (tensor<32x64xf32>

// Forward: the whole sequence is embedded and the image tokens placed; the
// layer stack takes this rank's two chunks (128 tokens / cp 2 = 64 rows).
// CHECK-LABEL: mimo.module llm @llm
// CHECK: %[[MERGED:.*]] = mimo.merge_modalities {{.*}} -> tensor<128x128xf32>
// CHECK: %[[LOCAL:.*]] = mimo.context_slice %[[MERGED]] {cp = 2 : i64, grid = @llm_grid} : tensor<128x128xf32> -> tensor<64x128xf32>
// CHECK: mimo.stack 4(%[[LOCAL]])
// CHECK: mimo.attention {{.*}}context_parallel = 2 : i64{{.*}} : (tensor<64x64xf32>, tensor<64x32xf32>, tensor<64x32xf32>) -> (tensor<64x64xf32>, tensor<64x4xf32>)
// The head and the loss run on the rank's tokens; the labels are sliced
// where the loss reads them and kept for the backward.
// CHECK: %[[LABELS:.*]] = mimo.context_slice %arg1 {cp = 2 : i64, grid = @llm_grid} : tensor<128xi32> -> tensor<64xi32>
// CHECK: mimo.cross_entropy %{{.*}}, %[[LABELS]] {{.*}} : (tensor<64x256xf32>, tensor<64xi32>)
// CHECK: mimo.return {{.*}}, %[[LABELS]],

// Backward: ring attention's gradient; the stack's input gradient padded
// back to the whole sequence; the image tokens' gradients summed over cp.
// CHECK-LABEL: mimo.module backward @llm_grad
// CHECK: mimo.cross_entropy_grad {{.*}} -> tensor<64x256xf32>
// CHECK: mimo.attention_grad {{.*}}context_parallel = 2 : i64
// CHECK: %[[PAD:.*]] = mimo.context_pad %{{.*}} {cp = 2 : i64, grid = @llm_grid} : tensor<64x128xf32> -> tensor<128x128xf32>
// CHECK: %{{.*}}, %[[SRC:.*]] = mimo.merge_modalities_grad %[[PAD]]
// CHECK: shard.all_reduce %[[SRC]] on @llm_grid grid_axes = [2] : tensor<32x128xf32>

// cp 4 without tp: 32 rows per rank, heads whole.
// CP4: mimo.context_slice {{.*}} {cp = 4 : i64, grid = @llm_grid} : tensor<128x128xf32> -> tensor<32x128xf32>
// CP4: mimo.attention {{.*}}context_parallel = 4 : i64, heads = 8 : i64, kv_heads = 4 : i64

// ENC: error: mimo-partition: module 'vision' (encoder) has cp = 2; context parallelism splits the LLM's sequence (an encoder or projector takes cp = 1 outside the homogeneous layout)

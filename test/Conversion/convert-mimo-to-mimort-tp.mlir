// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-tp2-dp2.json" --mimo-generate-backward --mimo-partition --convert-mimo-to-mimort | FileCheck %s
// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-tp2-dp2.json --emit=mlir | FileCheck %s
//
// A tp = 2, dp = 2 plan after mimo-partition: grids with tp = 2, local
// buffers, the shard all-reduces as in-place all-reduces over ["tp"], the
// row linear's bias added by tp rank 0 only, vocabulary ranges from the
// tp coordinate, the vocabulary-parallel cross-entropy, the gradient norm
// over the shards, and each rank's slice of the single-rank initial values.

// CHECK: mimort.program @tiny {{{.*}}world_size = 4 : i64}
// CHECK: mimort.grid @vision [tp = 2, cp = 1, pp = 1, dp = 2] ranks(0, 4)
// CHECK: mimort.grid @llm [tp = 2, cp = 1, pp = 1, dp = 2] ranks(0, 4)
// CHECK: mimort.buffer @llm.embed.weight params : !mimort.buffer<256x128xf32>
// CHECK: mimort.buffer @llm.layers.attn.q.weight params : !mimort.buffer<4x128x64xf32>

// CHECK-LABEL: func.func @step
// Row-parallel output projection of the encoder: bias on tp rank 0.
// CHECK: %[[R:.*]] = mimort.grid_coord @vision "tp" : i64
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[R]], %{{.*}} : i64
// CHECK: scf.if %[[FIRST]] {
// CHECK-NEXT: mimort.kernel "linear_forward"(%{{.*}}, %{{.*}}, %{{.*}}, %[[Y:.*]]) {{.*}}!mimort.buffer<64xf32>
// CHECK-NEXT: } else {
// CHECK-NEXT: mimort.absent
// CHECK-NEXT: mimort.kernel "linear_forward"(%{{.*}}, %{{.*}}, %{{.*}}, %[[Y]]) {{.*}}!mimort.absent
// CHECK: mimort.all_reduce sum %[[Y]] on @vision ["tp"] : !mimort.buffer<32x64xf32>
// The embedding's rows [tp * 256, tp * 256 + 256).
// CHECK: %[[T:.*]] = mimort.grid_coord @llm "tp" : i64
// CHECK-NEXT: %[[V0:.*]] = arith.muli %[[T]], %c256_i64
// CHECK: %[[V1:.*]] = arith.addi %[[V0]], %c256_i64
// CHECK: mimort.kernel "embedding_forward"(%{{.*}}, %{{.*}}, %[[E:.*]], %[[V0]], %[[V1]])
// CHECK-NEXT: mimort.all_reduce sum %[[E]] on @llm ["tp"] : !mimort.buffer<128x128xf32>
// CHECK: mimort.kernel "cross_entropy_local_max"
// CHECK-NEXT: mimort.all_reduce max %{{.*}} on @llm ["tp"]
// CHECK-NEXT: mimort.kernel "cross_entropy_local_sum_exp"
// CHECK-NEXT: mimort.all_reduce sum %{{.*}} on @llm ["tp"]
// CHECK: mimort.kernel "cross_entropy_target_logit"
// CHECK-NEXT: mimort.all_reduce sum %{{.*}} on @llm ["tp"]
// CHECK-NEXT: mimort.kernel "cross_entropy_combine"
// After the sample loop: gradients over dp, then the norm over tp shards.
// CHECK: mimort.all_reduce sum %{{.*}} on @vision ["dp"]
// CHECK: mimort.get @step.grad_sum_squares.vision
// CHECK: mimort.all_reduce sum %{{.*}} on @vision ["tp"] : !mimort.buffer<1xf32>
// CHECK: mimort.all_reduce sum %{{.*}} on @llm ["tp"] : !mimort.buffer<1xf32>
// CHECK: mimort.kernel "adam_step"

// CHECK-LABEL: func.func @init
// A column shard of [2, 64, 64]: rows of the full row length at tp * 32.
// CHECK: %[[QR:.*]] = mimort.grid_coord @vision "tp" : i64
// CHECK-NEXT: %[[QO:.*]] = arith.muli %[[QR]], %c32_i64
// CHECK-NEXT: mimort.init_param normal %{{.*}}, %[[QO]] {name = "vision.layers.attn.q.weight", row_length = 64 : i64, std = 2.000000e-02 : f64} : !mimort.buffer<2x64x32xf32>
// A row shard of [2, 64, 64]: layer a's block starts at a * 4096 + tp * 2048.
// CHECK: %[[OO:.*]] = arith.muli %{{.*}}, %c2048_i64
// CHECK-NEXT: %[[ROWS:.*]] = mimort.reshape %{{.*}} : !mimort.buffer<2x32x64xf32> -> !mimort.buffer<2x2048xf32>
// CHECK: scf.for %[[A:.*]] = 
// CHECK-NEXT: mimort.slice %[[ROWS]][%[[A]]]
// CHECK: arith.muli %{{.*}}, %c4096_i64
// CHECK-NEXT: %[[OFF:.*]] = arith.addi %{{.*}}, %[[OO]]
// CHECK-NEXT: mimort.init_param normal %{{.*}}, %[[OFF]] {name = "vision.layers.attn.out.weight"

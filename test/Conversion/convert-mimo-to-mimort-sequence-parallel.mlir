// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-tp2-sequence-parallel.json --emit=mlir | FileCheck %s
// RUN: mimoc build %examples/vit1b-llm70b.json --plan %examples/plans/vit1b-llm70b-64xh100-homogeneous.json --emit=mlir | FileCheck %s --check-prefix=BIG
//
// Sequence parallelism's token collectives in the runtime program: a shard
// all_slice copies this tp rank's block of rows (a view of the input as
// [tp, rows / tp, ...] at the rank's tp coordinate); all_gather and
// reduce_scatter become the runtime's collectives over the module's tp group.

// CHECK-LABEL: func.func @step
// CHECK: mimort.kernel "patch_embed_forward"({{.*}}, %[[X:[^ ]*]], %{{.*}}) {{.*}}!mimort.buffer<32x64xf32>, !mimort.buffer<6144xf32>
// CHECK-NEXT: %[[MINE:.*]] = mimort.get @vision.{{.*}} : !mimort.buffer<16x64xf32>
// CHECK-NEXT: %[[BLOCKS:.*]] = mimort.reshape %[[X]] : !mimort.buffer<32x64xf32> -> !mimort.buffer<2x16x64xf32>
// CHECK-NEXT: %[[TP:.*]] = mimort.grid_coord @vision "tp" : i64
// CHECK-NEXT: %[[I:.*]] = arith.index_cast %[[TP]] : i64 to index
// CHECK-NEXT: %[[VIEW:.*]] = mimort.slice %[[BLOCKS]][%[[I]]] : !mimort.buffer<2x16x64xf32> -> !mimort.buffer<16x64xf32>
// CHECK-NEXT: mimort.copy %[[VIEW]], %[[MINE]]
// CHECK: mimort.all_gather %{{.*}}, %{{.*}} on @vision ["tp"] : !mimort.buffer<16x64xf32>, !mimort.buffer<32x64xf32>
// CHECK: mimort.reduce_scatter sum %{{.*}}, %{{.*}} on @vision ["tp"] : !mimort.buffer<32x64xf32>, !mimort.buffer<16x64xf32>
// CHECK: mimort.all_gather %{{.*}}, %{{.*}} on @llm ["tp"] : !mimort.buffer<64x128xf32>, !mimort.buffer<128x128xf32>
// CHECK: mimort.reduce_scatter sum %{{.*}}, %{{.*}} on @llm ["tp"] : !mimort.buffer<128x128xf32>, !mimort.buffer<64x128xf32>

// The 70B-class example under its 64-GPU homogeneous plan (tp 8, pp 2
// interleaved, dp 4, SP) in bf16: the token collectives move bf16 (summed in
// f32 by every backend).
// BIG: mimort.program @"vit1b-llm70b" {{.*}} world_size = 64
// BIG: mimort.grid @llm [tp = 8, cp = 1, pp = 2, dp = 4] ranks(0, 64)
// BIG: mimort.all_gather %{{.*}}, %{{.*}} on @vision ["tp"] : !mimort.buffer<896x1408xbf16>, !mimort.buffer<7168x1408xbf16>
// BIG: mimort.reduce_scatter sum %{{.*}}, %{{.*}} on @vision ["tp"] : !mimort.buffer<7168x1408xbf16>, !mimort.buffer<896x1408xbf16>

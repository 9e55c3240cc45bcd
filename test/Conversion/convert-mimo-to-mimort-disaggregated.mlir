// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-disaggregated.json --emit=mlir | FileCheck %s
//
// The disaggregated layout: the encoder (dp 2) and its projector on ranks
// [0, 2), the LLM (tp 2, dp 2) on [2, 6). Each rank tests its world rank
// against the spans; every rank loads the whole batch on the `world` grid;
// the bridge is point to point between replica leaders over the world.

// CHECK-DAG: mimort.grid @vision [tp = 1, cp = 1, pp = 1, dp = 2] ranks(0, 2)
// CHECK-DAG: mimort.grid @llm [tp = 2, cp = 1, pp = 1, dp = 2] ranks(2, 4)
// CHECK-DAG: mimort.grid @world [tp = 6, cp = 1, pp = 1, dp = 1] ranks(0, 6)
// CHECK-DAG: mimort.data on @world {global_batch = 8 : i64
// Each span holds its own modules' parameters and optimizer state.
// CHECK-DAG: mimort.buffer @vision.patch.weight params : !mimort.buffer<192x64xf32> on @vision
// CHECK-DAG: mimort.buffer @vision.patch.weight.m optimizer : !mimort.buffer<192x64xf32> on @vision
// CHECK-DAG: mimort.buffer @projector.fc1.weight.grad grads : {{.*}} on @projector
// CHECK-DAG: mimort.buffer @llm.embed.weight params : {{.*}} on @llm

// CHECK-LABEL: func.func @step
// CHECK: %[[RANK:.*]] = mimort.grid_coord @world "tp" : i64

// Phase 1 on the encoder's ranks; each sample leaves as soon as it is
// projected: its leader sends sample g to LLM rank 2 + (g / 4) * 2 (the
// leader of LLM replica g / 4).
// CHECK: scf.if %[[ENC:[^ ]*]] {
// CHECK: scf.for
// CHECK: mimort.kernel "patch_embed_forward"
// CHECK: scf.if
// CHECK: mimort.grid_coord @vision "dp"
// CHECK: %[[G:.*]] = arith.addi
// CHECK: %[[REPLICA:.*]] = arith.divsi %[[G]], %c4_i64
// CHECK: %[[OFF:.*]] = arith.muli %[[REPLICA]], %c2_i64
// CHECK: %[[PEER:.*]] = arith.addi %c2_i64{{.*}}, %[[OFF]]
// CHECK: mimort.send %{{.*}} to %[[PEER]] on @world ["tp"] tag 0 : !mimort.buffer<32x128xf32>

// On the LLM's ranks, per sample: the leader receives it right before its
// forward and broadcasts it to the tp group; after the backward the leader
// sends its image-token gradient back at once. The LLM phase yields the
// loss and token count (zero elsewhere).
// CHECK: scf.if %[[LLM:[^ ]*]] -> (f32, f32) {
// CHECK: scf.for
// CHECK: mimort.recv %{{.*}} from %{{.*}} on @world ["tp"] tag 0 : !mimort.buffer<32x128xf32>
// CHECK: mimort.broadcast %{{.*}} on @llm ["tp"] root 0 : !mimort.buffer<32x128xf32>
// CHECK: mimort.kernel "cross_entropy_combine"
// CHECK: mimort.send %{{.*}} to %{{.*}} on @world ["tp"] tag 1 : !mimort.buffer<32x128xf32>
// CHECK: } else {
// CHECK-NEXT: arith.constant 0.000000e+00 : f32
// Phase 3 on the encoder's ranks: each sample's gradient received before
// its backward.
// CHECK: scf.if %[[ENC]] {
// CHECK: scf.for
// CHECK: mimort.recv %{{.*}} from %{{.*}} on @world ["tp"] tag 1 : !mimort.buffer<32x128xf32>
// CHECK: mimort.kernel "patch_embed_backward"

// Totals over the world; each module's gradients synced on its own ranks.
// CHECK: mimort.all_reduce sum %{{.*}} on @world ["tp"] : !mimort.buffer<1xf32>
// CHECK: mimort.all_reduce sum %{{.*}} on @world ["tp"] : !mimort.buffer<1xf32>
// CHECK: scf.if %[[ENC]] {
// CHECK-NEXT: mimort.get @vision.
// CHECK-NEXT: mimort.all_reduce sum %{{.*}} on @vision ["dp"]
// CHECK: scf.if %[[LLM]] {
// CHECK-NEXT: mimort.get @llm.
// CHECK-NEXT: mimort.all_reduce sum %{{.*}} on @llm ["dp"]

// @init: each span initialises its own parameters.
// CHECK-LABEL: func.func @init
// CHECK: mimort.grid_coord @world "tp" : i64
// CHECK: scf.if
// CHECK-NEXT: mimort.get @vision.patch.weight
// CHECK-NEXT: mimort.init_param normal

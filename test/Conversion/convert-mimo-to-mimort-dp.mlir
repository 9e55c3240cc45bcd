// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-dp4-homogeneous.json" --mimo-generate-backward --convert-mimo-to-mimort | FileCheck %s
// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-dp4-colocated.json --emit=mlir | FileCheck %s --check-prefix=COLOCATED
// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-dp4-distributed-optimizer.json --emit=mlir | FileCheck %s --check-prefix=DISTOPT
//
// A data-parallel plan (tp = cp = pp = 1, dp = 4 for every module): every
// module's grid spans the plan's world, each rank loads its block of
// global_batch / dp samples, and every parameter gradient is summed over
// its module's dp group before the global norm and Adam.

// CHECK: mimort.program @tiny {{{.*}}world_size = 4 : i64}
// CHECK: mimort.grid @vision [tp = 1, cp = 1, pp = 1, dp = 4] ranks(0, 4)
// CHECK: mimort.grid @projector [tp = 1, cp = 1, pp = 1, dp = 4] ranks(0, 4)
// CHECK: mimort.grid @llm [tp = 1, cp = 1, pp = 1, dp = 4] ranks(0, 4)
// CHECK: mimort.data on @llm {global_batch = 8 : i64,
// CHECK: mimort.buffer @data.input_ids activations : !mimort.buffer<2x128xi32>
// CHECK: mimort.buffer @data.labels activations : !mimort.buffer<2x128xi32>
// CHECK: mimort.buffer @data.pixels activations : !mimort.buffer<2x2x3x32x32xf32>
// CHECK-LABEL: func.func @step
// The sample loop runs the 2 local samples.
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2 step %{{.*}} iter_args
// CHECK: mimort.all_reduce sum %{{.*}} on @llm ["dp"] : !mimort.buffer<1xf32>
// CHECK: mimort.all_reduce sum %{{.*}} on @llm ["dp"] : !mimort.buffer<1xf32>
// CHECK: %[[G:.*]] = mimort.get @vision.patch.weight.grad
// CHECK-NEXT: mimort.all_reduce sum %[[G]] on @vision ["dp"]
// CHECK: %[[P:.*]] = mimort.get @projector.{{.*}}.grad
// CHECK-NEXT: mimort.all_reduce sum %[[P]] on @projector ["dp"]
// CHECK: %[[L:.*]] = mimort.get @llm.{{.*}}.grad
// CHECK-NEXT: mimort.all_reduce sum %[[L]] on @llm ["dp"]
// CHECK-NOT: mimort.kernel "adam_step"
// CHECK: mimort.kernel "sum_squares"
// CHECK: mimort.kernel "adam_step"

// The colocated layout with equal dp still runs the three phases: every
// encoder sample's forward, the LLM's samples, every encoder backward.
// COLOCATED: mimort.grid @vision [tp = 1, cp = 1, pp = 1, dp = 4] ranks(0, 4)
// COLOCATED-LABEL: func.func @step
// COLOCATED: scf.for %{{.*}} = %{{.*}} to %c2{{[_0-9]*}} step
// COLOCATED: mimort.kernel "patch_embed_forward"
// COLOCATED: scf.for %{{.*}} = %{{.*}} to %c2{{[_0-9]*}} step %{{.*}} iter_args
// COLOCATED-NOT: mimort.kernel "patch_embed
// COLOCATED: mimort.kernel "merge_rows_forward"
// COLOCATED: scf.for
// COLOCATED: mimort.kernel "patch_embed_backward"
// COLOCATED: mimort.all_reduce sum %{{.*}} on @llm ["dp"] : !mimort.buffer<1xf32>

// The distributed optimizer: each dp rank keeps a quarter of the Adam
// states, reduce-scatters the summed gradient, updates its quarter of the
// parameter and gathers the others'.
// DISTOPT: mimort.buffer @llm.embed.weight params : !mimort.buffer<512x128xf32>
// DISTOPT: mimort.buffer @llm.embed.weight.m optimizer : !mimort.buffer<16384xf32>
// DISTOPT: mimort.buffer @llm.embed.weight.grad_shard grads : !mimort.buffer<16384xf32>
// DISTOPT-LABEL: func.func @step
// DISTOPT: mimort.reduce_scatter sum %{{.*}}, %{{.*}} on @llm ["dp"] : !mimort.buffer<65536xf32>, !mimort.buffer<16384xf32>
// DISTOPT: %[[BLOCKS:.*]] = mimort.reshape %{{.*}} : !mimort.buffer<512x128xf32> -> !mimort.buffer<4x16384xf32>
// DISTOPT: %[[DP:.*]] = mimort.grid_coord @llm "dp" : i64
// DISTOPT: %[[MINE:.*]] = mimort.slice %[[BLOCKS]][%{{.*}}]
// DISTOPT: mimort.kernel "adam_step"(%{{.*}}, %{{.*}}, %[[MINE]],
// DISTOPT: mimort.all_gather %{{.*}}, %[[BLOCKS]] on @llm ["dp"] : !mimort.buffer<16384xf32>, !mimort.buffer<4x16384xf32>

// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-pp2.json" --mimo-generate-backward --mimo-partition --mimo-pipeline --convert-mimo-to-mimort | FileCheck %s
//
// tiny.json with pp = 2 (1F1B): each rank runs one pipeline stage of the
// LLM; the encoder and projector run on the first stage.

// CHECK: mimort.grid @vision [tp = 1, cp = 1, pp = 2, dp = 1] ranks(0, 2)
// CHECK: mimort.grid @llm [tp = 1, cp = 1, pp = 2, dp = 1] ranks(0, 2)

// The stage's two layers; what the backward reads is kept per in-flight
// microbatch (two slots: at most pp microbatches are in flight).
// CHECK-DAG: mimort.buffer @llm.layers.ffn.fc2.weight params : !mimort.buffer<2x256x128xf32>
// The embedding lives on the first stage, the final norm and head on the
// last (with their gradients and Adam states).
// CHECK-DAG: mimort.buffer @llm.embed.weight params : !mimort.buffer<512x128xf32> on @llm stage 0
// CHECK-DAG: mimort.buffer @llm.embed.weight.m optimizer : !mimort.buffer<512x128xf32> on @llm stage 0
// CHECK-DAG: mimort.buffer @llm.lm_head.weight.grad grads : !mimort.buffer<128x512xf32> on @llm stage 1
// CHECK-DAG: mimort.buffer @llm.final_norm.weight params : !mimort.buffer<128xf32> on @llm stage 1
// CHECK-DAG: mimort.buffer @llm.stack2.carry0 activations : !mimort.buffer<2x128x128xf32>
// CHECK-DAG: mimort.buffer @llm.stack2.ys0 activations : !mimort.buffer<2x2x128x256xf32>

// The schedule: 2 x 8 actions; warmup pp - 1 - stage forwards.
// CHECK-LABEL: func.func @step
// CHECK: %[[STAGE:.*]] = mimort.grid_coord @llm "pp" : i64
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %c16 step
// CHECK: scf.if
// A forward: the first stage embeds, the next receives the hidden state.
// CHECK: mimort.kernel "embedding_forward"
// CHECK: mimort.recv %{{.*}} from %{{.*}} on @llm ["pp"] tag 0 : !mimort.buffer<128x128xf32>
// CHECK: scf.for
// CHECK: mimort.send %{{.*}} to %{{.*}} on @llm ["pp"] tag 0 : !mimort.buffer<128x128xf32>
// CHECK: mimort.kernel "cross_entropy_forward"
// A backward: gradients flow the other way, on their own tag.
// CHECK: } else {
// CHECK: mimort.recv %{{.*}} from %{{.*}} on @llm ["pp"] tag 1 : !mimort.buffer<128x128xf32>
// CHECK: mimort.send %{{.*}} to %{{.*}} on @llm ["pp"] tag 1 : !mimort.buffer<128x128xf32>
// CHECK: mimort.kernel "embedding_backward"
// The loss is summed over the stages (only the last computes it) and the
// gradient norm over the stages' parameters.
// CHECK: mimort.all_reduce{{ +}}sum %{{.*}} on @llm ["dp", "pp"]
// CHECK: mimort.all_reduce{{ +}}sum %{{.*}} on @llm ["pp"]

// Each stage initialises its layers as world 1 numbers them.
// CHECK-LABEL: func.func @init
// CHECK: mimort.grid_coord @llm "pp"

// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-pp2-interleaved.json" --mimo-generate-backward --mimo-pipeline | FileCheck %s
// RUN: mimoc import %S/../e2e/Inputs/tiny-tied-spec.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-pp2.json" --mimo-generate-backward --mimo-pipeline | FileCheck %s --check-prefix=TIED
//
// tiny.json on a homogeneous grid with pp = 2 and the interleaved schedule
// (2 virtual stages per rank): the LLM's 4 layers become one stage's 2
// (two chunks of one layer), in the forward and the backward alike; the
// vision encoder and projector run whole on the first stage.

// CHECK: mimo.module encoder @vision
// CHECK-SAME: mimo.pp_stage = 0 : i64
// CHECK: mimo.stack 2(
// CHECK: mimo.module projector @projector
// CHECK-SAME: mimo.pp_stage = 0 : i64

// The forward: stacked parameters keep the stage's rows, tagged with the
// split dim; the residuals it returns have the stage's rows too.
// CHECK: mimo.module llm @llm
// CHECK-SAME: tensor<2x128x128xf32>
// CHECK-SAME: mimo.pipeline = {layers = 4 : i64, stages = 2 : i64, virtual = 2 : i64}
// CHECK: mimo.param "embed.weight" : tensor<512x128xf32>
// CHECK: mimo.param "layers.attn_norm.weight" init = <ones> {mimo.pp_dim = 0 : i64} : tensor<2x128xf32>
// CHECK: mimo.param "layers.ffn.fc2.weight" {mimo.pp_dim = 0 : i64} : tensor<2x256x128xf32>
// CHECK: mimo.stack 2(%{{.*}}) xs(
// CHECK-SAME: tensor<2x128xf32>
// CHECK: mimo.param "final_norm.weight" init = <ones> : tensor<128xf32>

// The backward reads the same residual shapes and accumulates the stage's
// parameter gradients.
// CHECK: mimo.module backward @llm_grad
// CHECK-SAME: tensor<2x128x256xf32>
// CHECK: mimo.param "layers.ffn.fc2.weight" {mimo.pp_dim = 0 : i64} : tensor<2x256x128xf32>
// CHECK: mimo.stack 2 reverse(
// CHECK: mimo.param_grad "layers.ffn.fc2.weight", %{{.*}} : tensor<2x256x128xf32>
// CHECK: mimo.param_grad "embed.weight", %{{.*}} : tensor<512x128xf32>

// A tied embedding and LM head: the two gradient contributions are
// accumulated on their own stages (the head's before the backward's layers,
// on the last stage; the embedding's after them, on the first), not added
// on one stage.
// TIED-LABEL: mimo.module backward @llm_grad
// TIED: %{{.*}}, %[[HEAD:.*]] = mimo.linear_grad {{.*}}transpose_weight
// TIED-NEXT: mimo.param_grad "embed.weight", %[[HEAD]] : tensor<512x128xf32>
// TIED: mimo.stack 2 reverse
// TIED: %[[EMB:.*]] = mimo.embedding_grad
// TIED-NEXT: mimo.param_grad "embed.weight", %[[EMB]] : tensor<512x128xf32>
// TIED-NOT: mimo.add

// RUN: mimo-opt %s --mimo-generate-backward | FileCheck %s
// Round trip of the backward ops (custom and generic form).
// RUN: mimo-opt %s --mimo-generate-backward -o %t.1.mlir && mimo-opt %t.1.mlir -o %t.2.mlir && mimo-opt %t.2.mlir -o %t.3.mlir && diff %t.2.mlir %t.3.mlir
// RUN: mimo-opt %t.1.mlir -mlir-print-op-generic | mimo-opt -o %t.4.mlir && diff %t.2.mlir %t.4.mlir
// Every shipped example differentiates and verifies.
// RUN: for f in %examples/*.json; do mimoc import $f | mimo-opt --mimo-generate-backward -o /dev/null || exit 1; done
// RUN: not mimo-opt %t.1.mlir --mimo-generate-backward 2>&1 | FileCheck %s --check-prefix=TWICE

// An LLM with a tied embedding and a 2-layer stack whose input is used twice
// (norm and residual).

// CHECK-LABEL: mimo.module llm @llm
// The forward returns the loss, the count, then 8 residuals.
// CHECK-SAME: attributes {residuals = 8 : i64}
// Stack parameters are hoisted to [count, ...] tensors passed as xs.
// CHECK-DAG: %[[NORM:.*]] = mimo.param "layers.norm.weight" init = <ones> : tensor<2x16xf32>
// CHECK-DAG: %[[FC1:.*]] = mimo.param "layers.fc1.weight" : tensor<2x16x32xf32>
// CHECK-DAG: %[[FC2:.*]] = mimo.param "layers.fc2.weight" : tensor<2x32x16xf32>
// CHECK: %[[FWD:.*]]:5 = mimo.stack 2(%{{.*}}) xs(%[[NORM]], %[[FC1]], %[[FC2]] :
// CHECK-SAME: -> tensor<8x16xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>
// The layer yields its output, then its residuals (gelu input and output,
// norm output, layer input).
// CHECK: mimo.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x16xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x16xf32>, tensor<8x16xf32>
// CHECK: mimo.return %loss, %count, %{{.*}} : tensor<f32>, tensor<f32>, tensor<8xi32>,

// CHECK-LABEL: mimo.module backward @llm_grad(
// CHECK-SAME: %[[SEED:[a-z0-9]+]]: tensor<f32>
// CHECK-SAME: attributes {inputs = [@llm]}
// CHECK: %[[TABLE:.*]] = mimo.param "embed.weight" : tensor<32x16xf32>
// CHECK: %[[DLOGITS:.*]] = mimo.cross_entropy_grad %{{.*}}, %{{.*}}, %[[SEED]] {parallel = #mimo.tp_split<vocab>}
// CHECK: %[[DH:.*]], %[[DTIED:.*]] = mimo.linear_grad %[[DLOGITS]], %{{.*}}, %[[TABLE]] {parallel = #mimo.tp_split<vocab>, transpose_weight}
// The layers run backwards over the same parameters and the residuals.
// CHECK: %[[BWD:.*]]:4 = mimo.stack 2 reverse(%[[DH]]) xs(
// CHECK: ^bb0(%[[G:[a-z0-9]+]]: tensor<8x16xf32>
// CHECK: mimo.linear_grad %[[G]], {{.*}} {parallel = #mimo.tp_split<row>}
// CHECK: mimo.gelu_grad
// CHECK: mimo.linear_grad {{.*}} {parallel = #mimo.tp_split<column>}
// CHECK: %[[DN:[a-z_0-9]+]], %[[DGAMMA:[a-z_0-9]+]] = mimo.rms_norm_grad
// The layer input feeds the norm and the residual: its gradients add up.
// CHECK: %[[DX:.*]] = mimo.add %[[G]], %[[DN]] : tensor<8x16xf32>
// CHECK: mimo.yield %[[DX]], %[[DGAMMA]], %{{.*}}, %{{.*}} : tensor<8x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32x16xf32>
// CHECK: mimo.param_grad "layers.fc2.weight", %[[BWD]]#3 : tensor<2x32x16xf32>
// CHECK: mimo.param_grad "layers.fc1.weight", %[[BWD]]#2 : tensor<2x16x32xf32>
// CHECK: mimo.param_grad "layers.norm.weight", %[[BWD]]#1 : tensor<2x16xf32>
// The tied table gets the embedding's and the LM head's gradients.
// CHECK: %[[DEMB:.*]] = mimo.embedding_grad %[[BWD]]#0, %{{.*}} {parallel = #mimo.tp_split<vocab>}
// CHECK: %[[DSUM:.*]] = mimo.add %[[DTIED]], %[[DEMB]] : tensor<32x16xf32>
// CHECK: mimo.param_grad "embed.weight", %[[DSUM]] : tensor<32x16xf32>
// CHECK: mimo.return
// CHECK-NOT: mimo.return

// TWICE: error: 'mimo.module' op the model already has backward modules

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 0 : i64,
    global_batch_size = 1 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) {
    %t = mimo.param "embed.weight" : tensor<32x16xf32>
    %x = mimo.embedding %ids, %t {parallel = #mimo.tp_split<vocab>} : (tensor<8xi32>, tensor<32x16xf32>) -> tensor<8x16xf32>
    %h = mimo.stack 2 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
    ^bb0(%a: tensor<8x16xf32>):
      %g = mimo.param "norm.weight" init = <ones> : tensor<16xf32>
      %n = mimo.rms_norm %a, %g : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
      %w1 = mimo.param "fc1.weight" : tensor<16x32xf32>
      %y = mimo.linear %n, %w1 {parallel = #mimo.tp_split<column>} : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
      %z = mimo.gelu %y : tensor<8x32xf32>
      %w2 = mimo.param "fc2.weight" : tensor<32x16xf32>
      %o = mimo.linear %z, %w2 {parallel = #mimo.tp_split<row>} : (tensor<8x32xf32>, tensor<32x16xf32>) -> tensor<8x16xf32>
      %r = mimo.add %a, %o : tensor<8x16xf32>
      mimo.yield %r : tensor<8x16xf32>
    }
    %logits = mimo.linear %h, %t {parallel = #mimo.tp_split<vocab>, transpose_weight} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %loss, %count = mimo.cross_entropy %logits, %labels {parallel = #mimo.tp_split<vocab>} : (tensor<8x32xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
    mimo.return %loss, %count : tensor<f32>, tensor<f32>
  }
}

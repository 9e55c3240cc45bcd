// RUN: sed 's/RECOMPUTE/full/' %s | mimo-opt --mimo-generate-backward --mimo-apply-recompute | FileCheck %s --check-prefix=FULL
// RUN: sed 's/RECOMPUTE/selective/' %s | mimo-opt --mimo-generate-backward --mimo-apply-recompute | FileCheck %s --check-prefix=SEL
// RUN: sed 's/RECOMPUTE/layers(2)/' %s | mimo-opt --mimo-generate-backward --mimo-apply-recompute | FileCheck %s --check-prefix=LAYERS
// RUN: sed 's/RECOMPUTE/layers(3)/' %s | mimo-opt --mimo-generate-backward --mimo-apply-recompute | FileCheck %s --check-prefix=FULL
// RUN: sed 's/RECOMPUTE/none/' %s | mimo-opt --mimo-generate-backward --mimo-apply-recompute | FileCheck %s --check-prefix=NONE
// Applying it twice changes nothing; the result round-trips.
// RUN: sed 's/RECOMPUTE/layers(2)/' %s | mimo-opt --mimo-generate-backward --mimo-apply-recompute -o %t.1.mlir
// RUN: mimo-opt %t.1.mlir --mimo-apply-recompute -o %t.2.mlir && mimo-opt %t.1.mlir -o %t.3.mlir && diff %t.2.mlir %t.3.mlir
// RUN: mimo-opt %t.1.mlir -mlir-print-op-generic | mimo-opt -o %t.4.mlir && diff %t.3.mlir %t.4.mlir

// A 3-layer decoder (norm, q/k/v, attention, output projection, residual).
// Without recompute the forward stack keeps 7 values per layer: the
// attention output and log-sum-exp, v, k, q, the norm output, the layer
// input.

// NONE-LABEL: mimo.module llm @llm
// NONE-SAME: residuals = 11
// NONE-NOT: mimo.recompute

// full: the forward keeps the layer input only; the backward layer rebuilds
// the rest from it and the layer's parameters (the norm weight, q, k, v).
// FULL-LABEL: mimo.module llm @llm
// FULL-SAME: mimo.recomputed
// FULL-SAME: residuals = 5
// FULL: mimo.stack 3(%{{.*}}) xs({{.*}}) : tensor<8x16xf32> -> tensor<8x16xf32>, tensor<3x8x16xf32> {
// FULL-NEXT: ^bb0(%[[IN:[a-z0-9]+]]: tensor<8x16xf32>
// FULL: mimo.yield %{{.*}}, %[[IN]] : tensor<8x16xf32>, tensor<8x16xf32>
// FULL-LABEL: mimo.module backward @llm_grad
// FULL: mimo.stack 3 reverse
// FULL-NEXT: ^bb0(%[[G:[a-z0-9]+]]: tensor<8x16xf32>, {{.*}}, %[[GAMMA:[a-z0-9]+]]: tensor<16xf32>, %[[X:[a-z0-9]+]]: tensor<8x16xf32>):
// FULL-NEXT: %[[R:.*]]:6 = mimo.recompute(%[[X]], %[[GAMMA]], %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>) : tensor<8x16xf32>, tensor<8x2xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32> {
// FULL: mimo.rms_norm
// FULL-COUNT-3: mimo.linear
// FULL-NEXT: %[[O:.*]], %[[LSE:.*]] = mimo.attention
// FULL-NEXT: mimo.yield %[[O]], %[[LSE]],
// The output projection's input and attention's values come from the region.
// FULL: mimo.linear_grad %[[G]], %[[R]]#0,
// FULL: mimo.attention_grad %{{.*}}, %[[R]]#4, %[[R]]#3, %[[R]]#2, %[[R]]#0, %[[R]]#1
// FULL: mimo.rms_norm_grad %{{.*}}, %[[X]], %[[GAMMA]]

// selective: the attention core re-runs from the kept q, k, v.
// SEL-LABEL: mimo.module llm @llm
// SEL-SAME: residuals = 9
// SEL-LABEL: mimo.module backward @llm_grad
// SEL: %[[R:.*]]:2 = mimo.recompute(%[[Q:[a-z0-9]+]], %[[K:[a-z0-9]+]], %[[V:[a-z0-9]+]] : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) : tensor<8x16xf32>, tensor<8x2xf32> {
// SEL-NEXT: ^bb0
// SEL-NEXT: mimo.attention
// SEL-NEXT: mimo.yield
// SEL-NEXT: }
// SEL: mimo.attention_grad %{{.*}}, %[[Q]], %[[K]], %[[V]], %[[R]]#0, %[[R]]#1

// layers(2): the first two layers recompute, the third reads what the
// forward kept, which the forward stores from row 2 on.
// LAYERS-LABEL: mimo.module llm @llm
// LAYERS-SAME: residuals = 11
// LAYERS: mimo.stack 3(%{{.*}}) xs({{.*}}) {mimo.kept_from = array<i64: 2, 2, 2, 2, 2, 2, 0>}
// LAYERS-LABEL: mimo.module backward @llm_grad
// LAYERS: mimo.recompute layers 2(%{{.*}}) saved(%{{.*}} : tensor<8x16xf32>, tensor<8x2xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) : tensor<8x16xf32>, tensor<8x2xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32> {

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 0 : i64,
    global_batch_size = 1 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1, recompute = RECOMPUTE>} {
    %t = mimo.param "embed.weight" : tensor<32x16xf32>
    %x = mimo.embedding %ids, %t {parallel = #mimo.tp_split<vocab>} : (tensor<8xi32>, tensor<32x16xf32>) -> tensor<8x16xf32>
    %h = mimo.stack 3 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
    ^bb0(%a: tensor<8x16xf32>):
      %g = mimo.param "norm.weight" init = <ones> : tensor<16xf32>
      %n = mimo.rms_norm %a, %g : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
      %wq = mimo.param "q.weight" : tensor<16x16xf32>
      %q = mimo.linear %n, %wq {parallel = #mimo.tp_split<column>} : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
      %wk = mimo.param "k.weight" : tensor<16x16xf32>
      %k = mimo.linear %n, %wk {parallel = #mimo.tp_split<column>} : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
      %wv = mimo.param "v.weight" : tensor<16x16xf32>
      %v = mimo.linear %n, %wv {parallel = #mimo.tp_split<column>} : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
      %att = mimo.attention %q, %k, %v {causal, heads = 2 : i64, kv_heads = 2 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
      %wo = mimo.param "o.weight" : tensor<16x16xf32>
      %o = mimo.linear %att, %wo {parallel = #mimo.tp_split<row>} : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
      %r = mimo.add %a, %o : tensor<8x16xf32>
      mimo.yield %r : tensor<8x16xf32>
    }
    %logits = mimo.linear %h, %t {parallel = #mimo.tp_split<vocab>, transpose_weight} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %loss, %count = mimo.cross_entropy %logits, %labels {parallel = #mimo.tp_split<vocab>} : (tensor<8x32xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
    mimo.return %loss, %count : tensor<f32>, tensor<f32>
  }
}

// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-colocated-fan-in-offload.json" --mimo-generate-backward --mimo-apply-recompute --mimo-insert-offload | FileCheck %s
// Applying it twice changes nothing.
// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-colocated-fan-in-offload.json" --mimo-generate-backward --mimo-insert-offload -o %t.1.mlir
// RUN: mimo-opt %t.1.mlir --mimo-insert-offload -o %t.2.mlir && mimo-opt %t.1.mlir -o %t.3.mlir && diff %t.2.mlir %t.3.mlir
// RUN: not mimo-opt %s -split-input-file --mimo-insert-offload 2>&1 | FileCheck %s --check-prefix=ERR
//
// tiny.json, colocated: the encoder (full recompute) offloads what it keeps,
// its parameters and its optimizer states; the LLM its optimizer states.

// The encoder keeps 3 residuals after recompute (its layer inputs, the
// patch embedding's input and output): all move to the host.
// CHECK-LABEL: mimo.module encoder @vision
// CHECK-SAME: mimo.offload = {optimizer = ["patch.weight", "patch.bias", "patch.positions", "layers.attn_norm.weight",
// CHECK-SAME: params = ["patch.weight", "patch.bias", "patch.positions", "layers.attn_norm.weight",
// CHECK-SAME: residuals = array<i64: 1, 2, 3>}
// CHECK-LABEL: mimo.module projector @projector
// CHECK-SAME: mimo.offload = {optimizer = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], params = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], residuals = array<i64: 1, 2, 3>}
// The LLM runs in every phase: only its optimizer states go.
// CHECK-LABEL: mimo.module llm @llm
// CHECK-SAME: mimo.offload = {optimizer = ["embed.weight", {{.*}}, "lm_head.weight"], params = [], residuals = array<i64>}

// ERR: error: mimo-insert-offload: module 'llm' offloads activations; only an encoder or projector in the colocated layout has an LLM phase to offload them through
// ERR: error: mimo-insert-offload: module 'llm' has no backward module; run mimo-generate-backward first
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 0 : i64,
    global_batch_size = 1 : i64, seed = 0 : i64, precision = "fp32", optimizer = {},
    plan = #mimo.plan<colocated, world = 1, micro_batch_size = 1>} {
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>, tensor<8xi32>) attributes {residuals = 1 : i64, parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1, recompute = none, offload = [activations]>} {
    %t = mimo.param "embed.weight" : tensor<32x16xf32>
    %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<32x16xf32>) -> tensor<8x16xf32>
    %logits = mimo.linear %x, %t {transpose_weight} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x32xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
    mimo.return %loss, %count, %ids : tensor<f32>, tensor<f32>, tensor<8xi32>
  }
  mimo.module backward @llm_grad(%seed: tensor<f32>, %ids: tensor<8xi32>) attributes {inputs = [@llm]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 0 : i64,
    global_batch_size = 1 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1, recompute = none, offload = [optimizer]>} {
    %t = mimo.param "embed.weight" : tensor<32x16xf32>
    %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<32x16xf32>) -> tensor<8x16xf32>
    %logits = mimo.linear %x, %t {transpose_weight} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x32xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
    mimo.return %loss, %count : tensor<f32>, tensor<f32>
  }
}

// RUN: mimo-opt %s -verify-diagnostics --mimo-generate-backward --convert-mimo-to-mimort
//
// Offloaded optimizer state of a parameter the module does not have
// (hand-edited mimo.offload).
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64} {
    // expected-error @+1 {{convert-mimo-to-mimort: mimo.offload names the optimizer state of 'llm.nope', which is not a parameter}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {mimo.offload = {optimizer = ["nope"], params = [], residuals = array<i64>}} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %logits = mimo.linear %x, %t {transpose_weight} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

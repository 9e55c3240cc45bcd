// RUN: mimo-opt %s -verify-diagnostics --mimo-partition

// The pass partitions a module together with its backward.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<homogeneous, world = 2, micro_batch_size = 1>} {
    // expected-error @+1 {{mimo-partition: module 'llm' has no backward module; run mimo-generate-backward first}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 2, cp = 1, pp = 1, dp = 1>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t {parallel = #mimo.tp_split<vocab>} : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %logits = mimo.linear %x, %t {transpose_weight, parallel = #mimo.tp_split<vocab>} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels {parallel = #mimo.tp_split<vocab>} : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

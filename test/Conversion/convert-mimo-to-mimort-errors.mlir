// RUN: mimo-opt %s -split-input-file -verify-diagnostics --convert-mimo-to-mimort

// A tensor-parallel grid needs partitioned IR.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<homogeneous, world = 2, micro_batch_size = 1>} {
    // expected-error @+1 {{convert-mimo-to-mimort: module 'llm' has tp = 2 but is not partitioned; run mimo-partition first}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 2, cp = 1, pp = 1, dp = 1>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %logits = mimo.linear %x, %t {transpose_weight} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}


// -----

// Disaggregated modules tile the world with their rank spans.
module {
  // expected-error @+1 {{convert-mimo-to-mimort: the disaggregated plan's module spans cover 2 ranks of world 4}}
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<disaggregated, world = 4, micro_batch_size = 1>} {
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 2>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %logits = mimo.linear %x, %t {transpose_weight} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

// -----

// The pass lowers the output of mimo-generate-backward.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64} {
    // expected-error @+1 {{convert-mimo-to-mimort: module 'llm' has no backward module; run mimo-generate-backward first}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %logits = mimo.linear %x, %t {transpose_weight} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

// -----

// The kernels ignore label -100 only.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adam"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64} {
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %logits = mimo.linear %x, %t {transpose_weight} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      // expected-error @+1 {{convert-mimo-to-mimort: the kernels ignore label -100 only, got ignore_index -1}}
      %loss, %count = mimo.cross_entropy %logits, %labels {ignore_index = -1 : i64} : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
    mimo.module backward @llm_grad(%seed: tensor<f32>) attributes {inputs = [@llm]} {
      mimo.return
    }
  }
}

// -----

// A pipeline-parallel grid needs the stage split of mimo-pipeline.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<homogeneous, world = 2, micro_batch_size = 1>} {
    // expected-error @+1 {{convert-mimo-to-mimort: module 'llm' has pp = 2 but is not split into stages; run mimo-pipeline first}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 2, dp = 1>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %h = mimo.stack 2(%x) : tensor<8x8xf32> -> tensor<8x8xf32> {
      ^bb0(%a: tensor<8x8xf32>):
        %w = mimo.param "w" : tensor<8x8xf32>
        %y = mimo.linear %a, %w : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
        mimo.yield %y : tensor<8x8xf32>
      }
      %logits = mimo.linear %h, %t {transpose_weight} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

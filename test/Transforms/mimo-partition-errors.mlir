// RUN: mimo-opt %s -split-input-file -verify-diagnostics --mimo-generate-backward --mimo-partition

// A parameter read by a column split and by a row split.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<homogeneous, world = 2, micro_batch_size = 1>} {
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 2, cp = 1, pp = 1, dp = 1>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t {parallel = #mimo.tp_split<vocab>} : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %w = mimo.param "w" : tensor<8x8xf32>
      %h = mimo.linear %x, %w {parallel = #mimo.tp_split<column>} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
      // expected-error @+1 {{mimo-partition: parameter 'w' is split on dim 1 by one use and dim 0 by another}}
      %y = mimo.linear %h, %w {parallel = #mimo.tp_split<row>} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
      %logits = mimo.linear %y, %t {transpose_weight, parallel = #mimo.tp_split<vocab>} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels {parallel = #mimo.tp_split<vocab>} : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

// -----

// A split weight computed from other values has no parameter to shard.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<homogeneous, world = 2, micro_batch_size = 1>} {
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 2, cp = 1, pp = 1, dp = 1>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t {parallel = #mimo.tp_split<vocab>} : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %w = mimo.param "w" : tensor<8x8xf32>
      %w2 = mimo.add %w, %w : tensor<8x8xf32>
      // expected-error @+1 {{mimo-partition: a tensor-parallel operand must be a parameter (directly or through a stack slice)}}
      %h = mimo.linear %x, %w2 {parallel = #mimo.tp_split<column>} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
      %logits = mimo.linear %h, %t {transpose_weight, parallel = #mimo.tp_split<vocab>} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels {parallel = #mimo.tp_split<vocab>} : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

// -----

// Context parallelism splits the sequence of a layer stack: none here.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<homogeneous, world = 4, micro_batch_size = 1>} {
    // expected-error @+1 {{mimo-partition: context parallelism splits the sequence of a layer stack; module 'llm' has none}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 2, cp = 2, pp = 1, dp = 1>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t {parallel = #mimo.tp_split<vocab>} : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %logits = mimo.linear %x, %t {transpose_weight, parallel = #mimo.tp_split<vocab>} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels {parallel = #mimo.tp_split<vocab>} : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

// -----

// Causal load balancing cuts the sequence into 2 * cp chunks: 12 tokens do
// not cut into 8.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 12 : i64, plan = #mimo.plan<homogeneous, world = 4, micro_batch_size = 1>} {
    mimo.module llm @llm(%ids: tensor<12xi32>, %labels: tensor<12xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 4, pp = 1, dp = 1>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<12xi32>, tensor<16x8xf32>) -> tensor<12x8xf32>
      %g = mimo.param "layers.norm.weight" init = <ones> : tensor<2x8xf32>
      // expected-error @+1 {{mimo-partition: context parallelism cuts the sequence into 2 * cp = 8 equal chunks; module 'llm' has 12 tokens}}
      %h = mimo.stack 2 (%x) xs(%g : tensor<2x8xf32>) : tensor<12x8xf32> -> tensor<12x8xf32> {
      ^bb0(%a: tensor<12x8xf32>, %w: tensor<8xf32>):
        %n = mimo.rms_norm %a, %w : (tensor<12x8xf32>, tensor<8xf32>) -> tensor<12x8xf32>
        %r = mimo.add %a, %n : tensor<12x8xf32>
        mimo.yield %r : tensor<12x8xf32>
      }
      %logits = mimo.linear %h, %t {transpose_weight} : (tensor<12x8xf32>, tensor<16x8xf32>) -> tensor<12x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<12x16xf32>, tensor<12xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

// -----

// Sequence parallelism splits the layers' tokens over tp: 7 do not split.
module {
  mimo.model @lm attributes {global_batch_size = 2 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 7 : i64, plan = #mimo.plan<homogeneous, world = 2, micro_batch_size = 1>} {
    mimo.module llm @llm(%ids: tensor<7xi32>, %labels: tensor<7xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 2, cp = 1, pp = 1, dp = 1, sequence_parallel>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t {parallel = #mimo.tp_split<vocab>} : (tensor<7xi32>, tensor<16x8xf32>) -> tensor<7x8xf32>
      %g = mimo.param "layers.norm.weight" init = <ones> : tensor<2x8xf32>
      // expected-error @+1 {{mimo-partition: tokens of the layer stack (7) is not divisible by tp = 2 of module 'llm'}}
      %h = mimo.stack 2 (%x) xs(%g : tensor<2x8xf32>) : tensor<7x8xf32> -> tensor<7x8xf32> {
      ^bb0(%a: tensor<7x8xf32>, %w: tensor<8xf32>):
        %n = mimo.rms_norm %a, %w : (tensor<7x8xf32>, tensor<8xf32>) -> tensor<7x8xf32>
        %r = mimo.add %a, %n : tensor<7x8xf32>
        mimo.yield %r : tensor<7x8xf32>
      }
      %logits = mimo.linear %h, %t {transpose_weight, parallel = #mimo.tp_split<vocab>} : (tensor<7x8xf32>, tensor<16x8xf32>) -> tensor<7x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels {parallel = #mimo.tp_split<vocab>} : (tensor<7x16xf32>, tensor<7xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

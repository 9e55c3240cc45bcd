// RUN: mimo-opt %s -split-input-file -verify-diagnostics --mimo-generate-backward --mimo-pipeline

// Two layer stacks: which one would the stages split?
module {
  mimo.model @lm attributes {global_batch_size = 4 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<homogeneous, world = 2, micro_batch_size = 1, virtual_stages = 1>} {
    // expected-error @+1 {{mimo-pipeline: module 'llm' must hold exactly one layer stack at its top level to split over pipeline stages, found 2}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 2, dp = 1>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %h0 = mimo.stack 2(%x) : tensor<8x8xf32> -> tensor<8x8xf32> {
      ^bb0(%a0: tensor<8x8xf32>):
        %w0 = mimo.param "l0.w" : tensor<8x8xf32>
        %y0 = mimo.linear %a0, %w0 : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
        %z0 = mimo.add %a0, %y0 : tensor<8x8xf32>
        mimo.yield %z0 : tensor<8x8xf32>
      }
      %h1 = mimo.stack 2(%h0) : tensor<8x8xf32> -> tensor<8x8xf32> {
      ^bb0(%a1: tensor<8x8xf32>):
        %w1 = mimo.param "l1.w" : tensor<8x8xf32>
        %y1 = mimo.linear %a1, %w1 : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
        %z1 = mimo.add %a1, %y1 : tensor<8x8xf32>
        mimo.yield %z1 : tensor<8x8xf32>
      }
      %logits = mimo.linear %h1, %t {transpose_weight} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

// -----

// Two layers cannot make two stages of two virtual stages each.
module {
  mimo.model @lm attributes {global_batch_size = 4 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<homogeneous, world = 2, micro_batch_size = 1, virtual_stages = 2>} {
    // expected-error @+1 {{mimo-pipeline: module 'llm' has 2 layers, which pp = 2 stages of 2 virtual stage(s) each cannot split evenly}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 2, dp = 1>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %h0 = mimo.stack 2(%x) : tensor<8x8xf32> -> tensor<8x8xf32> {
      ^bb0(%a0: tensor<8x8xf32>):
        %w0 = mimo.param "l0.w" : tensor<8x8xf32>
        %y0 = mimo.linear %a0, %w0 : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
        %z0 = mimo.add %a0, %y0 : tensor<8x8xf32>
        mimo.yield %z0 : tensor<8x8xf32>
      }
      %logits = mimo.linear %h0, %t {transpose_weight} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

// -----

// The interleaved schedule groups microbatches by pp: 2 per pipeline is not a multiple of 4.
module {
  mimo.model @lm attributes {global_batch_size = 4 : i64, images_per_sample = 0 : i64, optimizer = {kind = "adamw"}, precision = "fp32", seed = 1 : i64, seq_len = 8 : i64, plan = #mimo.plan<homogeneous, world = 8, micro_batch_size = 1, virtual_stages = 2>} {
    // expected-error @+1 {{mimo-pipeline: the interleaved schedule needs the microbatches per pipeline (2 = global batch 4 / dp 2) to be a multiple of pp = 4}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 4, dp = 2>} {
      %t = mimo.param "embed.weight" : tensor<16x8xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<16x8xf32>) -> tensor<8x8xf32>
      %h0 = mimo.stack 8(%x) : tensor<8x8xf32> -> tensor<8x8xf32> {
      ^bb0(%a0: tensor<8x8xf32>):
        %w0 = mimo.param "l0.w" : tensor<8x8xf32>
        %y0 = mimo.linear %a0, %w0 : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
        %z0 = mimo.add %a0, %y0 : tensor<8x8xf32>
        mimo.yield %z0 : tensor<8x8xf32>
      }
      %logits = mimo.linear %h0, %t {transpose_weight} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}


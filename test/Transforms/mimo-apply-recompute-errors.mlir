// RUN: mimo-opt %s -split-input-file -verify-diagnostics --mimo-apply-recompute
// RUN: sed -n '/^\/\/ TWO-STACKS-BEGIN/,$p' %s | not mimo-opt --mimo-generate-backward --mimo-apply-recompute 2>&1 | FileCheck %s --check-prefix=TWO

// Recompute needs the backward that reads the kept values.
module {
  mimo.model @lm attributes {global_batch_size = 1 : i64, images_per_sample = 0 : i64, optimizer = {}, precision = "fp32", seed = 0 : i64, seq_len = 8 : i64} {
    // expected-error @+1 {{mimo-apply-recompute: module 'llm' has no backward module; run mimo-generate-backward first}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1, recompute = layers(1)>} {
      %t = mimo.param "embed.weight" : tensor<32x16xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<32x16xf32>) -> tensor<8x16xf32>
      %h = mimo.stack 2 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
      ^bb0(%a: tensor<8x16xf32>):
        %g = mimo.param "norm.weight" init = <ones> : tensor<16xf32>
        %n = mimo.rms_norm %a, %g : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
        %r = mimo.add %a, %n : tensor<8x16xf32>
        mimo.yield %r : tensor<8x16xf32>
      }
      %logits = mimo.linear %h, %t {transpose_weight} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x32xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

// -----

// TWO-STACKS-BEGIN (second RUN line): which stack's layers would recompute?
// TWO: error: mimo-apply-recompute: module 'llm' must hold one layer stack (and its backward one), found 2 and 2
module {
  mimo.model @lm attributes {global_batch_size = 1 : i64, images_per_sample = 0 : i64, optimizer = {}, precision = "fp32", seed = 0 : i64, seq_len = 8 : i64} {
    // (Without the backward, the first RUN line stops earlier.)
    // expected-error @+1 {{has no backward module}}
    mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<f32>) attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1, recompute = full>} {
      %t = mimo.param "embed.weight" : tensor<32x16xf32>
      %x = mimo.embedding %ids, %t : (tensor<8xi32>, tensor<32x16xf32>) -> tensor<8x16xf32>
      %h = mimo.stack 2 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
      ^bb0(%a: tensor<8x16xf32>):
        %g = mimo.param "norm.weight" init = <ones> : tensor<16xf32>
        %n = mimo.rms_norm %a, %g : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
        %r = mimo.add %a, %n : tensor<8x16xf32>
        mimo.yield %r : tensor<8x16xf32>
      }
      %h2 = mimo.stack 2 (%h) : tensor<8x16xf32> -> tensor<8x16xf32> {
      ^bb0(%a: tensor<8x16xf32>):
        %g = mimo.param "norm.weight" init = <ones> : tensor<16xf32>
        %n = mimo.rms_norm %a, %g : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
        %r = mimo.add %a, %n : tensor<8x16xf32>
        mimo.yield %r : tensor<8x16xf32>
      }
      %logits = mimo.linear %h2, %t {transpose_weight} : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
      %loss, %count = mimo.cross_entropy %logits, %labels : (tensor<8x32xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
  }
}

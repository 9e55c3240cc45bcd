module {
  mimo.model @tiny attributes {global_batch_size = 8 : i64, images_per_sample = 2 : i64, optimizer = {beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, eps = 1.000000e-08 : f64, grad_clip = 1.000000e+00 : f64, kind = "adamw", lr = 1.000000e-03 : f64, weight_decay = 1.000000e-02 : f64}, plan = #mimo.plan<colocated, world = 4, micro_batch_size = 1>, precision = "fp32", seed = 1234 : i64, seq_len = 128 : i64} {
    mimo.module encoder @vision(%arg0: tensor<2x3x32x32xf32>) -> tensor<32x64xf32> attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4>} {
      %0 = mimo.param "patch.weight" : tensor<192x64xf32>
      %1 = mimo.param "patch.bias" init = <zeros> : tensor<64xf32>
      %2 = mimo.param "patch.positions" : tensor<16x64xf32>
      %3 = mimo.patch_embed %arg0, %0, %1, %2 {patch_size = 8 : i64} : (tensor<2x3x32x32xf32>, tensor<192x64xf32>, tensor<64xf32>, tensor<16x64xf32>) -> tensor<32x64xf32>
      %4 = mimo.stack 2(%3) : tensor<32x64xf32> -> tensor<32x64xf32> {
      ^bb0(%arg1: tensor<32x64xf32>):
        %8 = mimo.param "attn_norm.weight" init = <ones> : tensor<64xf32>
        %9 = mimo.param "attn_norm.bias" init = <zeros> : tensor<64xf32>
        %10 = mimo.layer_norm %arg1, %8, %9 : (tensor<32x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<32x64xf32>
        %11 = mimo.param "attn.q.weight" : tensor<64x64xf32>
        %12 = mimo.param "attn.q.bias" init = <zeros> : tensor<64xf32>
        %13 = mimo.linear %10, %11, %12 {parallel = #mimo.tp_split<column>} : (tensor<32x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<32x64xf32>
        %14 = mimo.param "attn.k.weight" : tensor<64x64xf32>
        %15 = mimo.param "attn.k.bias" init = <zeros> : tensor<64xf32>
        %16 = mimo.linear %10, %14, %15 {parallel = #mimo.tp_split<column>} : (tensor<32x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<32x64xf32>
        %17 = mimo.param "attn.v.weight" : tensor<64x64xf32>
        %18 = mimo.param "attn.v.bias" init = <zeros> : tensor<64xf32>
        %19 = mimo.linear %10, %17, %18 {parallel = #mimo.tp_split<column>} : (tensor<32x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<32x64xf32>
        %result = mimo.attention %13, %16, %19 {heads = 4 : i64, kv_heads = 4 : i64, segment = 16 : i64} : (tensor<32x64xf32>, tensor<32x64xf32>, tensor<32x64xf32>) -> tensor<32x64xf32>
        %20 = mimo.param "attn.out.weight" : tensor<64x64xf32>
        %21 = mimo.param "attn.out.bias" init = <zeros> : tensor<64xf32>
        %22 = mimo.linear %result, %20, %21 {parallel = #mimo.tp_split<row>} : (tensor<32x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<32x64xf32>
        %23 = mimo.add %arg1, %22 : tensor<32x64xf32>
        %24 = mimo.param "ffn_norm.weight" init = <ones> : tensor<64xf32>
        %25 = mimo.param "ffn_norm.bias" init = <zeros> : tensor<64xf32>
        %26 = mimo.layer_norm %23, %24, %25 : (tensor<32x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<32x64xf32>
        %27 = mimo.param "ffn.fc1.weight" : tensor<64x256xf32>
        %28 = mimo.param "ffn.fc1.bias" init = <zeros> : tensor<256xf32>
        %29 = mimo.linear %26, %27, %28 {parallel = #mimo.tp_split<column>} : (tensor<32x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<32x256xf32>
        %30 = mimo.gelu %29 : tensor<32x256xf32>
        %31 = mimo.param "ffn.fc2.weight" : tensor<256x64xf32>
        %32 = mimo.param "ffn.fc2.bias" init = <zeros> : tensor<64xf32>
        %33 = mimo.linear %30, %31, %32 {parallel = #mimo.tp_split<row>} : (tensor<32x256xf32>, tensor<256x64xf32>, tensor<64xf32>) -> tensor<32x64xf32>
        %34 = mimo.add %23, %33 : tensor<32x64xf32>
        mimo.yield %34 : tensor<32x64xf32>
      }
      %5 = mimo.param "final_norm.weight" init = <ones> : tensor<64xf32>
      %6 = mimo.param "final_norm.bias" init = <zeros> : tensor<64xf32>
      %7 = mimo.layer_norm %4, %5, %6 : (tensor<32x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<32x64xf32>
      mimo.return %7 : tensor<32x64xf32>
    }
    mimo.module projector @projector(%arg0: tensor<32x64xf32>) -> tensor<32x128xf32> attributes {inputs = [@vision], parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4>} {
      %0 = mimo.param "fc1.weight" : tensor<64x128xf32>
      %1 = mimo.param "fc1.bias" init = <zeros> : tensor<128xf32>
      %2 = mimo.linear %arg0, %0, %1 : (tensor<32x64xf32>, tensor<64x128xf32>, tensor<128xf32>) -> tensor<32x128xf32>
      %3 = mimo.gelu %2 : tensor<32x128xf32>
      %4 = mimo.param "fc2.weight" : tensor<128x128xf32>
      %5 = mimo.param "fc2.bias" init = <zeros> : tensor<128xf32>
      %6 = mimo.linear %3, %4, %5 : (tensor<32x128xf32>, tensor<128x128xf32>, tensor<128xf32>) -> tensor<32x128xf32>
      mimo.return %6 : tensor<32x128xf32>
    }
    mimo.module llm @llm(%arg0: tensor<128xi32>, %arg1: tensor<128xi32>, %arg2: tensor<32x128xf32>) -> (tensor<f32>, tensor<f32>) attributes {inputs = [@projector], parallel = #mimo.parallel<tp = 2, cp = 1, pp = 1, dp = 2>} {
      %0 = mimo.param "embed.weight" : tensor<512x128xf32>
      %1 = mimo.embedding %arg0, %0 {parallel = #mimo.tp_split<vocab>} : (tensor<128xi32>, tensor<512x128xf32>) -> tensor<128x128xf32>
      %2 = mimo.merge_modalities %1, %arg0, %arg2 {placeholder_ids = array<i64: 511>} : (tensor<128x128xf32>, tensor<128xi32>, tensor<32x128xf32>) -> tensor<128x128xf32>
      %3 = mimo.stack 4(%2) : tensor<128x128xf32> -> tensor<128x128xf32> {
      ^bb0(%arg3: tensor<128x128xf32>):
        %8 = mimo.param "attn_norm.weight" init = <ones> : tensor<128xf32>
        %9 = mimo.rms_norm %arg3, %8 : (tensor<128x128xf32>, tensor<128xf32>) -> tensor<128x128xf32>
        %10 = mimo.param "attn.q.weight" : tensor<128x128xf32>
        %11 = mimo.linear %9, %10 {parallel = #mimo.tp_split<column>} : (tensor<128x128xf32>, tensor<128x128xf32>) -> tensor<128x128xf32>
        %12 = mimo.param "attn.k.weight" : tensor<128x64xf32>
        %13 = mimo.linear %9, %12 {parallel = #mimo.tp_split<column>} : (tensor<128x128xf32>, tensor<128x64xf32>) -> tensor<128x64xf32>
        %14 = mimo.param "attn.v.weight" : tensor<128x64xf32>
        %15 = mimo.linear %9, %14 {parallel = #mimo.tp_split<column>} : (tensor<128x128xf32>, tensor<128x64xf32>) -> tensor<128x64xf32>
        %result = mimo.attention %11, %13, %15 {causal, heads = 8 : i64, kv_heads = 4 : i64, rope_theta = 1.000000e+04 : f64} : (tensor<128x128xf32>, tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<128x128xf32>
        %16 = mimo.param "attn.out.weight" : tensor<128x128xf32>
        %17 = mimo.linear %result, %16 {parallel = #mimo.tp_split<row>} : (tensor<128x128xf32>, tensor<128x128xf32>) -> tensor<128x128xf32>
        %18 = mimo.add %arg3, %17 : tensor<128x128xf32>
        %19 = mimo.param "ffn_norm.weight" init = <ones> : tensor<128xf32>
        %20 = mimo.rms_norm %18, %19 : (tensor<128x128xf32>, tensor<128xf32>) -> tensor<128x128xf32>
        %21 = mimo.param "ffn.gate.weight" : tensor<128x256xf32>
        %22 = mimo.linear %20, %21 {parallel = #mimo.tp_split<column>} : (tensor<128x128xf32>, tensor<128x256xf32>) -> tensor<128x256xf32>
        %23 = mimo.param "ffn.up.weight" : tensor<128x256xf32>
        %24 = mimo.linear %20, %23 {parallel = #mimo.tp_split<column>} : (tensor<128x128xf32>, tensor<128x256xf32>) -> tensor<128x256xf32>
        %25 = mimo.swiglu %22, %24 : tensor<128x256xf32>
        %26 = mimo.param "ffn.fc2.weight" : tensor<256x128xf32>
        %27 = mimo.linear %25, %26 {parallel = #mimo.tp_split<row>} : (tensor<128x256xf32>, tensor<256x128xf32>) -> tensor<128x128xf32>
        %28 = mimo.add %18, %27 : tensor<128x128xf32>
        mimo.yield %28 : tensor<128x128xf32>
      }
      %4 = mimo.param "final_norm.weight" init = <ones> : tensor<128xf32>
      %5 = mimo.rms_norm %3, %4 : (tensor<128x128xf32>, tensor<128xf32>) -> tensor<128x128xf32>
      %6 = mimo.param "lm_head.weight" : tensor<128x512xf32>
      %7 = mimo.linear %5, %6 {parallel = #mimo.tp_split<vocab>} : (tensor<128x128xf32>, tensor<128x512xf32>) -> tensor<128x512xf32>
      %loss, %count = mimo.cross_entropy %7, %arg1 {parallel = #mimo.tp_split<vocab>} : (tensor<128x512xf32>, tensor<128xi32>) -> (tensor<f32>, tensor<f32>)
      mimo.return %loss, %count : tensor<f32>, tensor<f32>
    }
    mimo.bridge fan_in @projector to @llm factor 2
  }
}


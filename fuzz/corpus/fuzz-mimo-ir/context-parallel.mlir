func.func @cp(%x: tensor<8x4xf32>, %g: tensor<4x4xf32>, %q: tensor<4x8xf32>) {
  %a = mimo.context_slice %x {grid = @llm_grid, cp = 2 : i64} : tensor<8x4xf32> -> tensor<4x4xf32>
  %b = mimo.context_pad %g {grid = @llm_grid, cp = 2 : i64} : tensor<4x4xf32> -> tensor<8x4xf32>
  %o = mimo.attention %q, %q, %q {heads = 2 : i64, kv_heads = 2 : i64, causal, context_parallel = 2 : i64, rope_theta = 1.0e+04 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

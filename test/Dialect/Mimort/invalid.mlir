// RUN: mimo-opt %s -split-input-file -verify-diagnostics
//
// One case per verifier rule of the mimort dialect.

// expected-error @+1 {{buffer rank must be between 1 and 5, got 6}}
mimort.buffer @b params : !mimort.buffer<1x1x1x1x1x1xf32>

// -----

// expected-error @+1 {{buffer dims must be positive, got 0}}
mimort.buffer @b params : !mimort.buffer<4x0xf32>

// -----

// expected-error @+1 {{buffer element type must be f32, bf16 or i32, got 'f16'}}
mimort.buffer @b params : !mimort.buffer<4xf16>

// -----

// expected-error @+1 {{'on' @nowhere does not name a mimort.grid}}
mimort.buffer @b params : !mimort.buffer<4xf32> on @nowhere

// -----

// expected-error @+1 {{'stage' needs 'on' (the grid whose pipeline stage holds the buffer)}}
mimort.buffer @b params : !mimort.buffer<4xf32> stage 0

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 2, dp = 1] ranks(0, 2)
// expected-error @+1 {{stage 2 is not a stage of @g (pp = 2)}}
mimort.buffer @b params : !mimort.buffer<4xf32> on @g stage 2

// -----

// expected-error @+1 {{attention q_heads, kv_heads and head_dim must be positive, got 0, 1, 4}}
func.func @f() attributes {a = #mimort.attention<q_heads = 0, kv_heads = 1, head_dim = 4, causal = true, segment = 0, scale = 0.0>} {
  return
}

// -----

// expected-error @+1 {{attention q_heads (3) must be a multiple of kv_heads (2)}}
func.func @f() attributes {a = #mimort.attention<q_heads = 3, kv_heads = 2, head_dim = 4, causal = true, segment = 0, scale = 0.0>} {
  return
}

// -----

// expected-error @+1 {{attention segment must be non-negative, got -1}}
func.func @f() attributes {a = #mimort.attention<q_heads = 2, kv_heads = 2, head_dim = 4, causal = true, segment = -1, scale = 0.0>} {
  return
}

// -----

// expected-error @+1 {{attention scale must be non-negative, got -1}}
func.func @f() attributes {a = #mimort.attention<q_heads = 2, kv_heads = 2, head_dim = 4, causal = true, segment = 0, scale = -1.0>} {
  return
}

// -----

// expected-error @+1 {{attention scale must be finite}}
func.func @f() attributes {a = #mimort.attention<q_heads = 2, kv_heads = 2, head_dim = 4, causal = true, segment = 0, scale = 0x7FF0000000000000 : f64>} {
  return
}

// -----

// expected-error @+1 {{patch size must be positive, got 0}}
func.func @f() attributes {a = #mimort.patch_embed<patch = 0, class_tokens = 0>} {
  return
}

// -----

// expected-error @+1 {{class_tokens must be non-negative, got -1}}
func.func @f() attributes {a = #mimort.patch_embed<patch = 2, class_tokens = -1>} {
  return
}

// -----

// expected-error @+1 {{adam lr must be finite}}
func.func @f() attributes {a = #mimort.adam<lr = 0x7FF8000000000000 : f64, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.0, decoupled = true>} {
  return
}

// -----

// expected-error @+1 {{adam beta2 must be in [0, 1), got 1}}
func.func @f() attributes {a = #mimort.adam<lr = 1.0e-3, beta1 = 0.9, beta2 = 1.0, eps = 1.0e-8, weight_decay = 0.0, decoupled = true>} {
  return
}

// -----

// expected-error @+1 {{adam lr and weight_decay must be non-negative and eps positive, got lr 1.000000e-03, eps 0.000000e+00, weight_decay 0.000000e+00}}
func.func @f() attributes {a = #mimort.adam<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.95, eps = 0.0, weight_decay = 0.0, decoupled = true>} {
  return
}

// -----

// expected-error @+1 {{world_size must be at least 1, got 0}}
mimort.program @p {world_size = 0 : i64, flops_per_step = 0.0 : f64, init = @init, step = @step}

// -----

// expected-error @+1 {{flops_per_step must be finite and non-negative}}
mimort.program @p {world_size = 1 : i64, flops_per_step = -1.0 : f64, init = @init, step = @step}

// -----

// expected-error @+1 {{device must be "cpu" or "cuda", got "tpu"}}
mimort.program @p {world_size = 1 : i64, flops_per_step = 0.0 : f64, init = @init, step = @step, device = "tpu"}

// -----

// expected-error @+1 {{expects exactly one mimort.program per module}}
mimort.program @p {world_size = 1 : i64, flops_per_step = 0.0 : f64, init = @init, step = @step}
mimort.program @q {world_size = 1 : i64, flops_per_step = 0.0 : f64, init = @init, step = @step}

// -----

// expected-error @+1 {{init function @init does not name a func.func}}
mimort.program @p {world_size = 1 : i64, flops_per_step = 0.0 : f64, init = @init, step = @step}

// -----

// expected-error @+1 {{step function @step must have type '(i64) -> f32', got '() -> ()'}}
mimort.program @p {world_size = 1 : i64, flops_per_step = 0.0 : f64, init = @init, step = @step}
func.func @init() {
  return
}
func.func @step() {
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{expects parent op 'builtin.module'}}
  mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
  return
}

// -----

// expected-error @+1 {{cp must be at least 1, got 0}}
mimort.grid @g [tp = 1, cp = 0, pp = 1, dp = 1] ranks(0, 1)

// -----

// expected-error @+1 {{tp*cp*pp*dp (4) must equal the rank count (2)}}
mimort.grid @g [tp = 2, cp = 1, pp = 1, dp = 2] ranks(0, 2)

// -----

// expected-error @+1 {{rank offset must be non-negative, got -1}}
mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(-1, 1)

// -----

mimort.program @p {world_size = 2 : i64, flops_per_step = 0.0 : f64, init = @init, step = @step}
// expected-error @+1 {{ranks [1, 3) exceed the world size (2)}}
mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 2] ranks(1, 2)
func.func @init() {
  return
}
func.func @step(%s: i64) -> f32 {
  %c = arith.constant 0.0 : f32
  return %c : f32
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// expected-error @+1 {{global_batch and seq_len must be positive, got 0 and 16}}
mimort.data on @g {global_batch = 0 : i64, seq_len = 16 : i64, vocab = 8 : i64}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// expected-error @+1 {{vocab must be at least 2, got 1}}
mimort.data on @g {global_batch = 1 : i64, seq_len = 16 : i64, vocab = 1 : i64}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// expected-error @+1 {{image_token_id (8) must be below vocab (8)}}
mimort.data on @g {global_batch = 1 : i64, seq_len = 16 : i64, vocab = 8 : i64, image_token_id = 8 : i64}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// expected-error @+1 {{image sizes must be non-negative (images, tokens per image) or positive (channels, size)}}
mimort.data on @g {global_batch = 1 : i64, seq_len = 16 : i64, vocab = 8 : i64, channels = 0 : i64}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// expected-error @+1 {{images_per_sample x tokens_per_image (2 x 10) exceeds seq_len (16)}}
mimort.data on @g {global_batch = 1 : i64, seq_len = 16 : i64, vocab = 8 : i64, images_per_sample = 2 : i64, tokens_per_image = 10 : i64}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// expected-error @+1 {{samples must be positive, got 0}}
mimort.data on @g {global_batch = 1 : i64, seq_len = 16 : i64, vocab = 8 : i64, samples = 0 : i64}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
// expected-error @+1 {{expects at most one mimort.data per module}}
mimort.data on @g {global_batch = 1 : i64, seq_len = 16 : i64, vocab = 8 : i64}
mimort.data on @g {global_batch = 1 : i64, seq_len = 16 : i64, vocab = 8 : i64}

// -----

// expected-error @+1 {{'h' does not name a mimort.grid}}
mimort.data on @h {global_batch = 1 : i64, seq_len = 16 : i64, vocab = 8 : i64}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 2] ranks(0, 2)
// expected-error @+1 {{global_batch (3) must be divisible by the grid's dp (2)}}
mimort.data on @g {global_batch = 3 : i64, seq_len = 16 : i64, vocab = 8 : i64}

// -----

func.func @f() {
  // expected-error @+1 {{'nope' does not name a mimort.buffer}}
  %b = mimort.get @nope : !mimort.buffer<4xf32>
  return
}

// -----

mimort.buffer @b params : !mimort.buffer<4xf32>
func.func @f() {
  // expected-error @+1 {{result type '!mimort.buffer<8xf32>' differs from the buffer's type '!mimort.buffer<4xf32>'}}
  %b = mimort.get @b : !mimort.buffer<8xf32>
  return
}

// -----

func.func @f(%b: !mimort.buffer<4xf32>, %i: index) {
  // expected-error @+1 {{source must have rank 2 or more, got 1}}
  %s = mimort.slice %b[%i] : !mimort.buffer<4xf32> -> !mimort.buffer<1xf32>
  return
}

// -----

func.func @f(%b: !mimort.buffer<2x4x8xf32>, %i: index) {
  // expected-error @+1 {{result must be 'f32' of shape 4x8, got '!mimort.buffer<8x4xf32>'}}
  %s = mimort.slice %b[%i] : !mimort.buffer<2x4x8xf32> -> !mimort.buffer<8x4xf32>
  return
}

// -----

func.func @f(%b: !mimort.buffer<4x8xf32>) {
  // expected-error @+1 {{cannot reshape '!mimort.buffer<4x8xf32>' (32 elements) to '!mimort.buffer<30xf32>' (30 elements)}}
  %s = mimort.reshape %b : !mimort.buffer<4x8xf32> -> !mimort.buffer<30xf32>
  return
}

// -----

func.func @f(%b: !mimort.buffer<4xi32>, %o: i64) {
  // expected-error @+1 {{parameters must have a float element type, got 'i32'}}
  mimort.init_param zeros %b, %o {name = "p"} : !mimort.buffer<4xi32>
  return
}

// -----

func.func @f(%b: !mimort.buffer<4xf32>, %o: i64) {
  // expected-error @+1 {{name must not be empty}}
  mimort.init_param zeros %b, %o {name = ""} : !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%b: !mimort.buffer<4xf32>, %o: i64) {
  // expected-error @+1 {{normal init needs a positive std}}
  mimort.init_param normal %b, %o {name = "p"} : !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%b: !mimort.buffer<4xf32>, %o: i64) {
  // expected-error @+1 {{ones init takes no std}}
  mimort.init_param ones %b, %o {name = "p", std = 1.0 : f64} : !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%b: !mimort.buffer<2x4xf32>, %o: i64) {
  // expected-error @+1 {{row_length (2) must be at least the last dim (4)}}
  mimort.init_param normal %b, %o {name = "p", std = 1.0 : f64, row_length = 2 : i64} : !mimort.buffer<2x4xf32>
  return
}

// -----

func.func @f(%b: !mimort.buffer<4xi32>, %v: f32) {
  // expected-error @+1 {{value for 'i32' elements must be 'i32', got 'f32'}}
  mimort.fill %b, %v : !mimort.buffer<4xi32>, f32
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>, %b: !mimort.buffer<4xi32>) {
  // expected-error @+1 {{source '!mimort.buffer<4xf32>' and target '!mimort.buffer<4xi32>' must have the same element type and count}}
  mimort.copy %a, %b : !mimort.buffer<4xf32>, !mimort.buffer<4xi32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{index 4 is outside the 4 elements}}
  %v = mimort.read_scalar %a[4] : !mimort.buffer<4xf32> -> f32
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{result for 'f32' elements must be 'f32', got 'i32'}}
  %v = mimort.read_scalar %a[0] : !mimort.buffer<4xf32> -> i32
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{unknown kernel 'conv2d'}}
  mimort.kernel "conv2d"(%a) : !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{kernel 'add' takes 3 operands, got 2}}
  mimort.kernel "add"(%a, %a) : !mimort.buffer<4xf32>, !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{kernel 'sum_squares' needs a bool attribute 'accumulate'}}
  mimort.kernel "sum_squares"(%a, %a) : !mimort.buffer<4xf32>, !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{kernel 'attention_forward' needs a #mimort.attention attribute 'attention'}}
  mimort.kernel "attention_forward"(%a, %a, %a, %a, %a) {attention = 1 : i64} : !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{kernel 'patch_embed_backward' needs a #mimort.patch_embed attribute 'patch_embed'}}
  mimort.kernel "patch_embed_backward"(%a, %a, %a, %a, %a, %a, %a) : !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>, %s: i64) {
  // expected-error @+1 {{kernel 'adam_step' needs a #mimort.adam attribute 'adam'}}
  mimort.kernel "adam_step"(%s, %s, %a, %a, %a, %a) : i64, i64, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>, %s: i64) {
  // expected-error @+1 {{kernel 'adam_step' takes the adam step (i64) and gradient scale (f32) as operands 0 and 1}}
  mimort.kernel "adam_step"(%s, %s, %a, %a, %a, %a) {adam = #mimort.adam<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.0, decoupled = true>} : i64, i64, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>, %b: !mimort.buffer<4x4xf32>, %x: f32) {
  // expected-error @+1 {{kernel 'rope_forward' operand 2 (heads) must be i64, got 'f32'}}
  mimort.kernel "rope_forward"(%a, %a, %x, %x, %x, %x) : !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, f32, f32, f32, f32
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>, %i: i64) {
  // expected-error @+1 {{kernel 'scale' operand 1 (alpha) must be f32, got 'i64'}}
  mimort.kernel "scale"(%a, %i, %a) : !mimort.buffer<4xf32>, i64, !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>, %i: i64) {
  // expected-error @+1 {{kernel 'attention_backward' operand 9 (workspace) must be a !mimort.buffer, got 'i64'}}
  mimort.kernel "attention_backward"(%a, %a, %a, %a, %a, %a, %a, %a, %a, %i) {attention = #mimort.attention<q_heads = 1, kv_heads = 1, head_dim = 4, causal = true, segment = 0, scale = 0.0>} : !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, !mimort.buffer<4xf32>, i64
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  %n = mimort.absent : !mimort.absent
  // expected-error @+1 {{kernel 'linear_forward' operand 1 (w) is required and cannot be absent}}
  mimort.kernel "linear_forward"(%a, %n, %n, %a) {transposed_weight = false} : !mimort.buffer<4xf32>, !mimort.absent, !mimort.absent, !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>, %i: i64) {
  // expected-error @+1 {{kernel 'gelu_forward' operand 1 (y) must be a !mimort.buffer, got 'i64'}}
  mimort.kernel "gelu_forward"(%a, %i) : !mimort.buffer<4xf32>, i64
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xi32>) {
  // expected-error @+1 {{kernel 'gelu_forward' operand 0 (x) must have f32 or bf16 elements, got 'i32'}}
  mimort.kernel "gelu_forward"(%a, %a) : !mimort.buffer<4xi32>, !mimort.buffer<4xi32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4x8xf32>, %t: !mimort.buffer<8x4xf32>, %v: i64) {
  // expected-error @+1 {{kernel 'embedding_forward' operand 0 (ids) must have i32 elements, got 'f32'}}
  mimort.kernel "embedding_forward"(%a, %t, %a, %v, %v) : !mimort.buffer<4x8xf32>, !mimort.buffer<8x4xf32>, !mimort.buffer<4x8xf32>, i64, i64
  return
}

// -----

func.func @f(%a: !mimort.buffer<4x8xf32>, %b: !mimort.buffer<4x16xf32>) {
  // expected-error @+1 {{kernel 'add' operand 2 (out) has shape 4x16 but operand 0 (a) has 4x8}}
  mimort.kernel "add"(%a, %a, %b) : !mimort.buffer<4x8xf32>, !mimort.buffer<4x8xf32>, !mimort.buffer<4x16xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4x8xf32>, %b: !mimort.buffer<32xbf16>) {
  // expected-error @+1 {{kernel 'convert' operand 1 (y) has shape 32 but operand 0 (x) has 4x8}}
  mimort.kernel "convert"(%a, %b) : !mimort.buffer<4x8xf32>, !mimort.buffer<32xbf16>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{kernel 'gelu_forward' has no attribute 'approximate'}}
  mimort.kernel "gelu_forward"(%a, %a) {approximate = true} : !mimort.buffer<4xf32>, !mimort.buffer<4xf32>
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{'g' does not name a mimort.grid}}
  mimort.all_reduce sum %a on @g ["dp"] : !mimort.buffer<4xf32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{group needs at least one grid dim}}
  mimort.all_reduce sum %a on @g [] : !mimort.buffer<4xf32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{group dims must be distinct names among tp, cp, pp, dp, got ["dp", "dp"]}}
  mimort.all_reduce sum %a on @g ["dp", "dp"] : !mimort.buffer<4xf32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
func.func @f(%a: !mimort.buffer<4xbf16>) {
  // expected-error @+1 {{only sum all-reduces of bf16 buffers are supported, got max}}
  mimort.all_reduce max %a on @g ["dp"] : !mimort.buffer<4xbf16>
  return
}

// -----

mimort.grid @g [tp = 2, cp = 1, pp = 1, dp = 1] ranks(0, 2)
func.func @f(%a: !mimort.buffer<4xf32>, %b: !mimort.buffer<6xf32>) {
  // expected-error @+1 {{target must hold group size (2) x 4 elements, got 6}}
  mimort.all_gather %a, %b on @g ["tp"] : !mimort.buffer<4xf32>, !mimort.buffer<6xf32>
  return
}

// -----

mimort.grid @g [tp = 2, cp = 1, pp = 1, dp = 1] ranks(0, 2)
func.func @f(%a: !mimort.buffer<4xf32>, %b: !mimort.buffer<8xi32>) {
  // expected-error @+1 {{source and target must have the same element type}}
  mimort.all_gather %a, %b on @g ["tp"] : !mimort.buffer<4xf32>, !mimort.buffer<8xi32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 2] ranks(0, 2)
func.func @f(%a: !mimort.buffer<4xf32>, %b: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{source must hold group size (2) x 4 elements, got 4}}
  mimort.reduce_scatter sum %a, %b on @g ["dp"] : !mimort.buffer<4xf32>, !mimort.buffer<4xf32>
  return
}

// -----

mimort.grid @g [tp = 2, cp = 1, pp = 1, dp = 1] ranks(0, 2)
func.func @f(%a: !mimort.buffer<4xf32>) {
  // expected-error @+1 {{root 2 is not a rank of the group (size 2)}}
  mimort.broadcast %a on @g ["tp"] root 2 : !mimort.buffer<4xf32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 2, dp = 1] ranks(0, 2)
func.func @f(%a: !mimort.buffer<4xf32>, %p: i64) {
  // expected-error @+1 {{tag must be non-negative, got -1}}
  mimort.send %a to %p on @g ["pp"] tag -1 : !mimort.buffer<4xf32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 2, dp = 1] ranks(0, 2)
func.func @f(%a: !mimort.buffer<4xf32>, %p: i64) {
  // expected-error @+1 {{tag must be non-negative, got -2}}
  mimort.recv %a from %p on @g ["pp"] tag -2 : !mimort.buffer<4xf32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 2, pp = 1, dp = 1] ranks(0, 2)
func.func @f(%a: !mimort.buffer<4xf32>, %p: i64) {
  // expected-error @+1 {{tag must be non-negative, got -3}}
  %r = mimort.recv_start %a from %p on @g ["cp"] tag -3 : !mimort.buffer<4xf32>
  mimort.recv_wait %r
  return
}

// -----

mimort.grid @g [tp = 1, cp = 2, pp = 1, dp = 1] ranks(0, 2)
func.func @f(%a: !mimort.buffer<4xf32>, %p: i64) {
  // expected-error @+1 {{request must have exactly one use, a mimort.recv_wait in the same block; it has 0 use(s)}}
  %r = mimort.recv_start %a from %p on @g ["cp"] tag 1 : !mimort.buffer<4xf32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 2, pp = 1, dp = 1] ranks(0, 2)
func.func @f(%a: !mimort.buffer<4xf32>, %p: i64, %c: i1) {
  // expected-error @+1 {{request must have exactly one use, a mimort.recv_wait in the same block; it has 1 use(s)}}
  %r = mimort.recv_start %a from %p on @g ["cp"] tag 1 : !mimort.buffer<4xf32>
  scf.if %c {
    mimort.recv_wait %r
  }
  return
}

// -----

mimort.grid @g [tp = 1, cp = 2, pp = 1, dp = 1] ranks(0, 2)
mimort.buffer @k workspace : !mimort.buffer<2x4xf32>
func.func @f(%p: i64, %c: i1) {
  %k = mimort.get @k : !mimort.buffer<2x4xf32>
  %c0 = arith.constant 0 : index
  %k0 = mimort.slice %k[%c0] : !mimort.buffer<2x4xf32> -> !mimort.buffer<4xf32>
  // expected-error @+1 {{buffer @k is used by 'mimort.fill' before the receive's mimort.recv_wait}}
  %r = mimort.recv_start %k0 from %p on @g ["cp"] tag 1 : !mimort.buffer<4xf32>
  %zero = arith.constant 0.0 : f32
  %again = mimort.get @k : !mimort.buffer<2x4xf32>
  scf.if %c {
    // expected-note @+1 {{used here}}
    mimort.fill %again, %zero : !mimort.buffer<2x4xf32>, f32
  }
  mimort.recv_wait %r
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{'g' does not name a mimort.grid}}
  %r = mimort.grid_coord @g "tp" : i64
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
func.func @f() {
  // expected-error @+1 {{dim must be one of tp, cp, pp, dp, got 'ep'}}
  %r = mimort.grid_coord @g "ep" : i64
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{'a' does not name a mimort.buffer}}
  mimort.offload @a
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{'a' does not name a mimort.buffer}}
  mimort.fetch @a
  return
}

// -----

func.func @f(%a: !mimort.buffer<4xi32>) {
  // expected-error @+1 {{needs a mimort.data in the module}}
  mimort.next_batch %a, %a : !mimort.buffer<4xi32>, !mimort.buffer<4xi32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 2] ranks(0, 2)
mimort.data on @g {global_batch = 4 : i64, seq_len = 8 : i64, vocab = 16 : i64}
func.func @f(%a: !mimort.buffer<4x8xi32>) {
  // expected-error @+1 {{input_ids must be i32 with local batch x seq_len (2 x 8) elements, got '!mimort.buffer<4x8xi32>'}}
  mimort.next_batch %a, %a : !mimort.buffer<4x8xi32>, !mimort.buffer<4x8xi32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
mimort.data on @g {global_batch = 1 : i64, seq_len = 8 : i64, vocab = 16 : i64}
func.func @f(%a: !mimort.buffer<8xi32>, %p: !mimort.buffer<12xf32>) {
  // expected-error @+1 {{pixels given but the data has no images}}
  mimort.next_batch %a, %a pixels %p : !mimort.buffer<8xi32>, !mimort.buffer<8xi32>, !mimort.buffer<12xf32>
  return
}

// -----

mimort.grid @g [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
mimort.data on @g {global_batch = 1 : i64, seq_len = 8 : i64, vocab = 16 : i64, images_per_sample = 1 : i64, tokens_per_image = 2 : i64, channels = 3 : i64, image_size = 2 : i64}
func.func @f(%a: !mimort.buffer<8xi32>, %p: !mimort.buffer<13xf32>) {
  // expected-error @+1 {{pixels must be f32 with 12 elements, got '!mimort.buffer<13xf32>'}}
  mimort.next_batch %a, %a pixels %p : !mimort.buffer<8xi32>, !mimort.buffer<8xi32>, !mimort.buffer<13xf32>
  return
}

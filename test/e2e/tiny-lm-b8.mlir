// tiny-lm.mlir with a global batch of 8 samples on one rank: the
// reference tiny-lm-dp2.mlir is compared against.


mimort.program @tiny_lm_b8 {world_size = 1 : i64, flops_per_step = 9.437184e+06 : f64,
                         init = @init, step = @step}
mimort.grid @llm [tp = 1, cp = 1, pp = 1, dp = 1] ranks(0, 1)
mimort.data on @llm {global_batch = 8 : i64, seq_len = 16 : i64, vocab = 64 : i64,
                     samples = 8 : i64}

mimort.buffer @embed params : !mimort.buffer<64x32xf32>
mimort.buffer @norm1 params : !mimort.buffer<2x32xf32>
mimort.buffer @w1 params : !mimort.buffer<2x32x64xf32>
mimort.buffer @w2 params : !mimort.buffer<2x64x32xf32>
mimort.buffer @normf params : !mimort.buffer<32xf32>
mimort.buffer @head params : !mimort.buffer<32x64xf32>
mimort.buffer @d_embed grads : !mimort.buffer<64x32xf32>
mimort.buffer @d_norm1 grads : !mimort.buffer<2x32xf32>
mimort.buffer @d_w1 grads : !mimort.buffer<2x32x64xf32>
mimort.buffer @d_w2 grads : !mimort.buffer<2x64x32xf32>
mimort.buffer @d_normf grads : !mimort.buffer<32xf32>
mimort.buffer @d_head grads : !mimort.buffer<32x64xf32>
mimort.buffer @m_embed optimizer : !mimort.buffer<64x32xf32>
mimort.buffer @v_embed optimizer : !mimort.buffer<64x32xf32>
mimort.buffer @m_norm1 optimizer : !mimort.buffer<2x32xf32>
mimort.buffer @v_norm1 optimizer : !mimort.buffer<2x32xf32>
mimort.buffer @m_w1 optimizer : !mimort.buffer<2x32x64xf32>
mimort.buffer @v_w1 optimizer : !mimort.buffer<2x32x64xf32>
mimort.buffer @m_w2 optimizer : !mimort.buffer<2x64x32xf32>
mimort.buffer @v_w2 optimizer : !mimort.buffer<2x64x32xf32>
mimort.buffer @m_normf optimizer : !mimort.buffer<32xf32>
mimort.buffer @v_normf optimizer : !mimort.buffer<32xf32>
mimort.buffer @m_head optimizer : !mimort.buffer<32x64xf32>
mimort.buffer @v_head optimizer : !mimort.buffer<32x64xf32>
mimort.buffer @ids activations : !mimort.buffer<8x16xi32>
mimort.buffer @labels activations : !mimort.buffer<8x16xi32>
mimort.buffer @x activations : !mimort.buffer<3x128x32xf32>
mimort.buffer @n1 activations : !mimort.buffer<2x128x32xf32>
mimort.buffer @rstd1 activations : !mimort.buffer<2x128xf32>
mimort.buffer @h activations : !mimort.buffer<2x128x64xf32>
mimort.buffer @a activations : !mimort.buffer<2x128x64xf32>
mimort.buffer @nf activations : !mimort.buffer<128x32xf32>
mimort.buffer @rstdf activations : !mimort.buffer<128xf32>
mimort.buffer @logits activations : !mimort.buffer<128x64xf32>
mimort.buffer @lse activations : !mimort.buffer<128xf32>
mimort.buffer @loss_sum activations : !mimort.buffer<1xf32>
mimort.buffer @count activations : !mimort.buffer<1xi32>
mimort.buffer @dx workspace : !mimort.buffer<128x32xf32>
mimort.buffer @dn workspace : !mimort.buffer<128x32xf32>
mimort.buffer @dres workspace : !mimort.buffer<128x32xf32>
mimort.buffer @da workspace : !mimort.buffer<128x64xf32>
mimort.buffer @dh workspace : !mimort.buffer<128x64xf32>
mimort.buffer @dnf workspace : !mimort.buffer<128x32xf32>
mimort.buffer @dlogits workspace : !mimort.buffer<128x64xf32>

func.func @init() {
  %zero = arith.constant 0 : i64
  %embed = mimort.get @embed : !mimort.buffer<64x32xf32>
  mimort.init_param normal %embed, %zero {name = "embed", std = 0.02 : f64} : !mimort.buffer<64x32xf32>
  %norm1 = mimort.get @norm1 : !mimort.buffer<2x32xf32>
  mimort.init_param ones %norm1, %zero {name = "norm1"} : !mimort.buffer<2x32xf32>
  %w1 = mimort.get @w1 : !mimort.buffer<2x32x64xf32>
  mimort.init_param normal %w1, %zero {name = "w1", std = 0.02 : f64} : !mimort.buffer<2x32x64xf32>
  %w2 = mimort.get @w2 : !mimort.buffer<2x64x32xf32>
  mimort.init_param normal %w2, %zero {name = "w2", std = 0.02 : f64} : !mimort.buffer<2x64x32xf32>
  %normf = mimort.get @normf : !mimort.buffer<32xf32>
  mimort.init_param ones %normf, %zero {name = "normf"} : !mimort.buffer<32xf32>
  %head = mimort.get @head : !mimort.buffer<32x64xf32>
  mimort.init_param normal %head, %zero {name = "head", std = 0.02 : f64} : !mimort.buffer<32x64xf32>
  return
}
func.func @step(%step: i64) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %v0 = arith.constant 0 : i64
  %vocab = arith.constant 64 : i64
  %eps = arith.constant 1.0e-5 : f32
  %fzero = arith.constant 0.0 : f32
  %fone = arith.constant 1.0 : f32
  %none = mimort.absent : !mimort.absent
  %embed = mimort.get @embed : !mimort.buffer<64x32xf32>
  %d_embed = mimort.get @d_embed : !mimort.buffer<64x32xf32>
  %norm1 = mimort.get @norm1 : !mimort.buffer<2x32xf32>
  %d_norm1 = mimort.get @d_norm1 : !mimort.buffer<2x32xf32>
  %w1 = mimort.get @w1 : !mimort.buffer<2x32x64xf32>
  %d_w1 = mimort.get @d_w1 : !mimort.buffer<2x32x64xf32>
  %w2 = mimort.get @w2 : !mimort.buffer<2x64x32xf32>
  %d_w2 = mimort.get @d_w2 : !mimort.buffer<2x64x32xf32>
  %normf = mimort.get @normf : !mimort.buffer<32xf32>
  %d_normf = mimort.get @d_normf : !mimort.buffer<32xf32>
  %head = mimort.get @head : !mimort.buffer<32x64xf32>
  %d_head = mimort.get @d_head : !mimort.buffer<32x64xf32>
  %ids = mimort.get @ids : !mimort.buffer<8x16xi32>
  %labels = mimort.get @labels : !mimort.buffer<8x16xi32>
  %x = mimort.get @x : !mimort.buffer<3x128x32xf32>
  %n1 = mimort.get @n1 : !mimort.buffer<2x128x32xf32>
  %rstd1 = mimort.get @rstd1 : !mimort.buffer<2x128xf32>
  %h = mimort.get @h : !mimort.buffer<2x128x64xf32>
  %a = mimort.get @a : !mimort.buffer<2x128x64xf32>
  %nf = mimort.get @nf : !mimort.buffer<128x32xf32>
  %rstdf = mimort.get @rstdf : !mimort.buffer<128xf32>
  %logits = mimort.get @logits : !mimort.buffer<128x64xf32>
  %lse = mimort.get @lse : !mimort.buffer<128xf32>
  %loss_sum = mimort.get @loss_sum : !mimort.buffer<1xf32>
  %count = mimort.get @count : !mimort.buffer<1xi32>
  %dx = mimort.get @dx : !mimort.buffer<128x32xf32>
  %dn = mimort.get @dn : !mimort.buffer<128x32xf32>
  %dres = mimort.get @dres : !mimort.buffer<128x32xf32>
  %da = mimort.get @da : !mimort.buffer<128x64xf32>
  %dh = mimort.get @dh : !mimort.buffer<128x64xf32>
  %dnf = mimort.get @dnf : !mimort.buffer<128x32xf32>
  %dlogits = mimort.get @dlogits : !mimort.buffer<128x64xf32>

  // Forward.
  mimort.next_batch %ids, %labels : !mimort.buffer<8x16xi32>, !mimort.buffer<8x16xi32>
  %ids_t = mimort.reshape %ids : !mimort.buffer<8x16xi32> -> !mimort.buffer<128xi32>
  %labels_t = mimort.reshape %labels : !mimort.buffer<8x16xi32> -> !mimort.buffer<128xi32>
  %x_0 = mimort.slice %x[%c0] : !mimort.buffer<3x128x32xf32> -> !mimort.buffer<128x32xf32>
  mimort.kernel "embedding_forward"(%ids_t, %embed, %x_0, %v0, %vocab) : !mimort.buffer<128xi32>, !mimort.buffer<64x32xf32>, !mimort.buffer<128x32xf32>, i64, i64
  scf.for %l = %c0 to %c2 step %c1 {
    %next = arith.addi %l, %c1 : index
    %xl = mimort.slice %x[%l] : !mimort.buffer<3x128x32xf32> -> !mimort.buffer<128x32xf32>
    %xo = mimort.slice %x[%next] : !mimort.buffer<3x128x32xf32> -> !mimort.buffer<128x32xf32>
    %g = mimort.slice %norm1[%l] : !mimort.buffer<2x32xf32> -> !mimort.buffer<32xf32>
    %n = mimort.slice %n1[%l] : !mimort.buffer<2x128x32xf32> -> !mimort.buffer<128x32xf32>
    %r = mimort.slice %rstd1[%l] : !mimort.buffer<2x128xf32> -> !mimort.buffer<128xf32>
    %w1l = mimort.slice %w1[%l] : !mimort.buffer<2x32x64xf32> -> !mimort.buffer<32x64xf32>
    %w2l = mimort.slice %w2[%l] : !mimort.buffer<2x64x32xf32> -> !mimort.buffer<64x32xf32>
    %hl = mimort.slice %h[%l] : !mimort.buffer<2x128x64xf32> -> !mimort.buffer<128x64xf32>
    %al = mimort.slice %a[%l] : !mimort.buffer<2x128x64xf32> -> !mimort.buffer<128x64xf32>
    mimort.kernel "rms_norm_forward"(%xl, %g, %eps, %n, %r) : !mimort.buffer<128x32xf32>, !mimort.buffer<32xf32>, f32, !mimort.buffer<128x32xf32>, !mimort.buffer<128xf32>
    mimort.kernel "linear_forward"(%n, %w1l, %none, %hl) {transposed_weight = false} : !mimort.buffer<128x32xf32>, !mimort.buffer<32x64xf32>, !mimort.absent, !mimort.buffer<128x64xf32>
    mimort.kernel "gelu_forward"(%hl, %al) : !mimort.buffer<128x64xf32>, !mimort.buffer<128x64xf32>
    mimort.kernel "linear_forward"(%al, %w2l, %none, %xo) {transposed_weight = false} : !mimort.buffer<128x64xf32>, !mimort.buffer<64x32xf32>, !mimort.absent, !mimort.buffer<128x32xf32>
    mimort.kernel "add"(%xo, %xl, %xo) : !mimort.buffer<128x32xf32>, !mimort.buffer<128x32xf32>, !mimort.buffer<128x32xf32>
  }
  %x_last = mimort.slice %x[%c2] : !mimort.buffer<3x128x32xf32> -> !mimort.buffer<128x32xf32>
  mimort.kernel "rms_norm_forward"(%x_last, %normf, %eps, %nf, %rstdf) : !mimort.buffer<128x32xf32>, !mimort.buffer<32xf32>, f32, !mimort.buffer<128x32xf32>, !mimort.buffer<128xf32>
  mimort.kernel "linear_forward"(%nf, %head, %none, %logits) {transposed_weight = false} : !mimort.buffer<128x32xf32>, !mimort.buffer<32x64xf32>, !mimort.absent, !mimort.buffer<128x64xf32>
  mimort.kernel "cross_entropy_forward"(%logits, %labels_t, %loss_sum, %count, %lse) : !mimort.buffer<128x64xf32>, !mimort.buffer<128xi32>, !mimort.buffer<1xf32>, !mimort.buffer<1xi32>, !mimort.buffer<128xf32>
  %sum = mimort.read_scalar %loss_sum[0] : !mimort.buffer<1xf32> -> f32
  %tokens_i = mimort.read_scalar %count[0] : !mimort.buffer<1xi32> -> i32
  %tokens = arith.sitofp %tokens_i : i32 to f32
  %loss = arith.divf %sum, %tokens : f32
  %scale = arith.divf %fone, %tokens : f32

  // Backward: parameter gradients accumulate, so they start from zero.
  mimort.fill %d_embed, %fzero : !mimort.buffer<64x32xf32>, f32
  mimort.fill %d_norm1, %fzero : !mimort.buffer<2x32xf32>, f32
  mimort.fill %d_w1, %fzero : !mimort.buffer<2x32x64xf32>, f32
  mimort.fill %d_w2, %fzero : !mimort.buffer<2x64x32xf32>, f32
  mimort.fill %d_normf, %fzero : !mimort.buffer<32xf32>, f32
  mimort.fill %d_head, %fzero : !mimort.buffer<32x64xf32>, f32
  mimort.kernel "cross_entropy_backward"(%logits, %labels_t, %lse, %v0, %scale, %dlogits) : !mimort.buffer<128x64xf32>, !mimort.buffer<128xi32>, !mimort.buffer<128xf32>, i64, f32, !mimort.buffer<128x64xf32>
  mimort.kernel "linear_backward"(%nf, %head, %dlogits, %dnf, %d_head, %none) {transposed_weight = false} : !mimort.buffer<128x32xf32>, !mimort.buffer<32x64xf32>, !mimort.buffer<128x64xf32>, !mimort.buffer<128x32xf32>, !mimort.buffer<32x64xf32>, !mimort.absent
  mimort.kernel "rms_norm_backward"(%x_last, %normf, %rstdf, %dnf, %dx, %d_normf) : !mimort.buffer<128x32xf32>, !mimort.buffer<32xf32>, !mimort.buffer<128xf32>, !mimort.buffer<128x32xf32>, !mimort.buffer<128x32xf32>, !mimort.buffer<32xf32>
  // Layers in reverse; %dx holds the gradient of the layer's output.
  scf.for %j = %c0 to %c2 step %c1 {
    %l = arith.subi %c1, %j : index
    %xl = mimort.slice %x[%l] : !mimort.buffer<3x128x32xf32> -> !mimort.buffer<128x32xf32>
    %g = mimort.slice %norm1[%l] : !mimort.buffer<2x32xf32> -> !mimort.buffer<32xf32>
    %dg = mimort.slice %d_norm1[%l] : !mimort.buffer<2x32xf32> -> !mimort.buffer<32xf32>
    %n = mimort.slice %n1[%l] : !mimort.buffer<2x128x32xf32> -> !mimort.buffer<128x32xf32>
    %r = mimort.slice %rstd1[%l] : !mimort.buffer<2x128xf32> -> !mimort.buffer<128xf32>
    %w1l = mimort.slice %w1[%l] : !mimort.buffer<2x32x64xf32> -> !mimort.buffer<32x64xf32>
    %dw1l = mimort.slice %d_w1[%l] : !mimort.buffer<2x32x64xf32> -> !mimort.buffer<32x64xf32>
    %w2l = mimort.slice %w2[%l] : !mimort.buffer<2x64x32xf32> -> !mimort.buffer<64x32xf32>
    %dw2l = mimort.slice %d_w2[%l] : !mimort.buffer<2x64x32xf32> -> !mimort.buffer<64x32xf32>
    %hl = mimort.slice %h[%l] : !mimort.buffer<2x128x64xf32> -> !mimort.buffer<128x64xf32>
    %al = mimort.slice %a[%l] : !mimort.buffer<2x128x64xf32> -> !mimort.buffer<128x64xf32>
    mimort.kernel "linear_backward"(%al, %w2l, %dx, %da, %dw2l, %none) {transposed_weight = false} : !mimort.buffer<128x64xf32>, !mimort.buffer<64x32xf32>, !mimort.buffer<128x32xf32>, !mimort.buffer<128x64xf32>, !mimort.buffer<64x32xf32>, !mimort.absent
    mimort.kernel "gelu_backward"(%hl, %da, %dh) : !mimort.buffer<128x64xf32>, !mimort.buffer<128x64xf32>, !mimort.buffer<128x64xf32>
    mimort.kernel "linear_backward"(%n, %w1l, %dh, %dn, %dw1l, %none) {transposed_weight = false} : !mimort.buffer<128x32xf32>, !mimort.buffer<32x64xf32>, !mimort.buffer<128x64xf32>, !mimort.buffer<128x32xf32>, !mimort.buffer<32x64xf32>, !mimort.absent
    mimort.kernel "rms_norm_backward"(%xl, %g, %r, %dn, %dres, %dg) : !mimort.buffer<128x32xf32>, !mimort.buffer<32xf32>, !mimort.buffer<128xf32>, !mimort.buffer<128x32xf32>, !mimort.buffer<128x32xf32>, !mimort.buffer<32xf32>
    mimort.kernel "add"(%dx, %dres, %dx) : !mimort.buffer<128x32xf32>, !mimort.buffer<128x32xf32>, !mimort.buffer<128x32xf32>
  }
  mimort.kernel "embedding_backward"(%ids_t, %dx, %d_embed, %v0, %vocab) : !mimort.buffer<128xi32>, !mimort.buffer<128x32xf32>, !mimort.buffer<64x32xf32>, i64, i64

  // AdamW on every parameter (stacked ones as a whole).
  %m_embed = mimort.get @m_embed : !mimort.buffer<64x32xf32>
  %v_embed = mimort.get @v_embed : !mimort.buffer<64x32xf32>
  mimort.kernel "adam_step"(%step, %fone, %embed, %d_embed, %m_embed, %v_embed) {adam = #mimort.adam<lr = 1.0e-2, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.01, decoupled = true>} : i64, f32, !mimort.buffer<64x32xf32>, !mimort.buffer<64x32xf32>, !mimort.buffer<64x32xf32>, !mimort.buffer<64x32xf32>
  %m_norm1 = mimort.get @m_norm1 : !mimort.buffer<2x32xf32>
  %v_norm1 = mimort.get @v_norm1 : !mimort.buffer<2x32xf32>
  mimort.kernel "adam_step"(%step, %fone, %norm1, %d_norm1, %m_norm1, %v_norm1) {adam = #mimort.adam<lr = 1.0e-2, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.01, decoupled = true>} : i64, f32, !mimort.buffer<2x32xf32>, !mimort.buffer<2x32xf32>, !mimort.buffer<2x32xf32>, !mimort.buffer<2x32xf32>
  %m_w1 = mimort.get @m_w1 : !mimort.buffer<2x32x64xf32>
  %v_w1 = mimort.get @v_w1 : !mimort.buffer<2x32x64xf32>
  mimort.kernel "adam_step"(%step, %fone, %w1, %d_w1, %m_w1, %v_w1) {adam = #mimort.adam<lr = 1.0e-2, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.01, decoupled = true>} : i64, f32, !mimort.buffer<2x32x64xf32>, !mimort.buffer<2x32x64xf32>, !mimort.buffer<2x32x64xf32>, !mimort.buffer<2x32x64xf32>
  %m_w2 = mimort.get @m_w2 : !mimort.buffer<2x64x32xf32>
  %v_w2 = mimort.get @v_w2 : !mimort.buffer<2x64x32xf32>
  mimort.kernel "adam_step"(%step, %fone, %w2, %d_w2, %m_w2, %v_w2) {adam = #mimort.adam<lr = 1.0e-2, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.01, decoupled = true>} : i64, f32, !mimort.buffer<2x64x32xf32>, !mimort.buffer<2x64x32xf32>, !mimort.buffer<2x64x32xf32>, !mimort.buffer<2x64x32xf32>
  %m_normf = mimort.get @m_normf : !mimort.buffer<32xf32>
  %v_normf = mimort.get @v_normf : !mimort.buffer<32xf32>
  mimort.kernel "adam_step"(%step, %fone, %normf, %d_normf, %m_normf, %v_normf) {adam = #mimort.adam<lr = 1.0e-2, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.01, decoupled = true>} : i64, f32, !mimort.buffer<32xf32>, !mimort.buffer<32xf32>, !mimort.buffer<32xf32>, !mimort.buffer<32xf32>
  %m_head = mimort.get @m_head : !mimort.buffer<32x64xf32>
  %v_head = mimort.get @v_head : !mimort.buffer<32x64xf32>
  mimort.kernel "adam_step"(%step, %fone, %head, %d_head, %m_head, %v_head) {adam = #mimort.adam<lr = 1.0e-2, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.01, decoupled = true>} : i64, f32, !mimort.buffer<32x64xf32>, !mimort.buffer<32x64xf32>, !mimort.buffer<32x64xf32>, !mimort.buffer<32x64xf32>
  return %loss : f32
}

// RUN: mimo-opt %s --convert-mimort-to-emitc | FileCheck %s --check-prefix=IR
// RUN: mimo-opt %s --convert-mimort-to-emitc | mlir-translate --mlir-to-cpp | FileCheck %s
// The C++ of every op compiles, without warnings, against the support layer.
// RUN: mimoc build-mimort %s --emit=program -o %t.cpp
// RUN: c++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I%mimo_src/runtime/program/include -I%mimo_src/runtime/include -I%mimo_src/kernels/include %t.cpp
//
// A mimort program becomes C++ calling mimo/program/Support.h: the
// declarations become describe(), functions keep their names, index values
// become size_t, buffers become TensorViews.

// IR-NOT: mimort.
// IR-NOT: unrealized_conversion_cast

// CHECK: #include <cstddef>
// CHECK: #include <cstdint>
// CHECK: #include "mimo/program/Support.h"
// CHECK: namespace mimo_generated {
// CHECK-LABEL: void describe(
// CHECK-SAME: mimo::program::ProgramDesc* [[D:v[0-9]+]]) {
// CHECK-NEXT: mimo::program::setProgram([[D]], "tiny", 2, 1500000.0);
// CHECK-NEXT: mimo::program::addGrid([[D]], "llm", 2, 1, 1, 1, 0, 2);
// CHECK-NEXT: mimo::program::addGroup([[D]], "llm", mimo::rt::kTpMask);
// CHECK-NEXT: mimo::program::addGroup([[D]], "llm", mimo::rt::kTpMask | mimo::rt::kDpMask);
// CHECK-NEXT: mimo::program::addBuffer([[D]], "w", mimo::rt::MemoryCategory::Params, mimo::kernels::DType::F32, {2, 8, 16});
// CHECK-NEXT: mimo::program::addBuffer([[D]], "m", mimo::rt::MemoryCategory::Optimizer, mimo::kernels::DType::F32, {8, 16});
// CHECK-NEXT: mimo::program::addBuffer([[D]], "act", mimo::rt::MemoryCategory::Activations, mimo::kernels::DType::BF16, {64, 16});
// CHECK-NEXT: mimo::program::addBuffer([[D]], "ids", mimo::rt::MemoryCategory::Activations, mimo::kernels::DType::I32, {1, 16});
// CHECK-NEXT: mimo::program::addBuffer([[D]], "ws", mimo::rt::MemoryCategory::Workspace, mimo::kernels::DType::F32, {128});
// CHECK-NEXT: mimo::program::addBuffer([[D]], "pix", mimo::rt::MemoryCategory::Activations, mimo::kernels::DType::F32, {48});
// CHECK-NEXT: mimo::program::setData([[D]], "llm", 1, 16, 64, 63, 1, 4, 3, 4, 8);
mimort.program @tiny {world_size = 2 : i64, flops_per_step = 1.5e6 : f64, init = @init, step = @step}
mimort.grid @llm [tp = 2, cp = 1, pp = 1, dp = 1] ranks(0, 2)
mimort.data on @llm {global_batch = 1 : i64, seq_len = 16 : i64, vocab = 64 : i64, images_per_sample = 1 : i64, tokens_per_image = 4 : i64, image_size = 4 : i64, samples = 8 : i64}
mimort.buffer @w params : !mimort.buffer<2x8x16xf32>
mimort.buffer @m optimizer : !mimort.buffer<8x16xf32>
mimort.buffer @act activations : !mimort.buffer<64x16xbf16>
mimort.buffer @ids activations : !mimort.buffer<1x16xi32>
mimort.buffer @ws workspace : !mimort.buffer<128xf32>
mimort.buffer @pix activations : !mimort.buffer<48xf32>

// CHECK-LABEL: void init() {
// CHECK: mimo::kernels::TensorView [[W:v[0-9]+]] = mimo::program::buffer("w");
// CHECK: mimo::program::initNormal([[W]], "llm.w", 0.02f, [[OFF:v[0-9]+]], 32);
// CHECK: mimo::program::initConstant([[W]], 1.0f);
// CHECK: mimo::program::initConstant([[W]], 0.0f);
func.func @init() {
  %tp = mimort.grid_coord @llm "tp" : i64
  %c16 = arith.constant 16 : i64
  %off = arith.muli %tp, %c16 : i64
  %w = mimort.get @w : !mimort.buffer<2x8x16xf32>
  mimort.init_param normal %w, %off {name = "llm.w", std = 0.02 : f64, row_length = 32 : i64} : !mimort.buffer<2x8x16xf32>
  mimort.init_param ones %w, %off {name = "llm.w"} : !mimort.buffer<2x8x16xf32>
  mimort.init_param zeros %w, %off {name = "llm.w"} : !mimort.buffer<2x8x16xf32>
  return
}

// CHECK-LABEL: float step(
// CHECK-SAME: int64_t {{v[0-9]+}}) {
// CHECK: mimo::program::nextBatch([[IDS:v[0-9]+]], [[IDS]], [[PIX:v[0-9]+]]);
// CHECK: mimo::kernels::TensorView [[FLAT:v[0-9]+]] = mimo::program::reshape([[IDS]], {16});
// CHECK: for (size_t [[L:i[0-9]+]] = {{.*}}) {
// CHECK: mimo::kernels::TensorView [[WL:v[0-9]+]] = mimo::program::slice({{v[0-9]+}}, [[L]]);
// CHECK: mimo::program::callKernel("attention_forward", &mimo::kernels::Kernels::attentionForward, mimo::kernels::AttentionParams{4, 2, 4, true, 0, 0.0f}, [[WL]], [[WL]], [[WL]], [[WL]], [[WL]]);
// CHECK: mimo::program::callKernel("gemm", &mimo::kernels::Kernels::gemm, false, true, {{v[0-9]+}}, [[WL]], [[WL]], {{v[0-9]+}}, [[WL]]);
// CHECK: mimo::kernels::AdamParams [[ADAM:v[0-9]+]] = mimo::program::adamParams(0.001f, 0.9f, 0.95f, 1e-08f, 0.1f, true, {{v[0-9]+}}, {{v[0-9]+}});
// CHECK: mimo::program::callKernel("adam_step", &mimo::kernels::Kernels::adamStep, [[ADAM]], [[WL]], [[WL]], {{v[0-9]+}}, {{v[0-9]+}});
// CHECK: }
// CHECK: mimo::kernels::TensorView [[NONE:v[0-9]+]] = mimo::program::absent();
// CHECK: mimo::program::callKernel("patch_embed_forward", &mimo::kernels::Kernels::patchEmbedForward, mimo::kernels::PatchEmbedParams{2, 1}, {{.*}}, [[NONE]], [[NONE]], [[NONE]], {{.*}});
// CHECK: mimo::program::fill({{v[0-9]+}}, {{v[0-9]+}});
// CHECK: mimo::program::copy({{v[0-9]+}}, {{v[0-9]+}});
// CHECK: mimo::program::allReduce({{v[0-9]+}}, "llm", mimo::rt::kTpMask, mimo::rt::ReduceOp::Sum);
// CHECK: mimo::program::allGather({{v[0-9]+}}, {{v[0-9]+}}, "llm", mimo::rt::kTpMask);
// CHECK: mimo::program::reduceScatter({{v[0-9]+}}, {{v[0-9]+}}, "llm", mimo::rt::kTpMask, mimo::rt::ReduceOp::Max);
// CHECK: mimo::program::broadcast({{v[0-9]+}}, "llm", mimo::rt::kTpMask | mimo::rt::kDpMask, 1);
// CHECK: int64_t [[PEER:v[0-9]+]] = mimo::program::gridCoord("llm", mimo::rt::GridDim::TP);
// CHECK: mimo::program::send({{v[0-9]+}}, [[PEER]], "llm", mimo::rt::kTpMask, 7);
// CHECK: mimo::program::recv({{v[0-9]+}}, [[PEER]], "llm", mimo::rt::kTpMask, 7);
// CHECK: mimo::program::Request [[REQ:v[0-9]+]] = mimo::program::recvStart({{v[0-9]+}}, [[PEER]], "llm", mimo::rt::kTpMask, 8);
// CHECK: mimo::program::send({{v[0-9]+}}, [[PEER]], "llm", mimo::rt::kTpMask, 8);
// CHECK: mimo::program::recvWait([[REQ]]);
// CHECK: mimo::program::offload("act");
// CHECK: mimo::program::fetch("act");
// CHECK: int32_t [[N:v[0-9]+]] = mimo::program::readI32([[FLAT]], 3);
// CHECK: float [[LOSS:v[0-9]+]] = mimo::program::readF32({{v[0-9]+}}, 0);
// CHECK: float [[NF:v[0-9]+]] = (float) [[N]];
// CHECK: float [[SUM:v[0-9]+]] = [[LOSS]] + [[NF]];
// CHECK: return [[SUM]];
// CHECK: } // namespace mimo_generated
// CHECK: mimo::program::Program mimoProgram() {
// CHECK-NEXT: return {mimo_generated::describe, mimo_generated::init, mimo_generated::step};
func.func @step(%step: i64) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %w = mimort.get @w : !mimort.buffer<2x8x16xf32>
  %m = mimort.get @m : !mimort.buffer<8x16xf32>
  %ids = mimort.get @ids : !mimort.buffer<1x16xi32>
  %pix = mimort.get @pix : !mimort.buffer<48xf32>
  %ws = mimort.get @ws : !mimort.buffer<128xf32>
  mimort.next_batch %ids, %ids pixels %pix : !mimort.buffer<1x16xi32>, !mimort.buffer<1x16xi32>, !mimort.buffer<48xf32>
  %flat = mimort.reshape %ids : !mimort.buffer<1x16xi32> -> !mimort.buffer<16xi32>
  scf.for %l = %c0 to %c2 step %c1 {
    %wl = mimort.slice %w[%l] : !mimort.buffer<2x8x16xf32> -> !mimort.buffer<8x16xf32>
    mimort.kernel "attention_forward"(%wl, %wl, %wl, %wl, %wl) {attention = #mimort.attention<q_heads = 4, kv_heads = 2, head_dim = 4, causal = true, segment = 0, scale = 0.0>} : !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>
    mimort.kernel "gemm"(%one, %wl, %wl, %zero, %wl) {trans_a = false, trans_b = true} : f32, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>, f32, !mimort.buffer<8x16xf32>
    mimort.kernel "adam_step"(%step, %one, %wl, %wl, %m, %m) {adam = #mimort.adam<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.95, eps = 1.0e-8, weight_decay = 0.1, decoupled = true>} : i64, f32, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>
  }
  %none = mimort.absent : !mimort.absent
  mimort.kernel "patch_embed_forward"(%pix, %m, %none, %none, %none, %m, %ws) {patch_embed = #mimort.patch_embed<patch = 2, class_tokens = 1>} : !mimort.buffer<48xf32>, !mimort.buffer<8x16xf32>, !mimort.absent, !mimort.absent, !mimort.absent, !mimort.buffer<8x16xf32>, !mimort.buffer<128xf32>
  mimort.fill %m, %zero : !mimort.buffer<8x16xf32>, f32
  mimort.copy %m, %m : !mimort.buffer<8x16xf32>, !mimort.buffer<8x16xf32>
  mimort.all_reduce sum %m on @llm ["tp"] : !mimort.buffer<8x16xf32>
  %part = mimort.reshape %ws : !mimort.buffer<128xf32> -> !mimort.buffer<2x64xf32>
  %half = mimort.slice %part[%c0] : !mimort.buffer<2x64xf32> -> !mimort.buffer<64xf32>
  mimort.all_gather %half, %ws on @llm ["tp"] : !mimort.buffer<64xf32>, !mimort.buffer<128xf32>
  mimort.reduce_scatter max %ws, %half on @llm ["tp"] : !mimort.buffer<128xf32>, !mimort.buffer<64xf32>
  mimort.broadcast %m on @llm ["tp", "dp"] root 1 : !mimort.buffer<8x16xf32>
  %peer = mimort.grid_coord @llm "tp" : i64
  mimort.send %m to %peer on @llm ["tp"] tag 7 : !mimort.buffer<8x16xf32>
  mimort.recv %m from %peer on @llm ["tp"] tag 7 : !mimort.buffer<8x16xf32>
  %req = mimort.recv_start %half from %peer on @llm ["tp"] tag 8 : !mimort.buffer<64xf32>
  mimort.send %m to %peer on @llm ["tp"] tag 8 : !mimort.buffer<8x16xf32>
  mimort.recv_wait %req
  mimort.offload @act
  mimort.fetch @act
  %n = mimort.read_scalar %flat[3] : !mimort.buffer<16xi32> -> i32
  %loss = mimort.read_scalar %m[0] : !mimort.buffer<8x16xf32> -> f32
  %nf = arith.sitofp %n : i32 to f32
  %sum = arith.addf %loss, %nf : f32
  return %sum : f32
}


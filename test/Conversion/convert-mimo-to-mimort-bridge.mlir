// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-colocated-fan-in.json --emit=mlir | FileCheck %s --check-prefix=FANIN
// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-colocated-fan-out.json --emit=mlir | FileCheck %s --check-prefix=FANOUT
// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-colocated-llm-pp2.json --emit=mlir | FileCheck %s --check-prefix=PP
// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-colocated-fan-in-offload.json --emit=mlir | FileCheck %s --check-prefix=OFFLOAD
// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-colocated-fan-in-offload.json" --mimo-bridge --mimo-generate-backward --mimo-partition --mimo-apply-recompute | not mimo-opt --convert-mimo-to-mimort 2>&1 | FileCheck %s --check-prefix=UNRESOLVED
//
// Colocated plans whose modules differ in dp: the three-phase schedule and
// the encoder-to-LLM bridge. Fan-in (encoder tp1 dp4, LLM tp2 dp2): each
// rank loads its LLM slot's 4 samples, encodes its 2, the LLM's tp group
// gathers the projected tokens, and each encoder rank takes back its block
// of the image-token gradients. Fan-out (encoder tp2 dp2, LLM tp1 dp4): the
// loader runs on the encoder's grid, each LLM rank reads its block of the
// encoder's output, and the encoder's tp group gathers the gradients.

// FANIN: mimort.grid @vision [tp = 1, cp = 1, pp = 1, dp = 4] ranks(0, 4)
// FANIN: mimort.grid @llm [tp = 2, cp = 1, pp = 1, dp = 2] ranks(0, 4)
// FANIN: mimort.data on @llm {global_batch = 8 : i64
// FANIN: mimort.buffer @data.pixels activations : !mimort.buffer<4x2x3x32x32xf32>
// FANIN: mimort.buffer @bridge.enc_out activations : !mimort.buffer<2x32x128xf32>
// FANIN: mimort.buffer @bridge.llm_grad activations : !mimort.buffer<4x32x128xf32>
// FANIN-LABEL: func.func @step
// Phase 1: the encoder's 2 samples start at (vision dp mod 2) * 2.
// FANIN: mimort.grid_coord @vision "dp"
// FANIN: arith.remsi
// FANIN: scf.for %[[I:.*]] = %{{.*}} to %c2
// FANIN: mimort.kernel "patch_embed_forward"
// FANIN: %[[OUT:.*]] = mimort.get @bridge.enc_out
// FANIN-NEXT: mimort.slice %[[OUT]][%[[I]]]
// Bridge forward.
// FANIN: mimort.all_gather %{{.*}}, %{{.*}} on @llm ["tp"] : !mimort.buffer<2x32x128xf32>, !mimort.buffer<2x2x32x128xf32>
// Phase 2: the LLM's 4 samples, forward and backward.
// FANIN: scf.for %{{.*}} = %{{.*}} to %c4 {{.*}} iter_args
// FANIN: mimort.get @bridge.llm_in
// FANIN: mimort.kernel "merge_rows_forward"
// FANIN: mimort.kernel "merge_rows_backward"
// FANIN: mimort.get @bridge.llm_grad
// Bridge backward: this encoder rank's block.
// FANIN: mimort.grid_coord @vision "dp"
// FANIN: mimort.reshape %{{.*}} : !mimort.buffer<4x32x128xf32> -> !mimort.buffer<2x2x32x128xf32>
// FANIN: mimort.get @bridge.enc_grad
// Phase 3: the encoder's backward from what phase 1 kept for the sample
// (no forward again).
// FANIN: scf.for
// FANIN-NOT: mimort.kernel "patch_embed_forward"
// FANIN: mimort.get @bridge.enc_grad
// FANIN: mimort.kernel "patch_embed_backward"
// FANIN-NOT: scf.for
// FANIN: mimort.all_reduce sum %{{.*}} on @llm ["dp"] : !mimort.buffer<1xf32>

// FANOUT: mimort.grid @vision [tp = 2, cp = 1, pp = 1, dp = 2] ranks(0, 4)
// FANOUT: mimort.grid @llm [tp = 1, cp = 1, pp = 1, dp = 4] ranks(0, 4)
// FANOUT: mimort.data on @vision {global_batch = 8 : i64
// FANOUT: mimort.buffer @data.input_ids activations : !mimort.buffer<4x128xi32>
// FANOUT-LABEL: func.func @step
// The LLM's 2 samples start at (llm dp mod 2) * 2 of the block.
// FANOUT: scf.for %{{.*}} = %{{.*}} to %c4
// FANOUT: mimort.get @bridge.enc_out
// FANOUT: mimort.grid_coord @llm "dp"
// FANOUT: scf.for %{{.*}} = %{{.*}} to %c2 {{.*}} iter_args
// FANOUT: mimort.get @bridge.enc_out
// FANOUT: mimort.kernel "merge_rows_forward"
// FANOUT: mimort.all_gather %{{.*}}, %{{.*}} on @vision ["tp"] : !mimort.buffer<2x32x128xf32>, !mimort.buffer<2x2x32x128xf32>
// FANOUT: mimort.get @bridge.enc_grad

// With the LLM pipelined (encoder tp1 dp4, LLM tp1 pp2 dp2), the encoder
// blocks of an LLM dp slot sit on its tp x pp group; the LLM's phase is the
// 1F1B schedule, and the image-token gradients its first stage collects go
// to the other stage before the encoder backward.
// PP: mimort.grid @llm [tp = 1, cp = 1, pp = 2, dp = 2] ranks(0, 4)
// PP: mimort.all_gather %{{.*}}, %{{.*}} on @llm ["tp", "pp"] : !mimort.buffer<2x32x128xf32>, !mimort.buffer<2x2x32x128xf32>
// PP: mimort.grid_coord @llm "pp"
// PP: mimort.recv
// PP: mimort.send
// PP: mimort.broadcast %{{.*}} on @llm ["pp"] root 0 : !mimort.buffer<4x32x128xf32>

// Offload (tiny-colocated-fan-in-offload.json): the encoder keeps its layer
// inputs (full recompute) per encoder sample from phase 1 to phase 3, on the
// host during the LLM phase with its parameters and gradient buffers; the
// Adam moments of both modules are on the host through forward and
// backward.
// OFFLOAD: mimort.buffer @vision.stack2.ys0 activations : !mimort.buffer<2x2x32x64xf32>
// OFFLOAD-LABEL: func.func @step
// OFFLOAD: mimort.offload @vision.patch.weight.m
// OFFLOAD: mimort.offload @llm.lm_head.weight.v
// OFFLOAD: mimort.next_batch
// Phase 1, then the encoder's kept values and parameters leave.
// OFFLOAD: scf.for
// OFFLOAD: mimort.kernel "patch_embed_forward"
// OFFLOAD: mimort.offload @vision.stack2.ys0
// OFFLOAD: mimort.offload @vision.patch.weight
// OFFLOAD-NEXT: mimort.offload @vision.patch.weight.grad
// OFFLOAD: mimort.offload @projector.fc2.bias.grad
// Phase 2 runs without them; they return for phase 3.
// OFFLOAD: mimort.kernel "cross_entropy_backward"
// OFFLOAD: mimort.fetch @vision.stack2.ys0
// OFFLOAD: mimort.fetch @projector.fc2.bias.grad
// OFFLOAD: mimort.kernel "patch_embed_backward"
// The moments return for the update.
// OFFLOAD: mimort.fetch @vision.patch.weight.m
// OFFLOAD: mimort.kernel "adam_step"

// UNRESOLVED: error: convert-mimo-to-mimort: module 'vision' plans offload but nothing resolved it; run mimo-insert-offload first

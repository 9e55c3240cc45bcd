// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-cp2.json --emit=mlir | FileCheck %s
// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-colocated-cp2-tp2-dp2.json --emit=mlir | FileCheck %s --check-prefix=COLO
//
// Context parallelism in the runtime program: the LLM's grid has a cp dim;
// mimo.context_slice copies this rank's chunks i and 2 cp - 1 - i out of
// the sequence viewed as [2 cp, chunk, ...]; attention runs as a ring over
// the cp group (block attention merged by log-sum-exp; the next keys and
// values are received while the current ones are computed on); gradients,
// the loss and its token count are summed over cp.

// The homogeneous layout: every module on the cp grid (the encoder runs
// whole on each cp rank).
// CHECK: mimort.grid @vision [tp = 1, cp = 2, pp = 1, dp = 1] ranks(0, 2)
// CHECK: mimort.grid @llm [tp = 1, cp = 2, pp = 1, dp = 1] ranks(0, 2)

// CHECK-LABEL: func.func @step
// context_slice: chunk r, then chunk 3 - r of the 4 x 32-token chunks.
// CHECK: %[[R:.*]] = mimort.grid_coord @llm "cp" : i64
// CHECK-NEXT: %[[C3:.*]] = arith.constant 3 : i64
// CHECK-NEXT: %[[M:.*]] = arith.subi %[[C3]], %[[R]] : i64
// CHECK-NEXT: %[[RI:.*]] = arith.index_cast %[[R]] : i64 to index
// CHECK-NEXT: %[[SEQ:.*]] = mimort.reshape %{{.*}} : !mimort.buffer<128x128xf32> -> !mimort.buffer<4x32x128xf32>
// CHECK-NEXT: %[[FIRST:.*]] = mimort.slice %[[SEQ]][%[[RI]]] : !mimort.buffer<4x32x128xf32> -> !mimort.buffer<32x128xf32>
// CHECK: mimort.copy %[[FIRST]], %{{.*}} : !mimort.buffer<32x128xf32>, !mimort.buffer<32x128xf32>
// CHECK: arith.index_cast %[[M]] : i64 to index

// Ring attention forward: the keys rotated at the chunks' global positions;
// the shift of keys and values starts (sends, then posted receives) before
// the diagonal blocks are written and the others merged, and completes
// after them.
// CHECK: mimort.kernel "rope_forward"
// CHECK: mimort.send %{{.*}} on @llm ["cp"] tag 16 : !mimort.buffer<64x64xf32>
// CHECK-NEXT: mimort.send %{{.*}} on @llm ["cp"] tag 17 : !mimort.buffer<64x64xf32>
// CHECK-NEXT: %[[FK:.*]] = mimort.recv_start %{{.*}} on @llm ["cp"] tag 16 : !mimort.buffer<64x64xf32>
// CHECK-NEXT: %[[FV:.*]] = mimort.recv_start %{{.*}} on @llm ["cp"] tag 17 : !mimort.buffer<64x64xf32>
// CHECK: mimort.kernel "attention_block_forward"
// CHECK: mimort.kernel "attention_merge"
// CHECK: mimort.recv_wait %[[FK]]
// CHECK-NEXT: mimort.recv_wait %[[FV]]
// The other rank's blocks: each pair behind its causal test.
// CHECK: arith.cmpi sle
// CHECK-NEXT: scf.if
// CHECK: mimort.kernel "attention_block_forward"
// CHECK: mimort.kernel "attention_merge"

// Backward: the next blocks arrive during each step; the key/value
// gradient sums travel with the blocks, each received during the next
// step's computation and then added to; one last shift brings each rank
// its own.
// CHECK: %[[BK:.*]] = mimort.recv_start %{{.*}} on @llm ["cp"] tag 20
// CHECK: mimort.kernel "attention_block_backward"
// CHECK: mimort.send %[[DK:.*]] to %{{.*}} on @llm ["cp"] tag 22 : !mimort.buffer<64x64xf32>
// CHECK: %[[SK:.*]] = mimort.recv_start %[[DK]] from %{{.*}} on @llm ["cp"] tag 22
// CHECK: mimort.recv_wait %[[BK]]
// CHECK: mimort.kernel "attention_block_backward"
// CHECK: mimort.recv_wait %[[SK]]
// CHECK: mimort.kernel "add"(%[[DK]], %{{.*}}, %[[DK]])
// CHECK: mimort.send %[[DK]] to %{{.*}} on @llm ["cp"] tag 24 : !mimort.buffer<64x64xf32>
// CHECK: mimort.recv_start %{{.*}} on @llm ["cp"] tag 25 : !mimort.buffer<64x64xf32>
// CHECK: mimort.kernel "rope_backward"
// The image tokens' gradients summed over cp.
// CHECK: mimort.all_reduce  sum %{{.*}} on @llm ["cp"] : !mimort.buffer<32x128xf32>

// The loss and token count over dp and cp; the LLM's gradients over cp; the
// encoder's (the same on each cp rank) are not summed.
// CHECK: mimort.all_reduce  sum %{{.*}} on @llm ["dp", "cp"] : !mimort.buffer<1xf32>
// CHECK: mimort.all_reduce  sum %{{.*}} on @llm ["dp", "cp"] : !mimort.buffer<1xf32>
// CHECK-NOT: on @vision ["cp"]
// CHECK: mimort.all_reduce  sum %{{.*}} on @llm ["cp"] : !mimort.buffer<512x128xf32>
// CHECK-NOT: on @vision ["cp"]
// CHECK: mimort.kernel "adam_step"

// Colocated: encoder dp 8 into the LLM's cp 2 x tp 2 x dp 2; each LLM
// replica (tp x cp) gathers its four encoder samples.
// COLO: mimort.grid @vision [tp = 1, cp = 1, pp = 1, dp = 8] ranks(0, 8)
// COLO: mimort.grid @llm [tp = 2, cp = 2, pp = 1, dp = 2] ranks(0, 8)
// COLO: mimort.all_gather %{{.*}}, %{{.*}} on @llm ["tp", "cp"] : !mimort.buffer<1x32x128xf32>, !mimort.buffer<4x1x32x128xf32>
// COLO: mimort.all_reduce  sum %{{.*}} on @llm ["cp", "dp"] : !mimort.buffer<256x128xf32>

// A 16-H100 long-context plan for the 1B ViT + 7B LLM at 32K tokens: the
// LLM on tp 2 x cp 4 x dp 2 with SP beside a tp 2 SP encoder; bf16 ring
// buffers, 8192 rows per rank.
// RUN: mimoc build %examples/vit1b-llm7b.json --seq 32768 --gbs 16 --plan %examples/plans/vit1b-llm7b-16xh100-32k-cp4.json --emit=mlir | FileCheck %s --check-prefix=BIG
// BIG: mimort.grid @llm [tp = 2, cp = 4, pp = 1, dp = 2] ranks(0, 16)
// BIG: mimort.send %{{.*}} on @llm ["cp"] tag 16 : !mimort.buffer<8192x2048xbf16>
// BIG: mimort.kernel "attention_merge"

// A context-parallel LLM that mimo-partition has not split, and ring
// attention whose cp disagrees with its module's grid (hand-edited IR).
// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-cp2.json" --mimo-generate-backward | not mimo-opt --convert-mimo-to-mimort 2>&1 | FileCheck %s --check-prefix=UNSPLIT
// UNSPLIT: error: convert-mimo-to-mimort: module 'llm' has grid [tp = 1, cp = 2, pp = 1, dp = 1]; context parallelism lowers for an LLM that mimo-partition has split (run mimo-partition first)
// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-cp2.json" --mimo-generate-backward --mimo-partition | sed 's/context_parallel = 2 : i64/context_parallel = 4 : i64/' | not mimo-opt --convert-mimo-to-mimort 2>&1 | FileCheck %s --check-prefix=MISMATCH
// MISMATCH: error: convert-mimo-to-mimort: context_parallel = 4 but module 'llm' has cp = 2

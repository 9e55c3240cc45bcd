// RUN: mimoc build %examples/tiny.json --plan %S/../e2e/Inputs/tiny-tp2-dp2-recompute.json --emit=mlir | FileCheck %s
// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-tp2-dp2-recompute.json" --mimo-generate-backward --mimo-partition --mimo-apply-recompute --convert-mimo-to-mimort | FileCheck %s
// Without mimo-apply-recompute the plan's recompute would be dropped.
// RUN: mimoc import %examples/tiny.json | mimo-opt --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-tp2-dp2-recompute.json" --mimo-generate-backward --mimo-partition | not mimo-opt --convert-mimo-to-mimort 2>&1 | FileCheck %s --check-prefix=MISSING
//
// tiny.json, tp2 x dp2, the encoder with full recompute and the LLM's
// first 2 of 4 layers recomputed.

// The encoder keeps its layer inputs only; the LLM its layer inputs for
// all 4 layers and the other values for layers 2 and 3.
// CHECK: mimort.buffer @vision.stack2.ys0 activations : !mimort.buffer<2x32x64xf32>
// CHECK-NOT: mimort.buffer @vision.stack2.ys1
// CHECK: mimort.buffer @llm.stack2.ys0 activations : !mimort.buffer<2x128x128xf32>
// CHECK: mimort.buffer @llm.stack2.ys11 activations : !mimort.buffer<4x128x128xf32>

// CHECK-LABEL: func.func @step
// The LLM's forward writes rows 2.. of what it keeps at row - 2.
// CHECK: mimort.kernel "embedding_forward"
// CHECK: scf.for %[[L:.*]] = %{{.*}} to %c4
// CHECK: mimort.get @llm.stack2.ys11
// CHECK: %[[KEEP:.*]] = arith.cmpi sge, %[[L]], %{{.*}} : index
// CHECK-NEXT: scf.if %[[KEEP]] {
// CHECK-NEXT: mimort.get @llm.stack2.ys0
// CHECK: arith.subi %[[L]]
// The backward recomputes layers 0 and 1 and copies the kept values of
// layers 2 and 3.
// CHECK: scf.for
// CHECK: %[[FIRST:.*]] = arith.cmpi slt, %{{.*}}, %{{.*}} : index
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK: mimort.kernel "rms_norm_forward"
// CHECK: mimort.kernel "attention_forward"
// CHECK: } else {
// CHECK: mimort.copy
// CHECK: mimort.kernel "attention_backward"
// The encoder's backward layer (after the LLM's and the projector's)
// re-runs the whole forward layer, collectives included.
// CHECK: scf.for
// CHECK: mimort.get @vision.stack2.ys0
// CHECK: mimort.kernel "layer_norm_forward"
// CHECK: mimort.kernel "attention_forward"
// CHECK: mimort.all_reduce
// CHECK: mimort.kernel "gelu_forward"
// CHECK: mimort.kernel "attention_backward"
// CHECK: mimort.kernel "patch_embed_backward"

// MISSING: error: convert-mimo-to-mimort: module 'vision' plans recompute = full but nothing applied it; run mimo-apply-recompute first

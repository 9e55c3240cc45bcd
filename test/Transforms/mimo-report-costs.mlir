// RUN: mimo-opt %s --mimo-report-costs -verify-diagnostics -split-input-file
// RUN: mimo-opt %s --mimo-report-costs="tp=2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TP2
// RUN: not mimo-opt %s --mimo-report-costs="tp=0" 2>&1 | FileCheck %s --check-prefix=BAD

// Embedding (32x16 table) + 2 layers of column linear, gelu, row linear over
// 8 tokens, bf16:
//  params   512 + 2 * 2 * 256                          = 1536
//  fwd      2 layers * 2 linears * 2*8*16*16            = 16384 (bwd 2x)
//  saved    2 * (2*8*16 * 3) + ids 4*8                  = 1568
// With tp = 2 the table and both weights split; the linears' inputs stay
// (column) or split (row), gelu's input splits; one all-reduce after the
// embedding, one per linear: 256 bytes each.

// TP2: remark: 'llm': params 768, fwd flops 8192, bwd flops 16384, saved activation bytes 1056, tp comm bytes 1280
// BAD: mimo-report-costs: tp and cp must be at least 1, got tp = 0, cp = 1

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 0 : i64,
    global_batch_size = 1 : i64, seed = 0 : i64, precision = "bf16", optimizer = {}} {
  // expected-remark @+1 {{'llm': params 1536, fwd flops 16384, bwd flops 32768, saved activation bytes 1568, tp comm bytes 0}}
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) {
    %t = mimo.param "embed" : tensor<32x16xbf16>
    %x = mimo.embedding %ids, %t {parallel = #mimo.tp_split<vocab>} : (tensor<8xi32>, tensor<32x16xbf16>) -> tensor<8x16xbf16>
    %h = mimo.stack 2 (%x) : tensor<8x16xbf16> -> tensor<8x16xbf16> {
    ^bb0(%a: tensor<8x16xbf16>):
      %w1 = mimo.param "w1" : tensor<16x16xbf16>
      %y = mimo.linear %a, %w1 {parallel = #mimo.tp_split<column>} : (tensor<8x16xbf16>, tensor<16x16xbf16>) -> tensor<8x16xbf16>
      %g = mimo.gelu %y : tensor<8x16xbf16>
      %w2 = mimo.param "w2" : tensor<16x16xbf16>
      %z = mimo.linear %g, %w2 {parallel = #mimo.tp_split<row>} : (tensor<8x16xbf16>, tensor<16x16xbf16>) -> tensor<8x16xbf16>
      mimo.yield %z : tensor<8x16xbf16>
    }
    mimo.return
  }
}

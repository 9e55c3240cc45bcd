// RUN: mimoc import %examples/tiny.json -o %t.mlir
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-colocated-fan-in.json" --mimo-bridge | FileCheck %s --check-prefix=FANIN
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-colocated-fan-out.json" --mimo-bridge | FileCheck %s --check-prefix=FANOUT
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-dp4-colocated.json" --mimo-bridge | FileCheck %s --check-prefix=EQUAL
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-disaggregated.json" --mimo-bridge | FileCheck %s --check-prefix=LEADERS
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-tp2-dp2.json" --mimo-bridge | FileCheck %s --check-prefix=NONE
// RUN: mimo-opt %t.mlir --mimo-bridge | FileCheck %s --check-prefix=NONE
//
// Idempotent, and the op round-trips through the generic form.
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-colocated-fan-in.json" --mimo-bridge -o %t.1.mlir
// RUN: mimo-opt %t.1.mlir --mimo-bridge -o %t.2.mlir && mimo-opt %t.1.mlir -o %t.3.mlir && diff %t.2.mlir %t.3.mlir
// RUN: mimo-opt %t.1.mlir -mlir-print-op-generic | mimo-opt -o %t.4.mlir && diff %t.3.mlir %t.4.mlir
//
// A projector off its encoder's grid (plan.json rejects it; hand-edited IR).
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/../e2e/Inputs/tiny-colocated-fan-in.json" | sed '/projector @projector/s/tp = 1, cp = 1, pp = 1, dp = 4/tp = 2, cp = 1, pp = 1, dp = 2/' | not mimo-opt --mimo-bridge 2>&1 | FileCheck %s --check-prefix=PROJ

// Encoder dp 4 into LLM dp 2: each LLM dp slot gathers 2 encoder slots.
// FANIN: mimo.bridge fan_in @projector to @llm factor 2

// Encoder dp 2 out to LLM dp 4.
// FANOUT: mimo.bridge fan_out @projector to @llm factor 2

// Colocated on equal dp: still the three-phase schedule.
// EQUAL: mimo.bridge equal @projector to @llm factor 1

// Disjoint rank spans.
// LEADERS: mimo.bridge leaders @projector to @llm factor 1

// One grid for every module (or no plan): no bridge.
// NONE-NOT: mimo.bridge

// PROJ: error: mimo-bridge: projector 'projector' must run on its encoder's grid (tp = 1, pp = 1, dp = 4, from rank 0), got tp = 2, pp = 1, dp = 2, from rank 0

// RUN: mimoc import %examples/tiny.json -o %t.mlir
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/Inputs/tiny-colocated.json" | FileCheck %s --check-prefix=GIVEN
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="hardware=cpu gpus=4 gpus-per-node=4" | FileCheck %s --check-prefix=SEARCH
// RUN: not mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/Inputs/tiny-bad-tp.json" 2>&1 | FileCheck %s --check-prefix=BADTP
// RUN: not mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/Inputs/missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not mimo-opt %t.mlir --mimo-plan-parallelism 2>&1 | FileCheck %s --check-prefix=NOTHING
// RUN: not mimo-opt %t.mlir --mimo-plan-parallelism="hardware=tpu gpus=4" 2>&1 | FileCheck %s --check-prefix=HW
// RUN: mimo-opt %t.mlir --mimo-plan-parallelism="plan=%S/Inputs/tiny-colocated.json" | mimo-opt --mimo-plan-parallelism="plan=%S/Inputs/tiny-colocated.json" | FileCheck %s --check-prefix=GIVEN

// The colocated plan as written: the projector follows its encoder's grid
// (without the encoder's recompute: it has no layers).
// GIVEN: plan = #mimo.plan<colocated, world = 4, micro_batch_size = 1>
// GIVEN: mimo.module encoder @vision
// GIVEN-SAME: parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4, recompute = full, offload = [activations]>
// GIVEN: mimo.module projector @projector
// GIVEN-SAME: parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4, offload = [activations]>
// GIVEN: mimo.module llm @llm
// GIVEN-SAME: parallel = #mimo.parallel<tp = 2, cp = 1, pp = 2, dp = 1, recompute = layers(1), sequence_parallel, distributed_optimizer>

// Without a plan the search picks one for the cluster; every module gets a
// grid over the 4 ranks.
// SEARCH: plan = #mimo.plan<{{[a-z]+}}, world = 4, micro_batch_size = {{[0-9]+}}
// SEARCH: mimo.module encoder @vision{{.*}}parallel = #mimo.parallel<tp =
// SEARCH: mimo.module projector @projector{{.*}}parallel = #mimo.parallel<tp =
// SEARCH: mimo.module llm @llm{{.*}}parallel = #mimo.parallel<tp =

// BADTP: error: {{.*}}tiny-bad-tp.json: modules.vision.tp: heads (4) must be divisible by tp (3)
// MISSING: error: {{.*}}missing.json
// NOTHING: error: mimo-plan-parallelism: give plan=FILE, or gpus=N (with hardware=NAME) to search
// HW: error: {{.*}}tpu

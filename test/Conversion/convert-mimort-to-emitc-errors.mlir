// RUN: not mimo-opt %s --convert-mimort-to-emitc 2>&1 | FileCheck %s
//
// A module without its mimort.program has no entry points to emit.

// CHECK: error: convert-mimort-to-emitc needs exactly one mimort.program, found 0
func.func @f() {
  return
}

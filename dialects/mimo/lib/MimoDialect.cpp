//===- MimoDialect.cpp - The mimo graph dialect ---------------------------===//

#include "mimo/Dialect/Mimo/MimoDialect.h"
#include "mimo/Dialect/Mimo/MimoAttrs.h"
#include "mimo/Dialect/Mimo/MimoOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mimo;

#include "mimo/Dialect/Mimo/MimoDialect.cpp.inc"

void MimoDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "mimo/Dialect/Mimo/MimoOps.cpp.inc"
      >();
}

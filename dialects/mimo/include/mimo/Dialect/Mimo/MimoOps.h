//===- MimoOps.h - mimo ops -------------------------------------*- C++ -*-===//

#ifndef MIMO_DIALECT_MIMO_MIMOOPS_H
#define MIMO_DIALECT_MIMO_MIMOOPS_H

#include "mimo/Cost/OpCost.h"
#include "mimo/Dialect/Mimo/MimoAttrs.h"
#include "mimo/Dialect/Mimo/MimoDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "mimo/Dialect/Mimo/MimoInterfaces.h.inc"

#define GET_OP_CLASSES
#include "mimo/Dialect/Mimo/MimoOps.h.inc"

#endif // MIMO_DIALECT_MIMO_MIMOOPS_H

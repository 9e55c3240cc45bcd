//===- Check.h - Argument validation for the CPU kernels --------*- C++ -*-===//
//
// Messages name the kernel, the argument, what was expected and what was
// found: "layer_norm_forward: argument 'gamma': expected f32[64], found
// f32[32]". A dimension of -1 in an expectation matches any size.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_KERNELS_CPU_CHECK_H
#define MIMO_KERNELS_CPU_CHECK_H

#include "mimo/kernels/Kernels.h"

#include <initializer_list>
#include <string>

namespace mimo::kernels::cpu {

constexpr int64_t kAny = -1;

/// A required tensor of the given dtype and shape.
Status checkTensor(const char *kernel, const char *arg, const TensorView &t,
                   DType dtype, std::initializer_list<int64_t> dims);
/// A required tensor of the given dtype, any shape.
Status checkDType(const char *kernel, const char *arg, const TensorView &t,
                  DType dtype);
/// Like checkTensor, but an undefined view is accepted.
Status checkOptional(const char *kernel, const char *arg, const TensorView &t,
                     DType dtype, std::initializer_list<int64_t> dims);
/// A required tensor of `ref`'s dtype and shape.
Status checkLike(const char *kernel, const char *arg, const TensorView &t,
                 const char *refArg, const TensorView &ref);
/// InvalidArgument "<kernel>: <message>" unless cond holds.
Status checkThat(bool cond, const char *kernel, const std::string &message);
/// A workspace of at least `needed` bytes.
Status checkWorkspace(const char *kernel, const Workspace &ws, size_t needed);

} // namespace mimo::kernels::cpu

#endif // MIMO_KERNELS_CPU_CHECK_H

//===- Support.h - What generated programs call -----------------*- C++ -*-===//
//
// The small API that C++ emitted by convert-mimort-to-emitc calls, one
// function per mimort op. Every function works on the current
// ProgramContext and ends the job with a message naming the cause
// (rt::fatal: "rank R: ...") when something fails, so generated code needs
// no error handling of its own.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PROGRAM_SUPPORT_H
#define MIMO_PROGRAM_SUPPORT_H

#include "mimo/kernels/Kernels.h"
#include "mimo/program/Program.h"
#include "mimo/runtime/Communicator.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <utility>

namespace mimo::program {

/// The runtime's name for a kernel element type (communication and
/// checkpoint shards speak rt::DataType).
rt::DataType runtimeDataType(kernels::DType t);

using kernels::TensorView;

//===--- Buffers and views (mimort.get, slice, reshape, absent) ---------===//

/// The current view of a declared buffer.
TensorView buffer(const char *name);
/// Element `index` of dim 0 of `stacked`: a view without dim 0.
TensorView slice(const TensorView &stacked, std::size_t index);
/// The same memory under `shape` (same element count).
TensorView reshape(const TensorView &view,
                   std::initializer_list<std::int64_t> shape);
/// An absent optional kernel argument.
TensorView absent();

//===--- Initialisation and data movement -------------------------------===//

/// Element (r, c) of `view` (rows of its last dim) gets
/// std * normal(offset + r * rowLength + c) from the Philox stream keyed on
/// (seed, hash of `name`).
void initNormal(const TensorView &view, const char *name, float stddev,
                std::int64_t offset, std::int64_t rowLength);
void initConstant(const TensorView &view, float value);
void fill(const TensorView &view, float value);
void fill(const TensorView &view, std::int32_t value);
void copy(const TensorView &source, const TensorView &target);
float readF32(const TensorView &view, std::int64_t index);
std::int32_t readI32(const TensorView &view, std::int64_t index);

/// This rank's part of the next global batch.
void nextBatch(const TensorView &inputIds, const TensorView &labels);
void nextBatch(const TensorView &inputIds, const TensorView &labels,
               const TensorView &pixels);

/// Host staging of a declared buffer.
void offload(const char *name);
void fetch(const char *name);

//===--- Communication --------------------------------------------------===//

void allReduce(const TensorView &view, const char *grid, rt::DimMask dims,
               rt::ReduceOp op);
void allGather(const TensorView &source, const TensorView &target,
               const char *grid, rt::DimMask dims);
void reduceScatter(const TensorView &source, const TensorView &target,
                   const char *grid, rt::DimMask dims, rt::ReduceOp op);
void broadcast(const TensorView &view, const char *grid, rt::DimMask dims,
               std::int64_t root);
void send(const TensorView &view, std::int64_t peer, const char *grid,
          rt::DimMask dims, int tag);
void recv(const TensorView &view, std::int64_t peer, const char *grid,
          rt::DimMask dims, int tag);
/// A receive in flight (mimort.recv_start); recvWait completes it. A plain
/// id into the current context, so generated code may copy it freely.
struct Request {
  std::int64_t id = -1;
};
Request recvStart(const TensorView &view, std::int64_t peer, const char *grid,
                  rt::DimMask dims, int tag);
void recvWait(Request request);
std::int64_t gridCoord(const char *grid, rt::GridDim dim);

//===--- Kernels --------------------------------------------------------===//

kernels::Kernels &kernels();
kernels::AdamParams adamParams(float lr, float beta1, float beta2, float eps,
                               float weightDecay, bool decoupled,
                               std::int64_t step, float gradScale);
[[noreturn]] void kernelFailed(const char *name, const rt::Status &status);

namespace detail {
/// Buffers passed where a kernel takes scratch memory become a Workspace.
template <typename Param, typename Arg> decltype(auto) kernelArg(Arg &&arg) {
  if constexpr (std::is_same_v<std::decay_t<Param>, kernels::Workspace> &&
                std::is_same_v<std::decay_t<Arg>, TensorView>)
    return kernels::Workspace{arg.data, arg.bytes()};
  else
    return std::forward<Arg>(arg);
}
} // namespace detail

/// Calls `method` of the current kernels; `name` (the mimort kernel name)
/// prefixes the error that ends the job if the kernel rejects its
/// arguments.
template <typename... Params, typename... Args>
void callKernel(const char *name,
                rt::Status (kernels::Kernels::*method)(Params...),
                Args &&...args) {
  static_assert(sizeof...(Params) == sizeof...(Args),
                "kernel called with the wrong number of arguments");
  rt::Status status = (kernels().*method)(
      detail::kernelArg<Params>(std::forward<Args>(args))...);
  if (!status.ok())
    kernelFailed(name, status);
}

} // namespace mimo::program

#endif // MIMO_PROGRAM_SUPPORT_H

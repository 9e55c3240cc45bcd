//===- Support.cpp - What generated programs call ------------------------===//

#include "mimo/program/Support.h"

#include "mimo/program/Context.h"
#include "mimo/runtime/Fatal.h"
#include "mimo/runtime/Philox.h"

#include <cstring>
#include <vector>

namespace mimo::program {

namespace {

using rt::Status;

ProgramContext &ctx() { return currentContext(); }

template <typename T> T check(rt::StatusOr<T> value, const std::string &what) {
  if (!value.ok())
    rt::fatal(value.status().withContext(what));
  return std::move(value).value();
}

void check(const Status &status, const std::string &what) {
  if (!status.ok())
    rt::fatal(status.withContext(what));
}

/// Writes host floats into a float view (f32 or bf16).
void storeFloats(const TensorView &view, const std::vector<float> &host,
                 const char *what) {
  if (view.dtype == kernels::DType::F32) {
    check(ctx().device().copy(view.data, host.data(), host.size() * 4,
                              rt::CopyKind::HostToDevice),
          what);
    return;
  }
  if (view.dtype != kernels::DType::BF16)
    rt::fatal(std::string(what) + ": expected a float buffer, got " +
              view.str());
  std::vector<std::uint16_t> half(host.size());
  for (std::size_t i = 0; i < host.size(); ++i)
    half[i] = rt::floatToBf16(host[i]);
  check(ctx().device().copy(view.data, half.data(), half.size() * 2,
                            rt::CopyKind::HostToDevice),
        what);
}

/// FNV-1a, 64 bits: a parameter's name as the key of its RNG stream.
std::uint64_t nameHash(const char *name) {
  std::uint64_t h = 1469598103934665603ull;
  for (const char *p = name; *p; ++p) {
    h ^= static_cast<unsigned char>(*p);
    h *= 1099511628211ull;
  }
  return h;
}

/// Stream purpose of parameter initialisation (mixed with the name hash).
constexpr std::uint64_t kParamInitStream = 0x706172616d;

void copyBatch(const TensorView &view, const void *host, std::size_t bytes,
               const char *what) {
  if (view.bytes() != bytes)
    rt::fatal(std::string("next batch: ") + what + " buffer " + view.str() +
              " holds " + std::to_string(view.bytes()) + " bytes, the batch " +
              std::to_string(bytes));
  check(ctx().device().copy(view.data, host, bytes, rt::CopyKind::HostToDevice),
        "next batch");
}

rt::Communicator &groupOf(const char *grid, rt::DimMask dims) {
  return *check(ctx().group(grid, dims), "process group");
}

} // namespace

rt::DataType runtimeDataType(kernels::DType t) {
  switch (t) {
  case kernels::DType::BF16:
    return rt::DataType::BF16;
  case kernels::DType::I32:
    return rt::DataType::I32;
  case kernels::DType::I64:
    return rt::DataType::I64;
  case kernels::DType::U8:
    return rt::DataType::U8;
  case kernels::DType::F32:
    break;
  }
  return rt::DataType::F32;
}

//===----------------------------------------------------------------------===//
// Buffers and views
//===----------------------------------------------------------------------===//

TensorView buffer(const char *name) { return check(ctx().view(name), name); }

TensorView slice(const TensorView &stacked, std::size_t index) {
  if (stacked.rank < 2 || static_cast<std::int64_t>(index) >= stacked.dim(0))
    rt::fatal("slice " + std::to_string(index) + " of " + stacked.str() +
              ": out of range");
  TensorView v;
  v.dtype = stacked.dtype;
  v.rank = stacked.rank - 1;
  for (int i = 0; i < v.rank; ++i)
    v.shape[i] = stacked.shape[i + 1];
  v.data = static_cast<char *>(stacked.data) + index * v.bytes();
  return v;
}

TensorView reshape(const TensorView &view,
                   std::initializer_list<std::int64_t> shape) {
  TensorView v;
  v.data = view.data;
  v.dtype = view.dtype;
  v.rank = static_cast<int>(shape.size());
  int i = 0;
  for (std::int64_t d : shape)
    v.shape[i++] = d;
  if (v.numel() != view.numel())
    rt::fatal("reshape of " + view.str() + " to " + v.str() +
              ": element counts differ");
  return v;
}

TensorView absent() { return TensorView(); }

//===----------------------------------------------------------------------===//
// Initialisation and data movement
//===----------------------------------------------------------------------===//

void initNormal(const TensorView &view, const char *name, float stddev,
                std::int64_t offset, std::int64_t rowLength) {
  rt::PhiloxStream stream(ctx().seed(), {kParamInitStream, nameHash(name)});
  std::int64_t cols = view.dim(view.rank - 1);
  std::int64_t rows = view.numel() / cols;
  std::vector<float> host(static_cast<std::size_t>(view.numel()));
  for (std::int64_t r = 0; r < rows; ++r) {
    auto begin = static_cast<std::uint64_t>(offset + r * rowLength);
    stream.fillNormal(host.data() + r * cols, begin, begin + cols, 0.0f,
                      stddev);
  }
  storeFloats(view, host, name);
}

void initConstant(const TensorView &view, float value) { fill(view, value); }

void fill(const TensorView &view, float value) {
  storeFloats(view,
              std::vector<float>(static_cast<std::size_t>(view.numel()), value),
              "fill");
}

void fill(const TensorView &view, std::int32_t value) {
  std::vector<std::int32_t> host(static_cast<std::size_t>(view.numel()), value);
  check(ctx().device().copy(view.data, host.data(), host.size() * 4,
                            rt::CopyKind::HostToDevice),
        "fill");
}

void copy(const TensorView &source, const TensorView &target) {
  if (source.bytes() != target.bytes())
    rt::fatal("copy of " + source.str() + " into " + target.str() +
              ": sizes differ");
  check(ctx().device().copy(target.data, source.data, source.bytes(),
                            rt::CopyKind::DeviceToDevice),
        "copy");
}

float readF32(const TensorView &view, std::int64_t index) {
  if (index < 0 || index >= view.numel())
    rt::fatal("read of element " + std::to_string(index) + " of " + view.str() +
              ": out of range");
  std::size_t size = kernels::dtypeSize(view.dtype);
  unsigned char bytes[4] = {};
  check(ctx().device().copy(bytes,
                            static_cast<char *>(view.data) + index * size, size,
                            rt::CopyKind::DeviceToHost),
        "read scalar");
  if (view.dtype == kernels::DType::BF16) {
    std::uint16_t h;
    std::memcpy(&h, bytes, 2);
    return rt::bf16ToFloat(h);
  }
  float f;
  std::memcpy(&f, bytes, 4);
  return f;
}

std::int32_t readI32(const TensorView &view, std::int64_t index) {
  if (index < 0 || index >= view.numel())
    rt::fatal("read of element " + std::to_string(index) + " of " + view.str() +
              ": out of range");
  std::int32_t v;
  check(ctx().device().copy(&v, static_cast<char *>(view.data) + index * 4, 4,
                            rt::CopyKind::DeviceToHost),
        "read scalar");
  return v;
}

void nextBatch(const TensorView &inputIds, const TensorView &labels) {
  nextBatch(inputIds, labels, TensorView());
}

void nextBatch(const TensorView &inputIds, const TensorView &labels,
               const TensorView &pixels) {
  rt::DataLoader *loader = ctx().dataLoader();
  if (!loader)
    rt::fatal("next batch: the program declares no data");
  rt::Batch batch;
  check(loader->next(batch), "next batch");
  copyBatch(inputIds, batch.inputIds.data(), batch.inputIds.size() * 4,
            "input_ids");
  copyBatch(labels, batch.labels.data(), batch.labels.size() * 4, "labels");
  if (pixels.defined())
    copyBatch(pixels, batch.pixels.data(), batch.pixels.size() * 4, "pixels");
  ProgramContext &c = ctx();
  if (c.faultNonFiniteStep > 0 && c.currentStep == c.faultNonFiniteStep &&
      c.world().rank() == c.faultRank) {
    if (!pixels.defined())
      rt::fatal("MIMO_FAULT_NONFINITE_STEP: the program loads no images to "
                "poison");
    // All-ones bytes are a NaN in every float format.
    check(c.device().fill(pixels.data, 0xFF, pixels.numel() * 4),
          "fault injection");
  }
}

void offload(const char *name) {
  check(ctx().offload(name), std::string("offload ") + name);
}

void fetch(const char *name) {
  check(ctx().fetch(name), std::string("fetch ") + name);
}

//===----------------------------------------------------------------------===//
// Communication
//===----------------------------------------------------------------------===//

void allReduce(const TensorView &view, const char *grid, rt::DimMask dims,
               rt::ReduceOp op) {
  check(
      groupOf(grid, dims)
          .allReduce(view.data, view.numel(), runtimeDataType(view.dtype), op),
      "all-reduce");
}

void allGather(const TensorView &source, const TensorView &target,
               const char *grid, rt::DimMask dims) {
  check(groupOf(grid, dims)
            .allGather(source.data, target.data, source.numel(),
                       runtimeDataType(source.dtype)),
        "all-gather");
}

void reduceScatter(const TensorView &source, const TensorView &target,
                   const char *grid, rt::DimMask dims, rt::ReduceOp op) {
  check(groupOf(grid, dims)
            .reduceScatter(source.data, target.data, target.numel(),
                           runtimeDataType(target.dtype), op),
        "reduce-scatter");
}

void broadcast(const TensorView &view, const char *grid, rt::DimMask dims,
               std::int64_t root) {
  check(groupOf(grid, dims)
            .broadcast(view.data, view.numel(), runtimeDataType(view.dtype),
                       static_cast<int>(root)),
        "broadcast");
}

void send(const TensorView &view, std::int64_t peer, const char *grid,
          rt::DimMask dims, int tag) {
  check(groupOf(grid, dims)
            .send(view.data, view.numel(), runtimeDataType(view.dtype),
                  static_cast<int>(peer), tag),
        "send");
}

void recv(const TensorView &view, std::int64_t peer, const char *grid,
          rt::DimMask dims, int tag) {
  check(groupOf(grid, dims)
            .recv(view.data, view.numel(), runtimeDataType(view.dtype),
                  static_cast<int>(peer), tag),
        "recv");
}

Request recvStart(const TensorView &view, std::int64_t peer, const char *grid,
                  rt::DimMask dims, int tag) {
  std::unique_ptr<rt::PendingRecv> pending =
      check(groupOf(grid, dims)
                .startRecv(view.data, view.numel(), runtimeDataType(view.dtype),
                           static_cast<int>(peer), tag),
            "recv start");
  return Request{ctx().addPendingRecv(std::move(pending))};
}

void recvWait(Request request) {
  check(ctx().waitRecv(request.id), "recv wait");
}

std::int64_t gridCoord(const char *grid, rt::GridDim dim) {
  return check(ctx().gridCoord(grid, dim), "grid coordinate");
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

kernels::Kernels &kernels() { return ctx().kernels(); }

kernels::AdamParams adamParams(float lr, float beta1, float beta2, float eps,
                               float weightDecay, bool decoupled,
                               std::int64_t step, float gradScale) {
  kernels::AdamParams p;
  p.lr = lr;
  p.beta1 = beta1;
  p.beta2 = beta2;
  p.eps = eps;
  p.weightDecay = weightDecay;
  p.decoupledWeightDecay = decoupled;
  p.step = step;
  p.gradScale = gradScale;
  return p;
}

void kernelFailed(const char *name, const rt::Status &status) {
  rt::fatal(status.withContext(std::string("kernel ") + name));
}

} // namespace mimo::program

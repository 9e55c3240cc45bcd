//===- Tensor.h - Non-owning tensor views for kernels -----------*- C++ -*-===//
//
// A TensorView is a data pointer plus dtype and a contiguous row-major shape
// of up to five dimensions. It owns nothing and says nothing about where the
// memory lives: the CPU kernels read host memory, the CUDA kernels device
// memory. Optional kernel arguments are passed as a default-constructed view.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_KERNELS_TENSOR_H
#define MIMO_KERNELS_TENSOR_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace mimo::kernels {

enum class DType { F32, BF16, I32, I64, U8 };

/// "f32", "bf16", "i32", "i64", "u8".
const char *dtypeName(DType dtype);
/// Bytes per element.
size_t dtypeSize(DType dtype);

constexpr int kMaxDims = 5;

struct TensorView {
  void *data = nullptr;
  DType dtype = DType::F32;
  int rank = 0;
  std::array<int64_t, kMaxDims> shape{};

  TensorView() = default;
  /// Shapes longer than kMaxDims are truncated and marked invalid (rank -1);
  /// kernels reject such views.
  TensorView(void *data, DType dtype, std::initializer_list<int64_t> dims);

  static TensorView f32(float *data, std::initializer_list<int64_t> dims) {
    return TensorView(data, DType::F32, dims);
  }
  static TensorView i32(int32_t *data, std::initializer_list<int64_t> dims) {
    return TensorView(data, DType::I32, dims);
  }

  /// False for the default-constructed view used for absent optional args.
  bool defined() const { return data != nullptr; }
  int64_t dim(int i) const { return shape[i]; }
  int64_t numel() const;
  size_t bytes() const { return size_t(numel()) * dtypeSize(dtype); }
  /// "f32[4, 8]"; "none" for an undefined view.
  std::string str() const;

  float *f32() const { return static_cast<float *>(data); }
  int32_t *i32() const { return static_cast<int32_t *>(data); }
};

/// Scratch memory handed to a kernel, in the kernel's memory space (host for
/// the CPU kernels, device for CUDA). Each kernel that takes one has a
/// matching `...WorkspaceBytes` query; a larger workspace is fine.
struct Workspace {
  void *data = nullptr;
  size_t bytes = 0;
};

} // namespace mimo::kernels

#endif // MIMO_KERNELS_TENSOR_H

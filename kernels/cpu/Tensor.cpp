//===- Tensor.cpp - TensorView helpers ------------------------------------===//

#include "mimo/kernels/Kernels.h"

#include <algorithm>
#include <cmath>

namespace mimo::kernels {

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::BF16:
    return "bf16";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::U8:
    return "u8";
  }
  return "unknown";
}

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::BF16:
    return 2;
  case DType::I64:
    return 8;
  case DType::U8:
    return 1;
  }
  return 0;
}

TensorView::TensorView(void *data, DType dtype,
                       std::initializer_list<int64_t> dims)
    : data(data), dtype(dtype) {
  if (dims.size() > size_t(kMaxDims)) {
    rank = -1;
    return;
  }
  rank = int(dims.size());
  std::copy(dims.begin(), dims.end(), shape.begin());
}

int64_t TensorView::numel() const {
  if (rank < 0)
    return 0;
  int64_t n = 1;
  for (int i = 0; i < rank; ++i)
    n *= shape[i];
  return n;
}

std::string TensorView::str() const {
  if (!defined())
    return "none";
  if (rank < 0)
    return std::string(dtypeName(dtype)) + "[more than 5 dims]";
  std::string s = dtypeName(dtype);
  s += '[';
  for (int i = 0; i < rank; ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  s += ']';
  return s;
}

float gradClipScale(float globalNorm, float maxNorm) {
  if (!(maxNorm > 0.0f))
    return 1.0f;
  // Megatron/PyTorch: clip_coef = max_norm / (total_norm + 1e-6).
  float coef = maxNorm / (globalNorm + 1e-6f);
  if (std::isnan(coef))
    return coef;
  return std::min(coef, 1.0f);
}

} // namespace mimo::kernels

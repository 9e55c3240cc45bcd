//===- Embedding.cpp - Token embedding with a vocabulary range ------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <string>

namespace mimo::kernels::cpu {
namespace {

Status validate(const char *K, const TensorView &ids, const TensorView &table,
                const char *tableName, int64_t v0, int64_t v1) {
  MIMO_RETURN_IF_ERROR(checkThat(0 <= v0 && v0 <= v1, K,
                                 "vocabulary range must satisfy 0 <= v0 <= v1, "
                                 "found [" +
                                     std::to_string(v0) + ", " +
                                     std::to_string(v1) + ")"));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "ids", ids, DType::I32, {kAny}));
  return checkTensor(K, tableName, table, DType::F32, {v1 - v0, kAny});
}

} // namespace

Status CpuKernels::embeddingForward(const TensorView &ids,
                                    const TensorView &table,
                                    const TensorView &out, int64_t v0,
                                    int64_t v1) {
  const char *K = "embedding_forward";
  MIMO_RETURN_IF_ERROR(validate(K, ids, table, "table", v0, v1));
  int64_t t = ids.dim(0), h = table.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "out", out, DType::F32, {t, h}));
  const int32_t *id = ids.i32();
  const float *tb = table.f32();
  float *o = out.f32();
  parallelFor(t, [&](int64_t r) {
    int64_t v = id[r];
    float *orow = o + r * h;
    if (v >= v0 && v < v1)
      std::copy(tb + (v - v0) * h, tb + (v - v0 + 1) * h, orow);
    else
      std::fill(orow, orow + h, 0.0f);
  });
  return Status::success();
}

Status CpuKernels::embeddingBackward(const TensorView &ids,
                                     const TensorView &dout,
                                     const TensorView &dtable, int64_t v0,
                                     int64_t v1) {
  const char *K = "embedding_backward";
  MIMO_RETURN_IF_ERROR(validate(K, ids, dtable, "dtable", v0, v1));
  int64_t t = ids.dim(0), h = dtable.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "dout", dout, DType::F32, {t, h}));
  const int32_t *id = ids.i32();
  const float *g = dout.f32();
  float *dt = dtable.f32();
  // Repeated ids add up in token order; threads split the hidden dimension.
  constexpr int64_t kCols = 256;
  parallelFor((h + kCols - 1) / kCols, [&](int64_t blk) {
    int64_t c0 = blk * kCols, c1 = std::min(h, c0 + kCols);
    for (int64_t r = 0; r < t; ++r) {
      int64_t v = id[r];
      if (v < v0 || v >= v1)
        continue;
      float *drow = dt + (v - v0) * h;
      const float *grow = g + r * h;
      for (int64_t c = c0; c < c1; ++c)
        drow[c] += grow[c];
    }
  });
  return Status::success();
}

} // namespace mimo::kernels::cpu

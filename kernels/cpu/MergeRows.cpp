//===- MergeRows.cpp - Encoder rows into a token sequence -----------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <string>

namespace mimo::kernels::cpu {
namespace {

/// Checks ids [T] against seq [T, H] and source [n, H]; n must equal the
/// number of placeholder ids.
Status validate(const char *K, const TensorView &seq, const char *seqName,
                const TensorView &ids, int64_t placeholderId,
                const TensorView &source, const char *sourceName) {
  MIMO_RETURN_IF_ERROR(checkTensor(K, "ids", ids, DType::I32, {kAny}));
  int64_t t = ids.dim(0);
  MIMO_RETURN_IF_ERROR(checkTensor(K, seqName, seq, DType::F32, {t, kAny}));
  int64_t h = seq.dim(1);
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, sourceName, source, DType::F32, {kAny, h}));
  const int32_t *id = ids.i32();
  int64_t n = std::count_if(
      id, id + t, [&](int32_t v) { return int64_t(v) == placeholderId; });
  return checkThat(n == source.dim(0), K,
                   std::string(sourceName) + " has " +
                       std::to_string(source.dim(0)) + " rows but ids hold " +
                       std::to_string(n) + " placeholders (id " +
                       std::to_string(placeholderId) + ")");
}

} // namespace

Status CpuKernels::mergeRowsForward(const TensorView &text,
                                    const TensorView &ids,
                                    int64_t placeholderId,
                                    const TensorView &source,
                                    const TensorView &out) {
  const char *K = "merge_rows_forward";
  MIMO_RETURN_IF_ERROR(
      validate(K, text, "text", ids, placeholderId, source, "source"));
  MIMO_RETURN_IF_ERROR(checkLike(K, "out", out, "text", text));
  int64_t t = ids.dim(0), h = text.dim(1);
  const int32_t *id = ids.i32();
  const float *tx = text.f32(), *src = source.f32();
  float *o = out.f32();
  int64_t next = 0;
  for (int64_t r = 0; r < t; ++r) {
    float *orow = o + r * h;
    if (int64_t(id[r]) == placeholderId) {
      std::copy(src + next * h, src + (next + 1) * h, orow);
      ++next;
    } else if (orow != tx + r * h) {
      std::copy(tx + r * h, tx + (r + 1) * h, orow);
    }
  }
  return Status::success();
}

Status CpuKernels::mergeRowsBackward(const TensorView &dout,
                                     const TensorView &ids,
                                     int64_t placeholderId,
                                     const TensorView &dtext,
                                     const TensorView &dsource) {
  const char *K = "merge_rows_backward";
  MIMO_RETURN_IF_ERROR(
      validate(K, dout, "dout", ids, placeholderId, dsource, "dsource"));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dtext", dtext, "dout", dout));
  int64_t t = ids.dim(0), h = dout.dim(1);
  const int32_t *id = ids.i32();
  const float *g = dout.f32();
  float *dt = dtext.f32(), *ds = dsource.f32();
  int64_t next = 0;
  for (int64_t r = 0; r < t; ++r) {
    float *trow = dt + r * h;
    if (int64_t(id[r]) == placeholderId) {
      std::copy(g + r * h, g + (r + 1) * h, ds + next * h);
      std::fill(trow, trow + h, 0.0f);
      ++next;
    } else if (trow != g + r * h) {
      std::copy(g + r * h, g + (r + 1) * h, trow);
    }
  }
  return Status::success();
}

} // namespace mimo::kernels::cpu

//===- Gemm.cpp - GEMM and linear layers through CBLAS --------------------===//
//
// The linear layer calls cblas_sgemm directly on the caller's buffers (no
// copies, no transposes materialized), so it runs at the BLAS's speed.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <cblas.h>

namespace mimo::kernels {

std::unique_ptr<Kernels> createCpuKernels() {
  return std::make_unique<cpu::CpuKernels>();
}

namespace cpu {

void sgemmRowMajor(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                   float alpha, const float *a, const float *b, float beta,
                   float *c) {
  if (m == 0 || n == 0)
    return;
  if (k == 0) {
    for (int64_t i = 0; i < m * n; ++i)
      c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    return;
  }
  int64_t lda = transA ? m : k;
  int64_t ldb = transB ? k : n;
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
              transB ? CblasTrans : CblasNoTrans, blasint(m), blasint(n),
              blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
              blasint(n));
}

Status CpuKernels::gemm(bool transA, bool transB, float alpha,
                        const TensorView &a, const TensorView &b, float beta,
                        const TensorView &c) {
  const char *K = "gemm";
  MIMO_RETURN_IF_ERROR(checkTensor(K, "a", a, DType::F32, {kAny, kAny}));
  int64_t m = transA ? a.dim(1) : a.dim(0);
  int64_t k = transA ? a.dim(0) : a.dim(1);
  if (transB)
    MIMO_RETURN_IF_ERROR(checkTensor(K, "b", b, DType::F32, {kAny, k}));
  else
    MIMO_RETURN_IF_ERROR(checkTensor(K, "b", b, DType::F32, {k, kAny}));
  int64_t n = transB ? b.dim(0) : b.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "c", c, DType::F32, {m, n}));
  sgemmRowMajor(transA, transB, m, n, k, alpha, a.f32(), b.f32(), beta,
                c.f32());
  return Status::success();
}

Status CpuKernels::linearForward(const TensorView &x, const TensorView &w,
                                 const TensorView &b, const TensorView &y,
                                 bool transposedWeight) {
  const char *K = "linear_forward";
  MIMO_RETURN_IF_ERROR(checkTensor(K, "x", x, DType::F32, {kAny, kAny}));
  int64_t t = x.dim(0), in = x.dim(1);
  if (transposedWeight)
    MIMO_RETURN_IF_ERROR(checkTensor(K, "w", w, DType::F32, {kAny, in}));
  else
    MIMO_RETURN_IF_ERROR(checkTensor(K, "w", w, DType::F32, {in, kAny}));
  int64_t out = transposedWeight ? w.dim(0) : w.dim(1);
  MIMO_RETURN_IF_ERROR(checkOptional(K, "b", b, DType::F32, {out}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "y", y, DType::F32, {t, out}));

  float beta = 0.0f;
  if (b.defined()) {
    // Seed y with the bias and let sgemm accumulate onto it. Plain loops,
    // not OpenMP: idle OpenMP threads spin and would take cores from the
    // BLAS threads of the sgemm that follows.
    const float *bp = b.f32();
    float *yp = y.f32();
    for (int64_t r = 0; r < t; ++r)
      std::copy(bp, bp + out, yp + r * out);
    beta = 1.0f;
  }
  sgemmRowMajor(false, transposedWeight, t, out, in, 1.0f, x.f32(), w.f32(),
                beta, y.f32());
  return Status::success();
}

Status CpuKernels::linearBackward(const TensorView &x, const TensorView &w,
                                  const TensorView &dy, const TensorView &dx,
                                  const TensorView &dw, const TensorView &db,
                                  bool transposedWeight) {
  const char *K = "linear_backward";
  MIMO_RETURN_IF_ERROR(checkTensor(K, "x", x, DType::F32, {kAny, kAny}));
  int64_t t = x.dim(0), in = x.dim(1);
  if (transposedWeight)
    MIMO_RETURN_IF_ERROR(checkTensor(K, "w", w, DType::F32, {kAny, in}));
  else
    MIMO_RETURN_IF_ERROR(checkTensor(K, "w", w, DType::F32, {in, kAny}));
  int64_t out = transposedWeight ? w.dim(0) : w.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "dy", dy, DType::F32, {t, out}));
  MIMO_RETURN_IF_ERROR(checkOptional(K, "dx", dx, DType::F32, {t, in}));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dw", dw, "w", w));
  MIMO_RETURN_IF_ERROR(checkOptional(K, "db", db, DType::F32, {out}));

  if (dx.defined()) {
    // dx = dy W^T  (W [in, out])  or  dy W  (W [out, in]).
    sgemmRowMajor(false, !transposedWeight, t, in, out, 1.0f, dy.f32(), w.f32(),
                  0.0f, dx.f32());
  }
  if (transposedWeight) // dW [out, in] += dy^T x
    sgemmRowMajor(true, false, out, in, t, 1.0f, dy.f32(), x.f32(), 1.0f,
                  dw.f32());
  else // dW [in, out] += x^T dy
    sgemmRowMajor(true, false, in, out, t, 1.0f, x.f32(), dy.f32(), 1.0f,
                  dw.f32());
  if (db.defined()) {
    // Column sums in row order (deterministic), single-threaded beside BLAS.
    const float *g = dy.f32();
    float *d = db.f32();
    for (int64_t r = 0; r < t; ++r)
      for (int64_t c = 0; c < out; ++c)
        d[c] += g[r * out + c];
  }
  return Status::success();
}

} // namespace cpu
} // namespace mimo::kernels

//===- Gemm.cu - GEMM and linear through cuBLASLt -------------------------===//
//
// Row-major matrices are column-major matrices transposed, so the row-major
// c [m, n] = op(a) op(b) is computed as the column-major
// c^T [n, m] = op(b)^T op(a)^T with the operands swapped. Accumulation is
// always f32 (CUBLAS_COMPUTE_32F: no TF32 for f32 inputs, so f32 results
// match the CPU reference); bf16 inputs may write an f32 output (f32
// gradients from bf16 activations). The bias of a linear layer rides the
// epilogue when its element type is the output's.
//
//===----------------------------------------------------------------------===//

#include "CudaKernels.h"

#include <string>

namespace mimo::kernels::cuda {
namespace {

constexpr size_t kLtWorkspaceBytes = size_t(32) << 20;

const char *ltName(cublasStatus_t s) {
  switch (s) {
  case CUBLAS_STATUS_SUCCESS:
    return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_ALLOC_FAILED:
    return "CUBLAS_STATUS_ALLOC_FAILED";
  case CUBLAS_STATUS_INVALID_VALUE:
    return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_ARCH_MISMATCH:
    return "CUBLAS_STATUS_ARCH_MISMATCH";
  case CUBLAS_STATUS_EXECUTION_FAILED:
    return "CUBLAS_STATUS_EXECUTION_FAILED";
  case CUBLAS_STATUS_NOT_SUPPORTED:
    return "CUBLAS_STATUS_NOT_SUPPORTED";
  default:
    return "cuBLAS error";
  }
}

Status lt(cublasStatus_t s, const char *kernel, const char *call) {
  if (s == CUBLAS_STATUS_SUCCESS)
    return Status::success();
  return rt::internalError(std::string(kernel) + ": " + call + ": " +
                           ltName(s) + " (" + std::to_string(int(s)) + ")");
}

cudaDataType_t cudaType(const TensorView &t) {
  return t.dtype == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

/// The largest power of two <= 16 dividing the address.
uint32_t alignmentOf(const void *p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  uint32_t al = 16;
  while (al > 1 && (a % al) != 0)
    al /= 2;
  return al;
}

/// Owns the descriptors of one matmul call.
struct LtCall {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~LtCall() {
    if (pref)
      cublasLtMatmulPreferenceDestroy(pref);
    if (c)
      cublasLtMatrixLayoutDestroy(c);
    if (b)
      cublasLtMatrixLayoutDestroy(b);
    if (a)
      cublasLtMatrixLayoutDestroy(a);
    if (op)
      cublasLtMatmulDescDestroy(op);
  }
};

__global__ void broadcastRows(Elems bias, int64_t rows, int64_t cols, Elems out,
                              float beta) {
  MIMO_CUDA_GRID_STRIDE(i, rows * cols) {
    float prev = beta == 0.0f ? 0.0f : beta * out.get(i);
    out.set(i, prev + bias.get(i % cols));
  }
}

} // namespace

CudaKernels::~CudaKernels() {
  if (ltWorkspace_)
    cudaFree(ltWorkspace_);
  if (lt_)
    cublasLtDestroy(lt_);
}

Status CudaKernels::init() {
  MIMO_RETURN_IF_ERROR(
      lt(cublasLtCreate(&lt_), "cuda kernels", "cublasLtCreate"));
  MIMO_RETURN_IF_ERROR(cudaStatus(cudaMalloc(&ltWorkspace_, kLtWorkspaceBytes),
                                  "cuda kernels", "cuBLASLt workspace"));
  ltWorkspaceBytes_ = kLtWorkspaceBytes;
  return Status::success();
}

Status CudaKernels::matmul(const char *K, bool transA, bool transB, int64_t m,
                           int64_t n, int64_t k, float alpha,
                           const TensorView &a, const TensorView &b, float beta,
                           const TensorView &c, const TensorView &bias) {
  if (a.dtype != b.dtype)
    return rt::invalidArgument(std::string(K) +
                               ": the two operands must "
                               "share an element type, found " +
                               a.str() + " and " + b.str());
  if (c.dtype != DType::F32 && c.dtype != a.dtype)
    return rt::invalidArgument(std::string(K) +
                               ": the output must be f32 or "
                               "the operands' type, found " +
                               c.str() + " for operands " + a.str());
  if (m == 0 || n == 0)
    return Status::success();
  bool fuseBias =
      bias.defined() && bias.dtype == c.dtype && beta == 0.0f && k > 0;
  if (bias.defined() && !fuseBias) {
    // out = beta * out + bias, then accumulate the product into it.
    broadcastRows<<<gridFor(m * n), 256, 0, stream_>>>(elems(bias), m, n,
                                                       elems(c), beta);
    MIMO_RETURN_IF_ERROR(launched(K));
    beta = 1.0f;
  }
  if (k == 0) // an empty sum: c = beta * c (+ bias, added above)
    return bias.defined() ? Status::success() : scale(c, beta, c);

  LtCall call;
  MIMO_RETURN_IF_ERROR(
      lt(cublasLtMatmulDescCreate(&call.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), K,
         "cublasLtMatmulDescCreate"));
  // Column-major: "A" is b (n x k after op), "B" is a (k x m after op).
  cublasOperation_t opA = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opB = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  MIMO_RETURN_IF_ERROR(
      lt(cublasLtMatmulDescSetAttribute(call.op, CUBLASLT_MATMUL_DESC_TRANSA,
                                        &opA, sizeof(opA)),
         K, "set TRANSA"));
  MIMO_RETURN_IF_ERROR(
      lt(cublasLtMatmulDescSetAttribute(call.op, CUBLASLT_MATMUL_DESC_TRANSB,
                                        &opB, sizeof(opB)),
         K, "set TRANSB"));
  if (fuseBias) {
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    const void *ptr = bias.data;
    MIMO_RETURN_IF_ERROR(
        lt(cublasLtMatmulDescSetAttribute(
               call.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)),
           K, "set EPILOGUE"));
    MIMO_RETURN_IF_ERROR(
        lt(cublasLtMatmulDescSetAttribute(
               call.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &ptr, sizeof(ptr)),
           K, "set BIAS_POINTER"));
    cudaDataType_t bt = cudaType(bias);
    MIMO_RETURN_IF_ERROR(
        lt(cublasLtMatmulDescSetAttribute(
               call.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof(bt)),
           K, "set BIAS_DATA_TYPE"));
  }
  // Stored layouts (before op), column-major.
  uint64_t aRows = transB ? uint64_t(k) : uint64_t(n);
  uint64_t aCols = transB ? uint64_t(n) : uint64_t(k);
  uint64_t bRows = transA ? uint64_t(m) : uint64_t(k);
  uint64_t bCols = transA ? uint64_t(k) : uint64_t(m);
  MIMO_RETURN_IF_ERROR(
      lt(cublasLtMatrixLayoutCreate(&call.a, cudaType(b), aRows, aCols, aRows),
         K, "layout of b"));
  MIMO_RETURN_IF_ERROR(
      lt(cublasLtMatrixLayoutCreate(&call.b, cudaType(a), bRows, bCols, bRows),
         K, "layout of a"));
  MIMO_RETURN_IF_ERROR(
      lt(cublasLtMatrixLayoutCreate(&call.c, cudaType(c), uint64_t(n),
                                    uint64_t(m), uint64_t(n)),
         K, "layout of c"));
  MIMO_RETURN_IF_ERROR(lt(cublasLtMatmulPreferenceCreate(&call.pref), K,
                          "cublasLtMatmulPreferenceCreate"));
  MIMO_RETURN_IF_ERROR(
      lt(cublasLtMatmulPreferenceSetAttribute(
             call.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
             &ltWorkspaceBytes_, sizeof(ltWorkspaceBytes_)),
         K, "set MAX_WORKSPACE_BYTES"));
  uint32_t alA = alignmentOf(b.data), alB = alignmentOf(a.data),
           alC = alignmentOf(c.data);
  const cublasLtMatmulPreferenceAttributes_t alignAttrs[] = {
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
  const uint32_t alignValues[] = {alA, alB, alC, alC};
  for (int i = 0; i < 4; ++i)
    MIMO_RETURN_IF_ERROR(
        lt(cublasLtMatmulPreferenceSetAttribute(
               call.pref, alignAttrs[i], &alignValues[i], sizeof(uint32_t)),
           K, "set MIN_ALIGNMENT"));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  MIMO_RETURN_IF_ERROR(
      lt(cublasLtMatmulAlgoGetHeuristic(lt_, call.op, call.a, call.b, call.c,
                                        call.c, call.pref, 1, &result, &found),
         K, "cublasLtMatmulAlgoGetHeuristic"));
  if (found == 0)
    return rt::internalError(std::string(K) +
                             ": cuBLASLt has no algorithm for " + a.str() +
                             (transA ? "^T" : "") + " x " + b.str() +
                             (transB ? "^T" : "") + " -> " + c.str());
  return lt(cublasLtMatmul(lt_, call.op, &alpha, b.data, call.a, a.data, call.b,
                           &beta, c.data, call.c, c.data, call.c, &result.algo,
                           ltWorkspace_, ltWorkspaceBytes_, stream_),
            K, "cublasLtMatmul");
}

Status CudaKernels::gemm(bool transA, bool transB, float alpha,
                         const TensorView &a, const TensorView &b, float beta,
                         const TensorView &c) {
  const char *K = "gemm";
  MIMO_RETURN_IF_ERROR(checkFloat(K, "a", a, {kAny, kAny}));
  int64_t m = transA ? a.dim(1) : a.dim(0);
  int64_t k = transA ? a.dim(0) : a.dim(1);
  if (transB)
    MIMO_RETURN_IF_ERROR(checkFloat(K, "b", b, {kAny, k}));
  else
    MIMO_RETURN_IF_ERROR(checkFloat(K, "b", b, {k, kAny}));
  int64_t n = transB ? b.dim(0) : b.dim(1);
  MIMO_RETURN_IF_ERROR(checkFloat(K, "c", c, {m, n}));
  return matmul(K, transA, transB, m, n, k, alpha, a, b, beta, c);
}

Status CudaKernels::linearForward(const TensorView &x, const TensorView &w,
                                  const TensorView &b, const TensorView &y,
                                  bool transposedWeight) {
  const char *K = "linear_forward";
  MIMO_RETURN_IF_ERROR(checkFloat(K, "x", x, {kAny, kAny}));
  int64_t t = x.dim(0), in = x.dim(1);
  if (transposedWeight)
    MIMO_RETURN_IF_ERROR(checkFloat(K, "w", w, {kAny, in}));
  else
    MIMO_RETURN_IF_ERROR(checkFloat(K, "w", w, {in, kAny}));
  int64_t out = transposedWeight ? w.dim(0) : w.dim(1);
  MIMO_RETURN_IF_ERROR(checkOptionalFloat(K, "b", b, {out}));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "y", y, {t, out}));
  return matmul(K, false, transposedWeight, t, out, in, 1.0f, x, w, 0.0f, y, b);
}

Status CudaKernels::linearBackward(const TensorView &x, const TensorView &w,
                                   const TensorView &dy, const TensorView &dx,
                                   const TensorView &dw, const TensorView &db,
                                   bool transposedWeight) {
  const char *K = "linear_backward";
  MIMO_RETURN_IF_ERROR(checkFloat(K, "x", x, {kAny, kAny}));
  int64_t t = x.dim(0), in = x.dim(1);
  if (transposedWeight)
    MIMO_RETURN_IF_ERROR(checkFloat(K, "w", w, {kAny, in}));
  else
    MIMO_RETURN_IF_ERROR(checkFloat(K, "w", w, {in, kAny}));
  int64_t out = transposedWeight ? w.dim(0) : w.dim(1);
  MIMO_RETURN_IF_ERROR(checkFloat(K, "dy", dy, {t, out}));
  MIMO_RETURN_IF_ERROR(checkOptionalFloat(K, "dx", dx, {t, in}));
  if (transposedWeight)
    MIMO_RETURN_IF_ERROR(checkFloat(K, "dw", dw, {out, in}));
  else
    MIMO_RETURN_IF_ERROR(checkFloat(K, "dw", dw, {in, out}));
  MIMO_RETURN_IF_ERROR(checkOptionalFloat(K, "db", db, {out}));
  if (dx.defined()) {
    // dx = dy @ W^T  ([in, out] weights)  or  dy @ W  ([out, in]).
    MIMO_RETURN_IF_ERROR(
        matmul(K, false, !transposedWeight, t, in, out, 1.0f, dy, w, 0.0f, dx));
  }
  if (transposedWeight) // dW [out, in] += dy^T @ x
    MIMO_RETURN_IF_ERROR(
        matmul(K, true, false, out, in, t, 1.0f, dy, x, 1.0f, dw));
  else // dW [in, out] += x^T @ dy
    MIMO_RETURN_IF_ERROR(
        matmul(K, true, false, in, out, t, 1.0f, x, dy, 1.0f, dw));
  if (db.defined())
    MIMO_RETURN_IF_ERROR(
        columnSums(stream_, K, elems(dy), t, out, out, elems(db), true));
  return Status::success();
}

} // namespace mimo::kernels::cuda

//===- Common.cu - Checks, scratch, column sums, creation -----------------===//

#include "CudaKernels.h"
#include "mimo/kernels/CudaKernels.h"

namespace mimo::kernels {

bool cudaKernelsBuilt() { return true; }

rt::StatusOr<std::unique_ptr<Kernels>> createCudaKernels(void *stream) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    cudaGetLastError(); // clear the sticky "no device" error
    return rt::unavailable(
        std::string("cuda kernels: no CUDA device is visible") +
        (err != cudaSuccess ? std::string(" (") + cudaGetErrorString(err) + ")"
                            : std::string()));
  }
  auto k =
      std::make_unique<cuda::CudaKernels>(static_cast<cudaStream_t>(stream));
  MIMO_RETURN_IF_ERROR(k->init());
  return std::unique_ptr<Kernels>(std::move(k));
}

} // namespace mimo::kernels

namespace mimo::kernels::cuda {

namespace {
bool isFloat(const TensorView &t) {
  return t.dtype == DType::F32 || t.dtype == DType::BF16;
}
} // namespace

Status checkFloat(const char *kernel, const char *arg, const TensorView &t,
                  std::initializer_list<int64_t> dims) {
  if (t.defined() && !isFloat(t))
    return rt::invalidArgument(std::string(kernel) + ": argument '" + arg +
                               "': expected f32 or bf16, found " + t.str());
  return cpu::checkTensor(kernel, arg, t, t.defined() ? t.dtype : DType::F32,
                          dims);
}

Status checkAnyFloat(const char *kernel, const char *arg, const TensorView &t) {
  if (t.defined() && !isFloat(t))
    return rt::invalidArgument(std::string(kernel) + ": argument '" + arg +
                               "': expected f32 or bf16, found " + t.str());
  return cpu::checkDType(kernel, arg, t, t.defined() ? t.dtype : DType::F32);
}

Status checkOptionalFloat(const char *kernel, const char *arg,
                          const TensorView &t,
                          std::initializer_list<int64_t> dims) {
  if (!t.defined())
    return Status::success();
  return checkFloat(kernel, arg, t, dims);
}

Status checkShapeLike(const char *kernel, const char *arg, const TensorView &t,
                      const char *refArg, const TensorView &ref) {
  bool same = t.defined() && isFloat(t) && t.rank == ref.rank;
  for (int i = 0; same && i < t.rank; ++i)
    same = t.shape[i] == ref.shape[i];
  if (same)
    return Status::success();
  return rt::invalidArgument(std::string(kernel) + ": argument '" + arg +
                             "': expected f32 or bf16 of the shape of '" +
                             refArg + "' " + ref.str() + ", found " +
                             (t.defined() ? t.str() : std::string("none")));
}

Status cudaStatus(cudaError_t err, const char *kernel, const char *what) {
  if (err == cudaSuccess)
    return Status::success();
  std::string m = std::string(kernel) + ": " + what + ": " +
                  cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
  if (err == cudaErrorMemoryAllocation)
    return rt::outOfMemory(m);
  return rt::internalError(m);
}

Status launched(const char *kernel) {
  return cudaStatus(cudaGetLastError(), kernel, "kernel launch");
}

Scratch::~Scratch() {
  for (int i = 0; i < count_; ++i)
    cudaFreeAsync(ptrs_[i], stream_);
}

Status Scratch::allocate(const char *kernel, size_t bytes, void **out) {
  if (count_ == 4)
    return rt::internalError(std::string(kernel) +
                             ": more than 4 scratch buffers in one call");
  MIMO_RETURN_IF_ERROR(
      cudaStatus(cudaMallocAsync(out, bytes == 0 ? 16 : bytes, stream_), kernel,
                 ("scratch of " + std::to_string(bytes) + " bytes").c_str()));
  ptrs_[count_++] = *out;
  return Status::success();
}

namespace {

__global__ void columnPartials(Elems x, int64_t rows, int64_t cols,
                               int64_t rowStride, float *partial) {
  int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t chunk = blockIdx.y;
  if (c >= cols)
    return;
  int64_t r0 = chunk * kColumnChunk;
  int64_t r1 = min(rows, r0 + kColumnChunk);
  float s = 0.0f;
  for (int64_t r = r0; r < r1; ++r)
    s += x.get(r * rowStride + c);
  partial[chunk * cols + c] = s;
}

__global__ void columnTotals(const float *partial, int64_t chunks, int64_t cols,
                             Elems out, bool accumulate) {
  MIMO_CUDA_GRID_STRIDE(c, cols) {
    float s = 0.0f;
    for (int64_t k = 0; k < chunks; ++k)
      s += partial[k * cols + c];
    out.set(c, accumulate ? out.get(c) + s : s);
  }
}

} // namespace

Status columnSums(cudaStream_t stream, const char *kernel, Elems x,
                  int64_t rows, int64_t cols, int64_t rowStride, Elems out,
                  bool accumulate) {
  if (cols == 0)
    return Status::success();
  int64_t chunks =
      std::max<int64_t>(1, (rows + kColumnChunk - 1) / kColumnChunk);
  Scratch scratch(stream);
  void *partial = nullptr;
  MIMO_RETURN_IF_ERROR(scratch.allocate(
      kernel, size_t(chunks * cols) * sizeof(float), &partial));
  if (rows == 0)
    MIMO_RETURN_IF_ERROR(cudaStatus(
        cudaMemsetAsync(partial, 0, size_t(cols) * sizeof(float), stream),
        kernel, "memset"));
  else
    columnPartials<<<dim3(unsigned((cols + 255) / 256), unsigned(chunks)), 256,
                     0, stream>>>(x, rows, cols, rowStride,
                                  static_cast<float *>(partial));
  return sumPartials(stream, kernel, static_cast<const float *>(partial),
                     chunks, cols, out, accumulate);
}

Status sumPartials(cudaStream_t stream, const char *kernel,
                   const float *partial, int64_t chunks, int64_t cols,
                   Elems out, bool accumulate) {
  columnTotals<<<gridFor(cols), 256, 0, stream>>>(partial, chunks, cols, out,
                                                  accumulate);
  return launched(kernel);
}

} // namespace mimo::kernels::cuda

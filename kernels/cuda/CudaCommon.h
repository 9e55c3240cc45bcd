//===- CudaCommon.h - Shared pieces of the CUDA kernels ---------*- C++ -*-===//
//
// Private to kernels/cuda. Element access that does not care whether a
// tensor is f32 or bf16 (`Elems`: one pointer and a flag, the flag uniform
// across a launch, so the branch costs nothing measurable on memory-bound
// kernels), argument checks that accept either float type, launch checks,
// and the stream-ordered scratch memory some kernels need.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_KERNELS_CUDA_CUDACOMMON_H
#define MIMO_KERNELS_CUDA_CUDACOMMON_H

#include "../cpu/Check.h"
#include "mimo/kernels/Kernels.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

namespace mimo::kernels::cuda {

using cpu::kAny;

/// A float tensor of either element type.
struct Elems {
#ifdef __CUDACC__
  void *p = nullptr;
  bool bf16 = false;

  __device__ __forceinline__ float get(int64_t i) const {
    return bf16 ? __bfloat162float(static_cast<const __nv_bfloat16 *>(p)[i])
                : static_cast<const float *>(p)[i];
  }
  __device__ __forceinline__ void set(int64_t i, float v) const {
    if (bf16)
      static_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16(v);
    else
      static_cast<float *>(p)[i] = v;
  }
  __device__ __forceinline__ void add(int64_t i, float v) const {
    set(i, get(i) + v);
  }
  __host__ __device__
#endif
      bool
      defined() const {
    return p != nullptr;
  }
};

inline Elems elems(const TensorView &t) {
  return Elems{t.data, t.dtype == DType::BF16};
}

/// A required f32 or bf16 tensor of the given shape (kAny matches any size).
Status checkFloat(const char *kernel, const char *arg, const TensorView &t,
                  std::initializer_list<int64_t> dims);
/// A required f32 or bf16 tensor of any shape.
Status checkAnyFloat(const char *kernel, const char *arg, const TensorView &t);
/// As checkFloat, but an undefined view is accepted.
Status checkOptionalFloat(const char *kernel, const char *arg,
                          const TensorView &t,
                          std::initializer_list<int64_t> dims);
/// Same shape as `ref`, f32 or bf16 (not necessarily ref's element type).
Status checkShapeLike(const char *kernel, const char *arg, const TensorView &t,
                      const char *refArg, const TensorView &ref);
/// Internal: the status of the last launch ("<kernel>: <cuda error>").
Status launched(const char *kernel);
/// Internal: a CUDA runtime result as a status.
Status cudaStatus(cudaError_t err, const char *kernel, const char *what);

/// Stream-ordered scratch (cudaMallocAsync from the device's default
/// pool): freed with release() after the work that uses it is queued.
class Scratch {
public:
  Scratch(cudaStream_t stream) : stream_(stream) {}
  ~Scratch();
  Scratch(const Scratch &) = delete;
  Scratch &operator=(const Scratch &) = delete;
  /// Bytes on the stream; the memory is valid until this object dies.
  Status allocate(const char *kernel, size_t bytes, void **out);

private:
  cudaStream_t stream_;
  void *ptrs_[4] = {};
  int count_ = 0;
};

/// out[c] (+)= sum over k < chunks of partial[k * cols + c], in order.
Status sumPartials(cudaStream_t stream, const char *kernel,
                   const float *partial, int64_t chunks, int64_t cols,
                   Elems out, bool accumulate);

/// Blocks of `threads` covering n elements, capped for grid-stride loops.
inline unsigned gridFor(int64_t n, int threads = 256) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks < 1)
    blocks = 1;
  if (blocks > 65535 * 8)
    blocks = 65535 * 8;
  return unsigned(blocks);
}

#ifdef __CUDACC__
#define MIMO_CUDA_GRID_STRIDE(i, n)                                            \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);    \
       i += int64_t(gridDim.x) * blockDim.x)

/// Sum of `v` over the block (blockDim.x a multiple of 32, at most 1024);
/// every thread gets the result. Fixed reduction tree: deterministic.
__device__ __forceinline__ float blockSum(float v, float *shared32) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();
  if (lane == 0)
    shared32[warp] = v;
  __syncthreads();
  int warps = blockDim.x / 32;
  v = lane < warps ? shared32[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float blockMax(float v, float *shared32) {
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();
  if (lane == 0)
    shared32[warp] = v;
  __syncthreads();
  int warps = blockDim.x / 32;
  v = lane < warps ? shared32[lane] : -INFINITY;
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
#endif // __CUDACC__

/// Deterministic column sums: out[c] (+)= sum over rows r of x[r, c], rows
/// in chunks of kColumnChunk summed in order, then the chunks in order.
constexpr int64_t kColumnChunk = 128;
Status columnSums(cudaStream_t stream, const char *kernel, Elems x,
                  int64_t rows, int64_t cols, int64_t rowStride, Elems out,
                  bool accumulate);

} // namespace mimo::kernels::cuda

#endif // MIMO_KERNELS_CUDA_CUDACOMMON_H

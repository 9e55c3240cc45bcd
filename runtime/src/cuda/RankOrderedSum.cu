//===- RankOrderedSum.cu - Sum of per-rank blocks in rank order -----------===//
//
// The GPU half of the deterministic Sum reductions of the NCCL communicator:
// after the all-to-all, element j of the result is the sum of element j of
// each rank's block, added in increasing rank order, exactly as the CPU
// backends add (MpiCommunicator.cpp's sumInRankOrder).
//
//===----------------------------------------------------------------------===//

#include "CudaInternal.h"

#include <algorithm>
#include <cstdint>

namespace mimo::rt::detail {

namespace {

/// Loads an element into the accumulator type and stores it back.
template <typename T> struct PlainSum {
  using Acc = T;
  static __device__ Acc load(T value) { return value; }
  static __device__ T store(Acc acc) { return acc; }
};

/// bf16 is the upper half of an IEEE float; the sum is kept in f32 and
/// rounded once, as floatToBf16 (DataType.h) does on the host: to nearest
/// even, a NaN stays a quiet NaN.
struct Bf16Sum {
  using Acc = float;
  static __device__ float load(std::uint16_t value) {
    return __uint_as_float(static_cast<unsigned>(value) << 16);
  }
  static __device__ std::uint16_t store(float acc) {
    unsigned bits = __float_as_uint(acc);
    if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu))
      return static_cast<std::uint16_t>((bits >> 16) | 0x40);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<std::uint16_t>(bits >> 16);
  }
};

template <typename T, typename Ops>
__global__ void rankOrderedSumKernel(T *__restrict__ out,
                                     const T *__restrict__ parts, std::size_t n,
                                     int numParts) {
  std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t j =
           static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       j < n; j += stride) {
    typename Ops::Acc acc = Ops::load(parts[j]);
    for (int p = 1; p < numParts; ++p)
      acc = acc + Ops::load(parts[static_cast<std::size_t>(p) * n + j]);
    out[j] = Ops::store(acc);
  }
}

template <typename T, typename Ops>
Status launch(void *out, const void *parts, std::size_t n, int numParts,
              cudaStream_t stream) {
  constexpr unsigned kThreads = 256;
  constexpr std::size_t kMaxBlocks = 4096; // the loop strides over the rest
  unsigned blocks = static_cast<unsigned>(
      std::min<std::size_t>((n + kThreads - 1) / kThreads, kMaxBlocks));
  // A stale error from an earlier call must not be taken for this launch's.
  (void)cudaGetLastError();
  rankOrderedSumKernel<T, Ops><<<blocks, kThreads, 0, stream>>>(
      static_cast<T *>(out), static_cast<const T *>(parts), n, numParts);
  return cudaStatus(cudaGetLastError(), "rankOrderedSumKernel launch");
}

} // namespace

Status launchRankOrderedSum(DataType type, void *out, const void *parts,
                            std::size_t n, int numParts, cudaStream_t stream) {
  if (numParts < 1)
    return invalidArgument("rank-ordered sum of " + std::to_string(numParts) +
                           " parts");
  if (n == 0)
    return Status::success();
  switch (type) {
  case DataType::F32:
    return launch<float, PlainSum<float>>(out, parts, n, numParts, stream);
  case DataType::F64:
    return launch<double, PlainSum<double>>(out, parts, n, numParts, stream);
  case DataType::I32:
    return launch<std::int32_t, PlainSum<std::int32_t>>(out, parts, n, numParts,
                                                        stream);
  case DataType::I64:
    return launch<std::int64_t, PlainSum<std::int64_t>>(out, parts, n, numParts,
                                                        stream);
  case DataType::BF16:
    return launch<std::uint16_t, Bf16Sum>(out, parts, n, numParts, stream);
  default:
    return invalidArgument(std::string("rank-ordered sums of ") +
                           dataTypeName(type) + " are not supported");
  }
}

} // namespace mimo::rt::detail

//===- CudaInternal.h - The CUDA backend (internal) -------------*- C++ -*-===//
//
// Error checking for CUDA calls, the CUDA device with its caching allocator,
// and the rank-ordered sum kernel used by the NCCL communicator. Only the
// library's sources (and white-box tests) include this header.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_SRC_CUDA_CUDAINTERNAL_H
#define MIMO_RUNTIME_SRC_CUDA_CUDAINTERNAL_H

#include "mimo/runtime/DataType.h"
#include "mimo/runtime/Device.h"
#include "mimo/runtime/Status.h"

#include <cuda_runtime.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace mimo::rt::detail {

/// Ok for cudaSuccess; otherwise a Status naming `call` and the error
/// (OutOfMemory for cudaErrorMemoryAllocation, Internal otherwise). Clears
/// the runtime's last-error slot so that a later check does not see it again.
inline Status cudaStatus(cudaError_t err, const char *call) {
  if (err == cudaSuccess)
    return Status::success();
  (void)cudaGetLastError();
  std::string message = std::string(call) +
                        " failed: " + cudaGetErrorString(err) + " (" +
                        cudaGetErrorName(err) + ")";
  if (err == cudaErrorMemoryAllocation)
    return outOfMemory(std::move(message));
  return internalError(std::move(message));
}

/// Returns from the enclosing function if the CUDA call failed.
#define MIMO_CUDA_CHECK(call)                                                  \
  MIMO_RETURN_IF_ERROR(::mimo::rt::detail::cudaStatus((call), #call))

/// Reports a failed CUDA call where no Status can be returned (destructors,
/// deallocate) on stderr.
void warnIfCudaError(cudaError_t err, const char *call);

/// Device memory from cudaMalloc, cached: sizes are rounded up to 512 bytes
/// and a freed block goes to a free list, from which a later request takes
/// the smallest block of at least its size and at most twice it. Blocks are
/// handed back while work queued on the compute stream may still use them;
/// every later user of a block is ordered after that work on the stream.
class CudaCachingAllocator final : public DeviceAllocator {
public:
  static constexpr std::size_t kBlockBytes = 512;

  CudaCachingAllocator(int ordinal, cudaStream_t stream)
      : ordinal_(ordinal), stream_(stream) {}
  CudaCachingAllocator(const CudaCachingAllocator &) = delete;
  CudaCachingAllocator &operator=(const CudaCachingAllocator &) = delete;
  /// Waits for the stream and frees every block, cached or not.
  ~CudaCachingAllocator() override;

  /// `alignment` must be a power of two of at most 256 (cudaMalloc's).
  StatusOr<void *> allocate(std::size_t bytes, std::size_t alignment) override;
  void deallocate(void *ptr, std::size_t bytes) override;

  /// Bytes held in the free list.
  std::size_t cachedBytes() const { return cachedBytes_; }
  /// Bytes handed out and not yet given back (rounded block sizes).
  std::size_t liveBytes() const { return liveBytes_; }
  /// Waits for the stream and cudaFree's every cached block.
  Status releaseCache();
  /// Waits for the stream and frees every block, cached or handed out
  /// (teardown; failures are reported on stderr).
  void releaseAll();

private:
  int ordinal_;
  cudaStream_t stream_;
  /// Cached blocks by rounded size.
  std::multimap<std::size_t, void *> free_;
  /// Blocks handed out, with their rounded size.
  std::unordered_map<void *, std::size_t> live_;
  std::size_t cachedBytes_ = 0;
  std::size_t liveBytes_ = 0;
};

/// Pinned host memory (cudaHostAlloc / cudaFreeHost).
class CudaPinnedAllocator final : public DeviceAllocator {
public:
  explicit CudaPinnedAllocator(int ordinal) : ordinal_(ordinal) {}
  /// `alignment` must be a power of two of at most 256.
  StatusOr<void *> allocate(std::size_t bytes, std::size_t alignment) override;
  void deallocate(void *ptr, std::size_t bytes) override;

private:
  int ordinal_;
};

/// One GPU: a non-blocking compute stream, the caching device allocator and
/// pinned host memory.
class CudaDevice final : public Device {
public:
  /// Makes `ordinal` the current device and creates the stream. The caller
  /// has checked that the ordinal exists.
  static StatusOr<std::unique_ptr<CudaDevice>> create(int ordinal);
  CudaDevice(const CudaDevice &) = delete;
  CudaDevice &operator=(const CudaDevice &) = delete;
  ~CudaDevice() override;

  DeviceKind kind() const override { return DeviceKind::Cuda; }
  std::string name() const override;
  DeviceAllocator &allocator() override { return allocator_; }
  DeviceAllocator &hostAllocator() override { return hostAllocator_; }
  /// On the compute stream; waits for it when host memory is involved.
  Status copy(void *dst, const void *src, std::size_t bytes,
              CopyKind kind) override;
  /// cudaMemsetAsync on the compute stream.
  Status fill(void *dst, unsigned char value, std::size_t bytes) override;
  /// cudaStreamSynchronize of the compute stream.
  Status synchronize() override;

  int ordinal() const { return ordinal_; }
  cudaStream_t stream() const { return stream_; }
  CudaCachingAllocator &cachingAllocator() { return allocator_; }
  /// Makes this device the calling thread's current device.
  Status activate() const;

private:
  CudaDevice(int ordinal, cudaStream_t stream)
      : ordinal_(ordinal), stream_(stream), allocator_(ordinal, stream),
        hostAllocator_(ordinal) {}

  int ordinal_;
  cudaStream_t stream_;
  CudaCachingAllocator allocator_;
  CudaPinnedAllocator hostAllocator_;
};

/// The CUDA device behind `device`, or null for another kind.
CudaDevice *asCudaDevice(Device &device);

/// Checks the device count and the ordinal, then creates the device.
StatusOr<std::unique_ptr<Device>> createCudaDevice(int ordinal);

/// out[j] = ((parts[j] + parts[n + j]) + parts[2n + j]) + ... over
/// `numParts` contiguous parts of `n` elements, on `stream`. F32, F64, I32,
/// I64 are added in their own type; BF16 is accumulated in f32 and rounded
/// once to nearest even, bit-identical to the CPU backends. `out` must not
/// overlap `parts`.
Status launchRankOrderedSum(DataType type, void *out, const void *parts,
                            std::size_t n, int numParts, cudaStream_t stream);

} // namespace mimo::rt::detail

#endif // MIMO_RUNTIME_SRC_CUDA_CUDAINTERNAL_H

//===- CudaDevice.cpp - CUDA device, caching and pinned allocators --------===//

#include "CudaInternal.h"

#include "mimo/runtime/CudaDevice.h"

#include <cstdint>
#include <cstdio>

namespace mimo::rt {

namespace detail {

namespace {

std::string cudaDeviceName(int ordinal) {
  return "cuda:" + std::to_string(ordinal);
}

Status checkAlignment(std::size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    return invalidArgument("alignment " + std::to_string(alignment) +
                           " is not a power of two");
  if (alignment > 256)
    return invalidArgument("alignment " + std::to_string(alignment) +
                           " exceeds the 256 bytes CUDA allocations guarantee");
  return Status::success();
}

const char *copyKindName(CopyKind kind) {
  switch (kind) {
  case CopyKind::HostToDevice:
    return "host to device";
  case CopyKind::DeviceToHost:
    return "device to host";
  case CopyKind::DeviceToDevice:
    return "device to device";
  case CopyKind::HostToHost:
    return "host to host";
  }
  return "?";
}

} // namespace

void warnIfCudaError(cudaError_t err, const char *call) {
  Status status = cudaStatus(err, call);
  if (!status.ok())
    std::fprintf(stderr, "mimo runtime: %s\n", status.toString().c_str());
}

//===----------------------------------------------------------------------===//
// CudaCachingAllocator
//===----------------------------------------------------------------------===//

CudaCachingAllocator::~CudaCachingAllocator() { releaseAll(); }

StatusOr<void *> CudaCachingAllocator::allocate(std::size_t bytes,
                                                std::size_t alignment) {
  MIMO_RETURN_IF_ERROR(checkAlignment(alignment));
  if (bytes > SIZE_MAX - (kBlockBytes - 1))
    return outOfMemory("device allocation of " + std::to_string(bytes) +
                       " bytes on " + cudaDeviceName(ordinal_) +
                       " is larger than any device memory");
  // A zero-byte request still gets a unique block.
  std::size_t rounded =
      bytes == 0 ? kBlockBytes
                 : (bytes + kBlockBytes - 1) / kBlockBytes * kBlockBytes;

  // The smallest cached block that fits, unless it is more than twice the
  // request (which would waste too much of it).
  auto it = free_.lower_bound(rounded);
  if (it != free_.end() && it->first - rounded <= rounded) {
    std::size_t size = it->first;
    void *ptr = it->second;
    free_.erase(it);
    cachedBytes_ -= size;
    live_.emplace(ptr, size);
    liveBytes_ += size;
    return ptr;
  }

  MIMO_CUDA_CHECK(cudaSetDevice(ordinal_));
  void *ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, rounded);
  if (err == cudaErrorMemoryAllocation) {
    // Give the cached blocks back to the driver and try once more.
    (void)cudaGetLastError();
    MIMO_RETURN_IF_ERROR(releaseCache().withContext("releasing the cache of " +
                                                    cudaDeviceName(ordinal_) +
                                                    " after an out-of-memory"));
    ptr = nullptr;
    err = cudaMalloc(&ptr, rounded);
  }
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    return outOfMemory("device allocation of " + std::to_string(bytes) +
                       " bytes on " + cudaDeviceName(ordinal_) +
                       " failed: cudaMalloc: " + cudaGetErrorString(err) +
                       " (" + std::to_string(liveBytes_) +
                       " bytes in use by this allocator)");
  }
  MIMO_RETURN_IF_ERROR(cudaStatus(err, "cudaMalloc")
                           .withContext("device allocation of " +
                                        std::to_string(bytes) + " bytes on " +
                                        cudaDeviceName(ordinal_)));
  live_.emplace(ptr, rounded);
  liveBytes_ += rounded;
  return ptr;
}

void CudaCachingAllocator::deallocate(void *ptr, std::size_t) {
  if (!ptr)
    return;
  auto it = live_.find(ptr);
  if (it == live_.end()) {
    std::fprintf(stderr,
                 "mimo runtime: %s: deallocate of a pointer this allocator "
                 "did not hand out (ignored)\n",
                 cudaDeviceName(ordinal_).c_str());
    return;
  }
  std::size_t size = it->second;
  live_.erase(it);
  liveBytes_ -= size;
  // Work queued on the stream may still use the block; whoever takes it
  // next queues its work behind that on the same stream.
  free_.emplace(size, ptr);
  cachedBytes_ += size;
}

Status CudaCachingAllocator::releaseCache() {
  if (free_.empty())
    return Status::success();
  MIMO_CUDA_CHECK(cudaSetDevice(ordinal_));
  MIMO_CUDA_CHECK(cudaStreamSynchronize(stream_));
  Status first;
  for (const auto &entry : free_) {
    Status status = cudaStatus(cudaFree(entry.second), "cudaFree");
    if (!status.ok() && first.ok())
      first = status;
  }
  free_.clear();
  cachedBytes_ = 0;
  return first;
}

void CudaCachingAllocator::releaseAll() {
  if (free_.empty() && live_.empty())
    return;
  warnIfCudaError(cudaSetDevice(ordinal_), "cudaSetDevice");
  warnIfCudaError(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  for (const auto &entry : free_)
    warnIfCudaError(cudaFree(entry.second), "cudaFree");
  for (const auto &entry : live_)
    warnIfCudaError(cudaFree(entry.first), "cudaFree");
  free_.clear();
  live_.clear();
  cachedBytes_ = 0;
  liveBytes_ = 0;
}

//===----------------------------------------------------------------------===//
// CudaPinnedAllocator
//===----------------------------------------------------------------------===//

StatusOr<void *> CudaPinnedAllocator::allocate(std::size_t bytes,
                                               std::size_t alignment) {
  MIMO_RETURN_IF_ERROR(checkAlignment(alignment));
  MIMO_CUDA_CHECK(cudaSetDevice(ordinal_));
  void *ptr = nullptr;
  // One byte for a zero-byte request keeps the pointer unique.
  cudaError_t err =
      cudaHostAlloc(&ptr, bytes == 0 ? 1 : bytes, cudaHostAllocDefault);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    return outOfMemory("pinned host allocation of " + std::to_string(bytes) +
                       " bytes for " + cudaDeviceName(ordinal_) +
                       " failed: cudaHostAlloc: " + cudaGetErrorString(err));
  }
  MIMO_RETURN_IF_ERROR(cudaStatus(err, "cudaHostAlloc")
                           .withContext("pinned host allocation of " +
                                        std::to_string(bytes) + " bytes"));
  return ptr;
}

void CudaPinnedAllocator::deallocate(void *ptr, std::size_t) {
  if (ptr)
    warnIfCudaError(cudaFreeHost(ptr), "cudaFreeHost");
}

//===----------------------------------------------------------------------===//
// CudaDevice
//===----------------------------------------------------------------------===//

StatusOr<std::unique_ptr<CudaDevice>> CudaDevice::create(int ordinal) {
  MIMO_CUDA_CHECK(cudaSetDevice(ordinal));
  cudaStream_t stream = nullptr;
  MIMO_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return std::unique_ptr<CudaDevice>(new CudaDevice(ordinal, stream));
}

CudaDevice::~CudaDevice() {
  // The allocator waits for the stream; it must be done before the stream
  // goes away.
  allocator_.releaseAll();
  warnIfCudaError(cudaSetDevice(ordinal_), "cudaSetDevice");
  warnIfCudaError(cudaStreamDestroy(stream_), "cudaStreamDestroy");
}

std::string CudaDevice::name() const { return cudaDeviceName(ordinal_); }

Status CudaDevice::activate() const {
  return cudaStatus(cudaSetDevice(ordinal_), "cudaSetDevice")
      .withContext(name());
}

Status CudaDevice::copy(void *dst, const void *src, std::size_t bytes,
                        CopyKind kind) {
  if (bytes == 0)
    return Status::success();
  if (!dst || !src)
    return invalidArgument("copy of " + std::to_string(bytes) +
                           " bytes with a null pointer on " + name());
  MIMO_RETURN_IF_ERROR(activate());
  cudaMemcpyKind cudaKind = cudaMemcpyDeviceToDevice;
  bool touchesHost = true;
  switch (kind) {
  case CopyKind::HostToDevice:
    cudaKind = cudaMemcpyHostToDevice;
    break;
  case CopyKind::DeviceToHost:
    cudaKind = cudaMemcpyDeviceToHost;
    break;
  case CopyKind::DeviceToDevice:
    cudaKind = cudaMemcpyDeviceToDevice;
    touchesHost = false;
    break;
  case CopyKind::HostToHost:
    cudaKind = cudaMemcpyHostToHost;
    break;
  }
  std::string context = name() + ": copy of " + std::to_string(bytes) +
                        " bytes " + copyKindName(kind);
  MIMO_RETURN_IF_ERROR(
      cudaStatus(cudaMemcpyAsync(dst, src, bytes, cudaKind, stream_),
                 "cudaMemcpyAsync")
          .withContext(context));
  // The caller may read or free the host memory as soon as we return.
  if (touchesHost)
    MIMO_RETURN_IF_ERROR(
        cudaStatus(cudaStreamSynchronize(stream_), "cudaStreamSynchronize")
            .withContext(context));
  return Status::success();
}

Status CudaDevice::fill(void *dst, unsigned char value, std::size_t bytes) {
  if (bytes == 0)
    return Status::success();
  if (!dst)
    return invalidArgument("fill of a null pointer on " + name());
  MIMO_RETURN_IF_ERROR(activate());
  return cudaStatus(cudaMemsetAsync(dst, value, bytes, stream_),
                    "cudaMemsetAsync")
      .withContext(name() + ": fill of " + std::to_string(bytes) + " bytes");
}

Status CudaDevice::synchronize() {
  MIMO_RETURN_IF_ERROR(activate());
  return cudaStatus(cudaStreamSynchronize(stream_), "cudaStreamSynchronize")
      .withContext(name());
}

CudaDevice *asCudaDevice(Device &device) {
  if (device.kind() != DeviceKind::Cuda)
    return nullptr;
  return dynamic_cast<CudaDevice *>(&device);
}

StatusOr<std::unique_ptr<Device>> createCudaDevice(int ordinal) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    return unavailable(std::string("no CUDA device is visible "
                                   "(cudaGetDeviceCount: ") +
                       cudaGetErrorString(err) + ")");
  }
  if (count == 0)
    return unavailable("no CUDA device is visible (cudaGetDeviceCount: 0 "
                       "devices)");
  if (ordinal < 0 || ordinal >= count)
    return invalidArgument("CUDA device ordinal " + std::to_string(ordinal) +
                           " is out of range: " + std::to_string(count) +
                           " device(s) visible");
  MIMO_ASSIGN_OR_RETURN(std::unique_ptr<CudaDevice> device,
                        CudaDevice::create(ordinal));
  return std::unique_ptr<Device>(std::move(device));
}

} // namespace detail

//===----------------------------------------------------------------------===//
// Public helpers (CudaDevice.h)
//===----------------------------------------------------------------------===//

int cudaDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return count;
}

void *cudaStreamOf(Device &device) {
  detail::CudaDevice *cuda = detail::asCudaDevice(device);
  return cuda ? static_cast<void *>(cuda->stream()) : nullptr;
}

std::size_t cudaCachedBytes(Device &device) {
  detail::CudaDevice *cuda = detail::asCudaDevice(device);
  return cuda ? cuda->cachingAllocator().cachedBytes() : 0;
}

Status cudaReleaseCachedMemory(Device &device) {
  detail::CudaDevice *cuda = detail::asCudaDevice(device);
  if (!cuda)
    return Status::success();
  return cuda->cachingAllocator().releaseCache();
}

} // namespace mimo::rt

//===- CudaDevice.h - The CUDA device and the local GPU ---------*- C++ -*-===//
//
// What callers need of the CUDA backend beyond the Device interface, without
// CUDA headers: the device's compute stream (a cudaStream_t passed as void*)
// for launching kernels, the number of visible GPUs, and the ordinal a rank
// uses on a node with several. Every function exists in builds without CUDA
// too (no device, no stream, Unavailable), so callers need no #ifdef.
//
// A CUDA device (createDevice(DeviceKind::Cuda, ordinal)) owns one
// non-blocking compute stream. copy() and fill() run on it; copies that touch
// host memory wait for it before returning, device-to-device copies and fills
// do not. Its allocator() caches freed blocks (see README.md): a block handed
// back may still be read by work queued on the compute stream, which is safe
// because its next user is ordered after that work on the same stream.
// hostAllocator() returns pinned host memory.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_CUDADEVICE_H
#define MIMO_RUNTIME_CUDADEVICE_H

#include "mimo/runtime/Device.h"
#include "mimo/runtime/Status.h"

#include <cstddef>

namespace mimo::rt {

/// Whether the CUDA backend was compiled in (MIMO_RUNTIME_HAS_CUDA).
bool runtimeHasCuda();

/// The number of visible CUDA devices: 0 without a driver, without a device
/// or in a build without CUDA.
int cudaDeviceCount();

/// The compute stream of a CUDA device as a cudaStream_t cast to void*; null
/// for any other device. Kernels launched on it are ordered with the device's
/// copies, fills and communicator operations.
void *cudaStreamOf(Device &device);

/// Bytes of freed device memory the caching allocator of a CUDA device keeps
/// for reuse; 0 for any other device.
std::size_t cudaCachedBytes(Device &device);

/// Waits for the compute stream and returns the cached blocks of a CUDA
/// device to the driver (cudaFree). Nothing to do for any other device.
Status cudaReleaseCachedMemory(Device &device);

/// The device ordinal this process should use: the launcher's local rank,
/// read from the first of OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID,
/// MPI_LOCALRANKID and LOCAL_RANK that is set (0 if none is), modulo
/// `deviceCount`. InvalidArgument naming the variable if its value is not a
/// non-negative integer; Unavailable if `deviceCount` is not positive.
StatusOr<int> localDeviceOrdinalFromEnvironment(int deviceCount);

} // namespace mimo::rt

#endif // MIMO_RUNTIME_CUDADEVICE_H

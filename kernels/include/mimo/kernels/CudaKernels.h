//===- CudaKernels.h - The CUDA implementation of Kernels -------*- C++ -*-===//
//
// The kernels over device memory for NVIDIA GPUs (built for sm_90,
// H100/H200). Every float tensor may be f32 or bf16, independently per
// argument (bf16 compute with f32 master weights, gradients and optimizer
// states is the mixed-precision setting); statistics (lse, mean, rstd, loss)
// are f32 and ids/labels i32 as on the CPU. Arithmetic is f32 throughout.
// One instance per stream: every launch goes to the stream it was created
// with, and methods return once the work is queued, except the few that
// must read a device value to validate their input (cross-entropy labels,
// merge-rows placeholder counts), which synchronize the stream.
//
// No CUDA header here: the stream is passed as the cudaStream_t cast to
// void*, so callers compile without the CUDA toolkit.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_KERNELS_CUDAKERNELS_H
#define MIMO_KERNELS_CUDAKERNELS_H

#include "mimo/kernels/Kernels.h"

#include <memory>

namespace mimo::kernels {

/// Whether this build has the CUDA kernels.
bool cudaKernelsBuilt();

/// CUDA kernels issuing to `stream` (a cudaStream_t; null is the legacy
/// default stream) on the current device. Unavailable when the CUDA kernels
/// were not built or no device is visible.
rt::StatusOr<std::unique_ptr<Kernels>> createCudaKernels(void *stream);

} // namespace mimo::kernels

#endif // MIMO_KERNELS_CUDAKERNELS_H

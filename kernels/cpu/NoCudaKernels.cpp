//===- NoCudaKernels.cpp - The CUDA entry points of a CPU-only build ------===//
//
// Compiled instead of kernels/cuda when the CUDA backend is not built, so
// callers link the same symbols and get a clear Unavailable.
//
//===----------------------------------------------------------------------===//

#include "mimo/kernels/CudaKernels.h"

namespace mimo::kernels {

bool cudaKernelsBuilt() { return false; }

rt::StatusOr<std::unique_ptr<Kernels>> createCudaKernels(void *) {
  return rt::unavailable("cuda kernels: this build has no CUDA backend "
                         "(configure with -DMIMO_ENABLE_CUDA=ON and the CUDA "
                         "toolkit installed)");
}

} // namespace mimo::kernels

//===- HostStaging.cpp - Offload device buffers to host memory ------------===//

#include "mimo/runtime/HostStaging.h"

namespace mimo::rt {

StatusOr<OffloadedBuffer> HostStaging::offload(Buffer &buffer) {
  if (!buffer.valid())
    return invalidArgument("offload of an empty buffer");
  if (buffer.category() == MemoryCategory::Offloaded)
    return invalidArgument("buffer '" + buffer.name() +
                           "' is already offloaded");
  MIMO_ASSIGN_OR_RETURN(Buffer host,
                        allocator_.allocate(buffer.bytes(),
                                            MemoryCategory::Offloaded,
                                            buffer.name()));
  Buffer &device = buffer;
  MIMO_RETURN_IF_ERROR(allocator_.device().copy(
      host.data(), device.data(), device.bytes(), CopyKind::DeviceToHost));
  // The device memory may only be reused once the copy has landed.
  MIMO_RETURN_IF_ERROR(allocator_.device().synchronize());
  OffloadedBuffer staged;
  staged.category_ = device.category();
  staged.name_ = device.name();
  staged.host_ = std::move(host);
  device.reset();
  return staged;
}

StatusOr<Buffer> HostStaging::fetch(OffloadedBuffer &staged) {
  if (!staged.valid())
    return invalidArgument("fetch of an empty offloaded buffer");
  OffloadedBuffer &local = staged;
  MIMO_ASSIGN_OR_RETURN(
      Buffer device,
      allocator_.allocate(local.host_.bytes(), local.category_, local.name_));
  MIMO_RETURN_IF_ERROR(
      allocator_.device().copy(device.data(), local.host_.data(),
                               local.host_.bytes(), CopyKind::HostToDevice));
  MIMO_RETURN_IF_ERROR(allocator_.device().synchronize());
  local.host_.reset();
  return device;
}

} // namespace mimo::rt

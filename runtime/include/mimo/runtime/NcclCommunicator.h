//===- NcclCommunicator.h - Collectives and p2p over NCCL -------*- C++ -*-===//
//
// A Communicator whose collectives and messages run on a CUDA device through
// NCCL, over the same ranks as a bootstrap communicator (MPI, or the
// single-process one) that distributes the NCCL unique ids.
//
// Buffers are device pointers of the communicator's device. Every operation
// is stream-ordered on the device's compute stream (cudaStreamOf): it starts
// after all work queued there before the call and work queued there after the
// call sees its result. The host returns without waiting; read results with
// Device::copy (which waits for host-bound copies) or synchronize(). Buffers
// in host memory (as allGatherStrings and broadcastString use) are passed to
// the bootstrap communicator instead, synchronously; every member must then
// pass host memory too.
//
// Determinism is that of every backend (Communicator.h): Sum all-reduce and
// reduce-scatter exchange blocks (grouped ncclSend/ncclRecv) and add them in
// increasing rank order on the GPU, bf16 accumulated in f32 and rounded once,
// so results are bit-identical to the MPI backend's. Max uses NCCL's
// reduction.
//
// Point to point: send() copies the data into a staging buffer on the
// compute stream and returns; a send stream delivers it, and the compute
// stream never waits for it. recv() orders the compute stream after the
// message's arrival. Messages from a lower to a higher rank and from a higher
// to a lower rank travel on two separate NCCL communicators, so two ranks
// that send to each other first do not deadlock. NCCL has no tags: the tag is
// accepted for interface compatibility, and the messages between two ranks in
// one direction are matched in issue order, so matching sends and receives
// must be issued in the same order on both sides (the generated programs do).
// On the GPU a send completes only once its receive is posted and the
// operations of one direction are carried out in issue order, so a program
// whose receives wait for later sends of a third rank may stall.
//
// The bootstrap communicator and the device must outlive the communicator.
// Creating, grouping and destroying are collective over the members, in the
// same order on each member (ncclCommDestroy communicates). Not thread-safe.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_NCCLCOMMUNICATOR_H
#define MIMO_RUNTIME_NCCLCOMMUNICATOR_H

#include "mimo/runtime/Communicator.h"
#include "mimo/runtime/Device.h"

#include <memory>

namespace mimo::rt {

/// The NCCL communicator over the ranks of `bootstrap`, on `device` (a CUDA
/// device). Collective over `bootstrap`. backendName() is "nccl". Builds
/// without CUDA answer Unavailable.
StatusOr<std::unique_ptr<Communicator>>
createNcclCommunicator(Communicator &bootstrap, Device &device);

} // namespace mimo::rt

#endif // MIMO_RUNTIME_NCCLCOMMUNICATOR_H

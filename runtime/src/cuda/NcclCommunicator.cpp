//===- NcclCommunicator.cpp - Collectives and p2p over NCCL ---------------===//
//
// Streams: collectives run on a communication stream that first waits for
// the compute stream (an event recorded there) and that the compute stream
// then waits for, so each operation sits between earlier and later compute
// work without the host waiting. Sends go out on a send stream that waits
// only for the copy into their staging buffer; receives land on a receive
// stream ordered like the collectives. Sum reductions exchange blocks with
// grouped ncclSend/ncclRecv and add them in rank order on the GPU
// (RankOrderedSum.cu). See NcclCommunicator.h for the guarantees.
//
//===----------------------------------------------------------------------===//

#include "../CommunicatorBackends.h"
#include "CudaInternal.h"

#include "mimo/runtime/NcclCommunicator.h"

#include <nccl.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

namespace mimo::rt {

namespace detail {

namespace {

Status ncclStatus(ncclResult_t result, const char *call) {
  if (result == ncclSuccess)
    return Status::success();
  std::string message =
      std::string(call) + " failed: " + ncclGetErrorString(result);
  const char *last = ncclGetLastError(nullptr);
  if (last && *last)
    message += std::string(" (") + last + ")";
  switch (result) {
  case ncclInvalidArgument:
  case ncclInvalidUsage:
    return invalidArgument(std::move(message));
  case ncclRemoteError:
    return aborted(std::move(message));
  default:
    return internalError(std::move(message));
  }
}

#define MIMO_NCCL_CHECK(call) MIMO_RETURN_IF_ERROR(ncclStatus((call), #call))

void warnIfNcclError(ncclResult_t result, const char *call) {
  Status status = ncclStatus(result, call);
  if (!status.ok())
    std::fprintf(stderr, "mimo runtime: %s\n", status.toString().c_str());
}

StatusOr<ncclDataType_t> ncclTypeOf(DataType type) {
  switch (type) {
  case DataType::F32:
    return ncclFloat32;
  case DataType::F64:
    return ncclFloat64;
  case DataType::F16:
    return ncclFloat16;
  case DataType::BF16:
    return ncclBfloat16;
  case DataType::I32:
    return ncclInt32;
  case DataType::I64:
    return ncclInt64;
  case DataType::U8:
    return ncclUint8;
  }
  return invalidArgument(std::string("NCCL has no type for ") +
                         dataTypeName(type));
}

/// Whether `ptr` is host memory (pageable or pinned) rather than memory the
/// GPU owns (device or managed).
StatusOr<bool> isHostMemory(const void *ptr) {
  cudaPointerAttributes attributes;
  MIMO_CUDA_CHECK(cudaPointerGetAttributes(&attributes, ptr));
  return attributes.type == cudaMemoryTypeUnregistered ||
         attributes.type == cudaMemoryTypeHost;
}

/// Whether both buffers are host memory; InvalidArgument when only one is.
StatusOr<bool> bothOnHost(const void *a, const void *b, const char *what) {
  MIMO_ASSIGN_OR_RETURN(bool aHost, isHostMemory(a));
  MIMO_ASSIGN_OR_RETURN(bool bHost, isHostMemory(b));
  if (aHost != bHost)
    return invalidArgument(std::string(what) +
                           " on the NCCL communicator mixes host and device "
                           "buffers");
  return aHost;
}

/// A block of the device's caching allocator, given back on destruction.
/// Declared before the operation that uses it, so that it goes back only
/// once the compute stream has been ordered after that operation.
class Scratch {
public:
  explicit Scratch(DeviceAllocator &allocator) : allocator_(allocator) {}
  Scratch(const Scratch &) = delete;
  Scratch &operator=(const Scratch &) = delete;
  ~Scratch() {
    if (ptr_)
      allocator_.deallocate(ptr_, bytes_);
  }
  Status allocate(std::size_t bytes) {
    MIMO_ASSIGN_OR_RETURN(ptr_, allocator_.allocate(bytes, 256));
    bytes_ = bytes;
    return Status::success();
  }
  unsigned char *data() { return static_cast<unsigned char *>(ptr_); }

private:
  DeviceAllocator &allocator_;
  void *ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

class NcclCommunicator final : public Communicator {
public:
  static StatusOr<std::unique_ptr<Communicator>> create(Communicator &bootstrap,
                                                        CudaDevice &device) {
    std::unique_ptr<NcclCommunicator> comm(
        new NcclCommunicator(bootstrap, device));
    MIMO_RETURN_IF_ERROR(comm->init());
    return std::unique_ptr<Communicator>(std::move(comm));
  }

  ~NcclCommunicator() override {
    // Sub-communicators first: destroying an NCCL communicator communicates,
    // and every member tears down in this same order.
    releaseGroups();
    warnIfCudaError(cudaSetDevice(device_.ordinal()), "cudaSetDevice");
    for (cudaStream_t stream : {commStream_, recvStream_, sendStream_})
      if (stream)
        warnIfCudaError(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    for (Staged &staged : sending_)
      release(staged);
    sending_.clear();
    for (SelfMessage &message : selfMessages_)
      device_.allocator().deallocate(message.ptr, message.bytes);
    selfMessages_.clear();
    if (barrierWord_)
      device_.allocator().deallocate(barrierWord_, sizeof(std::int32_t));
    for (ncclComm_t comm : {comm_, up_, down_})
      if (comm)
        warnIfNcclError(ncclCommDestroy(comm), "ncclCommDestroy");
    for (cudaEvent_t event : {computeReady_, commDone_, recvDone_, sendCopied_})
      if (event)
        warnIfCudaError(cudaEventDestroy(event), "cudaEventDestroy");
    for (cudaEvent_t event : spareEvents_)
      warnIfCudaError(cudaEventDestroy(event), "cudaEventDestroy");
    for (cudaStream_t stream : {commStream_, recvStream_, sendStream_})
      if (stream)
        warnIfCudaError(cudaStreamDestroy(stream), "cudaStreamDestroy");
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::vector<int> &worldRanks() const override { return worldRanks_; }
  const char *backendName() const override { return "nccl"; }

  Status allReduce(void *data, std::size_t count, DataType type,
                   ReduceOp op) override {
    MIMO_RETURN_IF_ERROR(checkReducible(type, op));
    if (count == 0)
      return Status::success();
    MIMO_ASSIGN_OR_RETURN(bool host, isHostMemory(data));
    if (host)
      return bootstrap_.allReduce(data, count, type, op);
    MIMO_ASSIGN_OR_RETURN(ncclDataType_t ncclType, ncclTypeOf(type));
    MIMO_RETURN_IF_ERROR(device_.activate());
    if (op == ReduceOp::Max)
      return onCommStream([&]() -> Status {
        MIMO_NCCL_CHECK(ncclAllReduce(data, data, count, ncclType, ncclMax,
                                      comm_, commStream_));
        return Status::success();
      });
    if (size_ == 1)
      return Status::success();

    // Rank-ordered reduce-scatter of ceil(count / size) element chunks, then
    // an in-place all-gather. A count that does not divide evenly is worked
    // on in a zero-padded copy.
    std::size_t elem = dataTypeSize(type);
    std::size_t chunk = (count + size_ - 1) / size_;
    std::size_t chunkBytes = chunk * elem;
    bool padded = chunk * size_ != count;
    Scratch paddedCopy(device_.allocator()), parts(device_.allocator());
    if (padded)
      MIMO_RETURN_IF_ERROR(paddedCopy.allocate(chunkBytes * size_));
    MIMO_RETURN_IF_ERROR(parts.allocate(chunkBytes * size_));
    return onCommStream([&]() -> Status {
      unsigned char *work =
          padded ? paddedCopy.data() : static_cast<unsigned char *>(data);
      if (padded) {
        MIMO_CUDA_CHECK(cudaMemcpyAsync(work, data, count * elem,
                                        cudaMemcpyDeviceToDevice, commStream_));
        MIMO_CUDA_CHECK(cudaMemsetAsync(work + count * elem, 0,
                                        chunkBytes * size_ - count * elem,
                                        commStream_));
      }
      unsigned char *mine = work + rank_ * chunkBytes;
      MIMO_RETURN_IF_ERROR(
          sumInRankOrder(work, mine, parts.data(), chunk, type, ncclType));
      MIMO_NCCL_CHECK(
          ncclAllGather(mine, work, chunk, ncclType, comm_, commStream_));
      if (padded)
        MIMO_CUDA_CHECK(cudaMemcpyAsync(data, work, count * elem,
                                        cudaMemcpyDeviceToDevice, commStream_));
      return Status::success();
    });
  }

  Status allGather(const void *send, void *recv, std::size_t count,
                   DataType type) override {
    if (count == 0)
      return Status::success();
    MIMO_ASSIGN_OR_RETURN(bool host, bothOnHost(send, recv, "all-gather"));
    if (host)
      return bootstrap_.allGather(send, recv, count, type);
    MIMO_ASSIGN_OR_RETURN(ncclDataType_t ncclType, ncclTypeOf(type));
    MIMO_RETURN_IF_ERROR(device_.activate());
    return onCommStream([&]() -> Status {
      MIMO_NCCL_CHECK(
          ncclAllGather(send, recv, count, ncclType, comm_, commStream_));
      return Status::success();
    });
  }

  Status reduceScatter(const void *send, void *recv, std::size_t count,
                       DataType type, ReduceOp op) override {
    MIMO_RETURN_IF_ERROR(checkReducible(type, op));
    if (count == 0)
      return Status::success();
    MIMO_ASSIGN_OR_RETURN(bool host, bothOnHost(send, recv, "reduce-scatter"));
    if (host)
      return bootstrap_.reduceScatter(send, recv, count, type, op);
    MIMO_ASSIGN_OR_RETURN(ncclDataType_t ncclType, ncclTypeOf(type));
    MIMO_RETURN_IF_ERROR(device_.activate());
    if (op == ReduceOp::Max)
      return onCommStream([&]() -> Status {
        MIMO_NCCL_CHECK(ncclReduceScatter(send, recv, count, ncclType, ncclMax,
                                          comm_, commStream_));
        return Status::success();
      });
    std::size_t bytes = count * dataTypeSize(type);
    if (size_ == 1)
      return onCommStream([&]() -> Status {
        if (send != recv)
          MIMO_CUDA_CHECK(cudaMemcpyAsync(
              recv, send, bytes, cudaMemcpyDeviceToDevice, commStream_));
        return Status::success();
      });
    Scratch parts(device_.allocator());
    MIMO_RETURN_IF_ERROR(parts.allocate(bytes * size_));
    return onCommStream([&]() -> Status {
      return sumInRankOrder(send, recv, parts.data(), count, type, ncclType);
    });
  }

  Status broadcast(void *data, std::size_t count, DataType type,
                   int root) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, root, "broadcast root"));
    if (count == 0)
      return Status::success();
    MIMO_ASSIGN_OR_RETURN(bool host, isHostMemory(data));
    if (host)
      return bootstrap_.broadcast(data, count, type, root);
    MIMO_ASSIGN_OR_RETURN(ncclDataType_t ncclType, ncclTypeOf(type));
    MIMO_RETURN_IF_ERROR(device_.activate());
    return onCommStream([&]() -> Status {
      MIMO_NCCL_CHECK(
          ncclBroadcast(data, data, count, ncclType, root, comm_, commStream_));
      return Status::success();
    });
  }

  Status send(const void *data, std::size_t count, DataType type, int dest,
              int tag) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, dest, "send destination"));
    MIMO_RETURN_IF_ERROR(checkTag(tag));
    if (count == 0)
      return Status::success();
    MIMO_ASSIGN_OR_RETURN(bool host, isHostMemory(data));
    if (host)
      return bootstrap_.send(data, count, type, dest, tag);
    MIMO_RETURN_IF_ERROR(device_.activate());
    MIMO_RETURN_IF_ERROR(reapSends(false));

    // The copy runs on the compute stream, after whatever produces `data`;
    // from then on the caller may overwrite its buffer.
    std::size_t bytes = count * dataTypeSize(type);
    MIMO_ASSIGN_OR_RETURN(void *staging,
                          device_.allocator().allocate(bytes, 256));
    Status copied =
        cudaStatus(cudaMemcpyAsync(staging, data, bytes,
                                   cudaMemcpyDeviceToDevice, device_.stream()),
                   "cudaMemcpyAsync");
    if (!copied.ok()) {
      device_.allocator().deallocate(staging, bytes);
      return copied;
    }
    if (dest == rank_) {
      selfMessages_.push_back({tag, staging, bytes});
      return Status::success();
    }

    // The send stream waits for the copy only; nothing waits for the send
    // but the release of its staging buffer, which reapSends() gives back
    // once the event recorded after the send has fired.
    StatusOr<cudaEvent_t> done = takeEvent();
    if (!done.ok()) {
      device_.allocator().deallocate(staging, bytes);
      return done.status();
    }
    sending_.push_back({staging, bytes, *done, false});
    MIMO_CUDA_CHECK(cudaEventRecord(sendCopied_, device_.stream()));
    MIMO_CUDA_CHECK(cudaStreamWaitEvent(sendStream_, sendCopied_, 0));
    MIMO_NCCL_CHECK(ncclSend(staging, bytes, ncclUint8, dest,
                             dest > rank_ ? up_ : down_, sendStream_));
    MIMO_CUDA_CHECK(cudaEventRecord(*done, sendStream_));
    sending_.back().recorded = true;
    return Status::success();
  }

  Status recv(void *data, std::size_t count, DataType type, int source,
              int tag) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, source, "receive source"));
    MIMO_RETURN_IF_ERROR(checkTag(tag));
    if (count == 0)
      return Status::success();
    MIMO_ASSIGN_OR_RETURN(bool host, isHostMemory(data));
    if (host)
      return bootstrap_.recv(data, count, type, source, tag);
    MIMO_RETURN_IF_ERROR(device_.activate());
    MIMO_RETURN_IF_ERROR(reapSends(false));
    std::size_t bytes = count * dataTypeSize(type);
    if (source == rank_)
      return recvFromSelf(data, bytes, tag);

    MIMO_CUDA_CHECK(cudaEventRecord(computeReady_, device_.stream()));
    MIMO_CUDA_CHECK(cudaStreamWaitEvent(recvStream_, computeReady_, 0));
    Status issued =
        ncclStatus(ncclRecv(data, bytes, ncclUint8, source,
                            source < rank_ ? up_ : down_, recvStream_),
                   "ncclRecv");
    Status ordered = computeWaitsFor(recvStream_, recvDone_);
    MIMO_RETURN_IF_ERROR(issued);
    return ordered;
  }

  StatusOr<std::unique_ptr<PendingRecv>> startRecv(void *data,
                                                   std::size_t count,
                                                   DataType type, int source,
                                                   int tag) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, source, "receive source"));
    MIMO_RETURN_IF_ERROR(checkTag(tag));
    MIMO_ASSIGN_OR_RETURN(bool host, isHostMemory(data));
    if (host)
      return bootstrap_.startRecv(data, count, type, source, tag);
    if (count == 0 || source == rank_)
      return Communicator::startRecv(data, count, type, source, tag);
    MIMO_RETURN_IF_ERROR(device_.activate());
    MIMO_RETURN_IF_ERROR(reapSends(false));
    // The receive stream starts after the compute work issued so far (the
    // last reads of `data`); the compute stream waits for it only in
    // wait(), so the kernels issued in between overlap the transfer.
    MIMO_ASSIGN_OR_RETURN(cudaEvent_t arrived, takeEvent());
    auto pending = std::make_unique<NcclPendingRecv>(*this, arrived);
    MIMO_CUDA_CHECK(cudaEventRecord(computeReady_, device_.stream()));
    MIMO_CUDA_CHECK(cudaStreamWaitEvent(recvStream_, computeReady_, 0));
    MIMO_NCCL_CHECK(ncclRecv(data, count * dataTypeSize(type), ncclUint8,
                             source, source < rank_ ? up_ : down_,
                             recvStream_));
    MIMO_CUDA_CHECK(cudaEventRecord(arrived, recvStream_));
    pending->recorded = true;
    return std::unique_ptr<PendingRecv>(std::move(pending));
  }

  Status flushSends() override { return reapSends(true); }

  Status barrier() override {
    MIMO_RETURN_IF_ERROR(device_.activate());
    MIMO_RETURN_IF_ERROR(onCommStream([&]() -> Status {
      MIMO_NCCL_CHECK(ncclAllReduce(barrierWord_, barrierWord_, 1, ncclInt32,
                                    ncclMax, comm_, commStream_));
      return Status::success();
    }));
    return device_.synchronize();
  }

  [[noreturn]] void abort(int exitCode) override {
    for (ncclComm_t *comm : {&up_, &down_, &comm_}) {
      if (*comm)
        (void)ncclCommAbort(*comm);
      *comm = nullptr;
    }
    bootstrap_.abort(exitCode);
    std::_Exit(exitCode);
  }

protected:
  StatusOr<std::unique_ptr<Communicator>>
  createGroup(const std::vector<int> &ranks) override {
    MIMO_ASSIGN_OR_RETURN(Communicator * sub, bootstrap_.group(ranks));
    return create(*sub, device_);
  }

private:
  /// A send in flight: its staging buffer and the event recorded after it
  /// on the send stream (`recorded` once that event has been recorded).
  struct Staged {
    void *ptr;
    std::size_t bytes;
    cudaEvent_t done;
    bool recorded;
  };
  /// A receive on the receive stream; `arrived` is recorded after it there.
  /// Must not outlive its communicator.
  struct NcclPendingRecv final : PendingRecv {
    NcclPendingRecv(NcclCommunicator &comm, cudaEvent_t arrived)
        : comm(comm), arrived(arrived) {}
    ~NcclPendingRecv() override {
      if (!arrived)
        return;
      // Not waited for (the job is ending on an error): let the transfer
      // finish before the event goes back.
      if (recorded)
        warnIfCudaError(cudaEventSynchronize(arrived), "cudaEventSynchronize");
      comm.spareEvents_.push_back(arrived);
    }
    Status wait() override {
      if (!arrived)
        return failedPrecondition("wait on a receive that already completed");
      MIMO_RETURN_IF_ERROR(comm.device_.activate());
      Status ordered =
          cudaStatus(cudaStreamWaitEvent(comm.device_.stream(), arrived, 0),
                     "cudaStreamWaitEvent");
      comm.spareEvents_.push_back(arrived);
      arrived = nullptr;
      return ordered;
    }
    NcclCommunicator &comm;
    cudaEvent_t arrived;
    bool recorded = false;
  };
  /// A message to this rank itself, waiting in a staging buffer.
  struct SelfMessage {
    int tag;
    void *ptr;
    std::size_t bytes;
  };

  NcclCommunicator(Communicator &bootstrap, CudaDevice &device)
      : bootstrap_(bootstrap), device_(device), rank_(bootstrap.rank()),
        size_(bootstrap.size()), worldRanks_(bootstrap.worldRanks()) {}

  Status init() {
    MIMO_RETURN_IF_ERROR(device_.activate());
    for (cudaStream_t *stream : {&commStream_, &sendStream_, &recvStream_})
      MIMO_CUDA_CHECK(cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking));
    for (cudaEvent_t *event :
         {&computeReady_, &commDone_, &recvDone_, &sendCopied_})
      MIMO_CUDA_CHECK(cudaEventCreateWithFlags(event, cudaEventDisableTiming));
    MIMO_ASSIGN_OR_RETURN(
        barrierWord_, device_.allocator().allocate(sizeof(std::int32_t), 256));
    MIMO_RETURN_IF_ERROR(device_.fill(barrierWord_, 0, sizeof(std::int32_t)));

    // One communicator for the collectives and, with peers, one per
    // direction of messages. Rank 0 makes the unique ids and broadcasts them
    // after a flag saying whether it could; the other ranks never wait for
    // ids that will not come.
    int numComms = size_ > 1 ? 3 : 1;
    std::vector<std::uint8_t> payload(1 + numComms * sizeof(ncclUniqueId), 0);
    Status made;
    if (rank_ == 0) {
      std::vector<ncclUniqueId> ids(numComms);
      for (ncclUniqueId &id : ids)
        if (made.ok())
          made = ncclStatus(ncclGetUniqueId(&id), "ncclGetUniqueId");
      if (made.ok()) {
        payload[0] = 1;
        std::memcpy(payload.data() + 1, ids.data(),
                    numComms * sizeof(ncclUniqueId));
      }
    }
    MIMO_RETURN_IF_ERROR(
        bootstrap_.broadcast(payload.data(), payload.size(), DataType::U8, 0)
            .withContext("broadcasting the NCCL unique ids"));
    MIMO_RETURN_IF_ERROR(made);
    if (payload[0] != 1)
      return internalError("rank 0 could not create the NCCL unique ids");
    std::vector<ncclUniqueId> ids(numComms);
    std::memcpy(ids.data(), payload.data() + 1,
                numComms * sizeof(ncclUniqueId));

    MIMO_NCCL_CHECK(ncclCommInitRank(&comm_, size_, ids[0], rank_));
    if (size_ > 1) {
      MIMO_NCCL_CHECK(ncclCommInitRank(&up_, size_, ids[1], rank_));
      MIMO_NCCL_CHECK(ncclCommInitRank(&down_, size_, ids[2], rank_));
    }
    return Status::success();
  }

  static Status checkTag(int tag) {
    if (tag < 0)
      return invalidArgument("message tag " + std::to_string(tag) +
                             " is negative");
    return Status::success();
  }

  /// The compute stream waits for everything queued on `side` so far.
  Status computeWaitsFor(cudaStream_t side, cudaEvent_t event) {
    MIMO_CUDA_CHECK(cudaEventRecord(event, side));
    MIMO_CUDA_CHECK(cudaStreamWaitEvent(device_.stream(), event, 0));
    return Status::success();
  }

  /// Runs `issue` (which queues work on the communication stream) between
  /// the compute stream's earlier and later work.
  template <typename Issue> Status onCommStream(Issue &&issue) {
    MIMO_CUDA_CHECK(cudaEventRecord(computeReady_, device_.stream()));
    MIMO_CUDA_CHECK(cudaStreamWaitEvent(commStream_, computeReady_, 0));
    Status issued = issue();
    Status ordered = computeWaitsFor(commStream_, commDone_);
    if (!ordered.ok()) {
      // Scratch blocks go back to the cache after this returns; without the
      // ordering they may only go back once the stream is idle.
      warnIfCudaError(cudaStreamSynchronize(commStream_),
                      "cudaStreamSynchronize");
    }
    MIMO_RETURN_IF_ERROR(issued);
    return ordered;
  }

  /// On the communication stream: `recv` = the sum, in rank order, of block
  /// rank() (of `n` elements) of every member's `send`. `parts` holds size()
  /// blocks. `recv` may be this rank's own block of `send`.
  Status sumInRankOrder(const void *send, void *recv, unsigned char *parts,
                        std::size_t n, DataType type, ncclDataType_t ncclType) {
    std::size_t blockBytes = n * dataTypeSize(type);
    const auto *in = static_cast<const unsigned char *>(send);
    MIMO_CUDA_CHECK(cudaMemcpyAsync(parts + rank_ * blockBytes,
                                    in + rank_ * blockBytes, blockBytes,
                                    cudaMemcpyDeviceToDevice, commStream_));
    // Block p goes to rank p; rank p's copy of our block lands in part p.
    MIMO_NCCL_CHECK(ncclGroupStart());
    Status issued;
    for (int p = 0; p < size_ && issued.ok(); ++p) {
      if (p == rank_)
        continue;
      issued = ncclStatus(
          ncclSend(in + p * blockBytes, n, ncclType, p, comm_, commStream_),
          "ncclSend");
      if (issued.ok())
        issued = ncclStatus(ncclRecv(parts + p * blockBytes, n, ncclType, p,
                                     comm_, commStream_),
                            "ncclRecv");
    }
    Status ended = ncclStatus(ncclGroupEnd(), "ncclGroupEnd");
    MIMO_RETURN_IF_ERROR(issued);
    MIMO_RETURN_IF_ERROR(ended);
    // The grouped exchange finishes before the kernel starts (same stream),
    // so overwriting our own block of `send` is safe.
    return launchRankOrderedSum(type, recv, parts, n, size_, commStream_);
  }

  Status recvFromSelf(void *data, std::size_t bytes, int tag) {
    for (auto it = selfMessages_.begin(); it != selfMessages_.end(); ++it) {
      if (it->tag != tag)
        continue;
      if (it->bytes != bytes)
        return invalidArgument("receive of " + std::to_string(bytes) +
                               " bytes matched a message of " +
                               std::to_string(it->bytes));
      MIMO_CUDA_CHECK(cudaMemcpyAsync(
          data, it->ptr, bytes, cudaMemcpyDeviceToDevice, device_.stream()));
      // Stream-ordered behind the copy, like any block given back.
      device_.allocator().deallocate(it->ptr, it->bytes);
      selfMessages_.erase(it);
      return Status::success();
    }
    return failedPrecondition("receive with tag " + std::to_string(tag) +
                              " from this rank itself has no matching send; "
                              "it would block forever");
  }

  StatusOr<cudaEvent_t> takeEvent() {
    if (!spareEvents_.empty()) {
      cudaEvent_t event = spareEvents_.back();
      spareEvents_.pop_back();
      return event;
    }
    cudaEvent_t event = nullptr;
    MIMO_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    return event;
  }

  void release(Staged &staged) {
    device_.allocator().deallocate(staged.ptr, staged.bytes);
    spareEvents_.push_back(staged.done);
  }

  /// Gives back the staging buffers of delivered sends; with `all`, waits
  /// for every send first. Sends complete in issue order (one stream).
  Status reapSends(bool all) {
    if (all) {
      if (sending_.empty())
        return Status::success();
      MIMO_RETURN_IF_ERROR(device_.activate());
      MIMO_CUDA_CHECK(cudaStreamSynchronize(sendStream_));
      for (Staged &staged : sending_)
        release(staged);
      sending_.clear();
      return Status::success();
    }
    while (!sending_.empty() && sending_.front().recorded) {
      cudaError_t state = cudaEventQuery(sending_.front().done);
      if (state == cudaErrorNotReady) {
        (void)cudaGetLastError();
        break;
      }
      MIMO_CUDA_CHECK(state);
      release(sending_.front());
      sending_.pop_front();
    }
    return Status::success();
  }

  Communicator &bootstrap_;
  CudaDevice &device_;
  int rank_;
  int size_;
  std::vector<int> worldRanks_;
  ncclComm_t comm_ = nullptr;
  /// Messages from a lower to a higher rank, and from a higher to a lower.
  ncclComm_t up_ = nullptr;
  ncclComm_t down_ = nullptr;
  cudaStream_t commStream_ = nullptr;
  cudaStream_t sendStream_ = nullptr;
  cudaStream_t recvStream_ = nullptr;
  cudaEvent_t computeReady_ = nullptr;
  cudaEvent_t commDone_ = nullptr;
  cudaEvent_t recvDone_ = nullptr;
  cudaEvent_t sendCopied_ = nullptr;
  std::vector<cudaEvent_t> spareEvents_;
  std::deque<Staged> sending_;
  std::deque<SelfMessage> selfMessages_;
  void *barrierWord_ = nullptr;
};

} // namespace

} // namespace detail

StatusOr<std::unique_ptr<Communicator>>
createNcclCommunicator(Communicator &bootstrap, Device &device) {
  detail::CudaDevice *cuda = detail::asCudaDevice(device);
  if (!cuda)
    return invalidArgument("the NCCL communicator needs a CUDA device, got " +
                           device.name());
  return detail::NcclCommunicator::create(bootstrap, *cuda);
}

} // namespace mimo::rt

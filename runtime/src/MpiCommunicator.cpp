//===- MpiCommunicator.cpp - Collectives over MPI -------------------------===//
//
// Sum reductions are computed in a fixed rank order (see Communicator.h):
// each rank owns a contiguous chunk of the buffer, receives every rank's
// copy of that chunk (all-to-all), adds them in rank order and all-gathers
// the owned chunks. Same bandwidth as a ring all-reduce, bit-reproducible,
// independent of the MPI library's algorithm selection.
//
//===----------------------------------------------------------------------===//

#include "CommunicatorBackends.h"

#ifdef MIMO_RUNTIME_HAS_MPI

#include "mimo/runtime/Fatal.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <vector>

namespace mimo::rt::detail {

namespace {

Status mpiStatus(int rc, const char *call) {
  if (rc == MPI_SUCCESS)
    return Status::success();
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  return internalError(std::string(call) +
                       " failed: " + std::string(text, len));
}

#define MIMO_MPI(call) MIMO_RETURN_IF_ERROR(mpiStatus((call), #call))

MPI_Datatype mpiType(DataType type) {
  switch (type) {
  case DataType::F32:
    return MPI_FLOAT;
  case DataType::F64:
    return MPI_DOUBLE;
  case DataType::I32:
    return MPI_INT32_T;
  case DataType::I64:
    return MPI_INT64_T;
  case DataType::U8:
    return MPI_UINT8_T;
  case DataType::F16:
  case DataType::BF16:
    return MPI_UINT16_T; // moved as bits; never reduced
  }
  return MPI_BYTE;
}

Status checkCount(std::size_t count) {
  if (count > static_cast<std::size_t>(INT_MAX))
    return invalidArgument("message of " + std::to_string(count) +
                           " elements is too large for one MPI call");
  return Status::success();
}

/// out[j] = ((c0[j] + c1[j]) + c2[j]) + ... for `parts` contiguous parts.
template <typename T>
void sumInRankOrder(T *out, const T *parts, std::size_t n, int numParts) {
  for (std::size_t j = 0; j < n; ++j) {
    T acc = parts[j];
    for (int p = 1; p < numParts; ++p)
      acc = acc + parts[p * n + j];
    out[j] = acc;
  }
}

void sumInRankOrder(DataType type, void *out, const void *parts, std::size_t n,
                    int numParts) {
  switch (type) {
  case DataType::F32:
    return sumInRankOrder(static_cast<float *>(out),
                          static_cast<const float *>(parts), n, numParts);
  case DataType::F64:
    return sumInRankOrder(static_cast<double *>(out),
                          static_cast<const double *>(parts), n, numParts);
  case DataType::I32:
    return sumInRankOrder(static_cast<std::int32_t *>(out),
                          static_cast<const std::int32_t *>(parts), n,
                          numParts);
  case DataType::I64:
    return sumInRankOrder(static_cast<std::int64_t *>(out),
                          static_cast<const std::int64_t *>(parts), n,
                          numParts);
  case DataType::BF16: {
    // Accumulated in f32 in rank order and rounded once: the same bits on
    // every rank, and closer to the exact sum than bf16 partial sums.
    auto *o = static_cast<std::uint16_t *>(out);
    const auto *p = static_cast<const std::uint16_t *>(parts);
    for (std::size_t j = 0; j < n; ++j) {
      float acc = bf16ToFloat(p[j]);
      for (int k = 1; k < numParts; ++k)
        acc += bf16ToFloat(p[k * n + j]);
      o[j] = floatToBf16(acc);
    }
    return;
  }
  default:
    return;
  }
}

/// A completed receive carried exactly the elements asked for.
Status checkReceived(const MPI_Status &st, DataType type, std::size_t count,
                     int source) {
  int got = 0;
  MPI_Get_count(&st, mpiType(type), &got);
  if (static_cast<std::size_t>(got) != count)
    return invalidArgument("received " + std::to_string(got) +
                           " elements from rank " + std::to_string(source) +
                           ", expected " + std::to_string(count));
  return Status::success();
}

/// A receive posted with MPI_Irecv.
class MpiPendingRecv final : public PendingRecv {
public:
  MpiPendingRecv(std::size_t count, DataType type, int source)
      : count_(count), type_(type), source_(source) {}
  ~MpiPendingRecv() override {
    if (request == MPI_REQUEST_NULL)
      return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized)
      return;
    MPI_Cancel(&request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
  }
  Status wait() override {
    if (request == MPI_REQUEST_NULL)
      return failedPrecondition("wait on a receive that already completed");
    MPI_Status st;
    MIMO_MPI(MPI_Wait(&request, &st));
    return checkReceived(st, type_, count_, source_);
  }

  MPI_Request request = MPI_REQUEST_NULL;

private:
  std::size_t count_;
  DataType type_;
  int source_;
};

class MpiCommunicator final : public Communicator {
public:
  MpiCommunicator(MPI_Comm comm, std::vector<int> worldRanks, bool ownsComm,
                  bool finalizeMpi)
      : comm_(comm), worldRanks_(std::move(worldRanks)), ownsComm_(ownsComm),
        finalizeMpi_(finalizeMpi) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  ~MpiCommunicator() override {
    (void)reapSends(true);
    releaseGroups();
    if (fatalCommunicator() == this)
      setFatalCommunicator(nullptr);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized)
      return;
    if (ownsComm_)
      MPI_Comm_free(&comm_);
    if (finalizeMpi_)
      MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::vector<int> &worldRanks() const override { return worldRanks_; }
  const char *backendName() const override { return "mpi"; }

  Status allReduce(void *data, std::size_t count, DataType type,
                   ReduceOp op) override {
    MIMO_RETURN_IF_ERROR(checkReducible(type, op));
    MIMO_RETURN_IF_ERROR(checkCount(count));
    if (size_ == 1 || count == 0)
      return Status::success();
    if (op == ReduceOp::Max) {
      MIMO_MPI(MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count),
                             mpiType(type), MPI_MAX, comm_));
      return Status::success();
    }
    std::size_t elem = dataTypeSize(type);
    std::vector<int> counts(size_), displs(size_);
    for (int i = 0; i < size_; ++i) {
      std::size_t begin = chunkBegin(count, i);
      counts[i] = static_cast<int>(chunkBegin(count, i + 1) - begin);
      displs[i] = static_cast<int>(begin);
    }
    int mine = counts[rank_];
    std::vector<int> recvCounts(size_, mine), recvDispls(size_);
    for (int i = 0; i < size_; ++i)
      recvDispls[i] = i * mine;
    std::vector<unsigned char> parts(static_cast<std::size_t>(mine) * size_ *
                                     elem);
    MIMO_MPI(MPI_Alltoallv(data, counts.data(), displs.data(), mpiType(type),
                           parts.data(), recvCounts.data(), recvDispls.data(),
                           mpiType(type), comm_));
    auto *bytes = static_cast<unsigned char *>(data);
    sumInRankOrder(type, bytes + displs[rank_] * elem, parts.data(), mine,
                   size_);
    MIMO_MPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data,
                            counts.data(), displs.data(), mpiType(type),
                            comm_));
    return Status::success();
  }

  Status allGather(const void *send, void *recv, std::size_t count,
                   DataType type) override {
    MIMO_RETURN_IF_ERROR(checkCount(count * size_));
    MIMO_MPI(MPI_Allgather(send, static_cast<int>(count), mpiType(type), recv,
                           static_cast<int>(count), mpiType(type), comm_));
    return Status::success();
  }

  Status reduceScatter(const void *send, void *recv, std::size_t count,
                       DataType type, ReduceOp op) override {
    MIMO_RETURN_IF_ERROR(checkReducible(type, op));
    MIMO_RETURN_IF_ERROR(checkCount(count * size_));
    if (count == 0)
      return Status::success();
    if (op == ReduceOp::Max) {
      MIMO_MPI(MPI_Reduce_scatter_block(send, recv, static_cast<int>(count),
                                        mpiType(type), MPI_MAX, comm_));
      return Status::success();
    }
    std::vector<unsigned char> parts(count * size_ * dataTypeSize(type));
    MIMO_MPI(MPI_Alltoall(send, static_cast<int>(count), mpiType(type),
                          parts.data(), static_cast<int>(count), mpiType(type),
                          comm_));
    sumInRankOrder(type, recv, parts.data(), count, size_);
    return Status::success();
  }

  Status broadcast(void *data, std::size_t count, DataType type,
                   int root) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, root, "broadcast root"));
    MIMO_RETURN_IF_ERROR(checkCount(count));
    MIMO_MPI(
        MPI_Bcast(data, static_cast<int>(count), mpiType(type), root, comm_));
    return Status::success();
  }

  Status send(const void *data, std::size_t count, DataType type, int dest,
              int tag) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, dest, "send destination"));
    MIMO_RETURN_IF_ERROR(checkCount(count));
    MIMO_RETURN_IF_ERROR(reapSends(false));
    // A copy in flight, so the caller's buffer is free and the send never
    // waits for the receiver to post its receive.
    const auto *bytes = static_cast<const unsigned char *>(data);
    pending_.push_back(
        {std::vector<unsigned char>(bytes, bytes + count * dataTypeSize(type)),
         MPI_REQUEST_NULL});
    Pending &p = pending_.back();
    MIMO_MPI(MPI_Isend(p.bytes.data(), static_cast<int>(count), mpiType(type),
                       dest, tag, comm_, &p.request));
    return Status::success();
  }

  Status flushSends() override { return reapSends(true); }

  Status recv(void *data, std::size_t count, DataType type, int source,
              int tag) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, source, "receive source"));
    MIMO_RETURN_IF_ERROR(checkCount(count));
    MPI_Status st;
    MIMO_MPI(MPI_Recv(data, static_cast<int>(count), mpiType(type), source, tag,
                      comm_, &st));
    return checkReceived(st, type, count, source);
  }

  StatusOr<std::unique_ptr<PendingRecv>> startRecv(void *data,
                                                   std::size_t count,
                                                   DataType type, int source,
                                                   int tag) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, source, "receive source"));
    MIMO_RETURN_IF_ERROR(checkCount(count));
    if (tag < 0)
      return invalidArgument("tag must be non-negative, got " +
                             std::to_string(tag));
    auto pending = std::make_unique<MpiPendingRecv>(count, type, source);
    MIMO_MPI(MPI_Irecv(data, static_cast<int>(count), mpiType(type), source,
                       tag, comm_, &pending->request));
    return std::unique_ptr<PendingRecv>(std::move(pending));
  }

  Status barrier() override {
    MIMO_MPI(MPI_Barrier(comm_));
    return Status::success();
  }

  [[noreturn]] void abort(int exitCode) override {
    MPI_Abort(MPI_COMM_WORLD, exitCode);
    std::_Exit(exitCode);
  }

protected:
  StatusOr<std::unique_ptr<Communicator>>
  createGroup(const std::vector<int> &ranks) override {
    MPI_Group all, sub;
    MIMO_MPI(MPI_Comm_group(comm_, &all));
    MIMO_MPI(MPI_Group_incl(all, static_cast<int>(ranks.size()), ranks.data(),
                            &sub));
    // Only the members take part; the tag keeps creations of different
    // groups that share a member apart.
    unsigned h = 2166136261u;
    for (int r : ranks)
      h = (h ^ static_cast<unsigned>(r)) * 16777619u;
    MPI_Comm newComm;
    int rc = MPI_Comm_create_group(comm_, sub, static_cast<int>(h % 32749u),
                                   &newComm);
    MPI_Group_free(&sub);
    MPI_Group_free(&all);
    MIMO_MPI(rc);
    std::vector<int> world;
    for (int r : ranks)
      world.push_back(worldRanks_[r]);
    return std::unique_ptr<Communicator>(
        new MpiCommunicator(newComm, std::move(world), true, false));
  }

private:
  struct Pending {
    std::vector<unsigned char> bytes;
    MPI_Request request;
  };
  /// Frees the copies of delivered sends; with `all`, waits for every one.
  Status reapSends(bool all) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      int done = 0;
      if (all)
        MIMO_MPI(MPI_Wait(&it->request, MPI_STATUS_IGNORE));
      else
        MIMO_MPI(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE));
      if (all || done)
        it = pending_.erase(it);
      else
        ++it;
    }
    return Status::success();
  }
  std::list<Pending> pending_;

  std::size_t chunkBegin(std::size_t count, int i) const {
    std::size_t base = count / size_, extra = count % size_;
    std::size_t ui = static_cast<std::size_t>(i);
    return ui * base + std::min(ui, extra);
  }

  MPI_Comm comm_;
  std::vector<int> worldRanks_;
  bool ownsComm_;
  bool finalizeMpi_;
  int rank_ = 0, size_ = 1;
};

} // namespace

StatusOr<std::unique_ptr<Communicator>> createMpiWorld(int *argc,
                                                       char ***argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  bool initHere = false;
  if (!initialized) {
    MIMO_MPI(MPI_Init(argc, argv));
    initHere = true;
  }
  // Errors come back as Status values, not as an abort inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<int> world(size);
  for (int i = 0; i < size; ++i)
    world[i] = i;
  return std::unique_ptr<Communicator>(
      new MpiCommunicator(MPI_COMM_WORLD, std::move(world), false, initHere));
}

} // namespace mimo::rt::detail

#endif // MIMO_RUNTIME_HAS_MPI

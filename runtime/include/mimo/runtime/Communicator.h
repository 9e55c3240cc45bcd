//===- Communicator.h - Collectives and point-to-point ----------*- C++ -*-===//
//
// One interface, several backends: MPI (CPU), a single-process backend for
// world = 1 (works without mpirun and without MPI compiled in), and later
// NCCL. Buffers are host pointers on CPU and device pointers on CUDA.
//
// Determinism: Sum reductions (all-reduce, reduce-scatter) add the ranks'
// contributions in increasing rank order, ((x0 + x1) + x2) + ..., on every
// backend and for every message size. The MPI backend does not rely on
// MPI_Allreduce's algorithm choice for Sum: it exchanges chunks (all-to-all),
// sums each chunk in rank order on its owner and all-gathers the result, so a
// run is bit-reproducible and matches a local rank-ordered sum exactly. Max
// is order-independent and uses the native collective.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_COMMUNICATOR_H
#define MIMO_RUNTIME_COMMUNICATOR_H

#include "mimo/runtime/DataType.h"
#include "mimo/runtime/Status.h"

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mimo::rt {

enum class ReduceOp { Sum, Max };

/// A receive posted with Communicator::startRecv. Its buffer belongs to the
/// communicator until wait() has returned; then it holds the message. A
/// receive destroyed without wait() is cancelled (a best effort: the job is
/// ending on an error).
class PendingRecv {
public:
  virtual ~PendingRecv();
  /// Completes the receive. On CPU it returns once the message is in the
  /// buffer; on a GPU, once later work on the compute stream is ordered
  /// after its arrival. A second wait() fails.
  virtual Status wait() = 0;
};

class Communicator {
public:
  virtual ~Communicator();

  /// This process's rank in the communicator and the communicator's size.
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// The rank in the world communicator of each member, by local rank.
  virtual const std::vector<int> &worldRanks() const = 0;
  /// "mpi", "self".
  virtual const char *backendName() const = 0;

  /// In place; F32, F64, I32, I64.
  virtual Status allReduce(void *data, std::size_t count, DataType type,
                           ReduceOp op) = 0;
  /// `recv` holds size() * countPerRank elements, rank i's at i*countPerRank.
  virtual Status allGather(const void *send, void *recv,
                           std::size_t countPerRank, DataType type) = 0;
  /// `send` holds size() * countPerRank elements; rank i receives the
  /// reduction of every rank's block i.
  virtual Status reduceScatter(const void *send, void *recv,
                               std::size_t countPerRank, DataType type,
                               ReduceOp op) = 0;
  virtual Status broadcast(void *data, std::size_t count, DataType type,
                           int root) = 0;
  /// Ranks are local to this communicator; tags are >= 0. `send` returns
  /// once the data is copied out (the caller may reuse its buffer at once);
  /// delivery completes in the background, in order per (destination, tag),
  /// so a pipeline schedule never deadlocks on two ranks sending to each
  /// other. `recv` blocks until the matching message has arrived.
  virtual Status send(const void *data, std::size_t count, DataType type,
                      int dest, int tag) = 0;
  virtual Status recv(void *data, std::size_t count, DataType type, int source,
                      int tag) = 0;
  /// Posts a receive and returns at once, so that the transfer overlaps the
  /// work issued before wait(): ring attention receives the next key/value
  /// blocks while it computes on the current ones. Receives from one
  /// (source, tag) match sends in the order they are posted, like recv().
  /// The default completes the receive with recv() inside wait().
  virtual StatusOr<std::unique_ptr<PendingRecv>>
  startRecv(void *data, std::size_t count, DataType type, int source, int tag);
  /// Waits until every message this member sent has been delivered.
  virtual Status flushSends() { return Status::success(); }
  virtual Status barrier() = 0;
  /// Ends every process of the job with `exitCode`.
  [[noreturn]] virtual void abort(int exitCode) = 0;

  /// The communicator over `ranks` (local ranks of this communicator, which
  /// must include this process, strictly increasing). Collective over the
  /// members only; members must create overlapping groups in the same order.
  /// Cached: the same list returns the same communicator, owned by this one.
  StatusOr<Communicator *> group(const std::vector<int> &ranks);
  /// As group(), but `ranks` are world ranks.
  StatusOr<Communicator *> groupOfWorldRanks(const std::vector<int> &ranks);

  /// Typed conveniences.
  template <typename T>
  Status allReduce(T *data, std::size_t count, ReduceOp op) {
    return allReduce(data, count, DataTypeOf<T>::value, op);
  }
  template <typename T>
  Status allGather(const T *send, T *recv, std::size_t countPerRank) {
    return allGather(send, recv, countPerRank, DataTypeOf<T>::value);
  }
  template <typename T>
  Status reduceScatter(const T *send, T *recv, std::size_t countPerRank,
                       ReduceOp op) {
    return reduceScatter(send, recv, countPerRank, DataTypeOf<T>::value, op);
  }
  template <typename T> Status broadcast(T *data, std::size_t count, int root) {
    return broadcast(data, count, DataTypeOf<T>::value, root);
  }
  template <typename T>
  Status send(const T *data, std::size_t count, int dest, int tag) {
    return send(data, count, DataTypeOf<T>::value, dest, tag);
  }
  template <typename T>
  Status recv(T *data, std::size_t count, int source, int tag) {
    return recv(data, count, DataTypeOf<T>::value, source, tag);
  }

  /// Gathers a variable-length byte string from every rank, by rank.
  StatusOr<std::vector<std::string>> allGatherStrings(const std::string &mine);
  /// Broadcasts a byte string from `root`.
  Status broadcastString(std::string &value, int root);

  /// Local rank of a world rank, or -1 if it is not a member.
  int localRankOf(int worldRank) const;

protected:
  /// Backends build the communicator over `ranks` (local, increasing,
  /// including this process).
  virtual StatusOr<std::unique_ptr<Communicator>>
  createGroup(const std::vector<int> &ranks) = 0;
  /// Frees the cached groups; a backend whose teardown invalidates them
  /// (MPI_Finalize) calls this first.
  void releaseGroups();

private:
  std::map<std::vector<int>, std::unique_ptr<Communicator>> groups_;
};

/// Whether the MPI backend was compiled in.
bool runtimeHasMpi();

/// The communicator over every process of the job. With MPI compiled in it
/// initializes MPI (also without mpirun: a singleton world of one); without
/// MPI it returns the single-process backend, and fails with Unavailable if
/// a launcher started several ranks. Registers itself with fatal(). `argc`
/// and `argv` may be null.
StatusOr<std::unique_ptr<Communicator>> createWorldCommunicator(int *argc,
                                                                char ***argv);

/// The world of one process, never touching MPI.
std::unique_ptr<Communicator> createSelfCommunicator();

} // namespace mimo::rt

#endif // MIMO_RUNTIME_COMMUNICATOR_H

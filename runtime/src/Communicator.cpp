//===- Communicator.cpp - Groups, helpers and the world factory -----------===//

#include "mimo/runtime/Communicator.h"
#include "CommunicatorBackends.h"
#include "mimo/runtime/Fatal.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace mimo::rt {

Communicator::~Communicator() = default;

PendingRecv::~PendingRecv() = default;

namespace {
/// A receive that happens inside wait(): for backends whose receives do not
/// run in the background (one process), correct but never overlapped.
class DeferredRecv final : public PendingRecv {
public:
  DeferredRecv(Communicator &comm, void *data, std::size_t count, DataType type,
               int source, int tag)
      : comm_(comm), data_(data), count_(count), type_(type), source_(source),
        tag_(tag) {}
  Status wait() override {
    if (done_)
      return failedPrecondition("wait on a receive that already completed");
    done_ = true;
    return comm_.recv(data_, count_, type_, source_, tag_);
  }

private:
  Communicator &comm_;
  void *data_;
  std::size_t count_;
  DataType type_;
  int source_, tag_;
  bool done_ = false;
};
} // namespace

StatusOr<std::unique_ptr<PendingRecv>>
Communicator::startRecv(void *data, std::size_t count, DataType type,
                        int source, int tag) {
  MIMO_RETURN_IF_ERROR(detail::checkRank(*this, source, "receive source"));
  if (tag < 0)
    return invalidArgument("tag must be non-negative, got " +
                           std::to_string(tag));
  return std::unique_ptr<PendingRecv>(
      new DeferredRecv(*this, data, count, type, source, tag));
}

void Communicator::releaseGroups() { groups_.clear(); }

StatusOr<Communicator *> Communicator::group(const std::vector<int> &ranks) {
  if (ranks.empty())
    return invalidArgument("group of no ranks");
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    if (ranks[i] < 0 || ranks[i] >= size())
      return invalidArgument("group member " + std::to_string(ranks[i]) +
                             " is outside the communicator of " +
                             std::to_string(size()) + " ranks");
    if (i > 0 && ranks[i] <= ranks[i - 1])
      return invalidArgument("group members must be strictly increasing");
  }
  if (!std::binary_search(ranks.begin(), ranks.end(), rank()))
    return invalidArgument("rank " + std::to_string(rank()) +
                           " asked for a group it is not a member of");
  if (static_cast<int>(ranks.size()) == size())
    return this;
  auto it = groups_.find(ranks);
  if (it != groups_.end())
    return it->second.get();
  MIMO_ASSIGN_OR_RETURN(std::unique_ptr<Communicator> created,
                        createGroup(ranks));
  Communicator *raw = created.get();
  groups_.emplace(ranks, std::move(created));
  return raw;
}

StatusOr<Communicator *>
Communicator::groupOfWorldRanks(const std::vector<int> &ranks) {
  std::vector<int> local;
  local.reserve(ranks.size());
  for (int w : ranks) {
    int l = localRankOf(w);
    if (l < 0)
      return invalidArgument("world rank " + std::to_string(w) +
                             " is not in this communicator");
    local.push_back(l);
  }
  return group(local);
}

int Communicator::localRankOf(int worldRank) const {
  const std::vector<int> &w = worldRanks();
  for (std::size_t i = 0; i < w.size(); ++i)
    if (w[i] == worldRank)
      return static_cast<int>(i);
  return -1;
}

StatusOr<std::vector<std::string>>
Communicator::allGatherStrings(const std::string &mine) {
  int n = size();
  std::int64_t len = static_cast<std::int64_t>(mine.size());
  std::vector<std::int64_t> lens(n);
  MIMO_RETURN_IF_ERROR(allGather(&len, lens.data(), 1));
  std::int64_t maxLen = *std::max_element(lens.begin(), lens.end());
  std::vector<std::uint8_t> padded(maxLen, 0), all(maxLen * n);
  if (!mine.empty())
    std::memcpy(padded.data(), mine.data(), mine.size());
  if (maxLen > 0)
    MIMO_RETURN_IF_ERROR(allGather(padded.data(), all.data(), maxLen));
  std::vector<std::string> out(n);
  for (int i = 0; i < n; ++i)
    out[i].assign(reinterpret_cast<const char *>(all.data()) + i * maxLen,
                  lens[i]);
  return out;
}

Status Communicator::broadcastString(std::string &value, int root) {
  std::int64_t len = static_cast<std::int64_t>(value.size());
  MIMO_RETURN_IF_ERROR(broadcast(&len, 1, root));
  value.resize(len);
  if (len == 0)
    return Status::success();
  return broadcast(reinterpret_cast<std::uint8_t *>(value.data()), len, root);
}

bool runtimeHasMpi() {
#ifdef MIMO_RUNTIME_HAS_MPI
  return true;
#else
  return false;
#endif
}

#ifndef MIMO_RUNTIME_HAS_MPI
namespace {
/// Ranks a launcher says it started, or 1.
int launchedWorldSize() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char *v = std::getenv(var))
      return std::max(1, std::atoi(v));
  return 1;
}
} // namespace
#endif

StatusOr<std::unique_ptr<Communicator>> createWorldCommunicator(int *argc,
                                                                char ***argv) {
#ifdef MIMO_RUNTIME_HAS_MPI
  MIMO_ASSIGN_OR_RETURN(std::unique_ptr<Communicator> world,
                        detail::createMpiWorld(argc, argv));
#else
  (void)argc;
  (void)argv;
  int launched = launchedWorldSize();
  if (launched > 1)
    return unavailable("launched with " + std::to_string(launched) +
                       " ranks, but this runtime was built without MPI "
                       "(configure with -DMIMO_ENABLE_MPI=ON)");
  std::unique_ptr<Communicator> world = detail::createSelf(0);
#endif
  setFatalCommunicator(world.get());
  return world;
}

std::unique_ptr<Communicator> createSelfCommunicator() {
  return detail::createSelf(0);
}

namespace detail {

Status checkRank(const Communicator &comm, int rank, const char *what) {
  if (rank < 0 || rank >= comm.size())
    return invalidArgument(std::string(what) + " rank " + std::to_string(rank) +
                           " is outside the communicator of " +
                           std::to_string(comm.size()) + " ranks");
  return Status::success();
}

Status checkReducible(DataType type, ReduceOp op) {
  switch (type) {
  case DataType::F32:
  case DataType::F64:
  case DataType::I32:
  case DataType::I64:
    return Status::success();
  case DataType::BF16:
    // Summed in f32 in rank order, rounded once (sumInRankOrder).
    if (op == ReduceOp::Sum)
      return Status::success();
    return invalidArgument("max-reductions on bf16 are not supported");
  default:
    return invalidArgument(std::string("reductions on ") + dataTypeName(type) +
                           " are not supported");
  }
}

} // namespace detail
} // namespace mimo::rt

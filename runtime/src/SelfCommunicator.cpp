//===- SelfCommunicator.cpp - The world of one process --------------------===//
//
// Every collective of one rank is a copy or nothing. Messages to oneself are
// queued so that code written for any world size runs at world = 1.
//
//===----------------------------------------------------------------------===//

#include "CommunicatorBackends.h"

#include <cstdlib>
#include <cstring>
#include <deque>

namespace mimo::rt::detail {

namespace {

class SelfCommunicator final : public Communicator {
public:
  explicit SelfCommunicator(int worldRank) : worldRanks_{worldRank} {}

  int rank() const override { return 0; }
  int size() const override { return 1; }
  const std::vector<int> &worldRanks() const override { return worldRanks_; }
  const char *backendName() const override { return "self"; }

  Status allReduce(void *, std::size_t, DataType type, ReduceOp op) override {
    return checkReducible(type, op);
  }
  Status allGather(const void *send, void *recv, std::size_t count,
                   DataType type) override {
    copy(recv, send, count, type);
    return Status::success();
  }
  Status reduceScatter(const void *send, void *recv, std::size_t count,
                       DataType type, ReduceOp op) override {
    MIMO_RETURN_IF_ERROR(checkReducible(type, op));
    copy(recv, send, count, type);
    return Status::success();
  }
  Status broadcast(void *, std::size_t, DataType, int root) override {
    return checkRank(*this, root, "broadcast root");
  }
  Status send(const void *data, std::size_t count, DataType type, int dest,
              int tag) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, dest, "send destination"));
    const auto *bytes = static_cast<const unsigned char *>(data);
    queue_.push_back({tag, std::vector<unsigned char>(
                               bytes, bytes + count * dataTypeSize(type))});
    return Status::success();
  }
  Status recv(void *data, std::size_t count, DataType type, int source,
              int tag) override {
    MIMO_RETURN_IF_ERROR(checkRank(*this, source, "receive source"));
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->tag != tag)
        continue;
      std::size_t bytes = count * dataTypeSize(type);
      if (it->bytes.size() != bytes)
        return invalidArgument("receive of " + std::to_string(bytes) +
                               " bytes matched a message of " +
                               std::to_string(it->bytes.size()));
      std::memcpy(data, it->bytes.data(), bytes);
      queue_.erase(it);
      return Status::success();
    }
    return failedPrecondition("receive with tag " + std::to_string(tag) +
                              " on a single-process communicator has no "
                              "matching send; it would block forever");
  }
  Status barrier() override { return Status::success(); }
  [[noreturn]] void abort(int exitCode) override { std::exit(exitCode); }

protected:
  StatusOr<std::unique_ptr<Communicator>>
  createGroup(const std::vector<int> &) override {
    return std::unique_ptr<Communicator>(new SelfCommunicator(worldRanks_[0]));
  }

private:
  static void copy(void *dst, const void *src, std::size_t count,
                   DataType type) {
    if (count != 0 && dst != src)
      std::memmove(dst, src, count * dataTypeSize(type));
  }
  struct Message {
    int tag;
    std::vector<unsigned char> bytes;
  };
  std::vector<int> worldRanks_;
  std::deque<Message> queue_;
};

} // namespace

std::unique_ptr<Communicator> createSelf(int worldRank) {
  return std::make_unique<SelfCommunicator>(worldRank);
}

} // namespace mimo::rt::detail

//===- NcclMpiTest.cpp - The NCCL communicator over several ranks ---------===//
//
// One GPU per rank, bootstrapped by the MPI world; skipped when the machine
// has fewer GPUs than ranks. Results are compared bit for bit with sums
// computed locally in rank order, as the MPI backend's tests do.
//
//===----------------------------------------------------------------------===//

#include "MpiTestUtil.h"
#include "TestUtil.h"

#include "mimo/runtime/CudaDevice.h"
#include "mimo/runtime/NcclCommunicator.h"
#include "mimo/runtime/Philox.h"

#include <algorithm>
#include <cmath>

using namespace mimo::rt;
using mimo::rt::test::world;

namespace {

/// A value of varied magnitude so that the summation order matters.
float contribution(int worldRank, std::size_t i) {
  float scale = std::pow(10.0f, static_cast<float>(worldRank % 4) - 1.0f);
  return PhiloxStream(23, {static_cast<std::uint64_t>(worldRank)}).normal(i) *
         scale;
}

/// Moves vectors to and from device memory.
class Mirror {
public:
  explicit Mirror(Device &device) : device_(device) {}
  ~Mirror() {
    for (auto &[ptr, bytes] : blocks_)
      device_.allocator().deallocate(ptr, bytes);
  }
  template <typename T> T *upload(const std::vector<T> &values) {
    std::size_t bytes = values.size() * sizeof(T);
    auto p = device_.allocator().allocate(bytes, 64);
    EXPECT_TRUE(p.ok()) << p.status().toString();
    if (!p.ok())
      return nullptr;
    blocks_.push_back({*p, bytes});
    EXPECT_OK(device_.copy(*p, values.data(), bytes, CopyKind::HostToDevice));
    return static_cast<T *>(*p);
  }
  template <typename T> std::vector<T> download(const T *ptr, std::size_t n) {
    std::vector<T> out(n);
    EXPECT_OK(
        device_.copy(out.data(), ptr, n * sizeof(T), CopyKind::DeviceToHost));
    return out;
  }

private:
  Device &device_;
  std::vector<std::pair<void *, std::size_t>> blocks_;
};

void checkCollectives(Communicator &comm, Device &device,
                      const std::string &what) {
  SCOPED_TRACE(what);
  Mirror mirror(device);
  int n = comm.size(), me = comm.rank();
  const std::vector<int> &members = comm.worldRanks();
  int myWorld = members[me];
  for (std::size_t count :
       {std::size_t(1), std::size_t(5), std::size_t(1031)}) {
    std::vector<float> v(count), expect(count), maxExpect(count);
    for (std::size_t i = 0; i < count; ++i) {
      v[i] = contribution(myWorld, i);
      float acc = contribution(members[0], i), mx = acc;
      for (int r = 1; r < n; ++r) {
        float x = contribution(members[r], i);
        acc = acc + x;
        mx = std::max(mx, x);
      }
      expect[i] = acc;
      maxExpect[i] = mx;
    }
    float *sum = mirror.upload(v), *max = mirror.upload(v);
    ASSERT_TRUE(sum && max);
    ASSERT_OK(comm.allReduce(sum, count, ReduceOp::Sum));
    ASSERT_OK(comm.allReduce(max, count, ReduceOp::Max));
    EXPECT_EQ(mirror.download(sum, count), expect) << "count " << count;
    EXPECT_EQ(mirror.download(max, count), maxExpect) << "count " << count;

    float *mine = mirror.upload(v);
    float *gathered = mirror.upload(std::vector<float>(count * n));
    ASSERT_OK(comm.allGather(mine, gathered, count));
    std::vector<float> all = mirror.download(gathered, count * n);
    for (int r = 0; r < n; ++r)
      for (std::size_t i = 0; i < count; ++i)
        ASSERT_EQ(all[r * count + i], contribution(members[r], i));

    std::vector<float> blocks(count * n);
    for (std::size_t i = 0; i < blocks.size(); ++i)
      blocks[i] = contribution(myWorld, i);
    float *blocksDev = mirror.upload(blocks);
    float *rs = mirror.upload(std::vector<float>(count));
    float *rsMax = mirror.upload(std::vector<float>(count));
    ASSERT_OK(comm.reduceScatter(blocksDev, rs, count, ReduceOp::Sum));
    ASSERT_OK(comm.reduceScatter(blocksDev, rsMax, count, ReduceOp::Max));
    std::vector<float> rsHost = mirror.download(rs, count);
    std::vector<float> rsMaxHost = mirror.download(rsMax, count);
    for (std::size_t i = 0; i < count; ++i) {
      std::size_t idx = me * count + i;
      float acc = contribution(members[0], idx), mx = acc;
      for (int r = 1; r < n; ++r) {
        acc = acc + contribution(members[r], idx);
        mx = std::max(mx, contribution(members[r], idx));
      }
      ASSERT_EQ(rsHost[i], acc);
      ASSERT_EQ(rsMaxHost[i], mx);
    }
  }

  for (int root = 0; root < n; ++root) {
    std::vector<float> b(9, -1.0f);
    if (me == root)
      for (int i = 0; i < 9; ++i)
        b[i] = contribution(members[root], i);
    float *bDev = mirror.upload(b);
    ASSERT_OK(comm.broadcast(bDev, 9, root));
    std::vector<float> got = mirror.download(bDev, 9);
    for (int i = 0; i < 9; ++i)
      ASSERT_EQ(got[i], contribution(members[root], i));
  }

  // Integer sums are exact; bf16 sums accumulate in f32 and round once.
  std::vector<std::int64_t> ints = {myWorld, 1LL << 40, -myWorld};
  std::int64_t *intsDev = mirror.upload(ints);
  ASSERT_OK(comm.allReduce(intsDev, 3, ReduceOp::Sum));
  std::int64_t worldSum = 0;
  for (int r : members)
    worldSum += r;
  EXPECT_EQ(mirror.download(intsDev, 3),
            (std::vector<std::int64_t>{worldSum, n * (1LL << 40), -worldSum}));
  std::vector<std::uint16_t> half = {floatToBf16(1.0f),
                                     floatToBf16(static_cast<float>(myWorld)),
                                     floatToBf16(1.0f / 512)};
  std::uint16_t *halfDev = mirror.upload(half);
  ASSERT_OK(comm.allReduce(halfDev, 3, DataType::BF16, ReduceOp::Sum));
  std::vector<std::uint16_t> halfSum = mirror.download(halfDev, 3);
  EXPECT_EQ(bf16ToFloat(halfSum[0]), static_cast<float>(n));
  EXPECT_EQ(halfSum[1], floatToBf16(static_cast<float>(worldSum)));
  EXPECT_EQ(halfSum[2], floatToBf16(n / 512.0f));

  if (n > 1) {
    // A ring: even ranks send first, odd ranks receive first.
    std::vector<float> out(17);
    for (int i = 0; i < 17; ++i)
      out[i] = contribution(myWorld, i);
    float *outDev = mirror.upload(out);
    float *inDev = mirror.upload(std::vector<float>(17));
    int next = (me + 1) % n, prev = (me + n - 1) % n;
    if (me % 2 == 0) {
      ASSERT_OK(comm.send(outDev, 17, next, 3));
      ASSERT_OK(comm.recv(inDev, 17, prev, 3));
    } else {
      ASSERT_OK(comm.recv(inDev, 17, prev, 3));
      ASSERT_OK(comm.send(outDev, 17, next, 3));
    }
    std::vector<float> in = mirror.download(inDev, 17);
    for (int i = 0; i < 17; ++i)
      ASSERT_EQ(in[i], contribution(members[prev], i));

    // Every rank sends two large messages first and overwrites its buffer
    // at once, then receives: what a 1F1B pipeline does between stages.
    const std::size_t big = 1 << 18;
    float *msg = mirror.upload(std::vector<float>(big));
    float *got = mirror.upload(std::vector<float>(big));
    for (int k = 0; k < 2; ++k) {
      ASSERT_OK(device.fill(msg, static_cast<unsigned char>(myWorld * 10 + k),
                            big * sizeof(float)));
      ASSERT_OK(comm.send(msg, big, next, 4));
    }
    ASSERT_OK(device.fill(msg, 0xff, big * sizeof(float)));
    for (int k = 0; k < 2; ++k) {
      ASSERT_OK(comm.recv(got, big, prev, 4));
      std::vector<unsigned char> bytes(big * sizeof(float));
      ASSERT_OK(
          device.copy(bytes.data(), got, bytes.size(), CopyKind::DeviceToHost));
      unsigned char want = static_cast<unsigned char>(members[prev] * 10 + k);
      ASSERT_EQ(bytes.front(), want);
      ASSERT_EQ(bytes.back(), want);
    }
    ASSERT_OK(comm.flushSends());
  }

  // Host buffers take the bootstrap path.
  auto strings = comm.allGatherStrings("rank" + std::to_string(myWorld));
  ASSERT_TRUE(strings.ok()) << strings.status().toString();
  for (int r = 0; r < n; ++r)
    EXPECT_EQ((*strings)[r], "rank" + std::to_string(members[r]));
  ASSERT_OK(comm.barrier());
}

} // namespace

TEST(NcclCollectives, WorldAndGroups) {
  Communicator &w = world();
  int devices = cudaDeviceCount();
  if (devices < w.size())
    GTEST_SKIP() << "needs a CUDA device per rank: " << devices << " for "
                 << w.size() << " ranks";
  auto ordinal = localDeviceOrdinalFromEnvironment(devices);
  ASSERT_TRUE(ordinal.ok()) << ordinal.status().toString();
  auto device = createDevice(DeviceKind::Cuda, *ordinal);
  ASSERT_TRUE(device.ok()) << device.status().toString();
  auto nccl = createNcclCommunicator(w, **device);
  ASSERT_TRUE(nccl.ok()) << nccl.status().toString();
  Communicator &comm = **nccl;
  EXPECT_STREQ(comm.backendName(), "nccl");
  EXPECT_EQ(comm.size(), w.size());
  EXPECT_EQ(comm.rank(), w.rank());
  checkCollectives(comm, **device, "world of " + std::to_string(w.size()));

  // The even and the odd ranks, and every rank with its successor.
  std::vector<int> parity;
  for (int r = w.rank() % 2; r < w.size(); r += 2)
    parity.push_back(r);
  auto group = comm.group(parity);
  ASSERT_TRUE(group.ok()) << group.status().toString();
  EXPECT_EQ((*group)->worldRanks(), parity);
  checkCollectives(**group, **device, "parity group");
  for (int first = 0; first + 1 < w.size(); ++first) {
    if (w.rank() != first && w.rank() != first + 1)
      continue;
    auto pair = comm.group({first, first + 1});
    ASSERT_TRUE(pair.ok()) << pair.status().toString();
    checkCollectives(**pair, **device, "pair " + std::to_string(first));
  }
}

//===- MpiCollectivesTest.cpp - Collectives on every group shape ----------===//
//
// Each rank computes what every collective must return from the members'
// contributions, which are a pure function of (world rank, index), and
// compares bit for bit: Sum reductions are defined to add in rank order.
//
//===----------------------------------------------------------------------===//

#include "MpiTestUtil.h"
#include "TestUtil.h"

#include "mimo/runtime/Philox.h"

#include <algorithm>
#include <cmath>

using namespace mimo::rt;
using mimo::rt::test::world;

namespace {
/// A value of varied magnitude so that the summation order matters.
float contribution(int worldRank, std::size_t i) {
  float scale = std::pow(10.0f, static_cast<float>(worldRank % 4) - 1.0f);
  return PhiloxStream(11, {static_cast<std::uint64_t>(worldRank)}).normal(i) *
         scale;
}

/// Runs every collective on `comm` and checks the results.
void checkCollectives(Communicator &comm, const std::string &what) {
  SCOPED_TRACE(what);
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
    std::vector<float> sum = v, max = v;
    ASSERT_OK(comm.allReduce(sum.data(), count, ReduceOp::Sum));
    ASSERT_OK(comm.allReduce(max.data(), count, ReduceOp::Max));
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_EQ(sum[i], expect[i]) << "count " << count << " i " << i;
      ASSERT_EQ(max[i], maxExpect[i]);
    }

    std::vector<float> gathered(count * n);
    ASSERT_OK(comm.allGather(v.data(), gathered.data(), count));
    for (int r = 0; r < n; ++r)
      for (std::size_t i = 0; i < count; ++i)
        ASSERT_EQ(gathered[r * count + i], contribution(members[r], i));

    // Reduce-scatter over n blocks of `count`: block b of rank r holds
    // contribution(r, b * count + i).
    std::vector<float> blocks(count * n), mine(count), mineMax(count);
    for (std::size_t i = 0; i < blocks.size(); ++i)
      blocks[i] = contribution(myWorld, i);
    ASSERT_OK(
        comm.reduceScatter(blocks.data(), mine.data(), count, ReduceOp::Sum));
    ASSERT_OK(comm.reduceScatter(blocks.data(), mineMax.data(), count,
                                 ReduceOp::Max));
    for (std::size_t i = 0; i < count; ++i) {
      std::size_t idx = me * count + i;
      float acc = contribution(members[0], idx), mx = acc;
      for (int r = 1; r < n; ++r) {
        acc = acc + contribution(members[r], idx);
        mx = std::max(mx, contribution(members[r], idx));
      }
      ASSERT_EQ(mine[i], acc);
      ASSERT_EQ(mineMax[i], mx);
    }
  }

  for (int root = 0; root < n; ++root) {
    std::vector<float> b(9, -1.0f);
    if (me == root)
      for (int i = 0; i < 9; ++i)
        b[i] = contribution(members[root], i);
    ASSERT_OK(comm.broadcast(b.data(), 9, root));
    for (int i = 0; i < 9; ++i)
      ASSERT_EQ(b[i], contribution(members[root], i));
  }

  // Integer and double reductions are exact.
  std::vector<std::int64_t> ints = {myWorld, 1LL << 40, -myWorld};
  ASSERT_OK(comm.allReduce(ints.data(), 3, ReduceOp::Sum));
  std::int64_t worldSum = 0;
  for (int r : members)
    worldSum += r;
  EXPECT_EQ(ints[0], worldSum);
  EXPECT_EQ(ints[1], n * (1LL << 40));
  EXPECT_EQ(ints[2], -worldSum);
  double d = 0.5 * myWorld;
  ASSERT_OK(comm.allReduce(&d, 1, ReduceOp::Max));
  EXPECT_EQ(d, 0.5 * members.back());

  // bf16 sums accumulate in f32 in rank order and round once: 1 + 2^-9
  // from each member is exact in f32 and rounds to one value everywhere.
  std::vector<std::uint16_t> half = {floatToBf16(1.0f),
                                     floatToBf16(static_cast<float>(myWorld)),
                                     floatToBf16(1.0f / 512)};
  ASSERT_OK(comm.allReduce(half.data(), 3, DataType::BF16, ReduceOp::Sum));
  EXPECT_EQ(bf16ToFloat(half[0]), static_cast<float>(n));
  EXPECT_EQ(half[1], floatToBf16(static_cast<float>(worldSum)));
  EXPECT_EQ(half[2], floatToBf16(n / 512.0f));
  std::uint16_t one = floatToBf16(1.0f);
  EXPECT_FALSE(comm.allReduce(&one, 1, DataType::BF16, ReduceOp::Max).ok());

  // A ring of send/recv: rank r sends to r+1 and receives from r-1.
  if (n > 1) {
    std::vector<float> out(17), in(17);
    for (int i = 0; i < 17; ++i)
      out[i] = contribution(myWorld, i);
    int next = (me + 1) % n, prev = (me + n - 1) % n;
    if (me % 2 == 0) {
      ASSERT_OK(comm.send(out.data(), 17, next, 3));
      ASSERT_OK(comm.recv(in.data(), 17, prev, 3));
    } else {
      ASSERT_OK(comm.recv(in.data(), 17, prev, 3));
      ASSERT_OK(comm.send(out.data(), 17, next, 3));
    }
    for (int i = 0; i < 17; ++i)
      ASSERT_EQ(in[i], contribution(members[prev], i));

    // Every rank sends first, two large messages on one tag (past any
    // eager limit) and overwrites its buffer at once, then receives: what
    // a 1F1B pipeline does between neighbouring stages. Blocking
    // rendezvous sends would deadlock here; messages of one tag arrive in
    // order.
    const std::size_t big = 1 << 18;
    std::vector<float> msg(big), got(big);
    for (int k = 0; k < 2; ++k) {
      std::fill(msg.begin(), msg.end(), float(myWorld * 10 + k));
      ASSERT_OK(comm.send(msg.data(), big, next, 4));
    }
    std::fill(msg.begin(), msg.end(), -1.0f);
    for (int k = 0; k < 2; ++k) {
      ASSERT_OK(comm.recv(got.data(), big, prev, 4));
      ASSERT_EQ(got.front(), float(members[prev] * 10 + k));
      ASSERT_EQ(got.back(), float(members[prev] * 10 + k));
    }
    ASSERT_OK(comm.flushSends());

    // Ring attention's exchange: post both receives, send, compute, then
    // wait, here in the reverse order of posting. The receive buffers fill
    // only by the waits; messages of different tags do not mix.
    std::vector<float> k(big), v(big), gotK(big, -1.0f), gotV(big, -1.0f);
    std::fill(k.begin(), k.end(), float(myWorld + 100));
    std::fill(v.begin(), v.end(), float(myWorld + 200));
    auto pk = comm.startRecv(gotK.data(), big, DataType::F32, prev, 5);
    auto pv = comm.startRecv(gotV.data(), big, DataType::F32, prev, 6);
    ASSERT_OK(pk.status());
    ASSERT_OK(pv.status());
    ASSERT_OK(comm.send(k.data(), big, next, 5));
    ASSERT_OK(comm.send(v.data(), big, next, 6));
    std::fill(k.begin(), k.end(), 0.0f); // the sends copied their data
    ASSERT_OK((*pv)->wait());
    ASSERT_OK((*pk)->wait());
    EXPECT_EQ(gotK.front(), float(members[prev] + 100));
    EXPECT_EQ(gotK.back(), float(members[prev] + 100));
    EXPECT_EQ(gotV.back(), float(members[prev] + 200));
    EXPECT_FALSE((*pk)->wait().ok());
    // A message shorter than the receive is an error of the wait.
    std::vector<float> wide(17);
    auto small = comm.startRecv(wide.data(), 17, DataType::F32, prev, 7);
    ASSERT_OK(small.status());
    ASSERT_OK(comm.send(out.data(), 16, next, 7));
    EXPECT_FALSE((*small)->wait().ok());
    EXPECT_FALSE(comm.startRecv(in.data(), 1, DataType::F32, n, 8).ok());
    EXPECT_FALSE(comm.startRecv(in.data(), 1, DataType::F32, prev, -1).ok());
    ASSERT_OK(comm.flushSends());
  }
  ASSERT_OK(comm.barrier());
}
} // namespace

TEST(MpiCollectives, World) {
  Communicator &w = world();
  EXPECT_STREQ(w.backendName(), "mpi");
  checkCollectives(w, "world of " + std::to_string(w.size()));
}

TEST(MpiCollectives, SumIsReproducible) {
  Communicator &w = world();
  std::vector<float> a(4099), b;
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = contribution(w.rank(), i) * 1e3f;
  b = a;
  ASSERT_OK(w.allReduce(a.data(), a.size(), ReduceOp::Sum));
  ASSERT_OK(w.allReduce(b.data(), b.size(), ReduceOp::Sum));
  EXPECT_EQ(a, b);
}

TEST(MpiCollectives, EveryGroupOfEveryGridShape) {
  Communicator &w = world();
  int n = w.size();
  int grids = 0;
  for (GridShape shape : test::gridShapes(n)) {
    auto grid = ProcessGrid::create(shape, n);
    ASSERT_TRUE(grid.ok());
    for (DimMask mask = 1; mask <= kAllDimsMask; ++mask) {
      auto ranks = grid->groupOf(w.rank(), mask);
      ASSERT_TRUE(ranks.ok());
      auto group = w.group(*ranks);
      ASSERT_TRUE(group.ok()) << group.status().toString();
      ASSERT_EQ((*group)->size(), static_cast<int>(ranks->size()));
      ASSERT_EQ((*group)->worldRanks(), *ranks);
      // The full collective suite on one mask per grid keeps the run short;
      // every mask gets the all-reduce check.
      if (mask == kTpMask || mask == kDpMask || mask == kModelParallelMask)
        checkCollectives(**group,
                         shape.toString() + " mask " + std::to_string(mask));
      std::vector<float> v = {contribution(w.rank(), 0)};
      ASSERT_OK((*group)->allReduce(v.data(), 1, ReduceOp::Sum));
      float acc = contribution((*ranks)[0], 0);
      for (std::size_t i = 1; i < ranks->size(); ++i)
        acc = acc + contribution((*ranks)[i], 0);
      ASSERT_EQ(v[0], acc) << shape.toString() << " mask " << mask;
    }
    ++grids;
  }
  EXPECT_GT(grids, 0);
  // Cached: asking again returns the same communicator.
  auto g1 = w.group({w.rank()});
  auto g2 = w.group({w.rank()});
  ASSERT_TRUE(g1.ok() && g2.ok());
  EXPECT_EQ(*g1, *g2);
}

TEST(MpiCollectives, StringsAndErrors) {
  Communicator &w = world();
  auto all = w.allGatherStrings(std::string(w.rank(), 'x'));
  ASSERT_TRUE(all.ok());
  for (int r = 0; r < w.size(); ++r)
    EXPECT_EQ((*all)[r], std::string(r, 'x'));
  std::string s = w.rank() == 0 ? "from root" : "";
  ASSERT_OK(w.broadcastString(s, 0));
  EXPECT_EQ(s, "from root");
  float x = 0;
  EXPECT_FALSE(w.broadcast(&x, 1, w.size()).ok());
  EXPECT_FALSE(w.send(&x, 1, -1, 0).ok());
  EXPECT_FALSE(w.group({w.size()}).ok());
  if (w.size() > 1)
    EXPECT_FALSE(w.group({(w.rank() + 1) % w.size()}).ok())
        << "a group without the caller";
}

//===- CommunicatorTest.cpp - The single-process backend ------------------===//

#include "mimo/runtime/Communicator.h"
#include "TestUtil.h"

using namespace mimo::rt;

TEST(SelfCommunicator, CollectivesAreIdentities) {
  auto comm = createSelfCommunicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_STREQ(comm->backendName(), "self");
  std::vector<float> v = {1, 2, 3};
  ASSERT_OK(comm->allReduce(v.data(), 3, ReduceOp::Sum));
  EXPECT_EQ(v, (std::vector<float>{1, 2, 3}));
  std::vector<float> out(3);
  ASSERT_OK(comm->allGather(v.data(), out.data(), 3));
  EXPECT_EQ(out, v);
  std::vector<double> rs(2);
  double in[2] = {4, 5};
  ASSERT_OK(comm->reduceScatter(in, rs.data(), 2, ReduceOp::Max));
  EXPECT_EQ(rs, (std::vector<double>{4, 5}));
  ASSERT_OK(comm->broadcast(v.data(), 3, 0));
  EXPECT_FALSE(comm->broadcast(v.data(), 3, 1).ok());
  ASSERT_OK(comm->barrier());
  std::uint8_t bytes[2] = {};
  EXPECT_FALSE(comm->allReduce(bytes, 2, DataType::U8, ReduceOp::Sum).ok());
}

TEST(SelfCommunicator, SendToSelfIsQueued) {
  auto comm = createSelfCommunicator();
  std::int64_t a[2] = {7, 8}, b[2] = {};
  ASSERT_OK(comm->send(a, 2, 0, 5));
  EXPECT_FALSE(comm->recv(b, 2, 0, 6).ok()) << "no message with that tag";
  ASSERT_OK(comm->recv(b, 2, 0, 5));
  EXPECT_EQ(b[1], 8);
  EXPECT_FALSE(comm->send(a, 2, 1, 5).ok());
}

TEST(SelfCommunicator, StartedReceiveCompletesInWait) {
  auto comm = createSelfCommunicator();
  float a[3] = {1, 2, 3}, b[3] = {};
  // Posted before its send, as ring attention does; the default backend
  // receives inside wait().
  auto pending = comm->startRecv(b, 3, DataType::F32, 0, 9);
  ASSERT_OK(pending.status());
  ASSERT_OK(comm->send(a, 3, 0, 9));
  a[2] = 0;
  ASSERT_OK((*pending)->wait());
  EXPECT_EQ(b[2], 3.0f);
  EXPECT_FALSE((*pending)->wait().ok()) << "a second wait";
  EXPECT_FALSE(comm->startRecv(b, 3, DataType::F32, 1, 9).ok());
  EXPECT_FALSE(comm->startRecv(b, 3, DataType::F32, 0, -2).ok());
}

TEST(SelfCommunicator, GroupsAndStrings) {
  auto comm = createSelfCommunicator();
  auto g = comm->group({0});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g, comm.get()); // the whole communicator is itself
  EXPECT_FALSE(comm->group({}).ok());
  EXPECT_FALSE(comm->group({1}).ok());
  EXPECT_EQ(*comm->groupOfWorldRanks({0}), comm.get());
  auto all = comm->allGatherStrings("hello");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, std::vector<std::string>{"hello"});
  std::string s = "x";
  ASSERT_OK(comm->broadcastString(s, 0));
  EXPECT_EQ(s, "x");
}

TEST(WorldCommunicator, WorldOfOneWithoutLauncher) {
  if (runtimeHasMpi())
    GTEST_SKIP() << "covered by the MPI singleton test";
  auto world = createWorldCommunicator(nullptr, nullptr);
  ASSERT_TRUE(world.ok()) << world.status().toString();
  EXPECT_EQ((*world)->size(), 1);
}

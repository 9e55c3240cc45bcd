//===- BridgeLocalTest.cpp - The bridge in a world of one -----------------===//
//
// Every layout at world = 1 is a pass-through; argument checks need no
// peers. Multi-rank shapes are in MpiBridgeTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"
#include "mimo/runtime/Bridge.h"

using namespace mimo::rt;

TEST(BridgeLocal, WorldOfOneIsPassThrough) {
  auto comm = createSelfCommunicator();
  auto g = ProcessGrid::create({1, 1, 1, 1}, 1);
  for (LayoutKind k : {LayoutKind::Homogeneous, LayoutKind::Colocated}) {
    auto b = Bridge::create(*comm, k, *g, *g, 3, 2);
    ASSERT_TRUE(b.ok()) << b.status().toString();
    EXPECT_EQ(b->mode(), BridgeMode::PassThrough);
    std::vector<float> in = {1, 2, 3, 4, 5, 6}, out(6), back(6);
    ASSERT_OK(b->forward(in.data(), out.data()));
    EXPECT_EQ(out, in);
    ASSERT_OK(b->backward(out.data(), back.data()));
    EXPECT_EQ(back, in);
    EXPECT_EQ(b->llmRowRange(), (std::pair<std::int64_t, std::int64_t>{0, 3}));
  }
}

TEST(BridgeLocal, ArgumentChecks) {
  auto comm = createSelfCommunicator();
  auto g = ProcessGrid::create({1, 1, 1, 1}, 1);
  auto g2 = ProcessGrid::create({1, 1, 1, 2}, 2);
  EXPECT_FALSE(Bridge::create(*comm, LayoutKind::Colocated, *g2, *g2, 4, 2)
                   .ok()); // world mismatch
  EXPECT_FALSE(Bridge::create(*comm, LayoutKind::Colocated, *g, *g, 4, 0).ok());
  EXPECT_FALSE(
      Bridge::create(*comm, LayoutKind::Disaggregated, *g, *g, 4, 2).ok());
  auto b = Bridge::create(*comm, LayoutKind::Colocated, *g, *g, 4, 2);
  ASSERT_TRUE(b.ok());
  std::vector<float> x(8);
  EXPECT_FALSE(b->forward(nullptr, x.data()).ok());
  EXPECT_FALSE(b->backward(x.data(), nullptr).ok());
  EXPECT_STREQ(bridgeModeName(BridgeMode::FanIn), "fan-in");
}

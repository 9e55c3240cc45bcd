//===- CollectivesTest.cpp - Group placement and collective times ---------===//

#include "mimo/Planner/Collectives.h"

#include <gtest/gtest.h>

using namespace mimo::planner;

namespace {

TEST(Collectives, GridRankOrderIsTpFastest) {
  Grid g{0, 2, 2, 2, 2};
  EXPECT_EQ(g.rank(1, 0, 0, 0), 1);
  EXPECT_EQ(g.rank(0, 1, 0, 0), 2);
  EXPECT_EQ(g.rank(0, 0, 1, 0), 4);
  EXPECT_EQ(g.rank(0, 0, 0, 1), 8);
  Grid off{16, 4, 1, 1, 2};
  EXPECT_EQ(off.rank(3, 0, 0, 1), 16 + 3 + 4);
}

TEST(Collectives, PlacementDecidesTheLink) {
  // tp=8 on 8-GPU nodes stays in a node; its dp group crosses nodes.
  Grid g{0, 8, 1, 1, 4};
  EXPECT_FALSE(groupCrossesNodes(g, GridDim::TP, 8));
  EXPECT_TRUE(groupCrossesNodes(g, GridDim::DP, 8));
  // tp=4, dp=2 on 8 GPUs: everything inside one node.
  Grid small{0, 4, 1, 1, 2};
  EXPECT_FALSE(groupCrossesNodes(small, GridDim::DP, 8));
  // A span starting mid-node: tp=8 straddles two nodes.
  Grid shifted{4, 8, 1, 1, 1};
  EXPECT_TRUE(groupCrossesNodes(shifted, GridDim::TP, 8));
  Hardware hw;
  hw.nvlinkBandwidth = 450e9;
  hw.nvlinkEfficiency = 0.8;
  hw.networkBandwidth = 50e9;
  hw.networkEfficiency = 0.9;
  EXPECT_DOUBLE_EQ(groupLink(hw, g, GridDim::TP, 8).bandwidth, 360e9);
  EXPECT_DOUBLE_EQ(groupLink(hw, g, GridDim::DP, 8).bandwidth, 45e9);
}

TEST(Collectives, RingFactors) {
  Link l{100e9, 0};
  double bytes = 1e9;
  // All-reduce moves 2(n-1)/n of the tensor; gather/scatter (n-1)/n.
  EXPECT_DOUBLE_EQ(collectiveSeconds(Collective::AllReduce, bytes, 4, l),
                   2.0 * 3 / 4 * bytes / 100e9);
  EXPECT_DOUBLE_EQ(collectiveSeconds(Collective::AllGather, bytes, 8, l),
                   7.0 / 8 * bytes / 100e9);
  EXPECT_DOUBLE_EQ(collectiveSeconds(Collective::ReduceScatter, bytes, 2, l),
                   0.5 * bytes / 100e9);
  EXPECT_DOUBLE_EQ(collectiveSeconds(Collective::Broadcast, bytes, 4, l),
                   bytes / 100e9);
  EXPECT_DOUBLE_EQ(collectiveSeconds(Collective::AllReduce, bytes, 1, l), 0);
  Link lat{100e9, 1e-5};
  EXPECT_DOUBLE_EQ(collectiveSeconds(Collective::AllReduce, 0, 8, lat), 0);
  EXPECT_DOUBLE_EQ(collectiveSeconds(Collective::AllReduce, 8, 8, lat),
                   14 * 1e-5 + 2.0 * 7 / 8 * 8 / 100e9);
  EXPECT_DOUBLE_EQ(collectiveSeconds(Collective::P2P, bytes, 2, lat),
                   1e-5 + bytes / 100e9);
}

} // namespace

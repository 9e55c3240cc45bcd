//===- ProcessGridTest.cpp ------------------------------------------------===//

#include "mimo/runtime/ProcessGrid.h"
#include "TestUtil.h"

#include <algorithm>

using namespace mimo::rt;

TEST(ProcessGrid, RankFormulaTpFastest) {
  auto g = ProcessGrid::create({2, 3, 2, 2}, 4, 24, 30, "llm");
  ASSERT_TRUE(g.ok()) << g.status().toString();
  for (int dp = 0; dp < 2; ++dp)
    for (int pp = 0; pp < 2; ++pp)
      for (int cp = 0; cp < 3; ++cp)
        for (int tp = 0; tp < 2; ++tp) {
          int rank = 4 + tp + 2 * (cp + 3 * (pp + 2 * dp));
          GridCoord c{tp, cp, pp, dp};
          EXPECT_EQ(g->rankOf(c), rank);
          auto back = g->coordOf(rank);
          ASSERT_TRUE(back.ok());
          EXPECT_TRUE(*back == c);
        }
  EXPECT_FALSE(g->coordOf(3).ok());
  EXPECT_FALSE(g->coordOf(28).ok());
  EXPECT_EQ(g->modelParallelSize(), 12);
}

TEST(ProcessGrid, GroupsAlongDims) {
  auto g = ProcessGrid::create({2, 1, 2, 2}, 8);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g->groupOf(5, kTpMask), (std::vector<int>{4, 5}));
  EXPECT_EQ(*g->groupOf(5, kPpMask), (std::vector<int>{5, 7}));
  EXPECT_EQ(*g->groupOf(5, kDpMask), (std::vector<int>{1, 5}));
  EXPECT_EQ(*g->groupOf(5, kModelParallelMask), (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(*g->groupOf(5, kTpMask | kDpMask), (std::vector<int>{0, 1, 4, 5}));
  EXPECT_EQ(*g->groupOf(5, 0), (std::vector<int>{5}));
  EXPECT_EQ(g->groupOf(5, kAllDimsMask)->size(), 8u);
}

TEST(ProcessGrid, AllGroupsPartitionTheGrid) {
  auto g = ProcessGrid::create({2, 2, 1, 3}, 2, 12, 16);
  ASSERT_TRUE(g.ok());
  for (DimMask mask = 0; mask <= kAllDimsMask; ++mask) {
    auto groups = g->allGroups(mask);
    std::vector<int> seen;
    for (const auto &grp : groups) {
      EXPECT_TRUE(std::is_sorted(grp.begin(), grp.end()));
      for (int r : grp) {
        seen.push_back(r);
        EXPECT_EQ(*g->groupOf(r, mask), grp);
      }
    }
    std::sort(seen.begin(), seen.end());
    std::vector<int> expect(12);
    for (int i = 0; i < 12; ++i)
      expect[i] = 2 + i;
    EXPECT_EQ(seen, expect) << "mask " << mask;
  }
}

TEST(ProcessGrid, ValidationErrorsSayWhatIsWrong) {
  auto product = ProcessGrid::create({2, 1, 1, 3}, 0, 8, 8, "vision");
  ASSERT_FALSE(product.ok());
  EXPECT_NE(product.status().message().find("vision"), std::string::npos);
  EXPECT_NE(product.status().message().find("(8)"), std::string::npos)
      << product.status().message();
  auto outside = ProcessGrid::create({1, 1, 1, 4}, 6, 4, 8);
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.status().message().find("[6, 10)"), std::string::npos)
      << outside.status().message();
  auto zero = ProcessGrid::create({0, 1, 1, 4}, 4);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("tp (0)"), std::string::npos)
      << zero.status().message();
  auto neg = ProcessGrid::create({1, 1, -2, 4}, 4);
  EXPECT_NE(neg.status().message().find("pp (-2)"), std::string::npos);
}

TEST(ProcessGrid, ToString) {
  auto g = ProcessGrid::create({1, 1, 1, 8}, 8, "vision");
  EXPECT_EQ(g->toString(), "vision: tp=1 cp=1 pp=1 dp=8 over ranks [0, 8)");
}

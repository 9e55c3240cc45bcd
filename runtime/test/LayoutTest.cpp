//===- LayoutTest.cpp -----------------------------------------------------===//

#include "mimo/runtime/Layout.h"
#include "TestUtil.h"

using namespace mimo::rt;

namespace {
ProcessGrid grid(GridShape s, int offset, int size, int world) {
  return *ProcessGrid::create(s, offset, size, world);
}
} // namespace

TEST(Layout, Homogeneous) {
  auto ok = Layout::create(LayoutKind::Homogeneous, 8,
                           {{"vision", grid({2, 1, 1, 4}, 0, 8, 8)},
                            {"llm", grid({2, 1, 1, 4}, 0, 8, 8)}});
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_EQ(ok->modulesOn(3).size(), 2u);
  auto bad = Layout::create(LayoutKind::Homogeneous, 8,
                            {{"vision", grid({1, 1, 1, 8}, 0, 8, 8)},
                             {"llm", grid({2, 1, 1, 4}, 0, 8, 8)}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("same grid"), std::string::npos);
}

TEST(Layout, ColocatedGridsSpanTheWorld) {
  auto ok = Layout::create(LayoutKind::Colocated, 8,
                           {{"vision", grid({1, 1, 1, 8}, 0, 8, 8)},
                            {"llm", grid({2, 1, 2, 2}, 0, 8, 8)}});
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_EQ(ok->grid("llm")->tp(), 2);
  EXPECT_EQ(ok->grid("audio"), nullptr);
  auto bad = Layout::create(LayoutKind::Colocated, 8,
                            {{"vision", grid({1, 1, 1, 4}, 0, 4, 8)},
                             {"llm", grid({2, 1, 2, 2}, 0, 8, 8)}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'vision'"), std::string::npos);
  EXPECT_NE(bad.status().message().find("whole world"), std::string::npos);
}

TEST(Layout, DisaggregatedSpansAreDisjoint) {
  auto ok = Layout::create(LayoutKind::Disaggregated, 8,
                           {{"vision", grid({1, 1, 1, 2}, 0, 2, 8)},
                            {"llm", grid({2, 1, 1, 3}, 2, 6, 8)}});
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_EQ(ok->modulesOn(1), std::vector<std::string>{"vision"});
  EXPECT_EQ(ok->modulesOn(2), std::vector<std::string>{"llm"});
  auto bad = Layout::create(LayoutKind::Disaggregated, 8,
                            {{"vision", grid({1, 1, 1, 4}, 0, 4, 8)},
                             {"llm", grid({2, 1, 1, 3}, 2, 6, 8)}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("overlap"), std::string::npos);
}

TEST(Layout, RejectsDuplicatesAndWorldMismatch) {
  EXPECT_FALSE(Layout::create(LayoutKind::Colocated, 4,
                              {{"a", grid({1, 1, 1, 4}, 0, 4, 4)},
                               {"a", grid({1, 1, 1, 4}, 0, 4, 4)}})
                   .ok());
  EXPECT_FALSE(Layout::create(LayoutKind::Colocated, 8,
                              {{"a", grid({1, 1, 1, 4}, 0, 4, 4)}})
                   .ok());
  EXPECT_FALSE(Layout::create(LayoutKind::Colocated, 8, {}).ok());
  EXPECT_EQ(parseLayoutKind("disaggregated"), LayoutKind::Disaggregated);
  EXPECT_FALSE(parseLayoutKind("mixed").has_value());
}

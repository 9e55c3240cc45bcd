//===- NestingTest.cpp - mimo-opt's input nesting bound -------------------===//

#include "mimo/Support/Nesting.h"

#include <gtest/gtest.h>

#include <string>

using mimo::bracketNestingDepth;

TEST(Nesting, CountsBracketsOfEveryKind) {
  EXPECT_EQ(bracketNestingDepth(""), 0);
  EXPECT_EQ(bracketNestingDepth("module {}"), 1);
  EXPECT_EQ(bracketNestingDepth("f(tensor<4xf32>) {[x]}"), 2);
  EXPECT_EQ(bracketNestingDepth("{ a = [[[1]]] }"), 4);
}

TEST(Nesting, SkipsStringsAndComments) {
  EXPECT_EQ(bracketNestingDepth(R"(x = "[[[[\"[[" // {{{{
y)"),
            0);
  EXPECT_EQ(bracketNestingDepth("// [[[[[\n[]"), 1);
}

TEST(Nesting, ArrowsOnlyLowerTheCount) {
  // "->" closes nothing that was opened; the bound never exceeds the truth.
  EXPECT_EQ(bracketNestingDepth("(a) -> (b)"), 1);
  EXPECT_EQ(bracketNestingDepth("[ -> [[ ]] ]"), 2);
}

TEST(Nesting, DeepInputIsMeasured) {
  std::string deep = std::string(20000, '[') + std::string(20000, ']');
  EXPECT_EQ(bracketNestingDepth(deep), 20000);
  EXPECT_GT(bracketNestingDepth(deep), mimo::kMaxIRNesting);
}

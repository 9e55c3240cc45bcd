//===- StatusTest.cpp -----------------------------------------------------===//

#include "mimo/runtime/Status.h"

#include <gtest/gtest.h>

using namespace mimo::rt;

namespace {
StatusOr<int> half(int v) {
  if (v % 2)
    return invalidArgument("odd value " + std::to_string(v));
  return v / 2;
}
StatusOr<int> quarter(int v) {
  MIMO_ASSIGN_OR_RETURN(int h, half(v));
  return half(h);
}
Status check(int v) {
  MIMO_RETURN_IF_ERROR(quarter(v).status());
  return Status::success();
}
} // namespace

TEST(Status, CarriesCodeAndMessage) {
  Status s = dataLoss("x.safetensors: truncated");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::DataLoss);
  EXPECT_EQ(s.toString(), "data loss: x.safetensors: truncated");
  EXPECT_EQ(s.withContext("loading").message(),
            "loading: x.safetensors: truncated");
  EXPECT_EQ(Status::success().toString(), "ok");
  EXPECT_EQ(aborted("peer").code(), StatusCode::Aborted);
}

TEST(Status, MacrosPropagate) {
  EXPECT_EQ(*quarter(8), 2);
  EXPECT_EQ(quarter(6).status().message(), "odd value 3");
  EXPECT_TRUE(check(4).ok());
  EXPECT_EQ(check(2).code(), StatusCode::InvalidArgument);
}

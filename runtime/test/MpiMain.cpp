//===- MpiMain.cpp - GoogleTest main for the multi-rank tests -------------===//
//
// Every rank runs every test; rank 0 prints the usual report and the other
// ranks print only their failures, prefixed with the rank. mpirun's exit
// status is non-zero if any rank failed.
//
//===----------------------------------------------------------------------===//

#include "MpiTestUtil.h"

#include "mimo/runtime/Fatal.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace {
mimo::rt::Communicator *gWorld = nullptr;

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult &r) override {
    if (r.failed())
      std::fprintf(stderr, "rank %d: %s:%d: %s\n", rank_,
                   r.file_name() ? r.file_name() : "?", r.line_number(),
                   r.summary());
  }

private:
  int rank_;
};
} // namespace

mimo::rt::Communicator &mimo::rt::test::world() { return *gWorld; }

int main(int argc, char **argv) {
  auto world = mimo::rt::createWorldCommunicator(&argc, &argv);
  if (!world.ok()) {
    std::fprintf(stderr, "%s\n", world.status().toString().c_str());
    return 1;
  }
  gWorld = world->get();
  ::testing::InitGoogleTest(&argc, argv);
  if (gWorld->rank() != 0) {
    auto &listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(gWorld->rank()));
  }
  int rc = RUN_ALL_TESTS();
  return rc;
}

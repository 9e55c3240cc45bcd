//===- FatalProbe.cpp - One rank fails, the job must end ------------------===//
//
// Rank 1 calls fatal() while the other ranks wait in a barrier that can
// never complete; the test passes only if mpirun returns non-zero quickly.
//
//===----------------------------------------------------------------------===//

#include "mimo/runtime/Communicator.h"
#include "mimo/runtime/Fatal.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

using namespace mimo::rt;

int main(int argc, char **argv) {
  auto world = createWorldCommunicator(&argc, &argv);
  if (!world.ok()) {
    std::fprintf(stderr, "%s\n", world.status().toString().c_str());
    return 2;
  }
  if ((*world)->rank() == 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    fatal(std::string("injected failure"));
  }
  MIMO_CHECK_OK((*world)->barrier());
  std::fprintf(stderr, "rank %d: barrier completed, abort did not happen\n",
               (*world)->rank());
  return 0;
}

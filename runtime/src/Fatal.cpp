//===- Fatal.cpp - Abort the whole job ------------------------------------===//

#include "mimo/runtime/Fatal.h"
#include "mimo/runtime/Communicator.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace mimo::rt {

namespace {
std::atomic<Communicator *> gFatalComm{nullptr};
} // namespace

void setFatalCommunicator(Communicator *comm) { gFatalComm.store(comm); }
Communicator *fatalCommunicator() { return gFatalComm.load(); }

void fatal(const std::string &message) {
  Communicator *comm = gFatalComm.load();
  if (comm) {
    int worldRank = comm->worldRanks()[comm->rank()];
    std::fprintf(stderr, "rank %d: %s\n", worldRank, message.c_str());
  } else {
    std::fprintf(stderr, "error: %s\n", message.c_str());
  }
  std::fflush(stderr);
  std::fflush(stdout);
  // abort() tears down every rank (MPI_Abort), so no peer is left waiting in
  // a collective for this one.
  if (comm)
    comm->abort(1);
  std::exit(1);
}

void fatal(const Status &status) { fatal(status.toString()); }

} // namespace mimo::rt

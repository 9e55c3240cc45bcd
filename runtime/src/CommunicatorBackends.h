//===- CommunicatorBackends.h - Backend factories (internal) ----*- C++ -*-===//

#ifndef MIMO_RUNTIME_SRC_COMMUNICATORBACKENDS_H
#define MIMO_RUNTIME_SRC_COMMUNICATORBACKENDS_H

#include "mimo/runtime/Communicator.h"

namespace mimo::rt::detail {

/// A communicator of one process whose world rank is `worldRank`.
std::unique_ptr<Communicator> createSelf(int worldRank);

#ifdef MIMO_RUNTIME_HAS_MPI
/// MPI_COMM_WORLD, initializing MPI if nobody did.
StatusOr<std::unique_ptr<Communicator>> createMpiWorld(int *argc, char ***argv);
#endif

/// Checks shared by the backends.
Status checkRank(const Communicator &comm, int rank, const char *what);
/// Sum over every float and integer type (bf16 accumulated in f32); max
/// over all but bf16.
Status checkReducible(DataType type, ReduceOp op = ReduceOp::Sum);

} // namespace mimo::rt::detail

#endif // MIMO_RUNTIME_SRC_COMMUNICATORBACKENDS_H

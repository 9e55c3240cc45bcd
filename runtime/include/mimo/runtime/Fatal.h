//===- Fatal.h - Abort the whole job on an unrecoverable error --*- C++ -*-===//
//
// A trainer that hits an error on one rank must not leave the other ranks
// blocked in a collective. fatal() prints "rank R: <message>" and aborts the
// whole job through the registered world communicator (MPI_Abort under MPI),
// so every rank exits non-zero within seconds.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_FATAL_H
#define MIMO_RUNTIME_FATAL_H

#include "mimo/runtime/Status.h"

#include <string>

namespace mimo::rt {

class Communicator;

/// Registers the communicator whose abort() ends the job and whose rank
/// prefixes fatal messages. Pass nullptr to unregister. World communicators
/// created by createWorldCommunicator() register themselves.
void setFatalCommunicator(Communicator *comm);
Communicator *fatalCommunicator();

/// Prints "rank R: <message>" to stderr and ends the whole job with exit
/// status 1. Never returns.
[[noreturn]] void fatal(const std::string &message);
[[noreturn]] void fatal(const Status &status);

} // namespace mimo::rt

/// Ends the job if `expr` (a Status) failed.
#define MIMO_CHECK_OK(expr)                                                    \
  do {                                                                         \
    ::mimo::rt::Status mimo_check_status_ = (expr);                            \
    if (!mimo_check_status_.ok())                                              \
      ::mimo::rt::fatal(mimo_check_status_);                                   \
  } while (0)

#endif // MIMO_RUNTIME_FATAL_H

//===- MpiTestUtil.h - Shared state of the MPI test binary ------*- C++ -*-===//

#ifndef MIMO_RUNTIME_TEST_MPITESTUTIL_H
#define MIMO_RUNTIME_TEST_MPITESTUTIL_H

#include "mimo/runtime/Communicator.h"
#include "mimo/runtime/ProcessGrid.h"

#include <vector>

namespace mimo::rt::test {

/// The world communicator, created by MpiMain.cpp.
Communicator &world();

/// Every ordered (tp, cp, pp, dp) with product `n`; cp = 1 only if asked.
inline std::vector<GridShape> gridShapes(int n, bool cpOne = false) {
  std::vector<GridShape> out;
  for (int tp = 1; tp <= n; ++tp)
    for (int cp = 1; cp <= (cpOne ? 1 : n); ++cp)
      for (int pp = 1; pp <= n; ++pp)
        if (n % (tp * cp * pp) == 0)
          out.push_back({tp, cp, pp, n / (tp * cp * pp)});
  return out;
}

} // namespace mimo::rt::test

#endif // MIMO_RUNTIME_TEST_MPITESTUTIL_H

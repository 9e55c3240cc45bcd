//===- Nesting.h - How deep an IR text nests --------------------*- C++ -*-===//
//
// MLIR's parser recurses once per level of nested attributes and types, so a
// file of a few thousand '[' overflows the stack (found by fuzz-mimo-ir).
// mimo-opt measures the nesting first and refuses what no real IR reaches.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_SUPPORT_NESTING_H
#define MIMO_SUPPORT_NESTING_H

#include "llvm/ADT/StringRef.h"

#include <algorithm>

namespace mimo {

/// The deepest nesting mimo-opt hands to the parser.
inline constexpr int kMaxIRNesting = 512;

/// The nesting depth of ( [ { < outside string literals and // comments (an
/// upper bound is all that matters: "->" only lowers it).
inline int bracketNestingDepth(llvm::StringRef text) {
  int depth = 0, deepest = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == llvm::StringRef::npos)
        break;
    } else if (c == '(' || c == '[' || c == '{' || c == '<') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ')' || c == ']' || c == '}' || c == '>') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

} // namespace mimo

#endif // MIMO_SUPPORT_NESTING_H

//===- JsonObject.h - Parse a JSON object for the importers -----*- C++ -*-===//
//
// Internal to lib/Spec: the spec and Hugging Face importers both start from
// a JSON object and report syntax errors the same way.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_LIB_SPEC_JSONOBJECT_H
#define MIMO_LIB_SPEC_JSONOBJECT_H

#include "mimo/Spec/SpecImport.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mimo::spec {

/// Parses `text` into `out`, which must be a JSON object. Otherwise appends
/// "invalid JSON: parse error at line L, column C: ..." or "expected a JSON
/// object" to `errors` and returns false.
bool parseJsonObject(const std::string &text, nlohmann::json &out,
                     std::vector<SpecError> &errors);

} // namespace mimo::spec

#endif // MIMO_LIB_SPEC_JSONOBJECT_H

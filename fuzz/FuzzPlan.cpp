//===- FuzzPlan.cpp - libFuzzer target: plan.json -------------------------===//
//
// Any bytes as plan.json: parse; a parsed plan must write and parse back to
// the same JSON.
//
//===----------------------------------------------------------------------===//

#include "mimo/Planner/Plan.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  mimo::planner::Plan plan;
  std::string error;
  if (!mimo::planner::parsePlan(text, "fuzz.json", plan, error))
    return 0;
  std::string written = mimo::planner::planToJson(plan);
  mimo::planner::Plan again;
  if (!mimo::planner::parsePlan(written, "written.json", again, error) ||
      mimo::planner::planToJson(again) != written)
    __builtin_trap(); // writing a plan must round-trip
  return 0;
}

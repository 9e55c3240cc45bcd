//===- FuzzHfConfig.cpp - libFuzzer target: Hugging Face config import ----===//
//
// Any bytes as a LLaVA-style config.json: convert to a spec; a converted
// spec must print and parse back.
//
//===----------------------------------------------------------------------===//

#include "mimo/Spec/Spec.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  std::vector<mimo::spec::SpecError> errors;
  mimo::spec::HfImportOptions options;
  options.name = "fuzz";
  std::optional<mimo::spec::Spec> spec =
      mimo::spec::importHfConfig(text, options, errors);
  if (!spec)
    return 0;
  std::vector<mimo::spec::SpecError> again;
  if (!mimo::spec::parseSpec(mimo::spec::writeSpec(*spec), {}, again))
    __builtin_trap(); // a converted spec must be a valid spec
  return 0;
}

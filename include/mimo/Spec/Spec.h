//===- Spec.h - The v1 model spec as plain data -----------------*- C++ -*-===//
//
// The validated content of a `"mimo_spec": 1` file (INTERFACES.md). Parsing
// and validation live in lib/Spec/SpecParser.cpp; building IR from it in
// lib/Spec/SpecImport.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_SPEC_SPEC_H
#define MIMO_SPEC_SPEC_H

#include "mimo/Spec/SpecImport.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mimo::spec {

enum class ModuleKindSpec { Vit, Mlp, Decoder };

struct ModuleSpec {
  std::string name;
  ModuleKindSpec kind = ModuleKindSpec::Vit;
  int64_t layers = 0;
  int64_t hidden = 0;
  int64_t heads = 0;
  int64_t kvHeads = 0;
  int64_t ffnHidden = 0;
  std::string activation = "gelu"; ///< gelu | swiglu
  std::string norm = "layernorm";  ///< layernorm | rmsnorm
  double normEps = 1e-5;
  bool bias = true;
  // vit
  int64_t imageSize = 0;
  int64_t patchSize = 0;
  int64_t channels = 3;
  int64_t classTokens = 0;
  int64_t itemsPerSample = 0; ///< images this encoder sees per sample
  // mlp
  std::string input;
  std::string output;
  int64_t placeholderId = -1; ///< token id marking this encoder's positions
  // decoder
  std::string position = "rope"; ///< rope | learned
  double ropeTheta = 10000.0;
  int64_t vocab = 0;
  bool tieEmbeddings = false;

  int64_t tokensPerItem() const {
    int64_t side = patchSize > 0 ? imageSize / patchSize : 0;
    return side * side + classTokens;
  }
};

struct OptimizerSpec {
  std::string kind = "adamw"; ///< adam | adamw
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weightDecay = 0.0;
  double gradClip = 1.0; ///< 0 disables clipping
};

struct Spec {
  std::string name;
  std::vector<ModuleSpec> modules;
  int64_t seqLen = 0;
  int64_t imagesPerSample = 0;
  int64_t globalBatchSize = 0;
  std::string precision = "bf16"; ///< bf16 | fp16 | fp32
  OptimizerSpec optimizer;
  int64_t seed = 1234;

  const ModuleSpec *find(const std::string &name) const {
    for (const ModuleSpec &m : modules)
      if (m.name == name)
        return &m;
    return nullptr;
  }
};

/// Parses and validates spec JSON text. On failure `errors` lists every
/// problem found (path + message) and the result is std::nullopt.
std::optional<Spec> parseSpec(const std::string &text,
                              const ImportOptions &options,
                              std::vector<SpecError> &errors);

/// Writes a spec back as v1 JSON (pretty-printed), e.g. after HF import.
std::string writeSpec(const Spec &spec);

/// Converts a Hugging Face LLaVA-style config.json (vision_config +
/// text_config) into a spec.
struct HfImportOptions {
  std::string name;
  int64_t seqLen = 0; ///< 0: the text model's max_position_embeddings
  int64_t imagesPerSample = 1;
  int64_t globalBatchSize = 256;
};
std::optional<Spec> importHfConfig(const std::string &text,
                                   const HfImportOptions &options,
                                   std::vector<SpecError> &errors);

} // namespace mimo::spec

#endif // MIMO_SPEC_SPEC_H

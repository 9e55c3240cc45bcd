//===- ModelProfile.h - A model as the planner sees it ----------*- C++ -*-===//
//
// Plain data extracted from `mimo` IR (see mimo/Spec/Profile.h): modules in
// dataflow order, each as blocks of op descriptions with a repeat count, plus
// the training configuration. Repeated layers appear once with their count,
// so the planner costs them once. No MLIR types here.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_COST_MODELPROFILE_H
#define MIMO_COST_MODELPROFILE_H

#include "mimo/Cost/OpCost.h"

#include <string>
#include <vector>

namespace mimo::cost {

/// A straight-line block of ops executed `count` times in sequence
/// (count > 1 for a `mimo.stack`; 1 for ops outside stacks).
struct BlockProfile {
  int64_t count = 1;
  bool isLayerStack = false; ///< a transformer layer stack (PP splits these)
  std::vector<OpDesc> ops;
};

enum class ModuleKind { Encoder, Projector, LLM };
const char *toString(ModuleKind kind);

struct ModuleProfile {
  std::string name;
  ModuleKind kind = ModuleKind::Encoder;
  /// Projector: the encoder it reads. LLM: the projectors it reads.
  std::vector<std::string> inputs;
  std::vector<BlockProfile> blocks;
  /// Tokens this module processes per sample (encoder: images x tokens per
  /// image; LLM: sequence length).
  int64_t tokensPerSample = 0;
  int64_t hidden = 0;
  int64_t heads = 0;   ///< attention heads of its layers (0 if none)
  int64_t kvHeads = 0; ///< key/value heads (GQA)
  /// Transformer layers (sum of counts of layer stacks).
  int64_t layers() const;
};

struct TrainingProfile {
  int64_t seqLen = 0;
  int64_t imagesPerSample = 0;
  int64_t globalBatchSize = 0;
  int64_t bytesPerElement = 2; ///< activation/compute element (bf16 = 2)
  std::string precision = "bf16";
};

struct ModelProfile {
  std::string name;
  std::vector<ModuleProfile> modules; ///< encoders, projectors, then the LLM
  TrainingProfile training;

  const ModuleProfile *find(const std::string &name) const;
};

} // namespace mimo::cost

#endif // MIMO_COST_MODELPROFILE_H

//===- ReferenceModels.h - Profiles of published model shapes ---*- C++ -*-===//
//
// Builds the ModelProfile the spec importer would build for a ViT + MLP
// projector + decoder LLM from their shapes (the ops of each layer in IR
// order), so tests, benchmarks and the documentation tables can use the
// REFERENCE.md shapes without a spec file.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PLANNER_REFERENCEMODELS_H
#define MIMO_PLANNER_REFERENCEMODELS_H

#include "mimo/Cost/ModelProfile.h"

#include <string>

namespace mimo::planner {

struct TransformerShape {
  int64_t layers = 0, hidden = 0, heads = 0;
  int64_t kvHeads = 0; ///< 0: heads
  int64_t ffn = 0;     ///< 0: 4 * hidden
  bool swiglu = false;
  bool rmsnorm = false;
  int64_t vocab = 32000; ///< decoders only
};

/// REFERENCE.md shapes: "vit-1b", "vit-3b", "llm-7b", "llm-14b", "llm-32b",
/// "llm-70b" (FFN 4h, GELU, LayerNorm, MHA, vocab 32000).
bool referenceShape(const std::string &name, TransformerShape &out);

struct MultimodalShape {
  TransformerShape vit;
  TransformerShape llm;
  int64_t tokensPerImage = 1024; ///< (image 448 / patch 14)^2
  int64_t patch = 14;
  int64_t channels = 3;
  int64_t imagesPerSample = 7;
  int64_t projectorLayers = 2; ///< hidden = the LLM's hidden, GELU
  int64_t seqLen = 8192;
  int64_t globalBatchSize = 64;
  int64_t bytesPerElement = 2;
};

/// The profile of vision encoder "vision", projector "projector", LLM "llm";
/// with imagesPerSample = 0, of the LLM alone.
cost::ModelProfile makeMultimodalProfile(const MultimodalShape &shape);

} // namespace mimo::planner

#endif // MIMO_PLANNER_REFERENCEMODELS_H

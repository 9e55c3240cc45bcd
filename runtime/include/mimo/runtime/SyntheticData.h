//===- SyntheticData.h - Deterministic synthetic MIMO samples ---*- C++ -*-===//
//
// Sample i depends only on (seed, i): pixels uniform in [0, 1) from the
// Philox stream (seed, {kPixels, i}); each image's block of tokensPerImage
// placeholder ids sits at a start drawn from (seed, {kLayout, i}) inside its
// own segment of seqLen / imagesPerSample positions; text ids uniform in
// [0, vocab) without the placeholder id.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_SYNTHETICDATA_H
#define MIMO_RUNTIME_SYNTHETICDATA_H

#include "mimo/runtime/SampleSource.h"

namespace mimo::rt {

struct SyntheticDataConfig {
  SampleShape shape;
  std::int64_t tokensPerImage = 0;
  std::int32_t vocab = 32000;
  std::int32_t imageTokenId = 31999;
  std::uint64_t seed = 0;
};

class SyntheticSource final : public SampleSource {
public:
  /// Checks: positive sizes, vocab >= 2, placeholder id in [0, vocab),
  /// imagesPerSample * tokensPerImage <= seqLen.
  static StatusOr<SyntheticSource> create(SyntheticDataConfig config);

  const SampleShape &shape() const override { return config_.shape; }
  std::optional<std::int64_t> numSamples() const override {
    return std::nullopt;
  }
  Status readSample(std::int64_t index, Sample &out) const override;

  const SyntheticDataConfig &config() const { return config_; }
  /// First position of each image's placeholder block in sample `index`.
  std::vector<std::int64_t> imageStarts(std::int64_t index) const;

private:
  explicit SyntheticSource(SyntheticDataConfig config)
      : config_(std::move(config)) {}
  SyntheticDataConfig config_;
};

/// Shifted labels from input ids (see Sample): labels[t] = inputIds[t + 1]
/// unless either position is a placeholder, kIgnoreLabel otherwise.
void makeShiftedLabels(const std::vector<std::int32_t> &inputIds,
                       std::int32_t imageTokenId,
                       std::vector<std::int32_t> &labels);

} // namespace mimo::rt

#endif // MIMO_RUNTIME_SYNTHETICDATA_H

//===- SampleSource.h - Where training samples come from --------*- C++ -*-===//
//
// A sample is indexed globally: its content depends only on the source and
// the index, never on the plan, so every plan trains on identical data.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_SAMPLESOURCE_H
#define MIMO_RUNTIME_SAMPLESOURCE_H

#include "mimo/runtime/Status.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace mimo::rt {

/// Label of a position that contributes no loss.
inline constexpr std::int32_t kIgnoreLabel = -100;

struct SampleShape {
  std::int64_t imagesPerSample = 1;
  std::int64_t channels = 3;
  std::int64_t imageHeight = 224;
  std::int64_t imageWidth = 224;
  std::int64_t seqLen = 0;

  std::int64_t pixelsPerSample() const {
    return imagesPerSample * channels * imageHeight * imageWidth;
  }
  bool operator==(const SampleShape &o) const {
    return imagesPerSample == o.imagesPerSample && channels == o.channels &&
           imageHeight == o.imageHeight && imageWidth == o.imageWidth &&
           seqLen == o.seqLen;
  }
};

/// One sample. Labels are already shifted for next-token prediction: the
/// loss at position t compares logits[t] with labels[t] (kIgnoreLabel where
/// nothing is predicted: image positions, the position before an image, the
/// last position).
struct Sample {
  std::vector<float> pixels;          ///< [images, C, H, W]
  std::vector<std::int32_t> inputIds; ///< [seqLen]
  std::vector<std::int32_t> labels;   ///< [seqLen]
};

class SampleSource {
public:
  virtual ~SampleSource();
  virtual const SampleShape &shape() const = 0;
  /// nullopt for an unbounded source (synthetic data).
  virtual std::optional<std::int64_t> numSamples() const = 0;
  /// Fills `out` (resizing it) with sample `index` (for a bounded source,
  /// index < numSamples()).
  virtual Status readSample(std::int64_t index, Sample &out) const = 0;
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_SAMPLESOURCE_H

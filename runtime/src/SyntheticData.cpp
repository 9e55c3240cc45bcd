//===- SyntheticData.cpp - Deterministic synthetic MIMO samples -----------===//

#include "mimo/runtime/SyntheticData.h"
#include "mimo/runtime/Philox.h"

namespace mimo::rt {

namespace {
// Stream purposes, mixed with the sample index into the stream id.
constexpr std::uint64_t kLayoutStream = 1;
constexpr std::uint64_t kPixelStream = 2;
constexpr std::uint64_t kTextStream = 3;
} // namespace

StatusOr<SyntheticSource> SyntheticSource::create(SyntheticDataConfig c) {
  const SampleShape &s = c.shape;
  auto positive = [](std::int64_t v) { return v > 0; };
  if (s.imagesPerSample < 0 || !positive(s.channels) ||
      !positive(s.imageHeight) || !positive(s.imageWidth) ||
      !positive(s.seqLen) || c.tokensPerImage < 0)
    return invalidArgument("synthetic data: sizes must be positive (images " +
                           std::to_string(s.imagesPerSample) + ", channels " +
                           std::to_string(s.channels) + ", image " +
                           std::to_string(s.imageHeight) + "x" +
                           std::to_string(s.imageWidth) + ", seq_len " +
                           std::to_string(s.seqLen) + ", tokens per image " +
                           std::to_string(c.tokensPerImage) + ")");
  if (c.vocab < 2)
    return invalidArgument("synthetic data: vocab (" + std::to_string(c.vocab) +
                           ") must be at least 2");
  if (c.imageTokenId < 0 || c.imageTokenId >= c.vocab)
    return invalidArgument(
        "synthetic data: image token id (" + std::to_string(c.imageTokenId) +
        ") must be in [0, vocab = " + std::to_string(c.vocab) + ")");
  if (s.imagesPerSample * c.tokensPerImage > s.seqLen)
    return invalidArgument(
        "synthetic data: images_per_sample x tokens_per_image (" +
        std::to_string(s.imagesPerSample) + " x " +
        std::to_string(c.tokensPerImage) + ") exceeds seq_len (" +
        std::to_string(s.seqLen) + ")");
  return SyntheticSource(std::move(c));
}

std::vector<std::int64_t>
SyntheticSource::imageStarts(std::int64_t index) const {
  const SampleShape &s = config_.shape;
  std::vector<std::int64_t> starts;
  if (s.imagesPerSample == 0)
    return starts;
  // Each image gets its own segment, so blocks never overlap; the offset
  // inside the segment varies per sample to exercise the modality merge.
  std::int64_t segment = s.seqLen / s.imagesPerSample;
  PhiloxStream rng(config_.seed,
                   {kLayoutStream, static_cast<std::uint64_t>(index)});
  for (std::int64_t m = 0; m < s.imagesPerSample; ++m) {
    auto slack = static_cast<std::uint32_t>(segment - config_.tokensPerImage);
    starts.push_back(m * segment +
                     rng.uniformInt(static_cast<std::uint64_t>(m), slack + 1));
  }
  return starts;
}

Status SyntheticSource::readSample(std::int64_t index, Sample &out) const {
  if (index < 0)
    return invalidArgument("synthetic data: negative sample index " +
                           std::to_string(index));
  const SampleShape &s = config_.shape;
  auto i = static_cast<std::uint64_t>(index);
  out.pixels.resize(s.pixelsPerSample());
  PhiloxStream(config_.seed, {kPixelStream, i})
      .fillUniform(out.pixels.data(), 0, out.pixels.size());

  out.inputIds.assign(s.seqLen, 0);
  PhiloxStream text(config_.seed, {kTextStream, i});
  auto textVocab = static_cast<std::uint32_t>(config_.vocab - 1);
  for (std::int64_t t = 0; t < s.seqLen; ++t) {
    auto id = static_cast<std::int32_t>(
        text.uniformInt(static_cast<std::uint64_t>(t), textVocab));
    out.inputIds[t] = id >= config_.imageTokenId ? id + 1 : id;
  }
  for (std::int64_t start : imageStarts(index))
    for (std::int64_t t = 0; t < config_.tokensPerImage; ++t)
      out.inputIds[start + t] = config_.imageTokenId;
  makeShiftedLabels(out.inputIds, config_.imageTokenId, out.labels);
  return Status::success();
}

void makeShiftedLabels(const std::vector<std::int32_t> &ids,
                       std::int32_t imageTokenId,
                       std::vector<std::int32_t> &labels) {
  std::size_t n = ids.size();
  labels.assign(n, kIgnoreLabel);
  for (std::size_t t = 0; t + 1 < n; ++t)
    if (ids[t] != imageTokenId && ids[t + 1] != imageTokenId)
      labels[t] = ids[t + 1];
}

} // namespace mimo::rt

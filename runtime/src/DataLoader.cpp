//===- DataLoader.cpp - Global batches sharded over data parallel ---------===//

#include "mimo/runtime/DataLoader.h"

#include <nlohmann/json.hpp>

namespace mimo::rt {

std::string DataPosition::toJson() const {
  return nlohmann::json{{"next_sample", nextSample}}.dump();
}

StatusOr<DataPosition> DataPosition::fromJson(const std::string &text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return invalidArgument("data position: not a JSON object: " + text);
  auto it = j.find("next_sample");
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0)
    return invalidArgument(
        "data position: 'next_sample' must be a non-negative integer");
  DataPosition p;
  p.nextSample = it->get<std::int64_t>();
  return p;
}

StatusOr<DataLoader> DataLoader::create(const SampleSource &source,
                                        std::int64_t globalBatch, int dpRank,
                                        int dpSize) {
  if (dpSize <= 0 || dpRank < 0 || dpRank >= dpSize)
    return invalidArgument("data loader: dp rank " + std::to_string(dpRank) +
                           " is outside dp size " + std::to_string(dpSize));
  if (globalBatch <= 0 || globalBatch % dpSize != 0)
    return invalidArgument(
        "data loader: global batch (" + std::to_string(globalBatch) +
        ") must be a positive multiple of dp (" + std::to_string(dpSize) + ")");
  return DataLoader(source, globalBatch, dpRank, dpSize);
}

std::vector<std::int64_t> DataLoader::nextSampleIndices() const {
  std::int64_t local = localBatch();
  std::int64_t first = position_.nextSample + dpRank_ * local;
  std::optional<std::int64_t> total = source_->numSamples();
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < local; ++i)
    out.push_back(total ? (first + i) % *total : first + i);
  return out;
}

Status DataLoader::next(Batch &out) {
  std::vector<std::int64_t> indices = nextSampleIndices();
  const SampleShape &shape = source_->shape();
  auto pixels = static_cast<std::size_t>(shape.pixelsPerSample());
  auto seq = static_cast<std::size_t>(shape.seqLen);
  out.sampleIndices = indices;
  out.pixels.resize(indices.size() * pixels);
  out.inputIds.resize(indices.size() * seq);
  out.labels.resize(indices.size() * seq);
  Sample sample;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    MIMO_RETURN_IF_ERROR(source_->readSample(indices[i], sample));
    std::copy(sample.pixels.begin(), sample.pixels.end(),
              out.pixels.begin() + i * pixels);
    std::copy(sample.inputIds.begin(), sample.inputIds.end(),
              out.inputIds.begin() + i * seq);
    std::copy(sample.labels.begin(), sample.labels.end(),
              out.labels.begin() + i * seq);
  }
  position_.nextSample += globalBatch_;
  return Status::success();
}

Status DataLoader::seek(const DataPosition &position) {
  if (position.nextSample < 0)
    return invalidArgument("data loader: negative position " +
                           std::to_string(position.nextSample));
  position_ = position;
  return Status::success();
}

} // namespace mimo::rt

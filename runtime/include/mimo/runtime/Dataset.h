//===- Dataset.h - Samples from a directory of safetensors shards -*- C++
//-*-===//
//
// Every *.safetensors file of the directory, in file-name order, holds
// `pixels` ([samples, images, C, H, W], U8 or F32), `input_ids` (I32
// [samples, seq_len]) and `labels` (I32 [samples, seq_len], -100 ignored).
// The global order is shard by shard, sample by sample. U8 pixels are
// returned as value / 255.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_DATASET_H
#define MIMO_RUNTIME_DATASET_H

#include "mimo/runtime/Safetensors.h"
#include "mimo/runtime/SampleSource.h"

#include <memory>
#include <string>

namespace mimo::rt {

class Dataset final : public SampleSource {
public:
  /// Opens and validates every shard (consistent shapes and dtypes).
  static StatusOr<std::unique_ptr<Dataset>> open(const std::string &dir);

  const SampleShape &shape() const override { return shape_; }
  std::optional<std::int64_t> numSamples() const override { return total_; }
  Status readSample(std::int64_t index, Sample &out) const override;

  const std::string &directory() const { return dir_; }
  std::size_t numShards() const { return shards_.size(); }

private:
  struct Shard {
    SafetensorsReader reader;
    std::int64_t firstSample;
    std::int64_t samples;
    DataType pixelType;
  };
  Dataset() = default;
  std::string dir_;
  SampleShape shape_;
  std::int64_t total_ = 0;
  std::vector<Shard> shards_;
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_DATASET_H

//===- DataLoader.h - Global batches sharded over data parallel -*- C++ -*-===//
//
// Global batch b is samples [b*G, (b+1)*G) of the global order (wrapping
// around a bounded source); data-parallel rank r of dp takes the contiguous
// block [b*G + r*G/dp, b*G + (r+1)*G/dp), the same slicing the bridge
// assumes. The position is one integer, so resuming is exact.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_DATALOADER_H
#define MIMO_RUNTIME_DATALOADER_H

#include "mimo/runtime/SampleSource.h"

#include <string>

namespace mimo::rt {

/// Where the next global batch starts; what a checkpoint stores.
struct DataPosition {
  /// Global samples consumed so far (not wrapped).
  std::int64_t nextSample = 0;

  /// {"next_sample": N}.
  std::string toJson() const;
  static StatusOr<DataPosition> fromJson(const std::string &text);
  bool operator==(const DataPosition &o) const {
    return nextSample == o.nextSample;
  }
};

/// A local batch: samples concatenated along the first dim.
struct Batch {
  std::vector<std::int64_t> sampleIndices; ///< global (wrapped) indices
  std::vector<float> pixels;               ///< [n, images, C, H, W]
  std::vector<std::int32_t> inputIds;      ///< [n, seqLen]
  std::vector<std::int32_t> labels;        ///< [n, seqLen]
};

class DataLoader {
public:
  /// `globalBatch` must be divisible by `dpSize`; 0 <= dpRank < dpSize.
  static StatusOr<DataLoader> create(const SampleSource &source,
                                     std::int64_t globalBatch, int dpRank,
                                     int dpSize);

  std::int64_t globalBatch() const { return globalBatch_; }
  std::int64_t localBatch() const { return globalBatch_ / dpSize_; }
  /// The global indices of this rank's samples in the next batch.
  std::vector<std::int64_t> nextSampleIndices() const;
  /// Loads this rank's part of the next global batch and advances.
  Status next(Batch &out);

  const DataPosition &position() const { return position_; }
  Status seek(const DataPosition &position);

private:
  DataLoader(const SampleSource &source, std::int64_t globalBatch, int dpRank,
             int dpSize)
      : source_(&source), globalBatch_(globalBatch), dpRank_(dpRank),
        dpSize_(dpSize) {}
  const SampleSource *source_;
  std::int64_t globalBatch_;
  int dpRank_, dpSize_;
  DataPosition position_;
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_DATALOADER_H

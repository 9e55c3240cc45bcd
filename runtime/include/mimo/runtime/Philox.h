//===- Philox.h - Counter-based random numbers ------------------*- C++ -*-===//
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11). A value is a pure function of (seed, stream id, index), so a
// TP rank that fills the slice [a, b) of a tensor draws exactly the values a
// single rank draws for that slice, whatever the plan.
//
// Layout: key = seed (low, high words); counter = (block low, block high,
// stream low, stream high). Uniform value i is word i % 4 of block i / 4.
// Normal value i comes from block i / 4: the pair of words (0, 1) or (2, 3)
// selected by (i % 4) / 2 feeds Box-Muller; even i take the cosine branch,
// odd i the sine branch.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_PHILOX_H
#define MIMO_RUNTIME_PHILOX_H

#include <array>
#include <cstdint>
#include <initializer_list>

namespace mimo::rt {

using PhiloxCounter = std::array<std::uint32_t, 4>;
using PhiloxKey = std::array<std::uint32_t, 2>;

/// Ten rounds of Philox4x32 on one counter block.
PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key);

/// Mixes keys (a parameter id, a step, a layer, a sample index...) into one
/// 64-bit stream id; order matters.
std::uint64_t deriveStreamId(std::initializer_list<std::uint64_t> keys);

class PhiloxStream {
public:
  PhiloxStream(std::uint64_t seed, std::uint64_t streamId);
  PhiloxStream(std::uint64_t seed, std::initializer_list<std::uint64_t> keys)
      : PhiloxStream(seed, deriveStreamId(keys)) {}

  std::uint64_t seed() const { return seed_; }
  std::uint64_t streamId() const { return stream_; }

  PhiloxCounter block(std::uint64_t blockIndex) const;
  /// The 32-bit word at `index`.
  std::uint32_t bits(std::uint64_t index) const;
  /// In [0, 1), 24-bit resolution.
  float uniform(std::uint64_t index) const;
  /// Standard normal.
  float normal(std::uint64_t index) const;

  /// dst[i - begin] = lo + (hi - lo) * uniform(i) for i in [begin, end).
  void fillUniform(float *dst, std::uint64_t begin, std::uint64_t end,
                   float lo = 0.0f, float hi = 1.0f) const;
  /// dst[i - begin] = mean + stddev * normal(i) for i in [begin, end).
  void fillNormal(float *dst, std::uint64_t begin, std::uint64_t end,
                  float mean = 0.0f, float stddev = 1.0f) const;
  /// Integers uniform in [0, bound), bound > 0 (multiply-shift; the bias is
  /// below 2^-32 * bound, irrelevant for synthetic data).
  std::uint32_t uniformInt(std::uint64_t index, std::uint32_t bound) const;

private:
  std::uint64_t seed_;
  std::uint64_t stream_;
  PhiloxKey key_;
};

/// The trainer's RNG state as a checkpoint stores it: the seed and an offset
/// that advances once per use (e.g. per step) so that resumed runs draw the
/// same streams as uninterrupted ones.
struct RngState {
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;

  PhiloxStream stream(std::initializer_list<std::uint64_t> keys) const;
  bool operator==(const RngState &o) const {
    return seed == o.seed && offset == o.offset;
  }
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_PHILOX_H

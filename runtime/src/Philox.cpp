//===- Philox.cpp - Philox4x32-10 -----------------------------------------===//

#include "mimo/runtime/Philox.h"

#include <cmath>

namespace mimo::rt {

namespace {
constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

inline void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t &hi,
                    std::uint32_t &lo) {
  std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// (w + 0.5) / 2^32: in (0, 1), never 0, so log() is finite.
inline double openUnit(std::uint32_t w) {
  return (static_cast<double>(w) + 0.5) * (1.0 / 4294967296.0);
}
} // namespace

PhiloxCounter philox4x32_10(PhiloxCounter c, PhiloxKey k) {
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kM0, c[0], hi0, lo0);
    mulhilo(kM1, c[2], hi1, lo1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    k[0] += kW0;
    k[1] += kW1;
  }
  return c;
}

std::uint64_t deriveStreamId(std::initializer_list<std::uint64_t> keys) {
  std::uint64_t h = 0x6D696D6F5F726E67ull; // "mimo_rng"
  for (std::uint64_t key : keys)
    h = splitmix64(h ^ splitmix64(key));
  return h;
}

PhiloxStream::PhiloxStream(std::uint64_t seed, std::uint64_t streamId)
    : seed_(seed),
      stream_(streamId), key_{static_cast<std::uint32_t>(seed),
                              static_cast<std::uint32_t>(seed >> 32)} {}

PhiloxCounter PhiloxStream::block(std::uint64_t blockIndex) const {
  return philox4x32_10({static_cast<std::uint32_t>(blockIndex),
                        static_cast<std::uint32_t>(blockIndex >> 32),
                        static_cast<std::uint32_t>(stream_),
                        static_cast<std::uint32_t>(stream_ >> 32)},
                       key_);
}

std::uint32_t PhiloxStream::bits(std::uint64_t index) const {
  return block(index / 4)[index % 4];
}

float PhiloxStream::uniform(std::uint64_t index) const {
  return static_cast<float>(bits(index) >> 8) * (1.0f / 16777216.0f);
}

namespace {
inline float boxMuller(const PhiloxCounter &b, std::uint64_t index) {
  unsigned pair = static_cast<unsigned>(index % 4) / 2;
  double u1 = openUnit(b[2 * pair]), u2 = openUnit(b[2 * pair + 1]);
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 6.283185307179586476925 * u2;
  return static_cast<float>(index % 2 == 0 ? radius * std::cos(angle)
                                           : radius * std::sin(angle));
}
} // namespace

float PhiloxStream::normal(std::uint64_t index) const {
  return boxMuller(block(index / 4), index);
}

void PhiloxStream::fillUniform(float *dst, std::uint64_t begin,
                               std::uint64_t end, float lo, float hi) const {
  float scale = (hi - lo) * (1.0f / 16777216.0f);
  std::uint64_t i = begin;
  while (i < end) {
    PhiloxCounter b = block(i / 4);
    for (std::uint64_t w = i % 4; w < 4 && i < end; ++w, ++i)
      dst[i - begin] = lo + static_cast<float>(b[w] >> 8) * scale;
  }
}

void PhiloxStream::fillNormal(float *dst, std::uint64_t begin,
                              std::uint64_t end, float mean,
                              float stddev) const {
  std::uint64_t i = begin;
  while (i < end) {
    PhiloxCounter b = block(i / 4);
    for (std::uint64_t w = i % 4; w < 4 && i < end; ++w, ++i)
      dst[i - begin] = mean + stddev * boxMuller(b, i);
  }
}

std::uint32_t PhiloxStream::uniformInt(std::uint64_t index,
                                       std::uint32_t bound) const {
  return static_cast<std::uint32_t>(
      (static_cast<std::uint64_t>(bits(index)) * bound) >> 32);
}

PhiloxStream RngState::stream(std::initializer_list<std::uint64_t> keys) const {
  std::uint64_t id = deriveStreamId(keys);
  return PhiloxStream(seed, deriveStreamId({offset, id}));
}

} // namespace mimo::rt

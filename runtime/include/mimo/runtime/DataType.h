//===- DataType.h - Element types of buffers and files ----------*- C++ -*-===//

#ifndef MIMO_RUNTIME_DATATYPE_H
#define MIMO_RUNTIME_DATATYPE_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace mimo::rt {

enum class DataType { F32, F64, F16, BF16, I32, I64, U8 };

std::size_t dataTypeSize(DataType type);
/// The safetensors spelling: "F32", "F64", "F16", "BF16", "I32", "I64", "U8".
const char *dataTypeName(DataType type);
std::optional<DataType> parseDataType(std::string_view name);

template <typename T> struct DataTypeOf;
template <> struct DataTypeOf<float> {
  static constexpr DataType value = DataType::F32;
};
template <> struct DataTypeOf<double> {
  static constexpr DataType value = DataType::F64;
};
template <> struct DataTypeOf<std::int32_t> {
  static constexpr DataType value = DataType::I32;
};
template <> struct DataTypeOf<std::int64_t> {
  static constexpr DataType value = DataType::I64;
};
template <> struct DataTypeOf<std::uint8_t> {
  static constexpr DataType value = DataType::U8;
};

/// bf16 <-> float: bf16 is the upper half of an IEEE float; rounding is to
/// nearest even, and a NaN stays a (quiet) NaN.
inline std::uint16_t floatToBf16(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu))
    return static_cast<std::uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}
inline float bf16ToFloat(std::uint16_t h) {
  std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

} // namespace mimo::rt

#endif // MIMO_RUNTIME_DATATYPE_H

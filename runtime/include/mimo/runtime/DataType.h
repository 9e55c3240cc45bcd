//===- DataType.h - Element types of buffers and files ----------*- C++ -*-===//

#ifndef MIMO_RUNTIME_DATATYPE_H
#define MIMO_RUNTIME_DATATYPE_H

#include <cstddef>
#include <cstdint>
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

} // namespace mimo::rt

#endif // MIMO_RUNTIME_DATATYPE_H

//===- DataType.cpp - Element types ---------------------------------------===//

#include "mimo/runtime/DataType.h"

namespace mimo::rt {

std::size_t dataTypeSize(DataType type) {
  switch (type) {
  case DataType::F32:
  case DataType::I32:
    return 4;
  case DataType::F64:
  case DataType::I64:
    return 8;
  case DataType::F16:
  case DataType::BF16:
    return 2;
  case DataType::U8:
    return 1;
  }
  return 0;
}

const char *dataTypeName(DataType type) {
  switch (type) {
  case DataType::F32:
    return "F32";
  case DataType::F64:
    return "F64";
  case DataType::F16:
    return "F16";
  case DataType::BF16:
    return "BF16";
  case DataType::I32:
    return "I32";
  case DataType::I64:
    return "I64";
  case DataType::U8:
    return "U8";
  }
  return "?";
}

std::optional<DataType> parseDataType(std::string_view name) {
  for (DataType t :
       {DataType::F32, DataType::F64, DataType::F16, DataType::BF16,
        DataType::I32, DataType::I64, DataType::U8})
    if (name == dataTypeName(t))
      return t;
  return std::nullopt;
}

} // namespace mimo::rt

//===- Safetensors.h - Read and write .safetensors files --------*- C++ -*-===//
//
// Format: an 8-byte little-endian header length N, N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
// {string: string}}, then the raw little-endian data; offsets are relative to
// the end of the header. The reader validates everything before handing out
// a byte: a truncated or corrupted file is a DataLoss Status naming the file
// and the tensor, never a crash or an out-of-bounds read.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_SAFETENSORS_H
#define MIMO_RUNTIME_SAFETENSORS_H

#include "mimo/runtime/Checksum.h"
#include "mimo/runtime/DataType.h"
#include "mimo/runtime/Status.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mimo::rt {

struct TensorInfo {
  std::string name;
  DataType dtype = DataType::F32;
  std::vector<std::int64_t> shape;
  /// Byte range in the data section.
  std::uint64_t begin = 0, end = 0;

  std::int64_t numElements() const;
  std::uint64_t bytes() const { return end - begin; }
};

/// "[2, 3, 4]".
std::string shapeToString(const std::vector<std::int64_t> &shape);

class SafetensorsReader {
public:
  /// Reads and validates the header (offsets in bounds, contiguous, not
  /// overlapping, sizes matching dtype x shape, file not truncated).
  static StatusOr<SafetensorsReader> open(const std::string &path);

  const std::string &path() const { return path_; }
  /// Sorted by data offset.
  const std::vector<TensorInfo> &tensors() const { return tensors_; }
  /// nullptr if absent.
  const TensorInfo *find(const std::string &name) const;
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }

  /// Reads a whole tensor into `dst` of `dstBytes` (must equal its size).
  Status read(const std::string &name, void *dst, std::size_t dstBytes) const;
  /// Reads `bytes` bytes starting `offset` bytes into the tensor.
  Status readRange(const TensorInfo &tensor, std::uint64_t offset,
                   std::uint64_t bytes, void *dst) const;
  /// Reads a whole tensor of element type T, checking the dtype.
  template <typename T>
  StatusOr<std::vector<T>> readAll(const std::string &name) const {
    const TensorInfo *t = find(name);
    if (!t)
      return notFound(path_ + ": no tensor '" + name + "'");
    if (t->dtype != DataTypeOf<T>::value)
      return invalidArgument(path_ + ": tensor '" + name + "' has dtype " +
                             dataTypeName(t->dtype) + ", expected " +
                             dataTypeName(DataTypeOf<T>::value));
    std::vector<T> out(static_cast<std::size_t>(t->numElements()));
    MIMO_RETURN_IF_ERROR(read(name, out.data(), out.size() * sizeof(T)));
    return out;
  }

private:
  struct File;
  std::string path_;
  std::shared_ptr<File> file_;
  std::uint64_t dataStart_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t> byName_;
  std::map<std::string, std::string> metadata_;
};

class SafetensorsWriter {
public:
  /// Copies the data. Fails on a duplicate name or a size that does not
  /// match dtype x shape.
  Status add(const std::string &name, DataType dtype,
             std::vector<std::int64_t> shape, const void *data,
             std::size_t bytes);
  /// Like add() without the copy: `data` must outlive write().
  Status addView(const std::string &name, DataType dtype,
                 std::vector<std::int64_t> shape, const void *data,
                 std::size_t bytes);
  template <typename T>
  Status add(const std::string &name, std::vector<std::int64_t> shape,
             const std::vector<T> &values) {
    return add(name, DataTypeOf<T>::value, std::move(shape), values.data(),
               values.size() * sizeof(T));
  }
  void setMetadata(const std::string &key, const std::string &value) {
    metadata_[key] = value;
  }

  /// Writes the file (flushed to disk) and returns its size and CRC-32.
  StatusOr<FileDigest> write(const std::string &path) const;

private:
  struct Entry {
    std::string name;
    DataType dtype;
    std::vector<std::int64_t> shape;
    const void *data;
    std::size_t bytes;
    std::shared_ptr<std::vector<unsigned char>> owned;
  };
  Status addEntry(Entry entry);
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_SAFETENSORS_H

//===- Safetensors.cpp - Read and write .safetensors files ----------------===//

#include "mimo/runtime/Safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mimo::rt {

using json = nlohmann::json;

namespace {
/// Larger headers are not produced by any writer; refusing them keeps a
/// corrupted length from allocating gigabytes.
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

Status preadAll(int fd, void *dst, std::uint64_t bytes, std::uint64_t offset,
                const std::string &path) {
  auto *p = static_cast<unsigned char *>(dst);
  while (bytes > 0) {
    ssize_t n = ::pread(fd, p, bytes, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return ioError(path + ": read failed: " + std::strerror(errno));
    }
    if (n == 0)
      return dataLoss(path + ": unexpected end of file at byte " +
                      std::to_string(offset) + " (file truncated?)");
    p += n;
    bytes -= static_cast<std::uint64_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return Status::success();
}
} // namespace

struct SafetensorsReader::File {
  int fd = -1;
  ~File() {
    if (fd >= 0)
      ::close(fd);
  }
};

std::int64_t TensorInfo::numElements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape)
    n *= d;
  return n;
}

std::string shapeToString(const std::vector<std::int64_t> &shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

StatusOr<SafetensorsReader> SafetensorsReader::open(const std::string &path) {
  SafetensorsReader r;
  r.path_ = path;
  r.file_ = std::make_shared<File>();
  r.file_->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r.file_->fd < 0) {
    if (errno == ENOENT)
      return notFound(path + ": no such file");
    return ioError(path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(r.file_->fd, &st) != 0)
    return ioError(path + ": " + std::strerror(errno));
  auto fileSize = static_cast<std::uint64_t>(st.st_size);
  if (fileSize < 8)
    return dataLoss(path + ": " + std::to_string(fileSize) +
                    " bytes is too short for a safetensors header "
                    "(file truncated?)");
  unsigned char lenBytes[8];
  MIMO_RETURN_IF_ERROR(preadAll(r.file_->fd, lenBytes, 8, 0, path));
  std::uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | lenBytes[i];
  if (headerLen > fileSize - 8)
    return dataLoss(path + ": header length " + std::to_string(headerLen) +
                    " exceeds the " + std::to_string(fileSize - 8) +
                    " bytes after it (file truncated or not safetensors)");
  if (headerLen > kMaxHeaderBytes)
    return dataLoss(path + ": header length " + std::to_string(headerLen) +
                    " is implausibly large (corrupted file?)");
  std::string header(headerLen, '\0');
  MIMO_RETURN_IF_ERROR(
      preadAll(r.file_->fd, header.data(), headerLen, 8, path));
  json doc = json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return dataLoss(path + ": header is not a JSON object (corrupted file?)");

  r.dataStart_ = 8 + headerLen;
  std::uint64_t dataSize = fileSize - r.dataStart_;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string &name = it.key();
    const json &v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object())
        return dataLoss(path + ": __metadata__ must be an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          return dataLoss(path + ": __metadata__." + m.key() +
                          " must be a string");
        r.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    std::string who = path + ": tensor '" + name + "'";
    if (!v.is_object())
      return dataLoss(who + ": entry must be an object");
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string())
      return dataLoss(who + ": missing string field 'dtype'");
    std::optional<DataType> dtype = parseDataType(dt->get<std::string>());
    if (!dtype)
      return dataLoss(who + ": unsupported dtype '" + dt->get<std::string>() +
                      "'");
    if (sh == v.end() || !sh->is_array())
      return dataLoss(who + ": missing array field 'shape'");
    TensorInfo t;
    t.name = name;
    t.dtype = *dtype;
    std::uint64_t numel = 1;
    for (const json &d : *sh) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
        return dataLoss(who + ": shape entries must be non-negative integers");
      std::uint64_t dim = d.get<std::uint64_t>();
      if (dim != 0 && numel > (std::uint64_t(1) << 62) / dim)
        return dataLoss(who + ": shape " + sh->dump() + " overflows");
      numel *= dim;
      t.shape.push_back(static_cast<std::int64_t>(dim));
    }
    if (off == v.end() || !off->is_array() || off->size() != 2 ||
        !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned())
      return dataLoss(who + ": 'data_offsets' must be [begin, end] with "
                            "non-negative integers");
    t.begin = (*off)[0].get<std::uint64_t>();
    t.end = (*off)[1].get<std::uint64_t>();
    if (t.end < t.begin)
      return dataLoss(who + ": data_offsets [" + std::to_string(t.begin) +
                      ", " + std::to_string(t.end) + ") end before they begin");
    std::uint64_t expected = numel * dataTypeSize(t.dtype);
    if (t.end - t.begin != expected)
      return dataLoss(who + ": data_offsets span " +
                      std::to_string(t.end - t.begin) + " bytes but " +
                      dataTypeName(t.dtype) + " " + shapeToString(t.shape) +
                      " needs " + std::to_string(expected));
    r.tensors_.push_back(std::move(t));
  }
  std::sort(r.tensors_.begin(), r.tensors_.end(),
            [](const TensorInfo &a, const TensorInfo &b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  std::uint64_t cursor = 0;
  for (std::size_t i = 0; i < r.tensors_.size(); ++i) {
    const TensorInfo &t = r.tensors_[i];
    std::string who = path + ": tensor '" + t.name + "'";
    if (t.end > dataSize)
      return dataLoss(who + ": data ends at byte " + std::to_string(t.end) +
                      " but the file holds only " + std::to_string(dataSize) +
                      " bytes of data (file truncated?)");
    if (t.begin < cursor)
      return dataLoss(who + ": data_offsets [" + std::to_string(t.begin) +
                      ", " + std::to_string(t.end) + ") overlap tensor '" +
                      r.tensors_[i - 1].name + "'");
    if (t.begin > cursor)
      return dataLoss(who + ": gap of " + std::to_string(t.begin - cursor) +
                      " bytes before its data (corrupted header?)");
    cursor = t.end;
    r.byName_[t.name] = i;
  }
  if (cursor != dataSize)
    return dataLoss(path + ": the data section holds " +
                    std::to_string(dataSize) + " bytes but the tensors cover " +
                    std::to_string(cursor) + " (corrupted file?)");
  return r;
}

const TensorInfo *SafetensorsReader::find(const std::string &name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : &tensors_[it->second];
}

Status SafetensorsReader::read(const std::string &name, void *dst,
                               std::size_t dstBytes) const {
  const TensorInfo *t = find(name);
  if (!t)
    return notFound(path_ + ": no tensor '" + name + "'");
  if (dstBytes != t->bytes())
    return invalidArgument(path_ + ": tensor '" + name + "' holds " +
                           std::to_string(t->bytes()) + " bytes, buffer has " +
                           std::to_string(dstBytes));
  return readRange(*t, 0, t->bytes(), dst);
}

Status SafetensorsReader::readRange(const TensorInfo &t, std::uint64_t offset,
                                    std::uint64_t bytes, void *dst) const {
  if (offset > t.bytes() || bytes > t.bytes() - offset)
    return invalidArgument(
        path_ + ": tensor '" + t.name + "': range [" + std::to_string(offset) +
        ", " + std::to_string(offset + bytes) + ") is outside its " +
        std::to_string(t.bytes()) + " bytes");
  Status s =
      preadAll(file_->fd, dst, bytes, dataStart_ + t.begin + offset, path_);
  return s.withContext("tensor '" + t.name + "'");
}

Status SafetensorsWriter::addEntry(Entry e) {
  for (const Entry &o : entries_)
    if (o.name == e.name)
      return invalidArgument("safetensors: tensor '" + e.name +
                             "' added twice");
  if (e.name == "__metadata__")
    return invalidArgument("safetensors: '__metadata__' is not a tensor name");
  std::uint64_t numel = 1;
  for (std::int64_t d : e.shape) {
    if (d < 0)
      return invalidArgument("safetensors: tensor '" + e.name +
                             "' has a negative dim in " +
                             shapeToString(e.shape));
    numel *= static_cast<std::uint64_t>(d);
  }
  if (numel * dataTypeSize(e.dtype) != e.bytes)
    return invalidArgument("safetensors: tensor '" + e.name + "' " +
                           dataTypeName(e.dtype) + " " +
                           shapeToString(e.shape) + " needs " +
                           std::to_string(numel * dataTypeSize(e.dtype)) +
                           " bytes, got " + std::to_string(e.bytes));
  entries_.push_back(std::move(e));
  return Status::success();
}

Status SafetensorsWriter::add(const std::string &name, DataType dtype,
                              std::vector<std::int64_t> shape, const void *data,
                              std::size_t bytes) {
  auto owned = std::make_shared<std::vector<unsigned char>>(
      static_cast<const unsigned char *>(data),
      static_cast<const unsigned char *>(data) + bytes);
  return addEntry({name, dtype, std::move(shape), owned->data(), bytes, owned});
}

Status SafetensorsWriter::addView(const std::string &name, DataType dtype,
                                  std::vector<std::int64_t> shape,
                                  const void *data, std::size_t bytes) {
  return addEntry({name, dtype, std::move(shape), data, bytes, nullptr});
}

StatusOr<FileDigest> SafetensorsWriter::write(const std::string &path) const {
  json header = json::object();
  std::uint64_t offset = 0;
  for (const Entry &e : entries_) {
    header[e.name] = {{"dtype", dataTypeName(e.dtype)},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + e.bytes}}};
    offset += e.bytes;
  }
  if (!metadata_.empty())
    header["__metadata__"] = metadata_;
  std::string text = header.dump();
  // Pad so the data starts 8-byte aligned, as the reference writer does.
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  unsigned char len[8];
  std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<unsigned char>(n >> (8 * i));

  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return ioError(path + ": cannot create: " + std::strerror(errno));
  FileDigest d;
  bool ok = true;
  auto put = [&](const void *p, std::size_t bytes) {
    if (!ok || bytes == 0)
      return;
    ok = std::fwrite(p, 1, bytes, f) == bytes;
    d.crc32 = crc32Update(d.crc32, p, bytes);
    d.bytes += bytes;
  };
  put(len, 8);
  put(text.data(), text.size());
  for (const Entry &e : entries_)
    put(e.data, e.bytes);
  ok = ok && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  int err = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok)
    return ioError(path + ": write failed: " + std::strerror(err));
  return d;
}

} // namespace mimo::rt

//===- Dataset.cpp - Samples from a directory of safetensors shards -------===//

#include "mimo/runtime/Dataset.h"

#include <algorithm>
#include <filesystem>

namespace mimo::rt {

namespace fs = std::filesystem;

namespace {
Status expectTensor(const SafetensorsReader &r, const char *name, int rank,
                    std::initializer_list<DataType> dtypes,
                    const TensorInfo *&out) {
  out = r.find(name);
  if (!out)
    return invalidArgument(r.path() + ": missing tensor '" + name + "'");
  if (static_cast<int>(out->shape.size()) != rank)
    return invalidArgument(r.path() + ": tensor '" + name + "' has shape " +
                           shapeToString(out->shape) + ", expected " +
                           std::to_string(rank) + " dims");
  if (std::find(dtypes.begin(), dtypes.end(), out->dtype) == dtypes.end()) {
    std::string allowed;
    for (DataType t : dtypes)
      allowed += std::string(allowed.empty() ? "" : " or ") + dataTypeName(t);
    return invalidArgument(r.path() + ": tensor '" + name + "' has dtype " +
                           dataTypeName(out->dtype) + ", expected " + allowed);
  }
  return Status::success();
}
} // namespace

StatusOr<std::unique_ptr<Dataset>> Dataset::open(const std::string &dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return notFound(dir + ": dataset directory does not exist");
  std::vector<std::string> files;
  for (const auto &entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".safetensors")
      files.push_back(entry.path().string());
  if (ec)
    return ioError(dir + ": " + ec.message());
  if (files.empty())
    return notFound(dir + ": no .safetensors shards");
  std::sort(files.begin(), files.end());

  std::unique_ptr<Dataset> ds(new Dataset());
  ds->dir_ = dir;
  for (const std::string &file : files) {
    MIMO_ASSIGN_OR_RETURN(SafetensorsReader reader,
                          SafetensorsReader::open(file));
    const TensorInfo *pixels, *ids, *labels;
    MIMO_RETURN_IF_ERROR(expectTensor(reader, "pixels", 5,
                                      {DataType::U8, DataType::F32}, pixels));
    MIMO_RETURN_IF_ERROR(
        expectTensor(reader, "input_ids", 2, {DataType::I32}, ids));
    MIMO_RETURN_IF_ERROR(
        expectTensor(reader, "labels", 2, {DataType::I32}, labels));
    if (labels->shape != ids->shape)
      return invalidArgument(file + ": labels " + shapeToString(labels->shape) +
                             " and input_ids " + shapeToString(ids->shape) +
                             " must have the same shape");
    if (pixels->shape[0] != ids->shape[0])
      return invalidArgument(
          file + ": pixels hold " + std::to_string(pixels->shape[0]) +
          " samples, input_ids " + std::to_string(ids->shape[0]));
    SampleShape shape;
    shape.imagesPerSample = pixels->shape[1];
    shape.channels = pixels->shape[2];
    shape.imageHeight = pixels->shape[3];
    shape.imageWidth = pixels->shape[4];
    shape.seqLen = ids->shape[1];
    if (ds->shards_.empty())
      ds->shape_ = shape;
    else if (!(shape == ds->shape_))
      return invalidArgument(file + ": sample shape (pixels " +
                             shapeToString(pixels->shape) + ", input_ids " +
                             shapeToString(ids->shape) +
                             ") differs from the first shard " + files.front());
    std::int64_t samples = ids->shape[0];
    DataType pixelType = pixels->dtype;
    ds->shards_.push_back({std::move(reader), ds->total_, samples, pixelType});
    ds->total_ += samples;
  }
  if (ds->total_ == 0)
    return invalidArgument(dir + ": the shards hold no samples");
  return ds;
}

Status Dataset::readSample(std::int64_t index, Sample &out) const {
  if (index < 0 || index >= total_)
    return invalidArgument(dir_ + ": sample " + std::to_string(index) +
                           " is outside [0, " + std::to_string(total_) + ")");
  auto it = std::upper_bound(
      shards_.begin(), shards_.end(), index,
      [](std::int64_t i, const Shard &s) { return i < s.firstSample; });
  const Shard &shard = *(it - 1);
  auto local = static_cast<std::uint64_t>(index - shard.firstSample);
  const SafetensorsReader &r = shard.reader;

  auto pixelCount = static_cast<std::uint64_t>(shape_.pixelsPerSample());
  out.pixels.resize(pixelCount);
  if (shard.pixelType == DataType::F32) {
    MIMO_RETURN_IF_ERROR(
        r.readRange(*r.find("pixels"), local * pixelCount * sizeof(float),
                    pixelCount * sizeof(float), out.pixels.data()));
  } else {
    std::vector<std::uint8_t> raw(pixelCount);
    MIMO_RETURN_IF_ERROR(r.readRange(*r.find("pixels"), local * pixelCount,
                                     pixelCount, raw.data()));
    for (std::uint64_t i = 0; i < pixelCount; ++i)
      out.pixels[i] = static_cast<float>(raw[i]) * (1.0f / 255.0f);
  }
  auto seq = static_cast<std::uint64_t>(shape_.seqLen);
  out.inputIds.resize(seq);
  out.labels.resize(seq);
  MIMO_RETURN_IF_ERROR(
      r.readRange(*r.find("input_ids"), local * seq * sizeof(std::int32_t),
                  seq * sizeof(std::int32_t), out.inputIds.data()));
  return r.readRange(*r.find("labels"), local * seq * sizeof(std::int32_t),
                     seq * sizeof(std::int32_t), out.labels.data());
}

} // namespace mimo::rt

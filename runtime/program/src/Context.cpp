//===- Context.cpp - The state a running program works on ----------------===//

#include "mimo/program/Context.h"

#include "mimo/kernels/CudaKernels.h"
#include "mimo/runtime/CudaDevice.h"
#include "mimo/runtime/Dataset.h"
#include "mimo/runtime/Fatal.h"
#include "mimo/runtime/NcclCommunicator.h"
#include "mimo/runtime/SyntheticData.h"

namespace mimo::program {

using rt::Status;
using rt::StatusOr;

//===----------------------------------------------------------------------===//
// ProgramDesc
//===----------------------------------------------------------------------===//

std::int64_t BufferDesc::numElements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape)
    n *= d;
  return n;
}

std::size_t BufferDesc::bytes() const {
  return static_cast<std::size_t>(numElements()) * kernels::dtypeSize(dtype);
}

const GridDesc *ProgramDesc::findGrid(const std::string &name) const {
  for (const GridDesc &g : grids)
    if (g.name == name)
      return &g;
  return nullptr;
}

void setProgram(ProgramDesc *desc, const char *name, int worldSize,
                double flopsPerStep) {
  desc->name = name;
  desc->worldSize = worldSize;
  desc->flopsPerStep = flopsPerStep;
}

void setDevice(ProgramDesc *desc, const char *device) { desc->device = device; }

void addGrid(ProgramDesc *desc, const char *name, int tp, int cp, int pp,
             int dp, int offset, int size) {
  GridDesc g;
  g.name = name;
  g.shape.tp = tp;
  g.shape.cp = cp;
  g.shape.pp = pp;
  g.shape.dp = dp;
  g.offset = offset;
  g.size = size;
  desc->grids.push_back(std::move(g));
}

void addGroup(ProgramDesc *desc, const char *grid, rt::DimMask dims) {
  desc->groups.push_back({grid, dims});
}

void addBuffer(ProgramDesc *desc, const char *name, rt::MemoryCategory category,
               kernels::DType dtype, std::initializer_list<std::int64_t> shape,
               const char *onGrid, std::int64_t stage) {
  desc->buffers.push_back({name, category, dtype, shape, onGrid, stage});
}

void setData(ProgramDesc *desc, const char *grid, std::int64_t globalBatch,
             std::int64_t seqLen, std::int64_t vocab, std::int64_t imageTokenId,
             std::int64_t imagesPerSample, std::int64_t tokensPerImage,
             std::int64_t channels, std::int64_t imageSize,
             std::int64_t samples) {
  desc->data = DataDesc{grid,         globalBatch,     seqLen,         vocab,
                        imageTokenId, imagesPerSample, tokensPerImage, channels,
                        imageSize,    samples};
}

//===----------------------------------------------------------------------===//
// ProgramContext
//===----------------------------------------------------------------------===//

namespace {

/// The first `count` samples of another source, cycled by the loader.
class SamplePool final : public rt::SampleSource {
public:
  SamplePool(const rt::SampleSource &inner, std::int64_t count)
      : inner_(inner), count_(count) {}
  const rt::SampleShape &shape() const override { return inner_.shape(); }
  std::optional<std::int64_t> numSamples() const override { return count_; }
  Status readSample(std::int64_t index, rt::Sample &out) const override {
    return inner_.readSample(index, out);
  }

private:
  const rt::SampleSource &inner_;
  std::int64_t count_;
};

ProgramContext *gCurrent = nullptr;

} // namespace

void setCurrentContext(ProgramContext *context) { gCurrent = context; }

ProgramContext &currentContext() {
  if (!gCurrent)
    rt::fatal("mimo program: no program context (the generated code runs "
              "only inside trainerMain)");
  return *gCurrent;
}

StatusOr<std::unique_ptr<ProgramContext>>
ProgramContext::create(ProgramDesc desc, rt::Communicator &world,
                       std::uint64_t seed, const std::string &dataDir,
                       std::uint64_t memoryLimit) {
  if (world.size() != desc.worldSize)
    return rt::invalidArgument("program '" + desc.name + "' was built for " +
                               std::to_string(desc.worldSize) +
                               " ranks but the job has " +
                               std::to_string(world.size()));
  std::unique_ptr<ProgramContext> ctx(
      new ProgramContext(std::move(desc), world, seed));
  const ProgramDesc &d = ctx->desc_;

  // Collectives on buffers go through `comms`: the world itself on the CPU,
  // an NCCL communicator over the same ranks on CUDA (the world stays for
  // host-side traffic: losses, logs, checkpoints).
  rt::Communicator *comms = &world;
  if (d.device == "cpu") {
    MIMO_ASSIGN_OR_RETURN(ctx->device_, rt::createDevice(rt::DeviceKind::Cpu));
    ctx->kernels_ = kernels::createCpuKernels();
  } else if (d.device == "cuda") {
    int count = rt::cudaDeviceCount();
    if (count == 0)
      return rt::unavailable(
          "program '" + d.name +
          "' was built for --device cuda but no CUDA device is visible" +
          (rt::runtimeHasCuda() ? std::string()
                                : std::string(" (this runtime was built "
                                              "without CUDA)")));
    MIMO_ASSIGN_OR_RETURN(int ordinal,
                          rt::localDeviceOrdinalFromEnvironment(count));
    MIMO_ASSIGN_OR_RETURN(ctx->device_,
                          rt::createDevice(rt::DeviceKind::Cuda, ordinal));
    MIMO_ASSIGN_OR_RETURN(ctx->kernels_, kernels::createCudaKernels(
                                             rt::cudaStreamOf(*ctx->device_)));
    MIMO_ASSIGN_OR_RETURN(ctx->deviceComm_,
                          rt::createNcclCommunicator(world, *ctx->device_));
    comms = ctx->deviceComm_.get();
  } else {
    return rt::invalidArgument("program '" + d.name + "': unknown device '" +
                               d.device + "' (expected cpu or cuda)");
  }
  ctx->allocator_ = std::make_unique<rt::Allocator>(*ctx->device_, memoryLimit);
  ctx->staging_ = std::make_unique<rt::HostStaging>(*ctx->allocator_);

  for (const GridDesc &g : d.grids) {
    MIMO_ASSIGN_OR_RETURN(rt::ProcessGrid grid,
                          rt::ProcessGrid::create(g.shape, g.offset, g.size,
                                                  world.size(), g.name));
    ctx->grids_.emplace(g.name, grid);
  }
  // Every rank walks the same list, so overlapping groups are created in
  // the same order on all their members.
  for (const GroupDesc &g : d.groups) {
    auto it = ctx->grids_.find(g.grid);
    if (it == ctx->grids_.end())
      return rt::invalidArgument("group on unknown grid '" + g.grid + "'");
    if (!it->second.contains(world.rank()))
      continue;
    MIMO_ASSIGN_OR_RETURN(std::vector<int> ranks,
                          it->second.groupOf(world.rank(), g.dims));
    MIMO_ASSIGN_OR_RETURN(rt::Communicator * comm,
                          comms->groupOfWorldRanks(ranks));
    ctx->groups_[{g.grid, g.dims}] = comm;
  }

  for (const BufferDesc &b : d.buffers) {
    if (ctx->byName_.count(b.name))
      return rt::invalidArgument("buffer '" + b.name + "' declared twice");
    Slot slot;
    slot.desc = b;
    if (!b.onGrid.empty()) {
      auto on = ctx->grids_.find(b.onGrid);
      if (on == ctx->grids_.end())
        return rt::invalidArgument("buffer '" + b.name + "' on unknown grid '" +
                                   b.onGrid + "'");
      slot.absent = !on->second.contains(world.rank());
      if (!slot.absent && b.stage >= 0) {
        MIMO_ASSIGN_OR_RETURN(rt::GridCoord coord,
                              on->second.coordOf(world.rank()));
        slot.absent = coord.pp != b.stage;
      }
    }
    if (!slot.absent) {
      MIMO_ASSIGN_OR_RETURN(slot.buffer, ctx->allocator_->allocate(
                                             b.bytes(), b.category, b.name));
      MIMO_RETURN_IF_ERROR(
          ctx->device_->fill(slot.buffer.data(), 0, slot.buffer.bytes()));
    }
    ctx->byName_[b.name] = ctx->slots_.size();
    ctx->slots_.push_back(std::move(slot));
  }

  if (d.data) {
    const DataDesc &data = *d.data;
    auto grid = ctx->grids_.find(data.grid);
    if (grid == ctx->grids_.end())
      return rt::invalidArgument("data on unknown grid '" + data.grid + "'");
    rt::SampleShape shape;
    shape.imagesPerSample = data.imagesPerSample;
    shape.channels = data.channels;
    shape.imageHeight = data.imageSize;
    shape.imageWidth = data.imageSize;
    shape.seqLen = data.seqLen;
    if (!dataDir.empty()) {
      MIMO_ASSIGN_OR_RETURN(std::unique_ptr<rt::Dataset> dataset,
                            rt::Dataset::open(dataDir));
      const rt::SampleShape &got = dataset->shape();
      if (got.seqLen != shape.seqLen ||
          (shape.imagesPerSample > 0 && !(got == shape)))
        return rt::invalidArgument(
            dataDir + ": samples have seq_len " + std::to_string(got.seqLen) +
            " and " + std::to_string(got.imagesPerSample) +
            " images per sample; the program expects seq_len " +
            std::to_string(shape.seqLen) + " and " +
            std::to_string(shape.imagesPerSample));
      ctx->source_ = std::move(dataset);
    } else {
      rt::SyntheticDataConfig config;
      config.shape = shape;
      config.tokensPerImage = data.tokensPerImage;
      config.vocab = static_cast<std::int32_t>(data.vocab);
      config.imageTokenId = static_cast<std::int32_t>(data.imageTokenId);
      config.seed = seed;
      MIMO_ASSIGN_OR_RETURN(rt::SyntheticSource synthetic,
                            rt::SyntheticSource::create(config));
      ctx->source_ =
          std::make_unique<rt::SyntheticSource>(std::move(synthetic));
    }
    const rt::SampleSource *source = ctx->source_.get();
    if (data.samples > 0 && dataDir.empty()) {
      ctx->pool_ = std::make_unique<SamplePool>(*ctx->source_, data.samples);
      source = ctx->pool_.get();
    }
    int dpRank = 0;
    if (grid->second.contains(world.rank())) {
      MIMO_ASSIGN_OR_RETURN(rt::GridCoord coord,
                            grid->second.coordOf(world.rank()));
      dpRank = coord.dp;
    }
    MIMO_ASSIGN_OR_RETURN(rt::DataLoader loader,
                          rt::DataLoader::create(*source, data.globalBatch,
                                                 dpRank, grid->second.dp()));
    ctx->loader_ = std::make_unique<rt::DataLoader>(std::move(loader));
  }
  return ctx;
}

StatusOr<ProgramContext::Slot *> ProgramContext::slot(const std::string &name) {
  auto it = byName_.find(name);
  if (it == byName_.end())
    return rt::notFound("no buffer named '" + name + "'");
  return &slots_[it->second];
}

StatusOr<kernels::TensorView> ProgramContext::view(const std::string &name) {
  MIMO_ASSIGN_OR_RETURN(Slot * s, slot(name));
  if (s->absent)
    return rt::failedPrecondition(
        "buffer '" + name + "' lives on the ranks of grid '" + s->desc.onGrid +
        "'" +
        (s->desc.stage >= 0
             ? " at pipeline stage " + std::to_string(s->desc.stage)
             : std::string()) +
        ", not on rank " + std::to_string(world_.rank()));
  if (!s->buffer.valid())
    return rt::failedPrecondition("buffer '" + name +
                                  "' is offloaded; fetch it before use");
  kernels::TensorView v;
  v.data = s->buffer.data();
  v.dtype = s->desc.dtype;
  v.rank = static_cast<int>(s->desc.shape.size());
  for (int i = 0; i < v.rank; ++i)
    v.shape[i] = s->desc.shape[i];
  return v;
}

Status ProgramContext::offload(const std::string &name) {
  MIMO_ASSIGN_OR_RETURN(Slot * s, slot(name));
  if (s->absent)
    return rt::failedPrecondition("buffer '" + name +
                                  "' does not live on rank " +
                                  std::to_string(world_.rank()));
  if (!s->buffer.valid())
    return rt::failedPrecondition("buffer '" + name + "' is already offloaded");
  MIMO_ASSIGN_OR_RETURN(s->staged, staging_->offload(s->buffer));
  return Status::success();
}

Status ProgramContext::fetch(const std::string &name) {
  MIMO_ASSIGN_OR_RETURN(Slot * s, slot(name));
  if (s->absent)
    return rt::failedPrecondition("buffer '" + name +
                                  "' does not live on rank " +
                                  std::to_string(world_.rank()));
  if (s->buffer.valid())
    return rt::failedPrecondition("buffer '" + name + "' is not offloaded");
  MIMO_ASSIGN_OR_RETURN(s->buffer, staging_->fetch(s->staged));
  return Status::success();
}

StatusOr<rt::Communicator *> ProgramContext::group(const std::string &grid,
                                                   rt::DimMask dims) {
  auto it = groups_.find({grid, dims});
  if (it == groups_.end())
    return rt::notFound("no process group on grid '" + grid +
                        "' with dim "
                        "mask " +
                        std::to_string(dims) +
                        " for this rank (undeclared, or the rank is outside "
                        "the grid)");
  return it->second;
}

std::int64_t
ProgramContext::addPendingRecv(std::unique_ptr<rt::PendingRecv> pending) {
  std::int64_t id = nextRecvId_++;
  pendingRecvs_.emplace(id, std::move(pending));
  return id;
}

rt::Status ProgramContext::waitRecv(std::int64_t id) {
  auto it = pendingRecvs_.find(id);
  if (it == pendingRecvs_.end())
    return rt::failedPrecondition("wait on receive " + std::to_string(id) +
                                  ", which was never started or already "
                                  "completed");
  std::unique_ptr<rt::PendingRecv> pending = std::move(it->second);
  pendingRecvs_.erase(it);
  return pending->wait();
}

rt::Status ProgramContext::flushSends() {
  if (!pendingRecvs_.empty())
    return rt::failedPrecondition(
        std::to_string(pendingRecvs_.size()) +
        " receive(s) started in the step were never waited for");
  for (auto &[key, comm] : groups_)
    MIMO_RETURN_IF_ERROR(comm->flushSends());
  if (deviceComm_)
    MIMO_RETURN_IF_ERROR(deviceComm_->flushSends());
  return world_.flushSends();
}

StatusOr<int> ProgramContext::gridCoord(const std::string &grid,
                                        rt::GridDim dim) {
  auto it = grids_.find(grid);
  if (it == grids_.end())
    return rt::notFound("no grid named '" + grid + "'");
  MIMO_ASSIGN_OR_RETURN(rt::GridCoord coord, it->second.coordOf(world_.rank()));
  return coord[dim];
}

} // namespace mimo::program

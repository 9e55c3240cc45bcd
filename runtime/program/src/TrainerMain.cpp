//===- TrainerMain.cpp - The main of every generated trainer --------------===//

#include "mimo/program/Context.h"
#include "mimo/program/Program.h"
#include "mimo/program/Support.h"

#include "mimo/runtime/Checkpoint.h"
#include "mimo/runtime/Fatal.h"
#include "mimo/runtime/StepLogger.h"
#include "mimo/runtime/TrainerOptions.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace mimo::program {

namespace {

using rt::Status;
using rt::StatusOr;

bool isCheckpointed(rt::MemoryCategory c) {
  return c == rt::MemoryCategory::Params || c == rt::MemoryCategory::Optimizer;
}

std::string shardName(int rank) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "rank%05d.safetensors", rank);
  return buf;
}

/// Params and optimizer state of every rank, the data position and the RNG
/// state, as of the end of `step`.
Status saveState(ProgramContext &ctx, const std::string &root,
                 std::int64_t step) {
  rt::SafetensorsWriter writer;
  for (ProgramContext::Slot &s : ctx.slots()) {
    if (!isCheckpointed(s.desc.category) || s.absent)
      continue;
    if (!s.buffer.valid())
      return rt::failedPrecondition("buffer '" + s.desc.name +
                                    "' is offloaded at a step boundary");
    std::vector<unsigned char> host(s.buffer.bytes());
    MIMO_RETURN_IF_ERROR(ctx.device().copy(
        host.data(), s.buffer.data(), host.size(), rt::CopyKind::DeviceToHost));
    MIMO_RETURN_IF_ERROR(writer.add(s.desc.name, runtimeDataType(s.desc.dtype),
                                    s.desc.shape, host.data(), host.size()));
  }
  rt::CheckpointMetadata meta;
  meta.spec = ctx.desc().name;
  meta.step = step;
  meta.worldSize = ctx.world().size();
  if (ctx.dataLoader())
    meta.data = ctx.dataLoader()->position();
  meta.rng.seed = ctx.seed();
  meta.rng.offset = static_cast<std::uint64_t>(step);
  std::string shard = shardName(ctx.world().rank());
  return rt::saveCheckpoint(ctx.world(), root + "/" + rt::checkpointName(step),
                            meta, {{shard, &writer}});
}

/// `dir` is a checkpoint, or a --save directory whose newest one is taken.
StatusOr<rt::Checkpoint> openCheckpoint(const std::string &dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir + "/metadata.json", ec))
    return rt::Checkpoint::load(dir);
  MIMO_ASSIGN_OR_RETURN(auto all, rt::listCheckpoints(dir));
  if (all.empty())
    return rt::notFound(dir + ": no checkpoint (neither metadata.json nor "
                              "step-* directories)");
  return rt::Checkpoint::load(all.back().second);
}

Status restoreState(ProgramContext &ctx, const rt::Checkpoint &ckpt) {
  const rt::CheckpointMetadata &meta = ckpt.metadata();
  if (meta.worldSize != ctx.world().size())
    return rt::invalidArgument(
        ckpt.directory() + ": written by " + std::to_string(meta.worldSize) +
        " ranks, this job has " + std::to_string(ctx.world().size()));
  MIMO_ASSIGN_OR_RETURN(rt::SafetensorsReader reader,
                        ckpt.openShard(shardName(ctx.world().rank())));
  for (ProgramContext::Slot &s : ctx.slots()) {
    if (!isCheckpointed(s.desc.category) || s.absent)
      continue;
    const rt::TensorInfo *info = reader.find(s.desc.name);
    if (!info)
      return rt::dataLoss(reader.path() + ": no tensor '" + s.desc.name + "'");
    if (info->dtype != runtimeDataType(s.desc.dtype) ||
        info->shape != s.desc.shape)
      return rt::dataLoss(reader.path() + ": tensor '" + s.desc.name + "' is " +
                          rt::dataTypeName(info->dtype) +
                          rt::shapeToString(info->shape) +
                          ", the program expects " +
                          rt::dataTypeName(runtimeDataType(s.desc.dtype)) +
                          rt::shapeToString(s.desc.shape));
    std::vector<unsigned char> host(s.buffer.bytes());
    MIMO_RETURN_IF_ERROR(reader.read(s.desc.name, host.data(), host.size()));
    MIMO_RETURN_IF_ERROR(ctx.device().copy(
        s.buffer.data(), host.data(), host.size(), rt::CopyKind::HostToDevice));
  }
  if (ctx.dataLoader())
    MIMO_RETURN_IF_ERROR(ctx.dataLoader()->seek(meta.data));
  return Status::success();
}

} // namespace

const char *programAbi() { return MIMO_PROGRAM_ABI; }

int trainerMainChecked(int argc, char **argv, ProgramFactory factory,
                       const char *abi) {
  if (std::strcmp(abi, programAbi()) != 0) {
    // Before MPI and before the program runs: every rank says so and exits.
    std::fprintf(stderr,
                 "%s: this trainer was compiled against mimo support "
                 "headers '%s', but the libmimo_program it loaded was built "
                 "from '%s'; rebuild the trainer (mimoc build) or run it "
                 "with the library it was built with\n",
                 argc > 0 ? argv[0] : "trainer", abi, programAbi());
    return 1;
  }
  Program program = factory();
  ProgramDesc desc;
  program.describe(&desc);
  rt::TrainerOptions opts = rt::parseTrainerOptionsOrExit(argc, argv);

  StatusOr<std::unique_ptr<rt::Communicator>> worldOr =
      rt::createWorldCommunicator(&argc, &argv);
  if (!worldOr.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0],
                 worldOr.status().toString().c_str());
    return 1;
  }
  rt::Communicator &world = **worldOr;
  if (world.size() != desc.worldSize) {
    // Every rank reports and exits; no collective is entered.
    std::fprintf(stderr,
                 "rank %d: program '%s' was built for a world of %d, but the "
                 "job has %d ranks; launch it with mpirun -np %d\n",
                 world.rank(), desc.name.c_str(), desc.worldSize, world.size(),
                 desc.worldSize);
    return 1;
  }

  std::uint64_t seed = opts.seed;
  std::optional<rt::Checkpoint> checkpoint;
  if (!opts.loadDir.empty()) {
    StatusOr<rt::Checkpoint> loaded = openCheckpoint(opts.loadDir);
    if (!loaded.ok())
      rt::fatal(loaded.status().withContext("--load"));
    checkpoint = std::move(*loaded);
    seed = checkpoint->metadata().rng.seed;
  }

  StatusOr<std::unique_ptr<ProgramContext>> ctxOr =
      ProgramContext::create(desc, world, seed, opts.dataDir, opts.memoryLimit);
  if (!ctxOr.ok()) {
    // (Out of memory under --memory-limit names the limit.)
    rt::Status st = ctxOr.status();
    if (opts.memoryLimit > 0 && st.code() == rt::StatusCode::OutOfMemory)
      st = st.withContext("--memory-limit " + std::to_string(opts.memoryLimit));
    rt::fatal(st);
  }
  ProgramContext &ctx = **ctxOr;
  setCurrentContext(&ctx);
  if (const char *f = std::getenv("MIMO_FAULT_NONFINITE_STEP")) {
    ctx.faultNonFiniteStep = std::atoll(f);
    if (const char *r = std::getenv("MIMO_FAULT_RANK"))
      ctx.faultRank = std::atoi(r);
  }
  // The global gradient norm the step computed (programs declare it).
  bool hasNorm = false;
  for (const BufferDesc &b : desc.buffers)
    hasNorm |= b.name == "step.grad_norm";

  program.init();
  std::int64_t firstStep = 1;
  if (checkpoint) {
    Status restored = restoreState(ctx, *checkpoint);
    if (!restored.ok())
      rt::fatal(restored.withContext("--load " + checkpoint->directory()));
    firstStep = checkpoint->metadata().step + 1;
  }

  std::unique_ptr<rt::StepLogger> logger;
  if (world.rank() == 0) {
    rt::StepLoggerOptions logOpts;
    logOpts.totalSteps = opts.steps;
    logOpts.logEvery = opts.logEvery;
    logOpts.jsonPath = opts.jsonLog;
    StatusOr<std::unique_ptr<rt::StepLogger>> made =
        rt::StepLogger::create(logOpts);
    if (!made.ok())
      rt::fatal(made.status().withContext("--json-log"));
    logger = std::move(*made);
  }

  for (std::int64_t step = firstStep; step <= opts.steps; ++step) {
    auto start = std::chrono::steady_clock::now();
    ctx.currentStep = step;
    float loss = program.step(step);
    ctx.currentStep = 0;
    MIMO_CHECK_OK(ctx.flushSends());
    MIMO_CHECK_OK(ctx.device().synchronize());
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    // The memory of the rank with the largest peak (the one that runs out
    // first), each rank's stats gathered for the log.
    std::optional<std::array<std::uint64_t, rt::kNumMemoryCategories>> byCat;
    std::uint64_t peakTotal = 0;
    {
      constexpr std::size_t kN = rt::kNumMemoryCategories + 1;
      const rt::MemoryStats &stats = ctx.allocator().stats();
      std::array<std::int64_t, kN> mine{};
      for (std::size_t c = 0; c < rt::kNumMemoryCategories; ++c)
        mine[c] = static_cast<std::int64_t>(stats.peak[c]);
      mine[rt::kNumMemoryCategories] =
          static_cast<std::int64_t>(stats.peakTotal);
      std::vector<std::int64_t> all(kN * std::size_t(world.size()));
      MIMO_CHECK_OK(world.allGather(mine.data(), all.data(), kN));
      std::size_t top = 0;
      for (std::size_t r = 1; r < std::size_t(world.size()); ++r)
        if (all[r * kN + kN - 1] > all[top * kN + kN - 1])
          top = r;
      byCat.emplace();
      for (std::size_t c = 0; c < rt::kNumMemoryCategories; ++c)
        (*byCat)[c] = static_cast<std::uint64_t>(all[top * kN + c]);
      peakTotal = static_cast<std::uint64_t>(all[top * kN + kN - 1]);
    }
    if (logger) {
      rt::StepRecord record;
      record.step = step;
      record.loss = loss;
      record.stepMs = ms;
      record.tflopsPerGpu =
          ms > 0 ? desc.flopsPerStep / (ms * 1e-3) / world.size() / 1e12 : 0;
      record.peakMemoryBytes = peakTotal;
      record.peakMemoryByCategory = byCat;
      if (hasNorm) {
        // Every rank took the same decision from the same global norm
        // (the step skips its update when the norm is not finite).
        StatusOr<kernels::TensorView> normView = ctx.view("step.grad_norm");
        MIMO_CHECK_OK(normView.status());
        float norm = readF32(*normView, 0);
        record.gradNorm = norm;
        record.skipped = !std::isfinite(norm);
      }
      MIMO_CHECK_OK(logger->log(record));
    }
    bool save = !opts.saveDir.empty() &&
                ((opts.saveEvery > 0 && step % opts.saveEvery == 0) ||
                 step == opts.steps);
    if (save) {
      MIMO_CHECK_OK(saveState(ctx, opts.saveDir, step).withContext("--save"));
      // The new checkpoint is complete on every rank: rank 0 prunes.
      if (opts.keepLast > 0 && world.rank() == 0)
        MIMO_CHECK_OK(rt::keepLastCheckpoints(opts.saveDir,
                                              static_cast<int>(opts.keepLast))
                          .withContext("--keep-last"));
    }
  }
  setCurrentContext(nullptr);
  return 0;
}

} // namespace mimo::program

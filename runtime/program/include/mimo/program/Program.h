//===- Program.h - What a generated trainer program declares ----*- C++ -*-===//
//
// A program generated from mimort IR (convert-mimort-to-emitc) consists of
// three functions: describe() fills a ProgramDesc (world size, grids and
// process groups, every buffer with its category and shape, the data
// loader), init() initialises parameters and step(n) runs training step n
// and returns its loss. trainerMain() does everything around them: the
// command line, the world, the buffers, the loop, logging and checkpoints.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PROGRAM_PROGRAM_H
#define MIMO_PROGRAM_PROGRAM_H

#include "mimo/kernels/Tensor.h"
#include "mimo/runtime/MemoryCategory.h"
#include "mimo/runtime/ProcessGrid.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#ifndef MIMO_PROGRAM_ABI
#define MIMO_PROGRAM_ABI "unset"
#endif

namespace mimo::program {

struct GridDesc {
  std::string name;
  rt::GridShape shape;
  int offset = 0;
  int size = 1;
};

/// A process group the program communicates on: the ranks of `grid` that
/// differ only in `dims`.
struct GroupDesc {
  std::string grid;
  rt::DimMask dims = 0;
};

struct BufferDesc {
  std::string name;
  rt::MemoryCategory category = rt::MemoryCategory::Workspace;
  kernels::DType dtype = kernels::DType::F32;
  std::vector<std::int64_t> shape;
  /// Non-empty: the buffer exists only on this grid's ranks.
  std::string onGrid;
  /// >= 0: and only on those at this pipeline coordinate of the grid.
  std::int64_t stage = -1;
  std::int64_t numElements() const;
  std::size_t bytes() const;
};

struct DataDesc {
  std::string grid; ///< batches are split over this grid's dp dim
  std::int64_t globalBatch = 1;
  std::int64_t seqLen = 1;
  std::int64_t vocab = 2;
  std::int64_t imageTokenId = 1;
  std::int64_t imagesPerSample = 0;
  std::int64_t tokensPerImage = 0;
  std::int64_t channels = 3;
  std::int64_t imageSize = 1;
  /// > 0: synthetic data is a fixed pool of this many samples.
  std::int64_t samples = 0;
};

struct ProgramDesc {
  std::string name;
  int worldSize = 1;
  /// Where buffers live and kernels run: "cpu" or "cuda" (one GPU per
  /// process, picked from the launcher's local rank).
  std::string device = "cpu";
  /// Model FLOPs of one step over the whole job.
  double flopsPerStep = 0.0;
  std::vector<GridDesc> grids;
  std::vector<GroupDesc> groups;
  std::vector<BufferDesc> buffers;
  std::optional<DataDesc> data;

  const GridDesc *findGrid(const std::string &name) const;
};

/// The generated entry points.
struct Program {
  void (*describe)(ProgramDesc *desc);
  void (*init)();
  /// Runs 1-based step `step`; returns the step's loss.
  float (*step)(std::int64_t step);
};
using ProgramFactory = Program (*)();

/// The trainer executable's main: parses the trainer command line
/// (rt::TrainerOptions), creates the world and checks its size against the
/// program's (a clear error on every rank and exit status 1 otherwise),
/// allocates the buffers, runs init (or restores --load), runs the steps,
/// logs each step (loss, step time, TFLOPs/GPU, peak memory) and writes
/// checkpoints (params, optimizer state, data position, RNG state).
/// Inline, so that the trainer passes the interface hash it was compiled
/// with (MIMO_PROGRAM_ABI, runtime/program/cmake/ProgramAbi.cmake) and a
/// trainer built against other headers than the library's stops with a
/// clear error (exit status 1) instead of calling the wrong kernel.
int trainerMainChecked(int argc, char **argv, ProgramFactory factory,
                       const char *abi);
inline int trainerMain(int argc, char **argv, ProgramFactory factory) {
  return trainerMainChecked(argc, argv, factory, MIMO_PROGRAM_ABI);
}

/// The interface hash the library was built with.
const char *programAbi();

//===----------------------------------------------------------------------===//
// Building a ProgramDesc (what describe() calls)
//===----------------------------------------------------------------------===//

void setProgram(ProgramDesc *desc, const char *name, int worldSize,
                double flopsPerStep);
/// Runs the program on `device` ("cpu", "cuda"); the default is "cpu".
void setDevice(ProgramDesc *desc, const char *device);
void addGrid(ProgramDesc *desc, const char *name, int tp, int cp, int pp,
             int dp, int offset, int size);
void addGroup(ProgramDesc *desc, const char *grid, rt::DimMask dims);
void addBuffer(ProgramDesc *desc, const char *name, rt::MemoryCategory category,
               kernels::DType dtype, std::initializer_list<std::int64_t> shape,
               const char *onGrid = "", std::int64_t stage = -1);
void setData(ProgramDesc *desc, const char *grid, std::int64_t globalBatch,
             std::int64_t seqLen, std::int64_t vocab, std::int64_t imageTokenId,
             std::int64_t imagesPerSample, std::int64_t tokensPerImage,
             std::int64_t channels, std::int64_t imageSize,
             std::int64_t samples);

} // namespace mimo::program

#endif // MIMO_PROGRAM_PROGRAM_H

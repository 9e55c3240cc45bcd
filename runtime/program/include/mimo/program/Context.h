//===- Context.h - The state a running program works on ---------*- C++ -*-===//
//
// One ProgramContext per process: the device and its allocator, the kernels
// (CPU, or CUDA on the process's local GPU when the program was built for
// --device cuda), the world communicator (and NCCL on CUDA) and the process
// groups the program declared, the data loader, the seed, and every declared
// buffer. The generated code reaches it through the free functions of
// Support.h, which use the context trainerMain() installs.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PROGRAM_CONTEXT_H
#define MIMO_PROGRAM_CONTEXT_H

#include "mimo/kernels/Kernels.h"
#include "mimo/program/Program.h"
#include "mimo/runtime/Allocator.h"
#include "mimo/runtime/Communicator.h"
#include "mimo/runtime/DataLoader.h"
#include "mimo/runtime/Device.h"
#include "mimo/runtime/HostStaging.h"

#include <map>
#include <memory>

namespace mimo::program {

class ProgramContext {
public:
  /// One declared buffer: device memory, or a host copy while offloaded.
  struct Slot {
    BufferDesc desc;
    rt::Buffer buffer;
    rt::OffloadedBuffer staged;
    /// Declared on a grid this rank is not in: never allocated or saved.
    bool absent = false;
  };

  /// Validates the description against `world`, allocates every buffer
  /// (zero-filled), creates the declared process groups (collective over
  /// each group's members, in declaration order) and the data loader
  /// (synthetic from `seed` unless `dataDir` names a dataset).
  static rt::StatusOr<std::unique_ptr<ProgramContext>>
  create(ProgramDesc desc, rt::Communicator &world, std::uint64_t seed,
         const std::string &dataDir, std::uint64_t memoryLimit = 0);

  const ProgramDesc &desc() const { return desc_; }
  rt::Device &device() { return *device_; }
  rt::Allocator &allocator() { return *allocator_; }
  kernels::Kernels &kernels() { return *kernels_; }
  rt::Communicator &world() { return world_; }
  std::uint64_t seed() const { return seed_; }
  /// Null when the program declares no data.
  rt::DataLoader *dataLoader() { return loader_.get(); }

  /// A view of a declared buffer; fails for an unknown or offloaded one.
  rt::StatusOr<kernels::TensorView> view(const std::string &name);
  std::vector<Slot> &slots() { return slots_; }
  rt::Status offload(const std::string &name);
  rt::Status fetch(const std::string &name);

  /// The communicator of a declared group; this rank must be in the grid.
  rt::StatusOr<rt::Communicator *> group(const std::string &grid,
                                         rt::DimMask dims);
  /// This rank's coordinate along `dim` of `grid`.
  rt::StatusOr<int> gridCoord(const std::string &grid, rt::GridDim dim);
  /// The step being run (set by trainerMain; 0 outside a step).
  std::int64_t currentStep = 0;
  /// Fault injection for tests (MIMO_FAULT_NONFINITE_STEP=N, optionally
  /// MIMO_FAULT_RANK=R): at step N, rank R (0) loads images of NaN, so its
  /// gradients are non-finite and the step must be skipped on every rank.
  std::int64_t faultNonFiniteStep = 0;
  int faultRank = 0;
  /// Waits for the point-to-point sends of every group to be delivered
  /// (the end of a step: pipeline sends complete in the background). Fails
  /// if a receive started with startRecv() was never waited for.
  rt::Status flushSends();
  /// Keeps a posted receive until waitRecv(id) completes it; returns its id.
  std::int64_t addPendingRecv(std::unique_ptr<rt::PendingRecv> pending);
  rt::Status waitRecv(std::int64_t id);

private:
  ProgramContext(ProgramDesc desc, rt::Communicator &world, std::uint64_t seed)
      : desc_(std::move(desc)), world_(world), seed_(seed) {}
  rt::StatusOr<Slot *> slot(const std::string &name);

  ProgramDesc desc_;
  rt::Communicator &world_;
  std::uint64_t seed_;
  std::unique_ptr<rt::Device> device_;
  /// The device's communicator over the world's ranks (NCCL on CUDA; null
  /// on the CPU, where the world serves). Declared after device_ so it is
  /// destroyed first.
  std::unique_ptr<rt::Communicator> deviceComm_;
  std::unique_ptr<rt::Allocator> allocator_;
  std::unique_ptr<rt::HostStaging> staging_;
  std::unique_ptr<kernels::Kernels> kernels_;
  std::map<std::string, rt::ProcessGrid> grids_;
  std::map<std::pair<std::string, rt::DimMask>, rt::Communicator *> groups_;
  std::unique_ptr<rt::SampleSource> source_;
  std::unique_ptr<rt::SampleSource> pool_;
  std::unique_ptr<rt::DataLoader> loader_;
  std::vector<Slot> slots_;
  std::map<std::string, std::size_t> byName_;
  /// Last, so posted receives go before the communicators they use.
  std::map<std::int64_t, std::unique_ptr<rt::PendingRecv>> pendingRecvs_;
  std::int64_t nextRecvId_ = 0;
};

/// The context the generated code runs against (set by trainerMain).
void setCurrentContext(ProgramContext *context);
ProgramContext &currentContext();

} // namespace mimo::program

#endif // MIMO_PROGRAM_CONTEXT_H

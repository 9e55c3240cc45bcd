//===- Hardware.h - What one accelerator and its links can do ---*- C++ -*-===//
//
// The figures the planner's cost model reads: peak FLOP/s, GEMM and attention
// efficiency, HBM, NVLink, network, host link, latencies. Descriptions are
// JSON files (examples/hardware/*.json), embedded into the library at build
// time so a name works anywhere; a calibration file overrides any figure.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PLANNER_HARDWARE_H
#define MIMO_PLANNER_HARDWARE_H

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace mimo::planner {

/// One step of the GEMM efficiency curve: operations of at least
/// `minGflops` run at `efficiency` of peak.
struct GemmStep {
  double minGflops = 0;
  double efficiency = 0;
};

/// All rates in SI units (FLOP/s, bytes/s, bytes, seconds).
struct Hardware {
  std::string name;
  double peakBf16Flops = 0; ///< dense tensor-core BF16 peak
  double peakFp32Flops = 0; ///< FP32 peak (the compute type of fp32 runs)
  std::vector<GemmStep> gemmSteps; ///< sorted by minGflops, descending
  double gemmSmallDim = 0;         ///< GEMM dims below this lose efficiency
  double attentionFwdEfficiency = 0;
  double attentionBwdEfficiency = 0;
  double attentionHalfSeq = 0; ///< sequence at which attention runs at half
  double hbmBytes = 0;         ///< capacity usable by the allocator
  double hbmBandwidth = 0;
  double hbmEfficiency = 0;
  double nvlinkBandwidth = 0; ///< per GPU, per direction
  double nvlinkEfficiency = 0;
  double networkBandwidth = 0; ///< per GPU, per direction
  double networkEfficiency = 0;
  double hostLinkBandwidth = 0; ///< per GPU, per direction
  double hostLinkEfficiency = 0;
  double intraNodeLatency = 0; ///< per collective step
  double interNodeLatency = 0;
  double kernelLaunch = 0;    ///< per kernel
  double overlapSlowdown = 1; ///< compute slowdown under overlapped comm
  double workspaceBytes = 0;  ///< library workspaces, communicator buffers
  double fragmentation = 0;   ///< allocator reserve, fraction of allocated
  double hostBytes = 0;       ///< host memory per GPU for offload

  /// Efficiency of a GEMM of `flops` whose smallest dimension is `minDim`.
  double gemmEfficiency(double flops, double minDim) const;
  /// Peak of the compute type with `bytesPerElement` (2: bf16, 4: fp32).
  double peakFlops(int64_t bytesPerElement) const;
};

/// Names of the built-in descriptions (embedded examples/hardware/*.json).
std::vector<std::string> builtinHardwareNames();

/// Parses a hardware description. `label` names the source in errors.
bool parseHardware(const std::string &text, const std::string &label,
                   Hardware &out, std::string &error);

/// Loads `nameOrPath`: a built-in name (`h100-sxm`) or a JSON file.
bool loadHardware(const std::string &nameOrPath, Hardware &out,
                  std::string &error);

/// Overrides figures of `hw` with those in a calibration JSON object (same
/// keys as a hardware file; every key optional). Unknown keys, wrong types
/// and non-positive values are errors naming the file, field and value.
bool applyCalibrationText(const std::string &text, const std::string &label,
                          Hardware &hw, std::string &error);
bool applyCalibrationFile(const std::string &path, Hardware &hw,
                          std::string &error);

/// The description as JSON text (the same keys the files use).
std::string hardwareToJson(const Hardware &hw);

/// A cluster: the hardware, how many GPUs, how many per node.
/// Whose allocation the memory model follows (docs/planner.md, "Memory").
enum class MemoryModel {
  /// Megatron-LM on PyTorch: per-tensor activations [K22] held while in
  /// flight, library workspaces and the caching allocator's reserve. The
  /// published measurements were taken this way.
  Megatron,
  /// mimo's own trainer: every buffer of the lowered program allocated once
  /// (docs/lowering.md, "Buffers"); no allocator reserve.
  Mimo,
};

/// "megatron" or "mimo"; false for anything else.
bool parseMemoryModel(const std::string &text, MemoryModel &out);
const char *toString(MemoryModel model);

struct Cluster {
  Hardware hardware;
  int64_t gpus = 0;
  int64_t gpusPerNode = 0;
  MemoryModel memoryModel = MemoryModel::Megatron;
};

/// Reads `{"hardware": NAME|FILE, "gpus": N, "gpus_per_node": G}`.
bool loadClusterFile(const std::string &path, Cluster &out, std::string &error);

/// Reads a whole file; false (with an error naming it) if unreadable.
bool readTextFile(const std::string &path, std::string &text,
                  std::string &error);

/// A JSON parse or type error's message without the library's
/// "[json.exception.parse_error.101] " tag: "parse error at line 3, ...".
std::string jsonErrorText(const std::exception &e);

} // namespace mimo::planner

#endif // MIMO_PLANNER_HARDWARE_H

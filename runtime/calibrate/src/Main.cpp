//===- Main.cpp - mimo-calibrate: measure the figures the planner reads ---===//
//
// Times GEMMs over a grid of shapes, flash attention forward and backward
// over sequence lengths, a memory-bound kernel, kernel launches, host<->device
// copies (CUDA) and, under a launcher with several ranks, all-reduces; turns
// them into the figures of a hardware description (mimo/calibrate/Fit.h) and
// writes a calibration file for `mimoc plan --calibration FILE`.
//
//===----------------------------------------------------------------------===//

#include "mimo/calibrate/Fit.h"
#include "mimo/kernels/CudaKernels.h"
#include "mimo/kernels/Kernels.h"
#include "mimo/runtime/Communicator.h"
#include "mimo/runtime/CudaDevice.h"
#include "mimo/runtime/Device.h"
#include "mimo/runtime/NcclCommunicator.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#ifndef MIMO_HARDWARE_DIR
#define MIMO_HARDWARE_DIR ""
#endif

using json = nlohmann::json;
namespace cal = mimo::calibrate;
namespace rt = mimo::rt;
namespace kn = mimo::kernels;

namespace {

const char *kUsage =
    "usage: mimo-calibrate [--device cpu|cuda] [--hardware NAME|FILE]\n"
    "                      [--dtype f32|bf16] [--link intra|inter]\n"
    "                      [--quick] [-o FILE]\n"
    "Measures GEMM, attention, memory bandwidth, kernel launch, host link\n"
    "(cuda) and, with several ranks under mpirun/srun, all-reduce; writes\n"
    "the figures as a calibration file for `mimoc plan --calibration FILE`.\n";

struct Options {
  std::string device = "cpu";
  std::string hardware;
  std::string dtype;
  std::string link;
  std::string out;
  bool quick = false;
};

/// Prints `message` (every rank that fails says so) and exits with status 1.
[[noreturn]] void fail(const std::string &message) {
  std::cerr << "mimo-calibrate: " << message << "\n";
  std::exit(1);
}

Options parseOptions(int argc, char **argv) {
  Options o;
  auto value = [&](int &i, const std::string &flag) {
    if (i + 1 >= argc)
      fail(flag + ": expected a value");
    return std::string(argv[++i]);
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--device") {
      o.device = value(i, a);
      if (o.device != "cpu" && o.device != "cuda")
        fail("--device: '" + o.device + "' is not cpu or cuda");
    } else if (a == "--hardware") {
      o.hardware = value(i, a);
    } else if (a == "--dtype") {
      o.dtype = value(i, a);
      if (o.dtype != "f32" && o.dtype != "bf16")
        fail("--dtype: '" + o.dtype + "' is not f32 or bf16");
    } else if (a == "--link") {
      o.link = value(i, a);
      if (o.link != "intra" && o.link != "inter")
        fail("--link: '" + o.link + "' is not intra or inter");
    } else if (a == "-o" || a == "--output") {
      o.out = value(i, a);
    } else if (a == "--quick") {
      o.quick = true;
    } else {
      fail("unknown argument '" + a + "'\n" + kUsage);
    }
  }
  if (o.hardware.empty())
    o.hardware = o.device == "cuda" ? "h200" : "cpu";
  if (o.dtype.empty())
    o.dtype = o.device == "cuda" ? "bf16" : "f32";
  if (o.dtype == "bf16" && o.device == "cpu")
    fail("--dtype: 'bf16' is not available on the cpu (its kernels are f32)");
  return o;
}

/// The nominal figures calibration measures against.
struct Nominal {
  std::string name;
  double peak = 0; ///< FLOP/s of the chosen dtype
  std::string peakKey;
  std::vector<double> gemmThresholds; ///< GFLOP
  double gemmSmallDim = 0;
  double hbm = 0, nvlink = 0, network = 0, hostLink = 0; ///< bytes/s
};

Nominal loadNominal(const std::string &nameOrPath, const std::string &dtype) {
  std::string path = nameOrPath;
  bool isName = path.find('/') == std::string::npos &&
                path.find(".json") == std::string::npos;
  if (isName)
    path = std::string(MIMO_HARDWARE_DIR) + "/" + nameOrPath + ".json";
  std::ifstream in(path);
  if (!in)
    fail("--hardware: cannot read '" + path + "'" +
         (isName ? " (a built-in name is a file of " MIMO_HARDWARE_DIR ")"
                 : ""));
  json j;
  try {
    in >> j;
  } catch (const std::exception &e) {
    fail(path + ": " + e.what());
  }
  Nominal n;
  auto number = [&](const char *key) {
    if (!j.contains(key) || !j[key].is_number() || j[key].get<double>() <= 0)
      fail(path + ": " + key + ": expected a positive number");
    return j[key].get<double>();
  };
  n.name = j.value("name", nameOrPath);
  n.peakKey = dtype == "bf16" ? "peak_bf16_tflops" : "peak_fp32_tflops";
  n.peak = number(n.peakKey.c_str()) * 1e12;
  n.hbm = number("hbm_gb_per_s") * 1e9;
  n.nvlink = number("nvlink_gb_per_s") * 1e9;
  n.network = number("network_gb_per_s") * 1e9;
  n.hostLink = number("host_link_gb_per_s") * 1e9;
  n.gemmSmallDim = j.value("gemm_small_dim", 0.0);
  if (!j.contains("gemm_efficiency") || !j["gemm_efficiency"].is_array())
    fail(path + ": gemm_efficiency: expected an array of steps");
  for (const json &s : j["gemm_efficiency"])
    n.gemmThresholds.push_back(s.value("min_gflops", 0.0));
  return n;
}

/// Median seconds per call of `fn`: a warm-up, then `trials` timings of
/// enough calls to fill `minSeconds` each, the device drained around each.
double timeCalls(rt::Device &device, const std::function<rt::Status()> &fn,
                 double minSeconds, int trials = 5) {
  using clock = std::chrono::steady_clock;
  auto check = [](const rt::Status &s) {
    if (!s.ok())
      fail(s.message());
  };
  for (int i = 0; i < 3; ++i)
    check(fn());
  check(device.synchronize());
  int calls = 1;
  for (;;) {
    auto t0 = clock::now();
    for (int i = 0; i < calls; ++i)
      check(fn());
    check(device.synchronize());
    double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt >= minSeconds / 4 || calls >= (1 << 16))
      break;
    calls *= 2;
  }
  std::vector<double> perCall;
  for (int t = 0; t < trials; ++t) {
    auto t0 = clock::now();
    for (int i = 0; i < calls; ++i)
      check(fn());
    check(device.synchronize());
    perCall.push_back(std::chrono::duration<double>(clock::now() - t0).count() /
                      calls);
  }
  return cal::median(perCall);
}

/// Device buffers that live as long as the calibration.
class Buffers {
public:
  explicit Buffers(rt::Device &d) : device_(d) {}
  ~Buffers() {
    for (auto [p, n] : blocks_)
      device_.allocator().deallocate(p, n);
  }
  void *get(size_t bytes) {
    auto p = device_.allocator().allocate(std::max<size_t>(bytes, 1), 256);
    if (!p.ok())
      fail(p.status().message());
    // Small finite values in f32 and bf16 alike (0x3c3c... ~ 0.0115).
    if (!device_.fill(*p, 0x3c, bytes).ok())
      fail("cannot initialize a buffer of " + std::to_string(bytes) + " B");
    blocks_.push_back({*p, bytes});
    return *p;
  }

private:
  rt::Device &device_;
  std::vector<std::pair<void *, size_t>> blocks_;
};

std::string fmt(double v, int digits = 3) {
  std::ostringstream s;
  s.precision(digits);
  s << v;
  return s.str();
}

} // namespace

int main(int argc, char **argv) {
  auto worldOr = rt::createWorldCommunicator(&argc, &argv);
  if (!worldOr.ok())
    fail(worldOr.status().message());
  rt::Communicator &world = **worldOr;
  Options o = parseOptions(argc, argv);
  Nominal nominal = loadNominal(o.hardware, o.dtype);
  bool root = world.rank() == 0;

  int ordinal = 0;
  if (o.device == "cuda") {
    int count = rt::cudaDeviceCount();
    if (count == 0)
      fail("--device: 'cuda' but no CUDA device is visible" +
           std::string(rt::runtimeHasCuda()
                           ? ""
                           : " (this build has no CUDA backend)"));
    auto ord = rt::localDeviceOrdinalFromEnvironment(count);
    if (!ord.ok())
      fail(ord.status().message());
    ordinal = *ord;
  }
  auto deviceOr = rt::createDevice(
      o.device == "cuda" ? rt::DeviceKind::Cuda : rt::DeviceKind::Cpu, ordinal);
  if (!deviceOr.ok())
    fail(deviceOr.status().message());
  rt::Device &device = **deviceOr;
  std::unique_ptr<kn::Kernels> kernels;
  if (o.device == "cuda") {
    auto k = kn::createCudaKernels(rt::cudaStreamOf(device));
    if (!k.ok())
      fail(k.status().message());
    kernels = std::move(*k);
  } else {
    kernels = kn::createCpuKernels();
  }
  kn::DType dt = o.dtype == "bf16" ? kn::DType::BF16 : kn::DType::F32;
  size_t esize = kn::dtypeSize(dt);
  bool cuda = o.device == "cuda";
  double minTime = o.quick ? 0.01 : (cuda ? 0.05 : 0.2);

  json out = json::object();
  json sources = json::object();
  out["name"] = nominal.name + " calibrated on " + device.name();
  std::ostringstream report;
  report << "mimo-calibrate on " << device.name() << " (" << o.dtype
         << "), against " << nominal.name << "\n";

  if (root) {
    Buffers buf(device);
    //===--- GEMM over the shapes linears take --------------------------===//
    // Token counts by hidden sizes: the projections (h x h, h x 4h, 4h x h)
    // of a module at a TP degree, from small to large.
    std::vector<int64_t> dims =
        cuda
            ? (o.quick ? std::vector<int64_t>{512, 2048, 8192}
                       : std::vector<int64_t>{256, 512, 1024, 2048, 4096, 8192})
            : (o.quick ? std::vector<int64_t>{64, 256}
                       : std::vector<int64_t>{64, 128, 256, 512, 1024});
    int64_t maxDim = dims.back();
    void *a = buf.get(size_t(maxDim * maxDim) * esize);
    void *b = buf.get(size_t(maxDim * maxDim) * esize);
    void *c = buf.get(size_t(maxDim * maxDim) * esize);
    std::vector<cal::GemmSample> gemms;
    for (int64_t m : dims)
      for (int64_t n : dims)
        for (int64_t k : dims) {
          if (double(std::min({m, n, k})) < nominal.gemmSmallDim)
            continue;
          kn::TensorView va(a, dt, {m, k}), vb(b, dt, {k, n}),
              vc(c, dt, {m, n});
          double s = timeCalls(
              device,
              [&] {
                return kernels->gemm(false, false, 1.0f, va, vb, 0.0f, vc);
              },
              minTime, 3);
          gemms.push_back({m, n, k, s});
        }
    double best = 0;
    for (const cal::GemmSample &g : gemms)
      best = std::max(best, cal::gemmFlops(g) / g.seconds);
    cal::RateFigure peak = cal::rateAgainst(best, nominal.peak);
    std::vector<cal::CurveStep> curve =
        cal::gemmCurve(gemms, peak.nominal, nominal.gemmThresholds);
    json steps = json::array();
    for (const cal::CurveStep &s : curve)
      steps.push_back({{"min_gflops", s.minGflops},
                       {"efficiency", std::min(1.0, s.efficiency)}});
    out["gemm_efficiency"] = steps;
    sources["gemm_efficiency"] =
        "median of " + std::to_string(gemms.size()) + " " + o.dtype +
        " GEMMs (dims " + std::to_string(dims.front()) + ".." +
        std::to_string(maxDim) + ") per step, against " +
        fmt(peak.nominal / 1e12) + " TFLOP/s";
    if (peak.nominalRaised) {
      out[nominal.peakKey] = peak.nominal / 1e12;
      sources[nominal.peakKey] =
          "the fastest GEMM measured (the description's " +
          fmt(nominal.peak / 1e12) + " TFLOP/s was below it)";
    }
    report << "GEMM: " << gemms.size() << " shapes, fastest "
           << fmt(best / 1e12) << " TFLOP/s ("
           << fmt(100.0 * best / nominal.peak) << "% of " << nominal.name
           << "'s peak)\n";
    for (const cal::CurveStep &s : curve)
      report << "  >= " << s.minGflops << " GFLOP: " << fmt(s.efficiency)
             << " of peak (" << s.samples << " shapes)\n";

    //===--- Attention forward and backward -----------------------------===//
    int64_t heads = cuda ? 16 : 4, headDim = cuda ? 128 : 32;
    std::vector<int64_t> seqs =
        cuda ? (o.quick ? std::vector<int64_t>{1024, 4096}
                        : std::vector<int64_t>{512, 1024, 2048, 4096, 8192})
             : (o.quick ? std::vector<int64_t>{64, 128, 256}
                        : std::vector<int64_t>{64, 128, 256, 512, 1024});
    int64_t maxSeq = seqs.back(), width = heads * headDim;
    size_t act = size_t(maxSeq * width) * esize;
    void *q = buf.get(act), *k = buf.get(act), *v = buf.get(act),
         *o1 = buf.get(act), *dout = buf.get(act), *dq = buf.get(act),
         *dk = buf.get(act), *dv = buf.get(act);
    void *lse = buf.get(size_t(maxSeq * heads) * 4);
    kn::AttentionParams ap;
    ap.qHeads = ap.kvHeads = heads;
    ap.headDim = headDim;
    ap.causal = true;
    size_t wsBytes = kernels->attentionBackwardWorkspaceBytes(ap, maxSeq);
    kn::Workspace ws{wsBytes ? buf.get(wsBytes) : nullptr, wsBytes};
    std::vector<std::pair<double, double>> fwdEff, bwdEff;
    for (int64_t s : seqs) {
      kn::TensorView vq(q, dt, {s, width}), vk(k, dt, {s, width}),
          vv(v, dt, {s, width}), vo(o1, dt, {s, width}),
          vdo(dout, dt, {s, width}), vdq(dq, dt, {s, width}),
          vdk(dk, dt, {s, width}), vdv(dv, dt, {s, width});
      kn::TensorView vl(lse, kn::DType::F32, {s, heads});
      double tf = timeCalls(
          device,
          [&] { return kernels->attentionForward(ap, vq, vk, vv, vo, vl); },
          minTime, 3);
      double tb = timeCalls(
          device,
          [&] {
            return kernels->attentionBackward(ap, vq, vk, vv, vo, vl, vdo, vdq,
                                              vdk, vdv, ws);
          },
          minTime, 3);
      double ef = cal::attentionExecFwdFlops(s, heads, headDim, true) /
                  (tf * peak.nominal);
      double eb = cal::attentionExecBwdFlops(s, heads, headDim, true) /
                  (tb * peak.nominal);
      fwdEff.push_back({double(s), ef});
      bwdEff.push_back({double(s), eb});
      report << "attention s=" << s << ": forward " << fmt(tf * 1e3) << " ms ("
             << fmt(ef) << " of peak), backward " << fmt(tb * 1e3) << " ms ("
             << fmt(eb) << ")\n";
    }
    cal::SaturatingFit ff, bf;
    std::string err;
    if (!cal::fitSaturating(fwdEff, ff, err) ||
        !cal::fitSaturating(bwdEff, bf, err))
      fail("attention: " + err);
    // One half-rate sequence for both directions (the planner has one): the
    // forward's; the backward's efficiency is refitted through it.
    std::vector<double> bwdScale;
    for (auto [s, e] : bwdEff)
      bwdScale.push_back(e * (s + ff.halfPoint) / s);
    double bwdE = cal::median(bwdScale);
    out["attention_fwd_efficiency"] = std::min(1.0, ff.scale);
    out["attention_bwd_efficiency"] = std::min(1.0, bwdE);
    if (ff.halfPoint > 0)
      out["attention_half_seq"] = ff.halfPoint;
    std::string attnSrc =
        "causal " + o.dtype + " flash attention, " + std::to_string(heads) +
        " heads x " + std::to_string(headDim) + ", sequences " +
        std::to_string(seqs.front()) + ".." + std::to_string(maxSeq) +
        "; fit e*s/(s+half) to the planner's FLOP count";
    sources["attention_fwd_efficiency"] = attnSrc;
    sources["attention_bwd_efficiency"] = attnSrc;
    report << "attention fit: forward " << fmt(ff.scale) << ", backward "
           << fmt(bwdE) << " of peak, half rate at s=" << fmt(ff.halfPoint)
           << "\n";

    //===--- Memory bandwidth: c = a + b over large buffers -------------===//
    int64_t elems = cuda ? (o.quick ? (64 << 20) : (256 << 20))
                         : (o.quick ? (16 << 20) : (64 << 20));
    elems /= int64_t(esize); // bytes per buffer -> elements
    void *x = buf.get(size_t(elems) * esize),
         *y = buf.get(size_t(elems) * esize),
         *z = buf.get(size_t(elems) * esize);
    kn::TensorView vx(x, dt, {elems}), vy(y, dt, {elems}), vz(z, dt, {elems});
    double tAdd = timeCalls(
        device, [&] { return kernels->add(vx, vy, vz); }, minTime);
    double hbm = 3.0 * double(elems) * double(esize) / tAdd;
    cal::RateFigure mem = cal::rateAgainst(hbm, nominal.hbm);
    out["hbm_efficiency"] = mem.efficiency;
    sources["hbm_efficiency"] = "c = a + b over 3 x " +
                                fmt(double(elems) * esize / 1e6) +
                                " MB buffers: " + fmt(hbm / 1e9) + " GB/s";
    if (mem.nominalRaised) {
      out["hbm_gb_per_s"] = mem.nominal / 1e9;
      sources["hbm_gb_per_s"] = "measured (the description's " +
                                fmt(nominal.hbm / 1e9) + " GB/s was below it)";
    }
    report << "memory: " << fmt(hbm / 1e9) << " GB/s ("
           << fmt(hbm / nominal.hbm) << " of " << fmt(nominal.hbm / 1e9)
           << ")\n";

    //===--- Kernel launch: a one-element kernel, back to back ----------===//
    kn::TensorView one(x, dt, {1}), oneOut(y, dt, {1});
    double launch = timeCalls(
        device, [&] { return kernels->scale(one, 1.0f, oneOut); }, minTime);
    out["kernel_launch_us"] = std::max(launch * 1e6, 1e-3);
    sources["kernel_launch_us"] = "a one-element scale, issued back to back";
    report << "kernel launch: " << fmt(launch * 1e6) << " us\n";

    //===--- Host link (pinned copies), CUDA only -----------------------===//
    if (cuda) {
      size_t bytes = o.quick ? (64u << 20) : (512u << 20);
      auto host = device.hostAllocator().allocate(bytes, 4096);
      if (!host.ok())
        fail(host.status().message());
      void *dev = buf.get(bytes);
      double h2d = timeCalls(
          device,
          [&] {
            return device.copy(dev, *host, bytes, rt::CopyKind::HostToDevice);
          },
          minTime);
      double d2h = timeCalls(
          device,
          [&] {
            return device.copy(*host, dev, bytes, rt::CopyKind::DeviceToHost);
          },
          minTime);
      device.hostAllocator().deallocate(*host, bytes);
      double rate = double(bytes) / std::max(h2d, d2h);
      cal::RateFigure hl = cal::rateAgainst(rate, nominal.hostLink);
      out["host_link_efficiency"] = hl.efficiency;
      if (hl.nominalRaised)
        out["host_link_gb_per_s"] = hl.nominal / 1e9;
      sources["host_link_efficiency"] =
          "pinned copies of " + fmt(bytes / 1e6) + " MB: to device " +
          fmt(bytes / h2d / 1e9) + " GB/s, to host " + fmt(bytes / d2h / 1e9) +
          " GB/s (the slower)";
      report << "host link: " << fmt(bytes / h2d / 1e9) << " / "
             << fmt(bytes / d2h / 1e9) << " GB/s\n";
    }
  }

  //===--- All-reduce across the ranks of the launch ----------------------===//
  int64_t ranks = world.size();
  if (ranks > 1) {
    std::unique_ptr<rt::Communicator> nccl;
    rt::Communicator *comm = &world;
    if (cuda) {
      auto c = rt::createNcclCommunicator(world, device);
      if (!c.ok())
        fail(c.status().message());
      nccl = std::move(*c);
      comm = nccl.get();
    }
    Buffers buf(device);
    int64_t maxElems = cuda ? (o.quick ? (16 << 20) : (128 << 20))
                            : (o.quick ? (256 << 10) : (4 << 20));
    void *data = buf.get(size_t(maxElems) * 4);
    std::vector<std::pair<double, double>> samples;
    for (int64_t n = 1 << 10; n <= maxElems; n *= 4) {
      double t = timeCalls(
          device,
          [&] {
            return comm->allReduce(data, size_t(n), rt::DataType::F32,
                                   rt::ReduceOp::Sum);
          },
          minTime);
      // Every rank must agree on each figure: the slowest rank's time.
      double slowest = t;
      if (!world.allReduce(&slowest, 1, rt::DataType::F64, rt::ReduceOp::Max)
               .ok())
        fail("cannot combine the all-reduce timings");
      samples.push_back({double(n) * 4.0, slowest});
    }
    cal::LinkFit link;
    std::string err;
    if (!cal::fitAllReduce(samples, ranks, link, err))
      fail("all-reduce: " + err);
    bool inter = o.link == "inter";
    if (o.link.empty()) {
      const char *local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
      if (!local)
        local = std::getenv("SLURM_NTASKS_PER_NODE");
      inter = local && std::atoll(local) < ranks;
    }
    double nominalBw = inter ? nominal.network : nominal.nvlink;
    cal::RateFigure lf = cal::rateAgainst(link.bandwidth, nominalBw);
    std::string prefix = inter ? "network" : "nvlink";
    out[prefix + "_efficiency"] = lf.efficiency;
    if (lf.nominalRaised)
      out[prefix + "_gb_per_s"] = lf.nominal / 1e9;
    if (link.latency > 0)
      out[inter ? "inter_node_latency_us" : "intra_node_latency_us"] =
          link.latency * 1e6;
    sources[prefix + "_efficiency"] =
        std::to_string(samples.size()) + " all-reduces of 4 KB.." +
        fmt(double(maxElems) * 4 / 1e6) + " MB over " + std::to_string(ranks) +
        " ranks (" + comm->backendName() + "), fitted to the ring's 2(n-1) " +
        "latency + 2(n-1)/n bytes / bandwidth";
    if (root)
      report << "all-reduce over " << ranks << " ranks (" << comm->backendName()
             << ", " << (inter ? "inter" : "intra")
             << "-node): " << fmt(link.bandwidth / 1e9) << " GB/s bus, "
             << fmt(link.latency * 1e6) << " us per step\n";
  }

  if (!root)
    return 0;
  out["sources"] = sources;
  std::cout << report.str();
  std::string text = out.dump(2) + "\n";
  if (o.out.empty()) {
    std::cout << text;
    return 0;
  }
  // Written beside the target and renamed: never a half-written file.
  std::string tmp = o.out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f.flush())
      fail("-o: cannot write '" + o.out + "'");
  }
  if (std::rename(tmp.c_str(), o.out.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail("-o: cannot write '" + o.out + "'");
  }
  std::cout << "wrote " << o.out << "\n";
  return 0;
}

//===- PlannerTables.cpp - The tables of docs/planner.md ------------------===//
//
// Prints, as Markdown: the calibration against the published runs, the
// searched plans for REFERENCE.md model pairs at 8K on 64 H100s, and long
// context (16K-64K) with and without context parallelism.
//
//===----------------------------------------------------------------------===//

#include "mimo/Planner/Evaluator.h"
#include "mimo/Planner/ReferenceModels.h"
#include "mimo/Planner/Report.h"
#include "mimo/Planner/Search.h"

#include <algorithm>
#include <cstdio>
#include <string>

using namespace mimo::planner;

namespace {

mimo::cost::ModelProfile profile(const char *vit, const char *llm, int64_t seq,
                                 int64_t gbs) {
  MultimodalShape s;
  referenceShape(vit, s.vit);
  referenceShape(llm, s.llm);
  s.seqLen = seq;
  s.globalBatchSize = gbs;
  s.imagesPerSample = std::max<int64_t>(1, seq * 9 / 10 / 1024);
  return makeMultimodalProfile(s);
}

Cluster h100(int64_t gpus) {
  Cluster c;
  std::string err;
  loadHardware("h100-sxm", c.hardware, err);
  c.gpus = gpus;
  c.gpusPerNode = 8;
  return c;
}

ModulePlan mod(const char *name, int64_t tp, int64_t dp) {
  ModulePlan m;
  m.name = name;
  m.tp = tp;
  m.dp = dp;
  m.rankSize = tp * dp;
  return m;
}

std::string grid(const ModulePlan *m) {
  if (!m)
    return "-";
  std::string s = std::to_string(m->tp) + "/" + std::to_string(m->dp) + "/" +
                  std::to_string(m->pp);
  if (m->cp > 1)
    s += " cp" + std::to_string(m->cp);
  if (m->recompute.kind != RecomputeKind::None)
    s += " rc:" + toString(m->recompute);
  if (m->offloadActivations)
    s += " off:act";
  if (m->offloadParams)
    s += " off:params";
  if (m->offloadOptimizer)
    s += " off:opt";
  if (m->sequenceParallel)
    s += " sp";
  if (m->distributedOptimizer)
    s += " do";
  return s;
}

std::string planText(const Plan &p) {
  std::string s = std::string(toString(p.layout)) + ", mbs " +
                  std::to_string(p.microBatchSize);
  if (p.virtualStages > 1)
    s += ", " + p.schedule();
  return s;
}

void calibration() {
  std::printf("### Calibration against the published runs\n\n");
  std::printf("| run | plan (encoder; LLM) TP/DP/PP | published TFLOPs/GPU | "
              "predicted | error | published memory GB | predicted | error "
              "|\n|---|---|---|---|---|---|---|---|\n");
  struct Row {
    const char *run;
    int64_t gpus, gbs;
    Plan plan;
    double tflops, memory; // 0: not published
  };
  auto plan = [](Layout l, ModulePlan v, ModulePlan m) {
    Plan p;
    p.layout = l;
    p.modules = {v, m};
    return p;
  };
  ModulePlan v1 = mod("vision", 1, 16);
  v1.recompute.kind = RecomputeKind::Full;
  v1.distributedOptimizer = true;
  ModulePlan v2 = mod("vision", 2, 4);
  ModulePlan v2r = v2;
  v2r.recompute.kind = RecomputeKind::Full;
  Row rows[] = {
      {"16xH100 GBS 64, best homogeneous", 16, 64,
       plan(Layout::Homogeneous, mod("vision", 4, 4), mod("llm", 4, 4)), 333.8,
       66.3},
      {"16xH100 GBS 64, heterogeneous", 16, 64,
       plan(Layout::Colocated, v1, mod("llm", 4, 4)), 360.8, 62.2},
      {"8xH100 (GBS 8 inferred), homogeneous", 8, 8,
       plan(Layout::Homogeneous, mod("vision", 4, 2), mod("llm", 4, 2)), 273.5,
       0},
      {"8xH100, encoder TP2/DP4", 8, 8,
       plan(Layout::Colocated, v2, mod("llm", 4, 2)), 273, 0},
      {"8xH100, + encoder full recompute", 8, 8,
       plan(Layout::Colocated, v2r, mod("llm", 4, 2)), 304.8, 0},
  };
  for (Row &r : rows) {
    mimo::cost::ModelProfile prof = profile("vit-1b", "llm-7b", 8192, r.gbs);
    Evaluator ev(prof, h100(r.gpus));
    Evaluation e = ev.evaluate(r.plan);
    double tf = e.prediction.tflopsPerGpu6nd;
    double mem = e.prediction.peakMemoryBytes / kBytesPerGB;
    char memPub[32] = "-", memErr[32] = "-";
    if (r.memory > 0) {
      std::snprintf(memPub, sizeof(memPub), "%.1f", r.memory);
      std::snprintf(memErr, sizeof(memErr), "%+.1f%%",
                    100 * (mem / r.memory - 1));
    }
    std::printf("| %s | %s; %s | %.1f | %.1f | %+.1f%% | %s | %.1f | %s |\n",
                r.run, grid(r.plan.find("vision")).c_str(),
                grid(r.plan.find("llm")).c_str(), r.tflops, tf,
                100 * (tf / r.tflops - 1), memPub, mem, memErr);
  }
  std::printf("\n");
}

void searched(const char *title, int64_t gpus,
              const std::vector<std::pair<const char *, const char *>> &pairs,
              const std::vector<int64_t> &seqs,
              const std::vector<int64_t> &gbss, bool withoutCp) {
  std::printf("### %s\n\n", title);
  std::printf("| model | seq | GBS | best plan | encoder | LLM | TFLOPs/GPU "
              "(6nd) | best homogeneous (encoder = LLM) | TFLOPs/GPU | gain "
              "|%s\n",
              withoutCp ? " CP gain (vs best with cp=1) |" : "");
  std::printf("|---|---|---|---|---|---|---|---|---|---|%s\n",
              withoutCp ? "---|" : "");
  for (auto &pr : pairs)
    for (int64_t seq : seqs)
      for (int64_t gbs : gbss) {
        mimo::cost::ModelProfile prof = profile(pr.first, pr.second, seq, gbs);
        SearchResult r = searchPlans(prof, h100(gpus));
        std::string model = std::string(pr.first) + " + " + pr.second;
        if (!r.haveBest) {
          std::printf("| %s | %lld | %lld | no feasible plan | | | | | | |\n",
                      model.c_str(), (long long)seq, (long long)gbs);
          continue;
        }
        std::string noCp = "";
        if (withoutCp) {
          SearchOptions o;
          o.maxCp = 1;
          SearchResult n = searchPlans(prof, h100(gpus), o);
          char buf[64] = "no plan";
          if (n.haveBest)
            std::snprintf(buf, sizeof(buf), " %+.1f%% |",
                          100 * (r.best.prediction.tflopsPerGpu6nd /
                                     n.best.prediction.tflopsPerGpu6nd -
                                 1));
          noCp = buf;
        }
        std::printf(
            "| %s | %lld | %lld | %s | %s | %s | %.1f | %s | %.1f | "
            "%+.1f%% |%s\n",
            model.c_str(), (long long)seq, (long long)gbs,
            planText(r.best.plan).c_str(),
            grid(r.best.plan.find("vision")).c_str(),
            grid(r.best.plan.find("llm")).c_str(),
            r.best.prediction.tflopsPerGpu6nd,
            r.haveBestHomogeneous ? (grid(r.bestHomogeneous.plan.find("llm")) +
                                     ", " + planText(r.bestHomogeneous.plan))
                                        .c_str()
                                  : "none",
            r.haveBestHomogeneous ? r.bestHomogeneous.prediction.tflopsPerGpu6nd
                                  : 0.0,
            100 * (r.haveBestHomogeneous ? searchGain(r) : 0.0), noCp.c_str());
      }
  std::printf("\n");
}

void why(const char *vit, const char *llm, int64_t seq, int64_t gbs) {
  mimo::cost::ModelProfile prof = profile(vit, llm, seq, gbs);
  SearchResult r = searchPlans(prof, h100(64));
  if (!r.haveBest || !r.haveBestHomogeneous)
    return;
  std::printf("### Why: %s + %s, %lld tokens, GBS %lld, 64 H100s\n\n", vit, llm,
              (long long)seq, (long long)gbs);
  const Evaluation &a = r.best, &b = r.bestHomogeneous;
  std::printf("| | best: %s | best homogeneous: %s |\n|---|---|---|\n",
              planText(a.plan).c_str(), planText(b.plan).c_str());
  std::printf("| encoder | %s | %s |\n", grid(a.plan.find("vision")).c_str(),
              grid(b.plan.find("vision")).c_str());
  std::printf("| LLM | %s | %s |\n", grid(a.plan.find("llm")).c_str(),
              grid(b.plan.find("llm")).c_str());
  auto row = [&](const char *name, double x, double y) {
    std::printf("| %s | %.0f | %.0f |\n", name, x * 1e3, y * 1e3);
  };
  const Breakdown &x = a.prediction.breakdown, &y = b.prediction.breakdown;
  row("compute ms", x.compute, y.compute);
  row("recompute ms", x.recompute, y.recompute);
  row("tp_comm ms", x.tpComm, y.tpComm);
  row("cp_comm ms", x.cpComm, y.cpComm);
  row("dp_comm ms", x.dpComm, y.dpComm);
  row("pp_p2p ms", x.ppP2p, y.ppP2p);
  row("bridge ms", x.bridge, y.bridge);
  row("bubble ms", x.bubble, y.bubble);
  row("offload ms", x.offload, y.offload);
  row("optimizer ms", x.optimizer, y.optimizer);
  row("iteration ms", a.prediction.iterationSeconds,
      b.prediction.iterationSeconds);
  std::printf("| TFLOPs/GPU (6nd) | %.1f | %.1f |\n",
              a.prediction.tflopsPerGpu6nd, b.prediction.tflopsPerGpu6nd);
  std::printf("| peak memory GB | %.1f | %.1f |\n\n",
              a.prediction.peakMemoryBytes / kBytesPerGB,
              b.prediction.peakMemoryBytes / kBytesPerGB);
}

} // namespace

int main() {
  calibration();
  searched("Searched plans at 8K on 64 H100s", 64,
           {{"vit-1b", "llm-7b"},
            {"vit-1b", "llm-14b"},
            {"vit-1b", "llm-32b"},
            {"vit-3b", "llm-14b"},
            {"vit-3b", "llm-32b"},
            {"vit-3b", "llm-70b"}},
           {8192}, {128, 256}, false);
  why("vit-1b", "llm-7b", 8192, 128);
  why("vit-3b", "llm-32b", 8192, 256);
  searched("Long context on 64 H100s", 64,
           {{"vit-1b", "llm-7b"}, {"vit-1b", "llm-14b"}, {"vit-3b", "llm-32b"}},
           {16384, 32768, 65536}, {64}, true);
  why("vit-3b", "llm-32b", 65536, 64);
  searched("Long context on 16 H100s", 16,
           {{"vit-1b", "llm-7b"}, {"vit-1b", "llm-14b"}},
           {16384, 32768, 65536}, {16}, true);
  return 0;
}

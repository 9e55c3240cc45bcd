//===- PlannerBench.cpp - Search time of the planner ----------------------===//
//
// Times searchPlans on REFERENCE.md model pairs for a 64-GPU and a 1024-GPU
// H100 cluster (targets: < 1 s and < 10 s). Prints one line per case:
//   gpus model seq gbs seconds searched evaluated feasible best-layout
//
//===----------------------------------------------------------------------===//

#include "mimo/Planner/ReferenceModels.h"
#include "mimo/Planner/Search.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace mimo::planner;

namespace {

struct Case {
  int64_t gpus;
  const char *vit, *llm;
  int64_t seq, gbs;
};

} // namespace

int main(int argc, char **argv) {
  int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  Cluster base;
  std::string err;
  if (!loadHardware("h100-sxm", base.hardware, err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  base.gpusPerNode = 8;
  const Case cases[] = {
      {64, "vit-1b", "llm-7b", 8192, 128},
      {64, "vit-3b", "llm-32b", 8192, 256},
      {64, "vit-1b", "llm-14b", 65536, 64},
      {1024, "vit-3b", "llm-70b", 8192, 1024},
      {1024, "vit-1b", "llm-7b", 32768, 512},
  };
  std::printf("%-6s %-16s %-6s %-5s %-9s %-10s %-9s %-8s %s\n", "gpus", "model",
              "seq", "gbs", "seconds", "searched", "scored", "feasible",
              "best");
  double worst64 = 0, worst1024 = 0;
  for (const Case &c : cases) {
    MultimodalShape s;
    referenceShape(c.vit, s.vit);
    referenceShape(c.llm, s.llm);
    s.seqLen = c.seq;
    s.globalBatchSize = c.gbs;
    s.imagesPerSample = std::max<int64_t>(1, c.seq * 9 / 10 / 1024);
    mimo::cost::ModelProfile profile = makeMultimodalProfile(s);
    Cluster cluster = base;
    cluster.gpus = c.gpus;
    double best = 1e30;
    SearchResult r;
    for (int i = 0; i < repeats; ++i) {
      r = searchPlans(profile, cluster);
      best = std::min(best, r.seconds);
    }
    std::string model = std::string(c.vit) + "+" + c.llm;
    std::printf("%-6lld %-16s %-6lld %-5lld %-9.3f %-10lld %-9lld %-8lld %s\n",
                (long long)c.gpus, model.c_str(), (long long)c.seq,
                (long long)c.gbs, best, (long long)r.searched,
                (long long)r.evaluated, (long long)r.feasible,
                r.haveBest ? toString(r.best.plan.layout) : "none");
    (c.gpus <= 64 ? worst64 : worst1024) =
        std::max(c.gpus <= 64 ? worst64 : worst1024, best);
  }
  std::printf("\nslowest search: %.3f s at 64 GPUs (target < 1 s), %.3f s at "
              "1024 GPUs (target < 10 s)\n",
              worst64, worst1024);
  return worst64 < 1.0 && worst1024 < 10.0 ? 0 : 1;
}

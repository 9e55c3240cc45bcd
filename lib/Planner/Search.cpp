//===- Search.cpp - Finds the fastest feasible plans ----------------------===//

#include "mimo/Planner/Search.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace mimo::planner {

using cost::ModuleKind;
using cost::OpDesc;
using cost::OpKind;

bool betterEvaluation(const Evaluation &a, const Evaluation &b) {
  const Prediction &x = a.prediction, &y = b.prediction;
  if (x.iterationSeconds != y.iterationSeconds)
    return x.iterationSeconds < y.iterationSeconds;
  if (x.peakMemoryBytes != y.peakMemoryBytes)
    return x.peakMemoryBytes < y.peakMemoryBytes;
  return planToJson(a.plan, -1) < planToJson(b.plan, -1);
}

namespace {

struct Candidate {
  ModulePlan plan;
  ModuleSummary summary;
};

/// Keeps the (time, memory) Pareto front, fastest first; stable on ties.
std::vector<Candidate> paretoFront(std::vector<Candidate> all) {
  std::stable_sort(all.begin(), all.end(),
                   [](const Candidate &a, const Candidate &b) {
                     if (a.summary.seconds != b.summary.seconds)
                       return a.summary.seconds < b.summary.seconds;
                     return a.summary.memoryBytes < b.summary.memoryBytes;
                   });
  std::vector<Candidate> front;
  double best = 1e300;
  for (Candidate &c : all)
    if (c.summary.memoryBytes < best) {
      best = c.summary.memoryBytes;
      front.push_back(std::move(c));
    }
  return front;
}

class Searcher {
public:
  Searcher(const cost::ModelProfile &profile, const Cluster &cluster,
           const SearchOptions &opts)
      : profile(profile), cluster(cluster), opts(opts), ev(profile, cluster) {
    const Hardware &hw = cluster.hardware;
    // What a rank may hold before workspace and the allocator reserve.
    capacity = (hw.hbmBytes - hw.workspaceBytes) / (1.0 + hw.fragmentation);
  }

  SearchResult run();

private:
  /// Tensor-parallel sizes module `idx` divides into.
  bool tpFits(size_t idx, int64_t tp) const;
  /// Grids of module `idx` over `ranks` ranks.
  std::vector<ModulePlan> grids(size_t idx, int64_t ranks, bool pipelined,
                                int64_t mbs, int64_t maxPp) const;
  /// Memory/time options of one grid.
  std::vector<ModulePlan> withOptions(const ModulePlan &g, size_t idx,
                                      bool pipelined, bool offloadable) const;
  void consider(const Plan &plan);
  void searchHomogeneous();
  void searchColocated();
  void searchDisaggregated();

  const cost::ModelProfile &profile;
  const Cluster &cluster;
  const SearchOptions &opts;
  Evaluator ev;
  double capacity = 0;
  SearchResult result;
  std::vector<Evaluation> all;
};

bool Searcher::tpFits(size_t idx, int64_t tp) const {
  const cost::ModuleProfile &m = profile.modules[idx];
  if (m.heads % tp || m.kvHeads % tp)
    return false;
  for (const cost::BlockProfile &b : m.blocks)
    for (const OpDesc &op : b.ops) {
      if (op.kind == OpKind::Linear) {
        int64_t dim = op.split == cost::TpSplit::Column ? op.out
                      : op.split == cost::TpSplit::Row  ? op.in
                                                        : 0;
        if (dim % tp)
          return false;
      }
      if (op.vocab > 0 && op.split == cost::TpSplit::Vocab && op.vocab % tp)
        return false;
    }
  return true;
}

std::vector<ModulePlan> Searcher::grids(size_t idx, int64_t ranks,
                                        bool pipelined, int64_t mbs,
                                        int64_t maxPp) const {
  const cost::ModuleProfile &m = profile.modules[idx];
  const int64_t gbs = profile.training.globalBatchSize;
  std::vector<ModulePlan> out;
  int64_t maxTp = std::min(opts.maxTp, cluster.gpusPerNode);
  bool llm = m.kind == ModuleKind::LLM;
  for (int64_t tp = 1; tp <= maxTp; tp *= 2) {
    if (ranks % tp || !tpFits(idx, tp))
      continue;
    for (int64_t cp = 1; cp <= (llm ? opts.maxCp : 1); cp *= 2) {
      if (ranks % (tp * cp) || m.tokensPerSample % (llm ? 2 * cp : cp))
        continue;
      for (int64_t pp = 1; pp <= (pipelined ? maxPp : 1); ++pp) {
        if (ranks % (tp * cp * pp) || m.layers() % pp)
          continue;
        int64_t dp = ranks / (tp * cp * pp);
        if (gbs % (mbs * dp))
          continue;
        ModulePlan g;
        g.name = m.name;
        g.tp = tp;
        g.cp = cp;
        g.pp = pp;
        g.dp = dp;
        g.rankSize = ranks;
        out.push_back(g);
      }
    }
  }
  return out;
}

std::vector<ModulePlan> Searcher::withOptions(const ModulePlan &g, size_t idx,
                                              bool pipelined,
                                              bool offloadable) const {
  const cost::ModuleProfile &m = profile.modules[idx];
  int64_t perStage = m.layers() / (pipelined ? g.pp : 1);
  std::vector<Recompute> rcs = {{RecomputeKind::None, 0}};
  // Selective recompute frees nothing under flash attention (it keeps no
  // score matrix), so the search never gains from it; it stays evaluable.
  for (int64_t q : {4, 2}) {
    int64_t n = perStage / q;
    if (n >= 1 && n < perStage &&
        std::none_of(rcs.begin(), rcs.end(),
                     [&](const Recompute &r) { return r.layers == n; }))
      rcs.push_back({RecomputeKind::FullLayers, n});
  }
  if (perStage > 0)
    rcs.push_back({RecomputeKind::Full, 0});
  std::vector<ModulePlan> out;
  for (bool sp : {false, true}) {
    if (sp && g.tp == 1)
      continue;
    for (bool dopt : {false, true}) {
      if (dopt && g.dp == 1)
        continue;
      for (const Recompute &rc : rcs)
        for (int off = 0; off < (offloadable ? 8 : 2); ++off) {
          ModulePlan p = g;
          p.sequenceParallel = sp;
          p.distributedOptimizer = dopt;
          p.recompute = rc;
          p.offloadOptimizer = off & 1;
          p.offloadActivations = off & 2;
          p.offloadParams = off & 4;
          out.push_back(p);
        }
    }
  }
  return out;
}

void Searcher::consider(const Plan &plan) {
  Evaluation e = ev.evaluate(plan);
  ++result.evaluated;
  if (e.invalid || !e.feasible)
    return;
  ++result.feasible;
  all.push_back(std::move(e));
}

void Searcher::searchHomogeneous() {
  const size_t llm = ev.llm();
  const int64_t world = cluster.gpus;
  for (int64_t mbs : opts.microBatches)
    for (const ModulePlan &g : grids(llm, world, true, mbs, opts.maxPp)) {
      bool ok = true;
      for (size_t e : ev.encoders())
        ok = ok && tpFits(e, g.tp) &&
             profile.modules[e].tokensPerSample % g.cp == 0;
      if (!ok)
        continue;
      for (int64_t v : opts.virtualStages) {
        if (v > 1 && g.pp < 2)
          continue;
        // Per module: no recompute, then recompute steps, then offloading
        // the optimizer; the first combination that fits is the fastest
        // for this grid (each step only adds time).
        std::vector<ModulePlan> llmOpts = withOptions(g, llm, true, false);
        std::map<std::pair<bool, bool>, std::vector<Plan>> byShared;
        for (const ModulePlan &lo : llmOpts) {
          std::vector<Recompute> encRc = {{RecomputeKind::None, 0},
                                          {RecomputeKind::Full, 0}};
          for (const Recompute &erc : encRc) {
            Plan p;
            p.layout = Layout::Homogeneous;
            p.microBatchSize = mbs;
            p.virtualStages = v;
            for (size_t e : ev.encoders()) {
              ModulePlan ep = lo;
              ep.name = profile.modules[e].name;
              ep.recompute = erc;
              p.modules.push_back(ep);
            }
            p.modules.push_back(lo);
            byShared[{lo.sequenceParallel, lo.distributedOptimizer}].push_back(
                p);
          }
        }
        result.searched += int64_t(llmOpts.size()) * 2;
        for (auto &entry : byShared) {
          const std::vector<Plan> &plans = entry.second;
          // The first plan of each group has no recompute and no offload:
          // if it fits, every other option only adds time. If the plan
          // saving the most memory does not fit, none does.
          Evaluation plain = ev.evaluate(plans.front());
          ++result.evaluated;
          if (plain.invalid)
            continue;
          if (plain.feasible) {
            ++result.feasible;
            all.push_back(std::move(plain));
            continue;
          }
          const Plan *leanest = &plans.front();
          auto saving = [](const Plan &p) {
            int score = 0;
            for (const ModulePlan &m : p.modules)
              score += (m.recompute.kind == RecomputeKind::Full ? 2 : 0) +
                       (m.offloadOptimizer ? 1 : 0);
            return score;
          };
          for (const Plan &p : plans)
            if (saving(p) > saving(*leanest))
              leanest = &p;
          Evaluation lean = ev.evaluate(*leanest);
          ++result.evaluated;
          if (!lean.feasible)
            continue;
          std::vector<Evaluation> evals;
          for (const Plan &p : plans) {
            if (&p == &plans.front() || &p == leanest)
              continue;
            Evaluation e = ev.evaluate(p);
            ++result.evaluated;
            if (e.feasible)
              evals.push_back(std::move(e));
          }
          evals.push_back(std::move(lean));
          std::sort(evals.begin(), evals.end(), betterEvaluation);
          ++result.feasible;
          all.push_back(std::move(evals.front()));
        }
      }
    }
}

void Searcher::searchColocated() {
  const size_t llm = ev.llm();
  const int64_t world = cluster.gpus;
  for (int64_t mbs : opts.microBatches)
    for (int64_t v : opts.virtualStages) {
      // The LLM's front.
      std::vector<Candidate> llmAll;
      for (const ModulePlan &g : grids(llm, world, true, mbs, opts.maxPp)) {
        if (v > 1 && g.pp < 2)
          continue;
        for (const ModulePlan &p : withOptions(g, llm, true, false)) {
          ModuleSummary s = ev.colocatedModule(llm, p, mbs, v);
          if (s.valid && s.memoryBytes <= capacity)
            llmAll.push_back({p, s});
        }
      }
      int64_t llmCount = int64_t(llmAll.size());
      std::vector<Candidate> llmFront = paretoFront(std::move(llmAll));
      // Encoders' fronts, combined into one (their phases run in sequence
      // and their memory adds up).
      std::vector<std::vector<ModulePlan>> combos(1);
      std::vector<Candidate> encFront = {{ModulePlan(), ModuleSummary()}};
      encFront[0].summary.valid = true;
      std::vector<std::vector<ModulePlan>> encPlans = {{}};
      int64_t encCount = 1;
      for (size_t e : ev.encoders()) {
        std::vector<Candidate> mine;
        // One stage: mimo's trainer pipelines only the LLM (plan rules).
        for (const ModulePlan &g : grids(e, world, true, mbs, 1))
          for (const ModulePlan &p : withOptions(g, e, true, true)) {
            ModuleSummary s = ev.colocatedModule(e, p, mbs, 1);
            if (s.valid && s.memoryBytes <= capacity)
              mine.push_back({p, s});
          }
        encCount *= int64_t(mine.size());
        std::vector<Candidate> front = paretoFront(std::move(mine));
        // Cross with what we have, keep the front of the sums.
        std::vector<Candidate> next;
        std::vector<std::vector<ModulePlan>> nextPlans;
        for (size_t i = 0; i < encFront.size(); ++i)
          for (const Candidate &c : front) {
            Candidate sum = encFront[i];
            sum.summary.seconds += c.summary.seconds;
            sum.summary.memoryBytes += c.summary.memoryBytes;
            sum.plan.rankOffset = int64_t(nextPlans.size());
            next.push_back(sum);
            std::vector<ModulePlan> plans = encPlans[i];
            plans.push_back(c.plan);
            nextPlans.push_back(plans);
          }
        std::vector<Candidate> f = paretoFront(std::move(next));
        encPlans.clear();
        encFront.clear();
        for (Candidate &c : f) {
          encPlans.push_back(nextPlans[size_t(c.plan.rankOffset)]);
          c.plan.rankOffset = int64_t(encPlans.size()) - 1;
          encFront.push_back(c);
        }
      }
      result.searched += llmCount * encCount;
      // Pairs that fit together, fastest first.
      struct Pair {
        double seconds;
        size_t l, e;
      };
      std::vector<Pair> pairs;
      for (size_t l = 0; l < llmFront.size(); ++l)
        for (size_t e = 0; e < encFront.size(); ++e)
          if (llmFront[l].summary.memoryBytes +
                  encFront[e].summary.memoryBytes <=
              capacity)
            pairs.push_back(
                {llmFront[l].summary.seconds + encFront[e].summary.seconds, l,
                 e});
      std::stable_sort(
          pairs.begin(), pairs.end(),
          [](const Pair &a, const Pair &b) { return a.seconds < b.seconds; });
      if (int64_t(pairs.size()) > opts.candidatesPerGroup)
        pairs.resize(size_t(opts.candidatesPerGroup));
      for (const Pair &pr : pairs) {
        Plan p;
        p.layout = Layout::Colocated;
        p.microBatchSize = mbs;
        p.virtualStages = v;
        for (ModulePlan ep : encPlans[size_t(encFront[pr.e].plan.rankOffset)]) {
          ep.rankOffset = 0;
          p.modules.push_back(ep);
        }
        p.modules.push_back(llmFront[pr.l].plan);
        consider(p);
      }
    }
}

void Searcher::searchDisaggregated() {
  if (ev.encoders().size() != 1)
    return; // one span per encoder is not searched (evaluable as written)
  const size_t llm = ev.llm();
  const size_t enc = ev.encoders().front();
  const int64_t world = cluster.gpus;
  const int64_t gbs = profile.training.globalBatchSize;
  std::vector<int64_t> splits;
  for (int64_t f : {8, 4, 2})
    if (world % f == 0 && world / f >= 1)
      splits.push_back(world / f);
  if (world % 8 == 0)
    splits.push_back(3 * world / 8);
  std::sort(splits.begin(), splits.end());
  splits.erase(std::unique(splits.begin(), splits.end()), splits.end());
  for (int64_t ne : splits) {
    int64_t nl = world - ne;
    for (int64_t mbs : opts.microBatches) {
      // LLM candidates: slowest stage per microbatch; memory with the
      // first stage holding pp + 2 microbatches (encoder stages ahead).
      std::vector<Candidate> llmAll;
      for (const ModulePlan &g : grids(llm, nl, true, mbs, opts.maxPp)) {
        int64_t m = gbs / (mbs * g.dp);
        for (ModulePlan p : withOptions(g, llm, true, false)) {
          p.rankOffset = ne;
          double inflight = double(std::min<int64_t>(g.pp + 2, m));
          ModuleSummary s = ev.disaggregatedModule(llm, p, mbs, inflight);
          if (!s.valid || s.memoryBytes > capacity)
            continue;
          // 1F1B: (m + stages - 1) slowest-stage steps.
          s.seconds *= double(m + g.pp + 1);
          llmAll.push_back({p, s});
        }
      }
      std::vector<Candidate> encAll;
      for (const ModulePlan &g : grids(enc, ne, true, mbs, 1))
        for (ModulePlan p : withOptions(g, enc, true, false)) {
          p.rankOffset = 0;
          double inflight = double(g.pp + 16);
          ModuleSummary s = ev.disaggregatedModule(enc, p, mbs, inflight);
          if (!s.valid || s.memoryBytes > capacity)
            continue;
          // Seconds for the whole batch at this group's rate.
          s.seconds *= double(gbs) / double(mbs * g.dp);
          encAll.push_back({p, s});
        }
      result.searched += int64_t(llmAll.size()) * int64_t(encAll.size());
      std::vector<Candidate> lf = paretoFront(std::move(llmAll));
      std::vector<Candidate> efr = paretoFront(std::move(encAll));
      struct Pair {
        double seconds;
        size_t l, e;
      };
      std::vector<Pair> pairs;
      for (size_t l = 0; l < lf.size(); ++l)
        for (size_t e = 0; e < efr.size(); ++e)
          pairs.push_back(
              {std::max(lf[l].summary.seconds, efr[e].summary.seconds), l, e});
      std::stable_sort(
          pairs.begin(), pairs.end(),
          [](const Pair &a, const Pair &b) { return a.seconds < b.seconds; });
      if (int64_t(pairs.size()) > opts.candidatesPerGroup)
        pairs.resize(size_t(opts.candidatesPerGroup));
      for (const Pair &pr : pairs) {
        Plan p;
        p.layout = Layout::Disaggregated;
        p.microBatchSize = mbs;
        p.modules = {efr[pr.e].plan, lf[pr.l].plan};
        // Interleaving the LLM's group, fed by a one-stage encoder.
        for (int64_t v : opts.virtualStages) {
          if (v > 1 && p.modules[1].pp < 2)
            continue;
          p.virtualStages = v;
          consider(p);
        }
      }
    }
  }
}

SearchResult Searcher::run() {
  auto start = std::chrono::steady_clock::now();
  for (Layout l : opts.layouts) {
    // Without an encoder every layout is the homogeneous one.
    if (ev.encoders().empty() && l != Layout::Homogeneous)
      continue;
    if (l == Layout::Homogeneous)
      searchHomogeneous();
    else if (l == Layout::Colocated)
      searchColocated();
    else
      searchDisaggregated();
  }
  std::sort(all.begin(), all.end(), betterEvaluation);
  // Re-score what is reported with the detailed breakdown (same times).
  ev.setDetailedBreakdown(true);
  auto detail = [&](Evaluation &e) { e = ev.evaluate(e.plan); };
  for (Evaluation &e : all) {
    if (!result.haveBest) {
      result.best = e;
      result.haveBest = true;
    }
    if (!result.haveBestHomogeneous && e.plan.layout == Layout::Homogeneous) {
      result.bestHomogeneous = e;
      result.haveBestHomogeneous = true;
    }
  }
  // Top K distinct plans.
  for (const Evaluation &e : all) {
    if (int64_t(result.top.size()) >= opts.topK)
      break;
    std::string text = planToJson(e.plan, -1);
    bool dup = std::any_of(
        result.top.begin(), result.top.end(),
        [&](const Evaluation &t) { return planToJson(t.plan, -1) == text; });
    if (!dup) {
      result.top.push_back(e);
      detail(result.top.back());
    }
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return std::move(result);
}

} // namespace

SearchResult searchPlans(const cost::ModelProfile &profile,
                         const Cluster &cluster, const SearchOptions &options) {
  Searcher s(profile, cluster, options);
  return s.run();
}

} // namespace mimo::planner

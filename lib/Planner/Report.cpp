//===- Report.cpp - Plans and predictions as tables, JSON, traces ---------===//

#include "mimo/Planner/Report.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

using ordered_json = nlohmann::ordered_json;

namespace mimo::planner {

namespace {

double round3(double x) { return std::round(x * 1000.0) / 1000.0; }

ordered_json predictionJson(const Prediction &p) {
  ordered_json j;
  j["iteration_ms"] = round3(p.iterationSeconds * 1e3);
  j["tflops_per_gpu"] = round3(p.tflopsPerGpu);
  j["tflops_per_gpu_6nd"] = round3(p.tflopsPerGpu6nd);
  j["mfu"] = std::round(p.mfu * 1e4) / 1e4;
  j["tokens_per_second"] = std::round(p.tokensPerSecond);
  j["peak_memory_gb"] = round3(p.peakMemoryBytes / kBytesPerGB);
  const MemoryBreakdown &m = p.memory;
  j["memory_gb"] = {{"params", round3(m.params / kBytesPerGB)},
                    {"grads", round3(m.grads / kBytesPerGB)},
                    {"optimizer", round3(m.optimizer / kBytesPerGB)},
                    {"activations", round3(m.activations / kBytesPerGB)},
                    {"workspace", round3(m.workspace / kBytesPerGB)},
                    {"offloaded", round3(m.offloaded / kBytesPerGB)}};
  // The same in bytes, for runs too small for GB (the CPU tests).
  auto bytes = [](double x) { return static_cast<int64_t>(std::llround(x)); };
  j["memory_bytes"] = {
      {"params", bytes(m.params)},       {"grads", bytes(m.grads)},
      {"optimizer", bytes(m.optimizer)}, {"activations", bytes(m.activations)},
      {"workspace", bytes(m.workspace)}, {"offloaded", bytes(m.offloaded)}};
  const Breakdown &b = p.breakdown;
  j["breakdown_ms"] = {{"compute", round3(b.compute * 1e3)},
                       {"recompute", round3(b.recompute * 1e3)},
                       {"tp_comm", round3(b.tpComm * 1e3)},
                       {"cp_comm", round3(b.cpComm * 1e3)},
                       {"dp_comm", round3(b.dpComm * 1e3)},
                       {"pp_p2p", round3(b.ppP2p * 1e3)},
                       {"bridge", round3(b.bridge * 1e3)},
                       {"bubble", round3(b.bubble * 1e3)},
                       {"offload", round3(b.offload * 1e3)},
                       {"optimizer", round3(b.optimizer * 1e3)}};
  return j;
}

ordered_json planJson(const Plan &p) {
  return ordered_json::parse(planToJson(p, -1));
}

ordered_json entryJson(const Evaluation &e) {
  ordered_json j;
  j["plan"] = planJson(e.plan);
  j["prediction"] = predictionJson(e.prediction);
  return j;
}

std::string fmt(const char *f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, x);
  return buf;
}

/// TFLOP/s with three significant digits below 100 (CPU runs), one
/// decimal above.
std::string tflopsText(double x) {
  return x >= 100 ? fmt("%.1f", x) : fmt("%.3g", x);
}

std::string gridText(const ModulePlan &m) {
  return std::to_string(m.tp) + "/" + std::to_string(m.dp) + "/" +
         std::to_string(m.pp) + "/" + std::to_string(m.cp);
}

std::string offloadText(const ModulePlan &m) {
  std::string s;
  auto add = [&](bool on, const char *what) {
    if (on)
      s += (s.empty() ? "" : "+") + std::string(what);
  };
  add(m.offloadActivations, "activations");
  add(m.offloadParams, "params");
  add(m.offloadOptimizer, "optimizer");
  return s.empty() ? "-" : s;
}

void printTable(std::ostream &os,
                const std::vector<std::vector<std::string>> &rows) {
  std::vector<size_t> width;
  for (const auto &r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i)
        width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (const auto &r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size())
        line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    os << line << "\n";
  }
}

/// Modules a report shows: encoders and the LLM (projectors follow).
std::vector<std::string> shownModules(const cost::ModelProfile &profile) {
  std::vector<std::string> names;
  for (const cost::ModuleProfile &m : profile.modules)
    if (m.kind != cost::ModuleKind::Projector)
      names.push_back(m.name);
  return names;
}

void printBreakdown(std::ostream &os, const Prediction &p) {
  const Breakdown &b = p.breakdown;
  std::vector<std::vector<std::string>> rows = {{"component", "ms", "share"}};
  auto row = [&](const char *name, double s) {
    rows.push_back({name, fmt("%.1f", s * 1e3),
                    fmt("%.1f%%", 100.0 * s / p.iterationSeconds)});
  };
  row("compute", b.compute);
  row("recompute", b.recompute);
  row("tp_comm", b.tpComm);
  row("cp_comm", b.cpComm);
  row("dp_comm", b.dpComm);
  row("pp_p2p", b.ppP2p);
  row("bridge", b.bridge);
  row("bubble", b.bubble);
  row("offload", b.offload);
  row("optimizer", b.optimizer);
  row("total", p.iterationSeconds);
  printTable(os, rows);
  const MemoryBreakdown &m = p.memory;
  os << "memory on the peak rank (GB): params "
     << fmt("%.1f", m.params / kBytesPerGB) << ", grads "
     << fmt("%.1f", m.grads / kBytesPerGB) << ", optimizer "
     << fmt("%.1f", m.optimizer / kBytesPerGB) << ", activations "
     << fmt("%.1f", m.activations / kBytesPerGB) << ", workspace "
     << fmt("%.1f", m.workspace / kBytesPerGB) << " (offloaded "
     << fmt("%.1f", m.offloaded / kBytesPerGB) << ")\n";
}

} // namespace

std::string predictionToJson(const Prediction &p, int indent) {
  return predictionJson(p).dump(indent);
}

std::string evaluationToJson(const Evaluation &e, int indent) {
  ordered_json j;
  j["plan"] = planJson(e.plan);
  if (e.invalid)
    j["prediction"] = nullptr;
  else
    j["prediction"] = predictionJson(e.prediction);
  j["feasible"] = e.feasible;
  j["reason"] = e.reason;
  return j.dump(indent);
}

double searchGain(const SearchResult &r) {
  if (!r.haveBest || !r.haveBestHomogeneous)
    return 0;
  return r.bestHomogeneous.prediction.iterationSeconds /
             r.best.prediction.iterationSeconds -
         1.0;
}

std::string searchResultToJson(const SearchResult &r, int indent) {
  ordered_json j;
  j["best"] = r.haveBest ? entryJson(r.best) : ordered_json(nullptr);
  j["best_homogeneous"] = r.haveBestHomogeneous ? entryJson(r.bestHomogeneous)
                                                : ordered_json(nullptr);
  j["gain"] = std::round(searchGain(r) * 1e4) / 1e4;
  ordered_json top = ordered_json::array();
  for (const Evaluation &e : r.top)
    top.push_back(entryJson(e));
  j["top"] = top;
  j["searched"] = r.searched;
  j["feasible"] = r.feasible;
  j["search_seconds"] = round3(r.seconds);
  return j.dump(indent);
}

void printSearchReport(std::ostream &os, const SearchResult &r,
                       const cost::ModelProfile &profile,
                       const Cluster &cluster) {
  os << "model " << profile.name << ": global batch "
     << profile.training.globalBatchSize << ", sequence "
     << profile.training.seqLen << "; " << cluster.gpus << " x "
     << cluster.hardware.name << " (" << cluster.gpusPerNode << " per node)\n";
  os << "searched " << r.searched << " plans, scored " << r.evaluated << ", "
     << r.feasible << " feasible, in " << fmt("%.2f", r.seconds) << " s\n\n";
  if (!r.haveBest) {
    os << "no feasible plan: every candidate exceeds the device memory or "
          "breaks a divisibility rule\n";
    return;
  }
  std::vector<std::string> mods = shownModules(profile);
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"",
                  "best (" + std::string(toString(r.best.plan.layout)) + ")",
                  "best homogeneous"});
  auto both = [&](const std::string &label, auto f) {
    std::vector<std::string> row = {label, f(r.best)};
    row.push_back(r.haveBestHomogeneous ? f(r.bestHomogeneous) : "-");
    rows.push_back(row);
  };
  for (const std::string &m : mods) {
    both(m + " TP/DP/PP/CP", [&](const Evaluation &e) {
      const ModulePlan *mp = e.plan.find(m);
      return mp ? gridText(*mp) : std::string("-");
    });
    both(m + " recompute", [&](const Evaluation &e) {
      const ModulePlan *mp = e.plan.find(m);
      return mp ? toString(mp->recompute) : std::string("-");
    });
    both(m + " offload", [&](const Evaluation &e) {
      const ModulePlan *mp = e.plan.find(m);
      return mp ? offloadText(*mp) : std::string("-");
    });
    both(m + " SP / dist-opt", [&](const Evaluation &e) {
      const ModulePlan *mp = e.plan.find(m);
      return mp ? std::string(mp->sequenceParallel ? "on" : "off") + " / " +
                      (mp->distributedOptimizer ? "on" : "off")
                : std::string("-");
    });
  }
  both("micro-batch", [](const Evaluation &e) {
    return std::to_string(e.plan.microBatchSize);
  });
  both("schedule", [](const Evaluation &e) { return e.plan.schedule(); });
  both("TFLOPs/GPU (6nd)", [](const Evaluation &e) {
    return tflopsText(e.prediction.tflopsPerGpu6nd);
  });
  both("TFLOPs/GPU (Megatron)", [](const Evaluation &e) {
    return tflopsText(e.prediction.tflopsPerGpu);
  });
  both("memory/GPU (GB)", [](const Evaluation &e) {
    return fmt("%.1f", e.prediction.peakMemoryBytes / kBytesPerGB);
  });
  both("iteration (ms)", [](const Evaluation &e) {
    return fmt("%.1f", e.prediction.iterationSeconds * 1e3);
  });
  rows.push_back({"gain", fmt("%+.1f%%", 100.0 * searchGain(r)), ""});
  printTable(os, rows);

  os << "\ntop " << r.top.size() << ":\n";
  std::vector<std::vector<std::string>> top;
  std::vector<std::string> head = {"#", "layout"};
  for (const std::string &m : mods)
    head.push_back(m + " TP/DP/PP/CP rc");
  for (const char *h : {"mbs", "schedule", "TFLOPs 6nd", "mem GB", "iter ms"})
    head.push_back(h);
  top.push_back(head);
  for (size_t i = 0; i < r.top.size(); ++i) {
    const Evaluation &e = r.top[i];
    std::vector<std::string> row = {std::to_string(i + 1),
                                    toString(e.plan.layout)};
    for (const std::string &m : mods) {
      const ModulePlan *mp = e.plan.find(m);
      row.push_back(
          mp ? gridText(*mp) + " " + toString(mp->recompute) +
                   (offloadText(*mp) == "-" ? "" : " off:" + offloadText(*mp))
             : "-");
    }
    row.push_back(std::to_string(e.plan.microBatchSize));
    row.push_back(e.plan.schedule());
    row.push_back(tflopsText(e.prediction.tflopsPerGpu6nd));
    row.push_back(fmt("%.1f", e.prediction.peakMemoryBytes / kBytesPerGB));
    row.push_back(fmt("%.1f", e.prediction.iterationSeconds * 1e3));
    top.push_back(row);
  }
  printTable(os, top);
  os << "\nbreakdown of the best plan:\n";
  printBreakdown(os, r.best.prediction);
  if (r.haveBestHomogeneous) {
    os << "\nbreakdown of the best homogeneous plan:\n";
    printBreakdown(os, r.bestHomogeneous.prediction);
  }
}

void printEvaluationReport(std::ostream &os, const Evaluation &e,
                           const cost::ModelProfile &profile) {
  os << "plan (" << toString(e.plan.layout) << ", micro-batch "
     << e.plan.microBatchSize << ", " << e.plan.schedule() << "):\n";
  std::vector<std::vector<std::string>> rows = {
      {"module", "TP/DP/PP/CP", "recompute", "offload", "SP", "dist-opt"}};
  for (const std::string &m : shownModules(profile)) {
    const ModulePlan *mp = e.plan.find(m);
    if (!mp)
      continue;
    rows.push_back({m, gridText(*mp), toString(mp->recompute), offloadText(*mp),
                    mp->sequenceParallel ? "on" : "off",
                    mp->distributedOptimizer ? "on" : "off"});
  }
  printTable(os, rows);
  if (e.invalid) {
    os << "infeasible: " << e.reason << "\n";
    return;
  }
  const Prediction &p = e.prediction;
  os << (e.feasible ? "feasible" : "infeasible: " + e.reason) << "\n";
  os << "iteration " << fmt("%.1f", p.iterationSeconds * 1e3)
     << " ms, TFLOPs/GPU " << tflopsText(p.tflopsPerGpu6nd) << " (6nd), "
     << tflopsText(p.tflopsPerGpu) << " (Megatron), MFU "
     << fmt("%.1f%%", 100 * p.mfu) << ", " << fmt("%.0f", p.tokensPerSecond)
     << " tokens/s, peak memory "
     << fmt("%.1f", p.peakMemoryBytes / kBytesPerGB) << " GB\n";
  printBreakdown(os, p);
}

std::string timelineToTraceJson(const Evaluation &e) {
  ordered_json events = ordered_json::array();
  std::map<std::string, int> pids;
  std::map<std::pair<int, std::string>, int> tids;
  for (const TimelineEvent &t : e.timeline) {
    auto pit = pids.find(t.group);
    if (pit == pids.end()) {
      int pid = int(pids.size()) + 1;
      pit = pids.emplace(t.group, pid).first;
      events.push_back({{"name", "process_name"},
                        {"ph", "M"},
                        {"pid", pid},
                        {"args", {{"name", t.group}}}});
    }
    auto key = std::make_pair(pit->second, t.stream);
    auto tit = tids.find(key);
    if (tit == tids.end()) {
      int tid = int(tids.size()) + 1;
      tit = tids.emplace(key, tid).first;
      events.push_back({{"name", "thread_name"},
                        {"ph", "M"},
                        {"pid", pit->second},
                        {"tid", tid},
                        {"args", {{"name", t.stream}}}});
    }
    events.push_back({{"name", t.name},
                      {"ph", "X"},
                      {"pid", pit->second},
                      {"tid", tit->second},
                      {"ts", round3(t.start * 1e6)},
                      {"dur", round3(t.duration * 1e6)}});
  }
  ordered_json j;
  j["traceEvents"] = events;
  j["displayTimeUnit"] = "ms";
  j["metadata"] = {{"plan", planJson(e.plan)},
                   {"prediction", predictionJson(e.prediction)}};
  return j.dump();
}

bool writeFileAtomically(const std::string &path, const std::string &text,
                         std::string &error) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      error = path + ": cannot write file";
      return false;
    }
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      error = path + ": write failed";
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    error = path + ": cannot rename the temporary file into place";
    return false;
  }
  return true;
}

} // namespace mimo::planner

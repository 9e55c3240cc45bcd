//===- Plan.cpp - plan.json reading and writing ---------------------------===//

#include "mimo/Planner/Plan.h"
#include "mimo/Planner/Hardware.h"

#include <nlohmann/json.hpp>

using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;

namespace mimo::planner {

const char *toString(Layout layout) {
  switch (layout) {
  case Layout::Homogeneous:
    return "homogeneous";
  case Layout::Colocated:
    return "colocated";
  case Layout::Disaggregated:
    return "disaggregated";
  }
  return "unknown";
}

bool parseLayout(const std::string &s, Layout &out) {
  for (Layout l :
       {Layout::Homogeneous, Layout::Colocated, Layout::Disaggregated})
    if (s == toString(l)) {
      out = l;
      return true;
    }
  return false;
}

std::string toString(const Recompute &r) {
  switch (r.kind) {
  case RecomputeKind::None:
    return "none";
  case RecomputeKind::Selective:
    return "selective";
  case RecomputeKind::Full:
    return "full";
  case RecomputeKind::FullLayers:
    return "full:" + std::to_string(r.layers);
  }
  return "unknown";
}

const ModulePlan *Plan::find(const std::string &name) const {
  for (const ModulePlan &m : modules)
    if (m.name == name)
      return &m;
  return nullptr;
}

ModulePlan *Plan::find(const std::string &name) {
  for (ModulePlan &m : modules)
    if (m.name == name)
      return &m;
  return nullptr;
}

std::string Plan::schedule() const {
  return virtualStages > 1 ? "interleaved:" + std::to_string(virtualStages)
                           : "1f1b";
}

namespace {

ordered_json moduleToJson(const ModulePlan &m, Layout layout) {
  ordered_json j;
  j["tp"] = m.tp;
  j["cp"] = m.cp;
  j["pp"] = m.pp;
  j["dp"] = m.dp;
  if (m.recompute.kind == RecomputeKind::FullLayers)
    j["recompute"] = ordered_json{{"full_layers", m.recompute.layers}};
  else
    j["recompute"] = toString(m.recompute);
  ordered_json off = ordered_json::array();
  if (m.offloadActivations)
    off.push_back("activations");
  if (m.offloadParams)
    off.push_back("params");
  if (m.offloadOptimizer)
    off.push_back("optimizer");
  j["offload"] = off;
  j["sequence_parallel"] = m.sequenceParallel;
  j["distributed_optimizer"] = m.distributedOptimizer;
  if (layout == Layout::Disaggregated)
    j["ranks"] = ordered_json::array({m.rankOffset, m.rankSize});
  return j;
}

std::string dumpShort(const json &v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

class PlanReader {
public:
  PlanReader(const std::string &label, std::string &error)
      : label(label), error(error) {}

  bool fail(const std::string &path, const std::string &what) {
    error = label + ": " + path + ": " + what;
    return false;
  }

  bool positive(const json &v, const std::string &path, int64_t &out) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0)
      return fail(path, "expected a positive integer, got " + dumpShort(v));
    out = v.get<int64_t>();
    return true;
  }

  bool boolean(const json &v, const std::string &path, bool &out) {
    if (!v.is_boolean())
      return fail(path, "expected true or false, got " + dumpShort(v));
    out = v.get<bool>();
    return true;
  }

  bool recompute(const json &v, const std::string &path, Recompute &out) {
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (s == "none")
        out = {RecomputeKind::None, 0};
      else if (s == "selective")
        out = {RecomputeKind::Selective, 0};
      else if (s == "full")
        out = {RecomputeKind::Full, 0};
      else
        return fail(path, "expected \"none\", \"selective\", \"full\" or "
                          "{\"full_layers\": N}, got " +
                              dumpShort(v));
      return true;
    }
    if (v.is_object() && v.size() == 1 && v.contains("full_layers")) {
      int64_t n = 0;
      if (!positive(v["full_layers"], path + ".full_layers", n))
        return false;
      out = {RecomputeKind::FullLayers, n};
      return true;
    }
    return fail(path, "expected \"none\", \"selective\", \"full\" or "
                      "{\"full_layers\": N}, got " +
                          dumpShort(v));
  }

  bool module(const std::string &name, const json &v, ModulePlan &m) {
    std::string path = "modules." + name;
    if (!v.is_object())
      return fail(path, "expected an object, got " + dumpShort(v));
    m.name = name;
    bool haveRanks = false;
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string &k = it.key();
      std::string p = path + "." + k;
      const json &x = *it;
      bool ok = true;
      if (k == "tp")
        ok = positive(x, p, m.tp);
      else if (k == "cp")
        ok = positive(x, p, m.cp);
      else if (k == "pp")
        ok = positive(x, p, m.pp);
      else if (k == "dp")
        ok = positive(x, p, m.dp);
      else if (k == "recompute")
        ok = recompute(x, p, m.recompute);
      else if (k == "sequence_parallel")
        ok = boolean(x, p, m.sequenceParallel);
      else if (k == "distributed_optimizer")
        ok = boolean(x, p, m.distributedOptimizer);
      else if (k == "offload") {
        if (!x.is_array())
          return fail(p, "expected an array of \"activations\", \"params\", "
                         "\"optimizer\", got " +
                             dumpShort(x));
        for (size_t i = 0; i < x.size(); ++i) {
          std::string pi = p + "[" + std::to_string(i) + "]";
          std::string s = x[i].is_string() ? x[i].get<std::string>() : "";
          bool *flag = s == "activations" ? &m.offloadActivations
                       : s == "params"    ? &m.offloadParams
                       : s == "optimizer" ? &m.offloadOptimizer
                                          : nullptr;
          if (!flag)
            return fail(pi, "expected \"activations\", \"params\" or "
                            "\"optimizer\", got " +
                                dumpShort(x[i]));
          if (*flag)
            return fail(pi, "duplicate offload entry " + dumpShort(x[i]));
          *flag = true;
        }
      } else if (k == "ranks") {
        if (!x.is_array() || x.size() != 2 || !x[0].is_number_integer() ||
            !x[1].is_number_integer() || x[0].get<int64_t>() < 0 ||
            x[1].get<int64_t>() <= 0)
          return fail(p, "expected [offset, size] with offset >= 0 and "
                         "size > 0, got " +
                             dumpShort(x));
        m.rankOffset = x[0].get<int64_t>();
        m.rankSize = x[1].get<int64_t>();
        haveRanks = true;
      } else {
        return fail(p, "unknown field (expected tp, cp, pp, dp, recompute, "
                       "offload, sequence_parallel, distributed_optimizer, "
                       "ranks)");
      }
      if (!ok)
        return false;
    }
    if (haveRanks && m.size() != m.rankSize)
      return fail(path, "tp*cp*pp*dp = " + std::to_string(m.size()) +
                            " must equal the ranks it spans (" +
                            std::to_string(m.rankSize) + ")");
    if (!haveRanks)
      m.rankSize = m.size();
    return true;
  }

  bool plan(const json &j, Plan &p) {
    if (!j.is_object())
      return fail("(top)", "expected a JSON object");
    bool haveLayout = false, haveModules = false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string &k = it.key();
      const json &x = *it;
      if (k == "layout") {
        if (!x.is_string() || !parseLayout(x.get<std::string>(), p.layout))
          return fail(k, "expected \"homogeneous\", \"colocated\" or "
                         "\"disaggregated\", got " +
                             dumpShort(x));
        haveLayout = true;
      } else if (k == "micro_batch_size") {
        if (!positive(x, k, p.microBatchSize))
          return false;
      } else if (k == "schedule") {
        std::string s = x.is_string() ? x.get<std::string>() : "";
        const std::string prefix = "interleaved:";
        if (s == "1f1b") {
          p.virtualStages = 1;
        } else if (s.compare(0, prefix.size(), prefix) == 0 &&
                   s.size() > prefix.size() &&
                   s.find_first_not_of("0123456789", prefix.size()) ==
                       std::string::npos &&
                   s.size() - prefix.size() < 6 &&
                   std::stoll(s.substr(prefix.size())) >= 2) {
          p.virtualStages = std::stoll(s.substr(prefix.size()));
        } else {
          return fail(k, "expected \"1f1b\" or \"interleaved:V\" with V >= "
                         "2, got " +
                             dumpShort(x));
        }
      } else if (k == "modules") {
        if (!x.is_object() || x.empty())
          return fail(k, "expected a non-empty object of modules, got " +
                             dumpShort(x));
        for (auto mt = x.begin(); mt != x.end(); ++mt) {
          ModulePlan m;
          if (!module(mt.key(), *mt, m))
            return false;
          p.modules.push_back(std::move(m));
        }
        haveModules = true;
      } else {
        return fail(k, "unknown field (expected layout, micro_batch_size, "
                       "schedule, modules)");
      }
    }
    if (!haveLayout)
      return fail("layout", "missing required field");
    if (!haveModules)
      return fail("modules", "missing required field");
    if (p.layout == Layout::Disaggregated)
      for (const ModulePlan &m : p.modules)
        if (!j["modules"][m.name].contains("ranks"))
          return fail("modules." + m.name + ".ranks",
                      "required in the disaggregated layout");
    return true;
  }

private:
  const std::string &label;
  std::string &error;
};

} // namespace

std::string planToJson(const Plan &plan, int indent) {
  ordered_json j;
  j["layout"] = toString(plan.layout);
  j["micro_batch_size"] = plan.microBatchSize;
  j["schedule"] = plan.schedule();
  ordered_json mods = ordered_json::object();
  for (const ModulePlan &m : plan.modules)
    mods[m.name] = moduleToJson(m, plan.layout);
  j["modules"] = mods;
  return j.dump(indent);
}

bool parsePlan(const std::string &text, const std::string &label, Plan &out,
               std::string &error) {
  json j;
  try {
    // Modules keep their file order (ordered_json), then go to json.
    ordered_json oj = ordered_json::parse(text);
    Plan p;
    PlanReader reader(label, error);
    // Walk modules in file order for a stable result.
    j = json::parse(text);
    if (!reader.plan(j, p))
      return false;
    if (oj.is_object() && oj.contains("modules") && oj["modules"].is_object()) {
      std::vector<ModulePlan> ordered;
      for (auto it = oj["modules"].begin(); it != oj["modules"].end(); ++it)
        if (const ModulePlan *m = p.find(it.key()))
          ordered.push_back(*m);
      p.modules = std::move(ordered);
    }
    out = std::move(p);
    return true;
  } catch (const std::exception &e) {
    error = label + ": invalid JSON: " + jsonErrorText(e);
    return false;
  }
}

bool loadPlanFile(const std::string &path, Plan &out, std::string &error) {
  std::string text;
  if (!readTextFile(path, text, error))
    return false;
  return parsePlan(text, path, out, error);
}

} // namespace mimo::planner

//===- PipelineSimulator.cpp - Event simulation of a pipeline -------------===//
//
// Task orders follow Megatron-LM (schedules.py): 1F1B with pp-s-1 warm-up
// forwards (Narayanan et al. 2021, sec. 2.2.1); interleaved with
// (pp-s-1)*2 + (V-1)*pp warm-up forward chunks and chunk/microbatch ids
// from the forward index k: chunk = (k / pp) % V, microbatch =
// (k / (pp*V))*pp + k % pp (backward chunks reversed).
//
//===----------------------------------------------------------------------===//

#include "mimo/Planner/PipelineSimulator.h"

#include <algorithm>

namespace mimo::planner {

namespace {

struct Order {
  std::vector<PipelineTask> tasks;
};

void buildOrders(int64_t S, int64_t m, int64_t V, PipelineMode mode,
                 std::vector<Order> &orders) {
  orders.assign(S, {});
  for (int64_t s = 0; s < S; ++s) {
    auto &t = orders[s].tasks;
    t.reserve(size_t(2 * m * V));
    auto task = [&](bool fwd, int64_t mb, int64_t chunk) {
      PipelineTask x;
      x.stage = int32_t(s);
      x.microbatch = int32_t(mb);
      x.chunk = int32_t(chunk);
      x.forward = fwd;
      t.push_back(x);
    };
    if (mode == PipelineMode::ForwardOnly) {
      for (int64_t k = 0; k < m * V; ++k)
        task(true, V == 1 ? k : (k / (S * V)) * S + k % S,
             V == 1 ? 0 : (k / S) % V);
      continue;
    }
    if (mode == PipelineMode::BackwardOnly) {
      for (int64_t k = 0; k < m * V; ++k)
        task(false, V == 1 ? k : (k / (S * V)) * S + k % S,
             V == 1 ? 0 : V - 1 - (k / S) % V);
      continue;
    }
    int64_t total = m * V;
    int64_t warmup = V == 1 ? std::min(S - s - 1, m)
                            : std::min((S - s - 1) * 2 + (V - 1) * S, total);
    auto fwdId = [&](int64_t k, int64_t &mb, int64_t &chunk) {
      if (V == 1) {
        mb = k;
        chunk = 0;
        return;
      }
      mb = (k / (S * V)) * S + k % S;
      chunk = (k / S) % V;
    };
    auto bwdId = [&](int64_t k, int64_t &mb, int64_t &chunk) {
      fwdId(k, mb, chunk);
      chunk = V - 1 - chunk;
    };
    int64_t mb, chunk;
    for (int64_t k = 0; k < warmup; ++k) {
      fwdId(k, mb, chunk);
      task(true, mb, chunk);
    }
    for (int64_t k = 0; k < total - warmup; ++k) {
      fwdId(warmup + k, mb, chunk);
      task(true, mb, chunk);
      bwdId(k, mb, chunk);
      task(false, mb, chunk);
    }
    for (int64_t k = total - warmup; k < total; ++k) {
      bwdId(k, mb, chunk);
      task(false, mb, chunk);
    }
  }
}

} // namespace

namespace {
PipelineResult simulate(const PipelineStages &st, int64_t m, int64_t V,
                        PipelineMode mode, bool recordTasks,
                        const PipelineFeeder *feeder) {
  PipelineResult r;
  const int64_t S = int64_t(st.fwd.size());
  if (S == 0 || int64_t(st.bwd.size()) != S || m <= 0 || V <= 0 ||
      (V > 1 && m % S != 0))
    return r;
  const int64_t VS = S * V; // virtual stages
  std::vector<Order> orders;
  buildOrders(S, m, V, mode, orders);

  // Finish times of forward / backward of (microbatch, virtual stage).
  const double unset = -1.0;
  std::vector<double> fDone(size_t(m * VS), unset),
      bDone(size_t(m * VS), unset);
  auto idx = [&](int64_t mb, int64_t vs) { return size_t(mb * VS + vs); };
  auto p2p = [&](int64_t from, int64_t to) {
    // Between physical stages of neighbouring virtual stages.
    int64_t a = from % S, b = to % S;
    int64_t lo = std::min(a, b);
    if (std::max(a, b) - lo != 1) // wrap-around S-1 -> 0
      lo = S - 1;
    return st.p2p.empty() ? 0.0
                          : st.p2p[size_t(std::min<int64_t>(
                                lo, int64_t(st.p2p.size()) - 1))];
  };

  // The feeder's forwards depend on nothing: they run back to back.
  std::vector<double> feedDone(size_t(m), 0.0);
  std::vector<PipelineTask> feederTasks;
  double feederFree = 0;
  // The feeder's task of microbatch j, started once `ready` and free.
  auto feed = [&](int64_t j, bool fwd, double ready) {
    PipelineTask x;
    x.stage = -1;
    x.microbatch = int32_t(j);
    x.forward = fwd;
    x.start = std::max(feederFree, ready);
    x.end = feederFree = x.start + (fwd ? feeder->fwd : feeder->bwd);
    feederTasks.push_back(x);
    return x.end;
  };
  if (feeder) {
    for (int64_t j = 0; j < m; ++j)
      feedDone[size_t(j)] = feed(j, true, 0.0);
    r.feederBusy = double(m) * (feeder->fwd + feeder->bwd);
  }

  std::vector<size_t> next(size_t(S), 0);
  std::vector<double> free(size_t(S), 0.0);
  r.busy.assign(size_t(S), 0.0);
  r.maxInFlight.assign(size_t(S), 0.0);
  std::vector<int64_t> inFlight(size_t(S), 0);
  size_t remaining = 0;
  for (const Order &o : orders)
    remaining += o.tasks.size();

  // Sweeps alternate direction: forwards flow up the stages, backwards down,
  // so each sweep carries a wave across the whole pipeline.
  bool ascending = true;
  int idleSweeps = 0;
  while (remaining > 0) {
    bool progress = false;
    for (int64_t k = 0; k < S; ++k) {
      int64_t s = ascending ? k : S - 1 - k;
      auto &tasks = orders[size_t(s)].tasks;
      while (next[size_t(s)] < tasks.size()) {
        PipelineTask &t = tasks[next[size_t(s)]];
        int64_t vs = int64_t(t.chunk) * S + s;
        double ready = 0;
        if (t.forward) {
          if (vs > 0) {
            double d = fDone[idx(t.microbatch, vs - 1)];
            if (d == unset)
              break;
            ready = d + p2p(vs - 1, vs);
          } else if (feeder) {
            ready = feedDone[size_t(t.microbatch)] + feeder->link;
          }
        } else if (mode == PipelineMode::BackwardOnly) {
          if (vs < VS - 1) {
            double d = bDone[idx(t.microbatch, vs + 1)];
            if (d == unset)
              break;
            ready = d + p2p(vs + 1, vs);
          }
        } else {
          double d = vs < VS - 1 ? bDone[idx(t.microbatch, vs + 1)]
                                 : fDone[idx(t.microbatch, vs)];
          if (d == unset)
            break;
          ready = vs < VS - 1 ? d + p2p(vs + 1, vs) : d;
        }
        double dur =
            (t.forward ? st.fwd[size_t(s)] : st.bwd[size_t(s)]) / double(V);
        t.start = std::max(free[size_t(s)], ready);
        t.end = t.start + dur;
        free[size_t(s)] = t.end;
        r.busy[size_t(s)] += dur;
        (t.forward ? fDone : bDone)[idx(t.microbatch, vs)] = t.end;
        if (mode == PipelineMode::Train) {
          inFlight[size_t(s)] += t.forward ? 1 : -1;
          r.maxInFlight[size_t(s)] =
              std::max(r.maxInFlight[size_t(s)],
                       double(inFlight[size_t(s)]) / double(V));
        }
        ++next[size_t(s)];
        --remaining;
        progress = true;
      }
    }
    // Two sweeps in opposite directions with nothing ready: a deadlock (an
    // order bug); r.ok stays false.
    idleSweeps = progress ? 0 : idleSweeps + 1;
    if (idleSweeps >= 2)
      return r;
    ascending = !ascending;
  }
  r.stageEnd = free;
  for (int64_t s = 0; s < S; ++s)
    r.makespan = std::max(r.makespan, free[size_t(s)]);
  if (feeder) {
    // Its backwards in microbatch order, as their gradients come back.
    for (int64_t j = 0; j < m; ++j)
      feed(j, false, bDone[idx(j, 0)] + feeder->link);
    r.feederEnd = feederFree;
    r.makespan = std::max(r.makespan, feederFree);
  }
  if (mode != PipelineMode::Train)
    for (int64_t s = 0; s < S; ++s)
      r.maxInFlight[size_t(s)] = double(m);
  if (recordTasks) {
    r.tasks = feederTasks;
    for (const Order &o : orders)
      r.tasks.insert(r.tasks.end(), o.tasks.begin(), o.tasks.end());
  }
  r.ok = true;
  return r;
}
} // namespace

PipelineResult simulatePipeline(const PipelineStages &st, int64_t m, int64_t V,
                                PipelineMode mode, bool recordTasks) {
  return simulate(st, m, V, mode, recordTasks, nullptr);
}

PipelineResult simulateFedPipeline(const PipelineStages &st,
                                   const PipelineFeeder &feeder, int64_t m,
                                   int64_t V, bool recordTasks) {
  return simulate(st, m, V, PipelineMode::Train, recordTasks, &feeder);
}

} // namespace mimo::planner

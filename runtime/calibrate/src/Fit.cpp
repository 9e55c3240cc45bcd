//===- Fit.cpp - From kernel timings to planner calibration figures -------===//

#include "mimo/calibrate/Fit.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace mimo::calibrate {

double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

double gemmFlops(const GemmSample &s) {
  return 2.0 * double(s.m) * double(s.n) * double(s.k);
}

std::vector<CurveStep> gemmCurve(const std::vector<GemmSample> &samples,
                                 double peakFlops,
                                 std::vector<double> thresholds) {
  std::sort(thresholds.begin(), thresholds.end(), std::greater<double>());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()),
                   thresholds.end());
  std::vector<std::vector<double>> buckets(thresholds.size());
  for (const GemmSample &s : samples) {
    if (s.seconds <= 0 || peakFlops <= 0)
      continue;
    double gflops = gemmFlops(s) / 1e9;
    for (size_t i = 0; i < thresholds.size(); ++i)
      if (gflops >= thresholds[i]) {
        buckets[i].push_back(gemmFlops(s) / (s.seconds * peakFlops));
        break;
      }
  }
  std::vector<CurveStep> curve;
  for (size_t i = 0; i < thresholds.size(); ++i)
    if (!buckets[i].empty())
      curve.push_back(
          {thresholds[i], median(buckets[i]), int(buckets[i].size())});
  if (!curve.empty() && !thresholds.empty() &&
      curve.back().minGflops != thresholds.back())
    curve.push_back({thresholds.back(), curve.back().efficiency, 0});
  return curve;
}

bool fitLine(const std::vector<std::pair<double, double>> &xy, LineFit &out,
             std::string &error) {
  double n = double(xy.size());
  if (xy.size() < 2) {
    error =
        "a line needs at least two points, got " + std::to_string(xy.size());
    return false;
  }
  double sx = 0, sy = 0;
  for (auto [x, y] : xy) {
    sx += x;
    sy += y;
  }
  double mx = sx / n, my = sy / n, sxx = 0, sxy = 0;
  for (auto [x, y] : xy) {
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
  }
  if (!(sxx > 0)) {
    error = "a line needs two distinct x values";
    return false;
  }
  out.slope = sxy / sxx;
  out.intercept = my - out.slope * mx;
  return true;
}

bool fitSaturating(const std::vector<std::pair<double, double>> &xy,
                   SaturatingFit &out, std::string &error) {
  std::vector<std::pair<double, double>> inv;
  for (auto [x, y] : xy) {
    if (!(x > 0) || !(y > 0)) {
      error = "a saturating fit needs positive values, got (" +
              std::to_string(x) + ", " + std::to_string(y) + ")";
      return false;
    }
    inv.push_back({1.0 / x, 1.0 / y});
  }
  LineFit line;
  if (!fitLine(inv, line, error))
    return false;
  if (line.intercept <= 0) {
    // The rate still grows as fast as 1/x at the largest size measured:
    // no plateau in range. Keep the fastest point, half-rate at 0.
    double best = 0;
    for (auto [x, y] : xy)
      best = std::max(best, y);
    out = {best, 0.0};
    return true;
  }
  out.scale = 1.0 / line.intercept;
  out.halfPoint = std::max(0.0, line.slope * out.scale);
  return true;
}

double attentionExecFwdFlops(int64_t seq, int64_t heads, int64_t headDim,
                             bool causal) {
  double s = double(seq);
  double full = 4.0 * s * s * double(headDim) * double(heads);
  return causal ? full * (s + 1.0) / (2.0 * s) : full;
}

double attentionExecBwdFlops(int64_t seq, int64_t heads, int64_t headDim,
                             bool causal) {
  return 2.5 * attentionExecFwdFlops(seq, heads, headDim, causal);
}

double allReduceBusFactor(int64_t ranks) {
  return ranks <= 1 ? 0.0 : 2.0 * double(ranks - 1) / double(ranks);
}

bool fitAllReduce(const std::vector<std::pair<double, double>> &bytesSeconds,
                  int64_t ranks, LinkFit &out, std::string &error) {
  if (ranks < 2) {
    error = "an all-reduce fit needs at least two ranks, got " +
            std::to_string(ranks);
    return false;
  }
  std::vector<std::pair<double, double>> xy;
  for (auto [bytes, seconds] : bytesSeconds)
    xy.push_back({allReduceBusFactor(ranks) * bytes, seconds});
  LineFit line;
  if (!fitLine(xy, line, error))
    return false;
  if (!(line.slope > 0)) {
    error = "all-reduce time does not grow with the message (slope " +
            std::to_string(line.slope) + " s/B)";
    return false;
  }
  out.bandwidth = 1.0 / line.slope;
  double alpha = line.intercept;
  if (!(alpha > 0)) {
    // Below what the line resolves (noise on a shared machine tilts it):
    // the smallest message's time beyond its bytes at the fitted rate, or
    // its whole time, an upper bound.
    auto smallest = *std::min_element(xy.begin(), xy.end());
    alpha = smallest.second - smallest.first * line.slope;
    if (!(alpha > 0))
      alpha = smallest.second;
  }
  out.latency = alpha / (2.0 * double(ranks - 1));
  return true;
}

RateFigure rateAgainst(double measured, double nominal) {
  if (nominal > 0 && measured <= nominal)
    return {nominal, measured / nominal, false};
  return {measured, 1.0, true};
}

} // namespace mimo::calibrate

//===- Fit.h - From kernel timings to planner calibration figures -*- C++
//-*-===//
//
// mimo-calibrate times kernels, copies and collectives on the machine it runs
// on; these functions turn the timings into the figures of a hardware
// description (docs/planner.md, "Hardware"), using the same formulas the
// planner's cost model evaluates, so that a calibrated planner predicts what
// was measured. Pure functions: no device, no runtime.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_CALIBRATE_FIT_H
#define MIMO_CALIBRATE_FIT_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mimo::calibrate {

/// The median (the mean of the middle two for an even count); 0 if empty.
double median(std::vector<double> values);

/// One timed GEMM: C[m, n] = A[m, k] B[k, n].
struct GemmSample {
  int64_t m = 0, n = 0, k = 0;
  double seconds = 0;
};

/// 2mnk: one multiply and one add per term.
double gemmFlops(const GemmSample &s);

/// A step of the planner's GEMM curve: operations of at least `minGflops`
/// run at `efficiency` of peak (Hardware::gemmEfficiency).
struct CurveStep {
  double minGflops = 0;
  double efficiency = 0;
  int samples = 0; ///< how many timings the step's median came from
};

/// The GEMM curve: each sample falls into the step of the largest threshold
/// (GFLOP, any order) not above its size; a step's efficiency is the median
/// of its samples' flops / (seconds * peak). Steps without a sample are left
/// out, except that the lowest threshold is always present (taking the
/// nearest measured step's value), so the curve covers every size. Sorted
/// by threshold, descending.
std::vector<CurveStep> gemmCurve(const std::vector<GemmSample> &samples,
                                 double peakFlops,
                                 std::vector<double> thresholdsGflops);

/// y(x) = a * x / (x + b): the planner's attention rate as a function of the
/// sequence (efficiency a, half-rate sequence b).
struct SaturatingFit {
  double scale = 0;     ///< a
  double halfPoint = 0; ///< b
};

/// Least squares on 1/y = 1/a + (b/a)(1/x) (a Lineweaver-Burk fit).
/// Needs two distinct positive x and positive y; b is clamped at 0.
bool fitSaturating(const std::vector<std::pair<double, double>> &xy,
                   SaturatingFit &out, std::string &error);

/// y = intercept + slope * x by ordinary least squares.
struct LineFit {
  double intercept = 0;
  double slope = 0;
};
bool fitLine(const std::vector<std::pair<double, double>> &xy, LineFit &out,
             std::string &error);

/// Attention FLOPs as the planner counts what runs (lib/Cost/OpCost.cpp,
/// attentionCost: 4 s^2 d per head, the lower triangle (s+1)/(2s) of it when
/// causal; [D22] the backward 2.5x the forward).
double attentionExecFwdFlops(int64_t seq, int64_t heads, int64_t headDim,
                             bool causal);
double attentionExecBwdFlops(int64_t seq, int64_t heads, int64_t headDim,
                             bool causal);

/// The ring all-reduce volume factor the planner times (Thakur et al. 2005):
/// 2(n-1)/n of the message crosses each link.
double allReduceBusFactor(int64_t ranks);

/// Link figures from all-reduce timings (bytes, seconds) over `ranks`, by
/// inverting the planner's 2(n-1)·latency + 2(n-1)/n·bytes/bandwidth.
struct LinkFit {
  double bandwidth = 0; ///< bytes/s
  double latency = 0;   ///< seconds per ring step, > 0
};
/// A fitted intercept at or below zero (below the fit's resolution) gives
/// the smallest message's time beyond its bytes, or its whole time.
bool fitAllReduce(const std::vector<std::pair<double, double>> &bytesSeconds,
                  int64_t ranks, LinkFit &out, std::string &error);

/// A measured rate against the hardware file's nominal one: the efficiency
/// (measured / nominal) when it is at most 1; otherwise the nominal figure
/// was too low, and the measured rate becomes the nominal with efficiency 1.
struct RateFigure {
  double nominal = 0;
  double efficiency = 0;
  bool nominalRaised = false;
};
RateFigure rateAgainst(double measured, double nominal);

} // namespace mimo::calibrate

#endif // MIMO_CALIBRATE_FIT_H

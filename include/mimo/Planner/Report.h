//===- Report.h - Plans and predictions as tables, JSON, traces -*- C++ -*-===//
//
// The `mimoc plan` outputs (INTERFACES.md): the human table (best plan beside
// the best homogeneous one, top K, breakdown), the --json object, the
// --evaluate object and the Chrome/Perfetto trace of a predicted timeline.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_PLANNER_REPORT_H
#define MIMO_PLANNER_REPORT_H

#include "mimo/Planner/Search.h"

#include <ostream>
#include <string>

namespace mimo::planner {

/// The `prediction` object: iteration_ms, tflops_per_gpu, ..., breakdown_ms.
std::string predictionToJson(const Prediction &p, int indent = -1);

/// {"plan", "prediction", "feasible", "reason"} (the --evaluate object).
std::string evaluationToJson(const Evaluation &e, int indent = 2);

/// {"best", "best_homogeneous", "gain", "top", "searched", "feasible",
///  "search_seconds"} (the --json object).
std::string searchResultToJson(const SearchResult &r, int indent = 2);

/// Relative gain of the best plan over the best homogeneous one
/// (iteration-time ratio - 1; 0 without a homogeneous plan).
double searchGain(const SearchResult &r);

/// The human report of a search.
void printSearchReport(std::ostream &os, const SearchResult &r,
                       const cost::ModelProfile &profile,
                       const Cluster &cluster);

/// The human report of one evaluated plan.
void printEvaluationReport(std::ostream &os, const Evaluation &e,
                           const cost::ModelProfile &profile);

/// Chrome/Perfetto trace JSON of `e.timeline` (one process per module
/// group, one thread per stream).
std::string timelineToTraceJson(const Evaluation &e);

/// Writes `text` to `path` through a temporary file and a rename, so a
/// failure never leaves a partial file.
bool writeFileAtomically(const std::string &path, const std::string &text,
                         std::string &error);

} // namespace mimo::planner

#endif // MIMO_PLANNER_REPORT_H

//===- StepLogger.cpp - Human step lines and JSON lines -------------------===//

#include "mimo/runtime/StepLogger.h"
#include "mimo/runtime/Allocator.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace mimo::rt {

StatusOr<std::unique_ptr<StepLogger>> StepLogger::create(StepLoggerOptions o) {
  if (o.logEvery < 1)
    return invalidArgument("log interval must be at least 1, got " +
                           std::to_string(o.logEvery));
  std::unique_ptr<StepLogger> logger(new StepLogger(o));
  if (!o.jsonPath.empty()) {
    logger->json_ = std::fopen(o.jsonPath.c_str(), "w");
    if (!logger->json_)
      return ioError(o.jsonPath +
                     ": cannot create JSON log: " + std::strerror(errno));
  }
  logger->bar_ = o.progressBar.value_or(o.out && ::isatty(fileno(o.out))) &&
                 o.totalSteps > 0;
  return logger;
}

StepLogger::~StepLogger() {
  if (json_)
    std::fclose(json_);
}

std::string StepLogger::jsonLine(const StepRecord &r) {
  nlohmann::json j = {{"step", r.step},
                      {"loss", r.loss},
                      {"step_ms", r.stepMs},
                      {"tflops_per_gpu", r.tflopsPerGpu},
                      {"peak_memory_bytes", r.peakMemoryBytes}};
  if (r.peakMemoryByCategory) {
    nlohmann::json by = nlohmann::json::object();
    for (std::size_t c = 0; c < kNumMemoryCategories; ++c)
      by[memoryCategoryName(static_cast<MemoryCategory>(c))] =
          (*r.peakMemoryByCategory)[c];
    j["peak_memory_by_category"] = by;
  }
  if (r.tokensPerSecond)
    j["tokens_per_second"] = *r.tokensPerSecond;
  if (r.gradNorm)
    j["grad_norm"] = *r.gradNorm;
  if (r.learningRate)
    j["lr"] = *r.learningRate;
  if (r.skipped)
    j["skipped"] = true;
  return j.dump();
}

std::string StepLogger::humanLine(const StepRecord &r) const {
  std::string line;
  if (bar_) {
    constexpr int kWidth = 20;
    std::int64_t done = std::min(r.step, opts_.totalSteps);
    int filled = static_cast<int>(done * kWidth / opts_.totalSteps);
    line = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') +
           "] ";
  }
  char buf[256];
  int width = static_cast<int>(std::to_string(opts_.totalSteps).size());
  if (opts_.totalSteps > 0)
    std::snprintf(buf, sizeof(buf), "step %*lld/%lld", width,
                  static_cast<long long>(r.step),
                  static_cast<long long>(opts_.totalSteps));
  else
    std::snprintf(buf, sizeof(buf), "step %lld",
                  static_cast<long long>(r.step));
  line += buf;
  std::snprintf(
      buf, sizeof(buf), " | loss %.4f | %.1f ms | %.2f TFLOPs/GPU | peak %s",
      r.loss, r.stepMs, r.tflopsPerGpu, formatBytes(r.peakMemoryBytes).c_str());
  line += buf;
  if (r.skipped) {
    std::snprintf(buf, sizeof(buf),
                  " | update skipped: non-finite gradients (norm %g)",
                  r.gradNorm.value_or(0.0));
    line += buf;
  }
  return line;
}

Status StepLogger::log(const StepRecord &r) {
  if (json_) {
    std::string line = jsonLine(r) + "\n";
    // Flushed per step so a killed run keeps every completed step.
    if (std::fwrite(line.data(), 1, line.size(), json_) != line.size() ||
        std::fflush(json_) != 0)
      return ioError(opts_.jsonPath +
                     ": write failed: " + std::strerror(errno));
  }
  bool last = opts_.totalSteps > 0 && r.step == opts_.totalSteps;
  if (opts_.out && (r.step % opts_.logEvery == 0 || last)) {
    std::fprintf(opts_.out, "%s\n", humanLine(r).c_str());
    std::fflush(opts_.out);
  }
  return Status::success();
}

} // namespace mimo::rt

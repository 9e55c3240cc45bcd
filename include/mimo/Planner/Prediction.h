//===- Prediction.h - What the planner predicts for one plan ----*- C++ -*-===//

#ifndef MIMO_PLANNER_PREDICTION_H
#define MIMO_PLANNER_PREDICTION_H

#include <string>
#include <vector>

namespace mimo::planner {

/// Seconds of the iteration on its critical rank, by cause (INTERFACES.md
/// breakdown_ms). Components add up to the iteration time.
struct Breakdown {
  double compute = 0;   ///< forward + backward kernels
  double recompute = 0; ///< forward kernels (and their collectives) redone
  double tpComm = 0;    ///< tensor-parallel collectives (exposed)
  double cpComm = 0;    ///< ring-attention transfers not hidden
  double dpComm = 0;    ///< gradient sync / parameter gather not hidden
  double ppP2p = 0;     ///< pipeline sends on the critical path
  double bridge = 0;    ///< encoder -> LLM redistribution, gradient bcast
  double bubble = 0;    ///< pipeline idle time
  double offload = 0;   ///< host copies not hidden
  double optimizer = 0; ///< the optimizer step
  double total() const {
    return compute + recompute + tpComm + cpComm + dpComm + ppP2p + bridge +
           bubble + offload + optimizer;
  }
};

/// Bytes on the peak rank by category (INTERFACES.md memory_gb).
struct MemoryBreakdown {
  double params = 0, grads = 0, optimizer = 0, activations = 0,
         workspace = 0; ///< workspace includes the fragmentation reserve
  double offloaded = 0; ///< moved to host at the peak (not in the peak)
  double peak() const {
    return params + grads + optimizer + activations + workspace;
  }
};

struct Prediction {
  double iterationSeconds = 0;
  double tflopsPerGpu = 0;    ///< Megatron convention
  double tflopsPerGpu6nd = 0; ///< 6 x params x tokens
  double mfu = 0;
  double tokensPerSecond = 0;
  double peakMemoryBytes = 0;
  MemoryBreakdown memory;
  Breakdown breakdown;
};

/// One span of the predicted timeline (Chrome/Perfetto trace "X" event).
struct TimelineEvent {
  std::string group;  ///< process: a module group ("llm", "vision", ...)
  std::string stream; ///< thread: "stage 0 compute", "comm", "host link"
  std::string name;
  double start = 0, duration = 0; ///< seconds
};

} // namespace mimo::planner

#endif // MIMO_PLANNER_PREDICTION_H

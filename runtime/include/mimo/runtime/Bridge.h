//===- Bridge.h - Encoder -> LLM redistribution between grids ---*- C++ -*-===//
//
// Moves the projector output [rows, hidden] (rows = image tokens of a local
// batch, TP-replicated, f32) from the encoder's grid to the LLM's grid, and
// its gradient back.
//
// Which ranks hold which sample slice. The global batch is split into
// contiguous sample blocks by data-parallel index on each side (the data
// loader's sharding), so with R_e rows per encoder replica and
// k = max(enc_dp, llm_dp) / min(enc_dp, llm_dp):
//   encoder replica e holds global rows [e*R_e, (e+1)*R_e),
//   LLM replica j needs global rows     [j*R_l, (j+1)*R_l), R_l =
//   R_e*enc_dp/llm_dp. fan-in  (enc_dp = k*llm_dp): LLM replica j = encoder
//   replicas j*k..j*k+k-1
//           in order; encoder replica e is slot e - j*k of it.
//   fan-out (llm_dp = k*enc_dp): encoder replica e = LLM replicas e*k..e*k+k-1;
//           LLM replica j is slot j - e*k (R_l rows) of encoder replica j/k.
//   equal:  replica e = replica j, pass-through.
//
// Homogeneous and colocated (both grids over the whole world, tp fastest):
// replicas are contiguous rank blocks, so in fan-in an LLM replica's block is
// exactly the k encoder replicas' blocks, and in fan-out the converse.
//   forward:  input on the encoder's last PP stage (broadcast along encoder
//             PP first if pp > 1, so every rank of the replica has it);
//             fan-in all-gathers over the k ranks of the LLM replica with the
//             same position inside their encoder replica; fan-out copies the
//             local slot. Output: every rank of the LLM replica.
//   backward: input on LLM PP stage 0 (broadcast along LLM PP first, the
//             phase-3 broadcast of ARCHITECTURE.md); fan-in copies the local
//             slot (no communication); fan-out all-gathers over the k ranks
//             of the encoder replica with the same position inside their LLM
//             replica. Output: every rank of the encoder replica.
// Disaggregated (disjoint spans): leaders are the (tp=0, cp=0) ranks of the
// encoder's last stage and of the LLM's first stage of each replica.
//   forward:  each encoder leader sends its rows (fan-in) or each slot
//             (fan-out) to the LLM leader(s); each LLM leader broadcasts to
//             its TP x CP group. Input: encoder last-stage ranks; output:
//             LLM stage-0 ranks.
//   backward: the mirror image, LLM stage-0 leaders to encoder leaders, who
//             broadcast to their TP x CP group.
// The encoder grid must have cp = 1 (the projector output is not split
// along the sequence).
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_BRIDGE_H
#define MIMO_RUNTIME_BRIDGE_H

#include "mimo/runtime/Communicator.h"
#include "mimo/runtime/Layout.h"
#include "mimo/runtime/ProcessGrid.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace mimo::rt {

enum class BridgeMode { PassThrough, FanIn, FanOut };

const char *bridgeModeName(BridgeMode mode);

class Bridge {
public:
  /// Collective over the world: every rank calls it with the same arguments
  /// (it creates the sub-communicators the transfers use).
  /// `encoderRows` = rows of one encoder replica's local batch.
  static StatusOr<Bridge> create(Communicator &world, LayoutKind layout,
                                 const ProcessGrid &encoder,
                                 const ProcessGrid &llm,
                                 std::int64_t encoderRows, std::int64_t hidden);

  BridgeMode mode() const { return mode_; }
  /// k of the fan-in / fan-out; 1 for pass-through.
  int factor() const { return factor_; }
  std::int64_t encoderRows() const { return encoderRows_; }
  std::int64_t llmRows() const { return llmRows_; }
  std::int64_t hidden() const { return hidden_; }

  /// Whether forward() reads encoder output on this rank.
  bool providesForwardInput() const { return fwdInput_; }
  /// Whether forward() writes LLM input on this rank.
  bool receivesForwardOutput() const { return fwdOutput_; }
  /// Whether backward() reads the LLM-input gradient on this rank.
  bool providesBackwardInput() const { return bwdInput_; }
  /// Whether backward() writes the encoder-output gradient on this rank.
  bool receivesBackwardOutput() const { return bwdOutput_; }

  /// Global row ranges of this rank's replicas ({0, 0} if not in the grid).
  std::pair<std::int64_t, std::int64_t> encoderRowRange() const;
  std::pair<std::int64_t, std::int64_t> llmRowRange() const;

  /// `encoderOut`: encoderRows x hidden where providesForwardInput();
  /// `llmIn`: llmRows x hidden where receivesForwardOutput(). Either may be
  /// null elsewhere. Collective over the world.
  Status forward(const float *encoderOut, float *llmIn);
  /// `llmInGrad`: llmRows x hidden where providesBackwardInput();
  /// `encoderOutGrad`: encoderRows x hidden where receivesBackwardOutput().
  Status backward(const float *llmInGrad, float *encoderOutGrad);

private:
  Bridge() = default;
  Status forwardShared(const float *in, float *out);
  Status backwardShared(const float *in, float *out);
  Status forwardDisaggregated(const float *in, float *out);
  Status backwardDisaggregated(const float *in, float *out);

  Communicator *world_ = nullptr;
  LayoutKind layout_ = LayoutKind::Homogeneous;
  BridgeMode mode_ = BridgeMode::PassThrough;
  int factor_ = 1;
  std::int64_t encoderRows_ = 0, llmRows_ = 0, hidden_ = 0;
  int rank_ = 0;
  GridShape enc_, llm_;
  int encOffset_ = 0, llmOffset_ = 0;
  bool inEnc_ = false, inLlm_ = false;
  GridCoord encCoord_, llmCoord_;
  bool fwdInput_ = false, fwdOutput_ = false, bwdInput_ = false,
       bwdOutput_ = false;
  // Shared layouts.
  Communicator *encPpGroup_ = nullptr;
  Communicator *llmPpGroup_ = nullptr;
  Communicator *fanGroup_ = nullptr;
  // Disaggregated: the TP x CP groups at the boundary stages, and leaders.
  Communicator *encBoundaryGroup_ = nullptr;
  Communicator *llmBoundaryGroup_ = nullptr;
  std::vector<int> encLeaders_, llmLeaders_;
  std::vector<float> scratch_;
};

} // namespace mimo::rt

#endif // MIMO_RUNTIME_BRIDGE_H
